"""Reading Argo CD's comma-separated sync annotations off a manifest or live object."""

from __future__ import annotations

from gitops.resources import JsonObject

HOOK = "argocd.argoproj.io/hook"
HOOK_DELETE_POLICY = "argocd.argoproj.io/hook-delete-policy"
SYNC_WAVE = "argocd.argoproj.io/sync-wave"
SYNC_OPTIONS = "argocd.argoproj.io/sync-options"
HELM_HOOK = "helm.sh/hook"
HELM_HOOK_WEIGHT = "helm.sh/hook-weight"
HELM_HOOK_DELETE_POLICY = "helm.sh/hook-delete-policy"


def annotations_of(obj: JsonObject) -> dict[str, str]:
    """The object's annotations ({} when it has none or they are not a mapping)."""
    metadata = obj.get("metadata") or {}
    annotations = metadata.get("annotations") or {}
    return {str(k): str(v) for k, v in annotations.items()} if isinstance(annotations, dict) else {}


def annotation_csv(obj: JsonObject, name: str) -> list[str]:
    """The trimmed, non-empty items of a comma-separated annotation."""
    return [item.strip() for item in annotations_of(obj).get(name, "").split(",") if item.strip()]
