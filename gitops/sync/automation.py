"""Automated sync, self-heal and retry decisions (Argo CD's ``autoSync``), pure over the Application dict.

Skip rules, in Argo's order: no automated policy; an operation is in progress; the app is not OutOfSync; only
pruning is needed and automated prune is off; the same revision (and source) was already synced — a failed attempt
is not repeated ("Failed sync attempt to <rev>: <message>"), a successful one only self-heals, after a backoff of
2 s × 3^(n-1) capped at 300 s for the n-th heal (n counted in ``operation.sync.autoHealAttemptsCount``, Argo 3.x);
every resource would be pruned and allowEmpty is off ("Skipping sync attempt to <rev>: auto-sync will wipe out
all resources").
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime

from gitops.models import OperationPhase, SyncStatusCode
from gitops.resources import JsonObject
from gitops.sync.comparison_view import ComparisonView
from gitops.sync.retry import retry_due_at
from gitops.sync.source_revisions import recorded_revision
from kube.timestamps import required_time

SELF_HEAL_BACKOFF_SECONDS = 2.0
SELF_HEAL_BACKOFF_FACTOR = 3.0
SELF_HEAL_BACKOFF_CAP_SECONDS = 300.0
# A heal count is forgotten once the app has stayed healthy this long after a successful sync (Argo 3.x default).
SELF_HEAL_COOLDOWN_SECONDS = 330.0
# Without spec.syncPolicy.retry, automated syncs retry 5 times (5, 10, 20, 40, 80 s).
AUTO_SYNC_RETRY_LIMIT = 5


@dataclass(frozen=True)
class AutoSyncDecision:
    """An operation to start, or why not: ``condition`` (a SyncError) when Argo reports it, ``retry_after`` seconds
    when self-heal is backing off."""

    operation: JsonObject | None
    reason: str = ""
    condition: JsonObject | None = None
    retry_after: float | None = None


def self_heal_backoff(attempts: int) -> float:
    """Seconds to wait before the heal that follows ``attempts`` earlier heals: 0, 2, 6, 18, 54, 162, 300, 300…"""
    delay = 0.0
    step = SELF_HEAL_BACKOFF_SECONDS
    for _ in range(attempts):
        delay = step
        step = min(step * SELF_HEAL_BACKOFF_FACTOR, SELF_HEAL_BACKOFF_CAP_SECONDS)
    return delay


def _without_target_revision(source: JsonObject | None) -> JsonObject:
    result = dict(source or {})
    result.pop("targetRevision", None)
    return result


def _already_attempted(app: JsonObject, revision: str) -> tuple[bool, str]:
    state = (app.get("status") or {}).get("operationState") or {}
    sync_result = state.get("syncResult")
    if not state or not (state.get("operation") or {}).get("sync") or sync_result is None:
        return False, ""
    if recorded_revision(sync_result) != revision:
        return False, ""
    spec = app.get("spec") or {}
    if "source" in sync_result and _without_target_revision(sync_result.get("source")) != _without_target_revision(
        spec.get("source")
    ):
        return False, ""
    # A multi-source result records every source; a spec edit to any of them is a new attempt.
    if "sources" in sync_result and [_without_target_revision(s) for s in sync_result.get("sources") or []] != [
        _without_target_revision(s) for s in spec.get("sources") or []
    ]:
        return False, ""
    return True, str(state.get("phase", ""))


def decide_auto_sync(app: JsonObject, comparison: ComparisonView, revision: str, now: datetime) -> AutoSyncDecision:
    """Whether automated sync starts an operation now, and which."""
    spec = app.get("spec") or {}
    policy = spec.get("syncPolicy") or {}
    automated = policy.get("automated")
    if automated is None or automated.get("enabled") is False:
        return AutoSyncDecision(None, "automated sync is not enabled")
    if app.get("operation"):
        return AutoSyncDecision(None, "another operation is in progress")
    if (app.get("metadata") or {}).get("deletionTimestamp"):
        return AutoSyncDecision(None, "deletion in progress")
    if comparison.sync_status != SyncStatusCode.OUT_OF_SYNC.value:
        return AutoSyncDecision(None, f"application status is {comparison.sync_status}")
    prune = bool(automated.get("prune"))
    resources = [r for r in comparison.resources if not r.hook]
    if not prune and all(r.status == SyncStatusCode.SYNCED.value or r.requires_pruning for r in resources):
        return AutoSyncDecision(None, "need to prune extra resources only but automated prune is disabled")

    operation: JsonObject = {
        "sync": {"revision": revision, "prune": prune, "syncOptions": list(policy.get("syncOptions") or [])},
        "initiatedBy": {"automated": True},
        "retry": copy.deepcopy(policy["retry"]) if policy.get("retry") else {"limit": AUTO_SYNC_RETRY_LIMIT},
    }
    self_heal = bool(automated.get("selfHeal"))
    attempted, phase = _already_attempted(app, revision)
    if attempted and phase != OperationPhase.SUCCEEDED.value:
        state = (app.get("status") or {}).get("operationState") or {}
        message = f"Failed sync attempt to {revision}: {state.get('message', '')}"
        return AutoSyncDecision(None, message, {"type": "SyncError", "message": message})
    if attempted and not self_heal:
        return AutoSyncDecision(None, f"most recent sync already to {revision}")
    if attempted:
        state = (app.get("status") or {}).get("operationState") or {}
        attempts = int(((state.get("operation") or {}).get("sync") or {}).get("autoHealAttemptsCount", 0) or 0)
        since = (now - required_time(str(state["finishedAt"]))).total_seconds() if state.get("finishedAt") else None
        if since is not None and since >= SELF_HEAL_COOLDOWN_SECONDS:
            attempts = 0
        remaining = self_heal_backoff(attempts) - (since or 0.0)
        if remaining > 0:
            return AutoSyncDecision(
                None, f"already attempted sync to {revision} (retrying in {remaining:g}s)", retry_after=remaining
            )
        operation["sync"]["autoHealAttemptsCount"] = attempts + 1
        # Self-heal syncs only what drifted.
        operation["sync"]["resources"] = [
            {"group": r.key.group, "kind": r.key.kind, "name": r.key.name}
            for r in resources
            if r.status != SyncStatusCode.SYNCED.value
        ]
    if prune and not automated.get("allowEmpty") and all(r.requires_pruning for r in resources):
        message = f"Skipping sync attempt to {revision}: auto-sync will wipe out all resources"
        return AutoSyncDecision(None, message, {"type": "SyncError", "message": message})
    return AutoSyncDecision(operation)


def auto_sync_operation(app: JsonObject, comparison: ComparisonView, revision: str, now: datetime) -> JsonObject | str:
    """The ``operation`` automated sync starts now, or the reason it is skipped (Argo's messages)."""
    decision = decide_auto_sync(app, comparison, revision, now)
    return decision.operation if decision.operation is not None else decision.reason


def retry_after(app: JsonObject, operation_state: JsonObject, now: datetime) -> datetime | None:
    """When the operation waiting to retry may restart (None when it is not waiting for a retry).

    ``app`` is accepted for the contract's symmetry; the retry strategy travels in the operation state.
    """
    due = retry_due_at(operation_state)
    return None if due is None else max(due, now)
