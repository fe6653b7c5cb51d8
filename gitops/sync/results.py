"""``status.operationState``: creating it, recording per-resource results, and ending the operation.

Field names are Argo CD's (``syncResult.resources[]``: group, version, kind, namespace, name, status, message,
hookType, hookPhase, syncPhase). Entries keep the order they were first recorded in, as gitops-engine's do.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from datetime import datetime

from gitops.models import OperationPhase, ResultCode
from gitops.resources import JsonObject
from gitops.sync.actions import DRY_RUN, HOOK_CLEANUP, HOOK_PRE_DELETE, NAMESPACE, ActionResult
from gitops.sync.tasks import SUCCEEDED, SyncTask, result_key_of
from kube.timestamps import format_time

COMPLETED_PHASES = {OperationPhase.SUCCEEDED.value, OperationPhase.FAILED.value, OperationPhase.ERROR.value}


def new_operation_state(operation: JsonObject, revision: str, now: datetime) -> JsonObject:
    """A Running operation with no results, as the controller starts it."""
    return {
        "operation": copy.deepcopy(operation),
        "phase": OperationPhase.RUNNING.value,
        "message": "",
        "startedAt": format_time(now),
        "syncResult": {"revision": revision, "resources": []},
    }


def recorded_results(state: JsonObject) -> list[JsonObject]:
    """``syncResult.resources`` ([] when absent)."""
    return list((state.get("syncResult") or {}).get("resources") or [])


def _entry(outcome: SyncTask | ActionResult, hook_phase: str) -> JsonObject:
    """A ``syncResult.resources`` entry from a task's current result or an action's."""
    k = outcome.key
    entry: JsonObject = {"group": k.group, "version": outcome.version, "kind": k.kind, "namespace": k.namespace}
    entry["name"] = k.name
    # Argo omits these when empty (omitempty).
    for field, value in (
        ("status", outcome.status),
        ("message", outcome.message),
        ("hookType", outcome.hook_type),
        ("hookPhase", hook_phase),
        ("syncPhase", outcome.phase),
    ):
        if value:
            entry[field] = value
    return entry


def _upsert(state: JsonObject, entry: JsonObject) -> None:
    sync_result = state.setdefault("syncResult", {})
    resources = sync_result.setdefault("resources", [])
    key = result_key_of(entry)
    for index, existing in enumerate(resources):
        if result_key_of(existing) == key:
            merged = dict(existing)
            for field in ("status", "hookPhase"):
                if entry.get(field):
                    merged[field] = entry[field]
                else:
                    merged.pop(field, None)
            # gitops-engine keeps the latest non-empty message.
            if entry.get("message"):
                merged["message"] = entry["message"]
            resources[index] = merged
            return
    resources.append(entry)


def record_task(state: JsonObject, task: SyncTask) -> None:
    """Write a task's current result into the state (in place)."""
    _upsert(state, _entry(task, task.hook_phase))


def finish(state: JsonObject, phase: str, message: str, now: datetime) -> JsonObject:
    """The operation ended: its phase, message and ``finishedAt`` (in place, and returned)."""
    state["phase"] = phase
    state["message"] = message
    state["finishedAt"] = format_time(now)
    return state


def record_results(operation_state: JsonObject, results: Sequence[ActionResult], now: datetime) -> JsonObject:
    """Fold the controller's action results into a new operation state.

    A failed namespace creation or dry run ends the operation (without SyncFail hooks, as gitops-engine does);
    every other outcome is left for the next ``plan_sync_step`` pass to judge. Successful dry runs record nothing,
    except in a dry-run operation, where they are the operation's result.
    """
    state = copy.deepcopy(operation_state)
    dry_run_operation = bool(((state.get("operation") or {}).get("sync") or {}).get("dryRun"))
    for result in results:
        if result.purpose == HOOK_CLEANUP or (result.purpose == HOOK_PRE_DELETE and result.ok):
            continue
        if result.purpose == DRY_RUN and result.ok and not dry_run_operation:
            continue
        hook_phase = result.hook_phase
        if dry_run_operation and result.ok and result.status == ResultCode.SYNCED.value:
            # Nothing was created, so there is nothing to wait for.
            hook_phase = SUCCEEDED
        _upsert(state, _entry(result, hook_phase))
        if state.get("phase") in COMPLETED_PHASES:
            continue
        if result.purpose == NAMESPACE and not result.ok:
            finish(state, OperationPhase.FAILED.value, f"the namespace failed to apply, reason: {result.message}", now)
        elif result.purpose == DRY_RUN and not result.ok:
            finish(state, OperationPhase.FAILED.value, "one or more objects failed to apply (dry run)", now)
    return state
