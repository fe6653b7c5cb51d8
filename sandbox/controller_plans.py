"""The writes one pass of a simulated controller decides on, and the small pieces every controller shares.

The pure planners (`sandbox.job_plans`, `sandbox.statefulset_plans`, …) return a `ControllerPlan`; the loop in
`sandbox.controllers` makes its writes in order: creates, deletes, status, then the object's own deletion.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sandbox.workload_status import JsonDict, format_timestamp


@dataclass
class ControllerPlan:
    """The writes of one reconcile pass of one object."""

    create: list[JsonDict] = field(default_factory=list)
    """Objects to create (each names its apiVersion and kind; a `generateName` lets the API server name it)."""
    delete: list[Mapping[str, Any]] = field(default_factory=list)
    """Objects to delete, as observed (apiVersion, kind, namespace, name)."""
    status: JsonDict | None = None
    """The object's full desired status; None leaves it as it is."""
    patch: JsonDict | None = None
    """A merge patch of the object itself (not its status), made before the status is written."""
    delete_self: bool = False
    """Delete the object itself (a finished Job past its ttlSecondsAfterFinished)."""
    warnings: list[str] = field(default_factory=list)
    """Why the object cannot be acted on (an unreadable schedule, say), for the log."""
    recheck_at: float | None = None
    """Epoch seconds at which to look again even if nothing is observed to change."""

    def wake_at(self, moment: float | None) -> None:
        """Look again at `moment` too (the earliest of all wishes wins)."""
        if moment is not None and (self.recheck_at is None or moment < self.recheck_at):
            self.recheck_at = moment


def condition(condition_type: str, status: bool | str, reason: str, message: str, now: float) -> JsonDict:
    """A batch-style condition (Job, HPA): lastProbeTime and lastTransitionTime both `now`."""
    stamp = format_timestamp(now)
    text = status if isinstance(status, str) else ("True" if status else "False")
    return {
        "type": condition_type,
        "status": text,
        "lastProbeTime": stamp,
        "lastTransitionTime": stamp,
        "reason": reason,
        "message": message,
    }


def find_condition(status: Mapping[str, Any], condition_type: str) -> JsonDict | None:
    for entry in status.get("conditions") or ():
        if entry.get("type") == condition_type:
            return entry  # type: ignore[no-any-return]
    return None


def is_condition_true(status: Mapping[str, Any], condition_type: str) -> bool:
    entry = find_condition(status, condition_type)
    return entry is not None and entry.get("status") == "True"


def put_condition(conditions: list[JsonDict], new: JsonDict) -> None:
    """Replace the condition of the same type in place (keeping its transition time when its status holds)."""
    for index, entry in enumerate(conditions):
        if entry.get("type") == new["type"]:
            if entry.get("status") == new["status"] and entry.get("reason") == new.get("reason"):
                return
            if entry.get("status") == new["status"]:
                new = {**new, "lastTransitionTime": entry.get("lastTransitionTime")}
            conditions[index] = new
            return
    conditions.append(new)


def template_pod(
    owner: Mapping[str, Any],
    owner_ref: JsonDict,
    *,
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
    name: str | None = None,
) -> JsonDict:
    """controller.GetPodFromTemplate: the owner's pod template as a Pod it controls; generateName unless named."""
    template = (owner.get("spec") or {}).get("template") or {}
    template_meta = template.get("metadata") or {}
    owner_meta = owner.get("metadata") or {}
    metadata: JsonDict = {
        "namespace": owner_meta.get("namespace"),
        "labels": {**(template_meta.get("labels") or {}), **(labels or {})},
        "ownerReferences": [owner_ref],
    }
    if name is None:
        metadata["generateName"] = f"{owner_meta.get('name', '')}-"[:58]
    else:
        metadata["name"] = name
    merged_annotations = {**(template_meta.get("annotations") or {}), **(annotations or {})}
    if merged_annotations:
        metadata["annotations"] = merged_annotations
    if template_meta.get("finalizers"):
        metadata["finalizers"] = list(template_meta["finalizers"])
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": copy.deepcopy(template.get("spec") or {})}


def is_terminal(pod: Mapping[str, Any]) -> bool:
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


def is_deleting(obj: Mapping[str, Any]) -> bool:
    return bool((obj.get("metadata") or {}).get("deletionTimestamp"))


def creation_order(objects: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return sorted(
        objects,
        key=lambda o: ((o.get("metadata") or {}).get("creationTimestamp") or "", (o.get("metadata") or {}).get("name")),
    )


def put_nonzero(status: JsonDict, field_name: str, value: int) -> None:
    """Go's `omitempty` for an int32 status field."""
    if value:
        status[field_name] = value
