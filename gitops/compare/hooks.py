"""What a manifest's annotations say about its place in a sync: hook types, Skip, and sync wave.

Argo CD's annotation ``argocd.argoproj.io/hook`` wins; without it Helm's ``helm.sh/hook`` is mapped
(pre-install/pre-upgrade → PreSync, post-install/post-upgrade → PostSync; other Helm hooks are still hooks but run in
no Argo phase; ``crd-install`` is not a hook at all). The wave is ``argocd.argoproj.io/sync-wave``, falling back to
``helm.sh/hook-weight``, 0 when neither is an integer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

HOOK_ANNOTATION = "argocd.argoproj.io/hook"
HELM_HOOK_ANNOTATION = "helm.sh/hook"
HELM_HOOK_WEIGHT_ANNOTATION = "helm.sh/hook-weight"
SYNC_WAVE_ANNOTATION = "argocd.argoproj.io/sync-wave"
HOOK_TYPES = ("PreSync", "Sync", "PostSync", "SyncFail", "Skip", "PostDelete")
HELM_HOOK_TYPES = {
    "pre-install": "PreSync",
    "pre-upgrade": "PreSync",
    "post-install": "PostSync",
    "post-upgrade": "PostSync",
}
# Helm marks CRDs with this "hook" though they are plain resources.
HELM_CRD_INSTALL = "crd-install"


def annotations_of(obj: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """The object's annotations (empty when absent or malformed)."""
    metadata = (obj or {}).get("metadata")
    annotations = metadata.get("annotations") if isinstance(metadata, Mapping) else None
    return annotations if isinstance(annotations, Mapping) else {}


def _split(value: Any) -> list[str]:
    return [part.strip() for part in str(value).split(",") if part.strip()]


def hook_types(obj: Mapping[str, Any] | None) -> list[str]:
    """The Argo hook types of ``obj`` in annotation order (unknown words left out)."""
    annotations = annotations_of(obj)
    if HOOK_ANNOTATION in annotations:
        return [part for part in _split(annotations[HOOK_ANNOTATION]) if part in HOOK_TYPES]
    if HELM_HOOK_ANNOTATION in annotations:
        mapped = [
            HELM_HOOK_TYPES[part] for part in _split(annotations[HELM_HOOK_ANNOTATION]) if part in HELM_HOOK_TYPES
        ]
        return list(dict.fromkeys(mapped))
    return []


def is_skipped(obj: Mapping[str, Any] | None) -> bool:
    """Whether ``obj`` is marked ``Skip`` and nothing else: it is never applied."""
    return hook_types(obj) == ["Skip"]


def is_hook(obj: Mapping[str, Any] | None) -> bool:
    """Whether ``obj`` is a hook (Argo annotation other than Skip alone, or a Helm hook other than crd-install)."""
    annotations = annotations_of(obj)
    if HOOK_ANNOTATION in annotations:
        return not is_skipped(obj)
    helm = annotations.get(HELM_HOOK_ANNOTATION)
    return helm is not None and str(helm).strip() != HELM_CRD_INSTALL


def _integer(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def sync_wave(obj: Mapping[str, Any] | None) -> int:
    """The sync wave: ``argocd.argoproj.io/sync-wave``, else ``helm.sh/hook-weight``, else 0."""
    annotations = annotations_of(obj)
    for key in (SYNC_WAVE_ANNOTATION, HELM_HOOK_WEIGHT_ANNOTATION):
        if key in annotations:
            wave = _integer(annotations[key])
            if wave is not None:
                return wave
    return 0
