"""Deployment history and rollback (Argo CD's ``status.history`` and ``argocd app rollback``)."""

from __future__ import annotations

import copy
from collections.abc import Sequence

from gitops.models import DEFAULT_REVISION_HISTORY_LIMIT
from gitops.resources import JsonObject


def append_history(app: JsonObject, operation_state: JsonObject) -> list[JsonObject]:
    """``status.history`` with an entry for a successful sync, ids incrementing, at most ``revisionHistoryLimit`` kept.

    The entry records the revision synced (one per source for a multi-source Application), when it was deployed
    (``finishedAt``) and started, the source (or sources), and who initiated it.
    """
    spec = app.get("spec") or {}
    history: list[JsonObject] = copy.deepcopy(list((app.get("status") or {}).get("history") or []))
    operation = operation_state.get("operation") or {}
    sync_result = operation_state.get("syncResult") or {}
    entry: JsonObject = {
        "id": max([int(h.get("id", 0)) for h in history] + [-1]) + 1,
        "deployedAt": operation_state.get("finishedAt", ""),
        "deployStartedAt": operation_state.get("startedAt", ""),
        "initiatedBy": copy.deepcopy(operation.get("initiatedBy") or {}),
    }
    if "revisions" in sync_result:
        # A multi-source Application: one revision per source, and the sources, as Argo CD records them.
        entry["revisions"] = list(sync_result.get("revisions") or [])
        entry["sources"] = copy.deepcopy(list(sync_result.get("sources") or spec.get("sources") or []))
    else:
        entry["revision"] = sync_result.get("revision", "")
        entry["source"] = copy.deepcopy(sync_result.get("source") or spec.get("source") or {})
    history.append(entry)
    limit = spec.get("revisionHistoryLimit")
    limit = DEFAULT_REVISION_HISTORY_LIMIT if limit is None else int(limit)
    return history[-limit:] if limit > 0 else []


def _automated(app: JsonObject) -> bool:
    automated = ((app.get("spec") or {}).get("syncPolicy") or {}).get("automated")
    return automated is not None and automated.get("enabled") is not False


def rollback_operation(
    app: JsonObject, history_id: int | None, *, username: str = "", prune: bool = False, dry_run: bool = False
) -> JsonObject | str:
    """The ``operation`` that syncs a history entry's revision and source, or why a rollback is refused.

    Without an id, the entry before the latest one. Refused while automated sync is on, as Argo CD refuses it.
    """
    name = (app.get("metadata") or {}).get("name", "")
    if _automated(app):
        return "rollback cannot be initiated when auto-sync is enabled"
    history: Sequence[JsonObject] = (app.get("status") or {}).get("history") or []
    if history_id is None:
        if len(history) < 2:
            return f"application {name} should have at least two successful deployments"
        entry = history[-2]
    else:
        found = [h for h in history if int(h.get("id", -1)) == history_id]
        if not found:
            return f"application {name} does not have deployment with id {history_id}"
        entry = found[0]
    sync: JsonObject = {"prune": prune, "dryRun": dry_run}
    if entry.get("revisions"):
        sync["revisions"] = list(entry["revisions"])
        sync["sources"] = copy.deepcopy(list(entry.get("sources") or []))
    else:
        sync["revision"] = entry.get("revision", "")
        sync["source"] = copy.deepcopy(entry.get("source") or {})
    return {"sync": sync, "initiatedBy": {"username": username}}
