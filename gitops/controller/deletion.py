"""Cascading deletion of an Application carrying ``resources-finalizer.argocd.argoproj.io``: its resources are deleted
highest sync wave first, each wave only once the one above it is gone, then the finalizer is removed. Pure.

Objects marked ``argocd.argoproj.io/sync-options: Delete=false`` are left in the cluster, and objects owned by
another object (``ownerReferences``) are left to the garbage collector, as Argo CD does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from gitops.resources import ResourceKey
from kube.json_data import JsonObject

SYNC_WAVE: Final = "argocd.argoproj.io/sync-wave"
SYNC_OPTIONS: Final = "argocd.argoproj.io/sync-options"


@dataclass(frozen=True)
class DeletionStep:
    """The objects to delete now, whether to look again (something is still going), and the wave in progress."""

    delete: tuple[ResourceKey, ...]
    waiting: bool
    wave: int | None

    @property
    def finished(self) -> bool:
        return not self.delete and not self.waiting


def wave_of(obj: Mapping[str, Any]) -> int:
    """The object's sync wave (0 without one, or when the annotation is not an integer)."""
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    try:
        return int(str(annotations.get(SYNC_WAVE, "0")).strip())
    except ValueError:
        return 0


def keeps_on_delete(obj: Mapping[str, Any]) -> bool:
    """Whether the object opted out of deletion with ``Delete=false``."""
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    options = [item.strip() for item in str(annotations.get(SYNC_OPTIONS) or "").split(",")]
    return "Delete=false" in options


def deletion_step(live: Mapping[ResourceKey, JsonObject]) -> DeletionStep:
    """The next step of the cascade over the Application's live tracked objects."""
    candidates = {
        key: obj for key, obj in live.items()
        if not keeps_on_delete(obj) and not (obj.get("metadata") or {}).get("ownerReferences")
    }
    if not candidates:
        return DeletionStep((), False, None)
    wave = max(wave_of(obj) for obj in candidates.values())
    in_wave = sorted(key for key, obj in candidates.items() if wave_of(obj) == wave)
    pending = tuple(key for key in in_wave if not (candidates[key].get("metadata") or {}).get("deletionTimestamp"))
    return DeletionStep(pending, True, wave)
