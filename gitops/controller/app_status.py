"""An Application's status assembled from one pass's results, and the write that brings the stored status there.
Pure: the controller hands in what it observed and decided; these functions say what the status becomes.

Field names are Argo CD's (``sync``, ``health`` and its ``lastTransitionTime``, ``resources``, ``conditions``,
``operationState``, ``reconciledAt``, ``summary.images``, ``sourceType``). The status is written only when it differs
from the stored one, as one merge patch; ``reconciledAt`` moves only with such a write or with a refresh someone asked
for, so a periodic refresh that finds nothing new writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Final

from kube.json_data import JsonObject
from kube.timestamps import format_time

CONDITION_TYPES: Final = (
    "InvalidSpecError", "ComparisonError", "SyncError", "SharedResourceWarning", "OrphanedResourceWarning",
    "RepeatedResourceWarning",
)
# Conditions this controller decides each pass; any other type in the stored status (set by someone else) stays.
OWNED_CONDITIONS: Final = frozenset(CONDITION_TYPES)


def condition(kind: str, message: str) -> JsonObject:
    """A condition without its transition time (added by ``merge_conditions``)."""
    return {"type": kind, "message": message}


def merge_conditions(previous: Sequence[JsonObject], current: Iterable[JsonObject], now: datetime) -> list[JsonObject]:
    """This pass's conditions, keeping the ``lastTransitionTime`` of one that was already there with the same
    message; conditions of types this controller does not own are kept as they were."""
    before = {(str(c.get("type")), str(c.get("message"))): c for c in previous if isinstance(c, dict)}
    merged: list[JsonObject] = []
    seen: set[tuple[str, str]] = set()
    for item in current:
        key = (str(item.get("type")), str(item.get("message")))
        if key in seen:
            continue
        seen.add(key)
        old = before.get(key)
        at = old.get("lastTransitionTime") if old is not None else None
        merged.append({**item, "lastTransitionTime": at or format_time(now)})
    merged.extend(c for c in previous if isinstance(c, dict) and str(c.get("type")) not in OWNED_CONDITIONS)
    return merged


def health_with_transition(stored: Any, current: Mapping[str, Any], now: datetime) -> JsonObject:
    """The app's ``health`` with its ``lastTransitionTime``: the stored one while the status word stays the same,
    ``now`` when it changed or none was stored (Argo CD's ``setApplicationHealth``: the field came with 2.14,
    argo-cd#18660; since 3.0 it is set whether or not resource health is persisted, #22666). Keeping the stored time
    is what lets a refresh that finds the same health write nothing."""
    health: JsonObject = {key: value for key, value in current.items() if key != "lastTransitionTime"}
    before = stored if isinstance(stored, Mapping) else {}
    kept = before.get("lastTransitionTime")
    if before.get("status") == health.get("status") and isinstance(kept, str) and kept:
        health["lastTransitionTime"] = kept
    else:
        health["lastTransitionTime"] = format_time(now)
    return health


def images_of(objects: Iterable[Mapping[str, Any] | None]) -> list[str]:
    """The container images the objects run (pod templates and Pods), sorted: ``status.summary.images``."""
    images: set[str] = set()
    for obj in objects:
        if not obj:
            continue
        spec = obj.get("spec") or {}
        pod_specs = [spec] if obj.get("kind") == "Pod" else []
        template = (spec.get("template") or {}).get("spec")
        if isinstance(template, dict):
            pod_specs.append(template)
        job_template = ((spec.get("jobTemplate") or {}).get("spec") or {}).get("template") or {}
        if isinstance(job_template.get("spec"), dict):
            pod_specs.append(job_template["spec"])
        for pod_spec in pod_specs:
            for field in ("initContainers", "containers"):
                for container in pod_spec.get(field) or []:
                    if isinstance(container, dict) and container.get("image"):
                        images.add(str(container["image"]))
    return sorted(images)


def status_patch(stored: Mapping[str, Any], desired: Mapping[str, Any]) -> JsonObject:
    """The JSON merge patch taking the stored status to ``desired``: nested objects are diffed key by key (a key
    ``desired`` lacks is sent as null — a merge patch would otherwise keep it), lists and scalars are sent whole.
    Empty when nothing differs."""
    patch: JsonObject = {}
    for key, value in desired.items():
        before = stored.get(key)
        if isinstance(value, dict) and isinstance(before, dict):
            nested = status_patch(before, value)
            if nested:
                patch[key] = nested
        elif not _same(before, value) or key not in stored:
            patch[key] = value
    for key in stored:
        if key not in desired:
            patch[key] = None
    return patch


def status_changed(stored: Mapping[str, Any], desired: Mapping[str, Any], *, ignoring: Iterable[str] = ()) -> bool:
    """Whether anything but the ``ignoring`` fields differs (``reconciledAt`` alone is no reason to write)."""
    skip = set(ignoring)
    return any(key not in skip for key in status_patch(stored, desired))


def _same(a: Any, b: Any) -> bool:
    # Deep equality of JSON values; a status never holds a boolean where a number belongs, so Python's True == 1
    # cannot hide a change here.
    return bool(a == b)
