"""The sync wave of an object: ``argocd.argoproj.io/sync-wave``, falling back to ``helm.sh/hook-weight``, else 0."""

from __future__ import annotations

from gitops.resources import JsonObject
from gitops.sync.annotations import HELM_HOOK_WEIGHT, SYNC_WAVE, annotations_of


def _integer(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return int(text.strip())
    except ValueError:
        return None


def sync_wave(obj: JsonObject) -> int:
    """The object's wave; an annotation that is not an integer is ignored, as Argo's strconv.Atoi failure is."""
    annotations = annotations_of(obj)
    wave = _integer(annotations.get(SYNC_WAVE))
    if wave is not None:
        return wave
    weight = _integer(annotations.get(HELM_HOOK_WEIGHT))
    return weight if weight is not None else 0
