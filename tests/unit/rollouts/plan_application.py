"""Carry a Plan's writes out on a snapshot, as an API server would, with the rest of the world frozen (no pod
becomes ready, no run finishes): the next pass of ``decide`` then sees exactly what the last one wrote.

Used by the property tests' "a pass fed its own writes settles" invariants; nothing here decides anything.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterable
from typing import Any

from kube.merge_patch import apply_merge_patch
from rollouts.plan import Create, Delete, Patch, Plan
from rollouts.snapshot import RolloutSnapshot

JsonObject = dict[str, Any]


def _name(obj: JsonObject) -> str:
    return str((obj.get("metadata") or {}).get("name", ""))


def _apply_to_list(objects: Iterable[JsonObject], kind: str, plan: Plan) -> tuple[JsonObject, ...]:
    by_name = {_name(obj): copy.deepcopy(obj) for obj in objects}
    for write in plan.writes:
        if write.kind.kind != kind:
            continue
        if isinstance(write, Create):
            body = copy.deepcopy(write.body)
            body.setdefault("status", {})
            by_name[_name(body)] = body
        elif isinstance(write, Patch) and write.name in by_name:
            by_name[write.name] = apply_merge_patch(by_name[write.name], write.patch)
        elif isinstance(write, Delete):
            by_name.pop(write.name, None)
    return tuple(by_name.values())


def _apply_to_map(objects: dict[str, JsonObject], kind: str, plan: Plan) -> dict[str, JsonObject]:
    result = {key: copy.deepcopy(obj) for key, obj in objects.items()}
    for write in plan.writes:
        if isinstance(write, Patch) and write.kind.kind == kind:
            for key, obj in result.items():
                if _name(obj) == write.name:
                    result[key] = apply_merge_patch(obj, write.patch)
    return result


def apply_plan(snapshot: RolloutSnapshot, plan: Plan) -> RolloutSnapshot:
    """The snapshot the next pass sees once every write and the status patch of ``plan`` are stored."""
    rollout = copy.deepcopy(snapshot.rollout)
    for write in plan.writes:
        if isinstance(write, Patch) and write.kind.kind == "Rollout":
            rollout = apply_merge_patch(rollout, write.patch)
    if plan.status_patch is not None:
        rollout["status"] = apply_merge_patch(rollout.get("status") or {}, plan.status_patch)
    return dataclasses.replace(
        snapshot,
        rollout=rollout,
        replica_sets=_apply_to_list(snapshot.replica_sets, "ReplicaSet", plan),
        analysis_runs=_apply_to_list(snapshot.analysis_runs, "AnalysisRun", plan),
        experiments=_apply_to_list(snapshot.experiments, "Experiment", plan),
        services=_apply_to_map(dict(snapshot.services), "Service", plan),
        virtual_services=_apply_to_map(dict(snapshot.virtual_services), "VirtualService", plan),
    )
