"""Auto-sync, self-heal, retry, history and rollback decisions, with Argo CD's numbers and messages."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from gitops.resources import JsonObject, ResourceKey
from gitops.sync.automation import auto_sync_operation, decide_auto_sync, retry_after, self_heal_backoff
from gitops.sync.history import append_history, rollback_operation
from gitops.sync.retry import backoff_seconds, schedule_retry
from tests.unit.gitops.sync.fake_cluster import T0, Compared, Comparison

REV = "1111111111111111111111111111111111111111"
SOURCE = {"repoURL": "https://git.example/repo.git", "path": "app", "targetRevision": "HEAD"}


def _app(*, automated: JsonObject | None = None, state: JsonObject | None = None, **spec: Any) -> JsonObject:
    app: JsonObject = {
        "metadata": {"name": "guestbook"},
        "spec": {
            "source": SOURCE,
            "syncPolicy": {"automated": automated, "syncOptions": ["CreateNamespace=true"]},
            **spec,
        },
        "status": {},
    }
    if automated is None:
        del app["spec"]["syncPolicy"]["automated"]
    if state is not None:
        app["status"]["operationState"] = state
    return app


def _drift(*statuses: tuple[str, str, bool], sync: str = "OutOfSync") -> Comparison:
    return Comparison(
        resources=tuple(
            Compared(ResourceKey("apps", "Deployment", "demo", name), status, requires_pruning=prune)
            for name, status, prune in statuses
        ),
        sync_status=sync,
    )


def _last_sync(phase: str, *, finished_seconds_ago: float, heals: int = 0, message: str = "") -> JsonObject:
    return {
        "operation": {"sync": {"revision": REV, "autoHealAttemptsCount": heals}},
        "phase": phase,
        "message": message,
        "finishedAt": (T0 - timedelta(seconds=finished_seconds_ago)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "syncResult": {"revision": REV, "source": SOURCE},
    }


OUT_OF_SYNC = _drift(("web", "OutOfSync", False), ("db", "Synced", False))


def test_auto_sync_starts_the_operation_argo_writes() -> None:
    """The automated operation: revision, prune, the app's syncOptions, initiatedBy automated, retry limit 5."""
    operation = auto_sync_operation(_app(automated={"prune": True}), OUT_OF_SYNC, REV, T0)
    assert operation == {
        "sync": {"revision": REV, "prune": True, "syncOptions": ["CreateNamespace=true"]},
        "initiatedBy": {"automated": True},
        "retry": {"limit": 5},
    }


def test_auto_sync_uses_the_apps_retry_strategy() -> None:
    """spec.syncPolicy.retry replaces the automated default (limit 5)."""
    retry = {"limit": 2, "backoff": {"duration": "10s", "factor": 3, "maxDuration": "1m"}}
    app = _app(automated={})
    app["spec"]["syncPolicy"]["retry"] = retry
    operation = auto_sync_operation(app, OUT_OF_SYNC, REV, T0)
    assert isinstance(operation, dict) and operation["retry"] == retry


SKIPS = [
    pytest.param(_app(), OUT_OF_SYNC, "automated sync is not enabled", id="no automated policy"),
    pytest.param(
        dict(_app(automated={}), operation={"sync": {}}),
        OUT_OF_SYNC,
        "another operation is in progress",
        id="an operation is running",
    ),
    pytest.param(
        _app(automated={}),
        _drift(("web", "Synced", False), sync="Synced"),
        "application status is Synced",
        id="not OutOfSync",
    ),
    pytest.param(
        _app(automated={"prune": False}),
        _drift(("web", "Synced", False), ("old", "OutOfSync", True)),
        "need to prune extra resources only but automated prune is disabled",
        id="only pruning, prune off",
    ),
    pytest.param(
        _app(automated={}, state=_last_sync("Succeeded", finished_seconds_ago=60)),
        OUT_OF_SYNC,
        f"most recent sync already to {REV}",
        id="same revision already synced, no selfHeal",
    ),
]


@pytest.mark.parametrize(("app", "comparison", "reason"), SKIPS)
def test_auto_sync_skip_rules(app: JsonObject, comparison: Comparison, reason: str) -> None:
    """appcontroller.go autoSync: each rule skips with Argo's log message."""
    assert auto_sync_operation(app, comparison, REV, T0) == reason


def test_failed_revision_is_not_retried_by_auto_sync() -> None:
    """ "Failed sync attempt to <rev>: <message>" as a SyncError condition; no new operation."""
    app = _app(automated={}, state=_last_sync("Failed", finished_seconds_ago=1, message="one or more objects failed"))
    decision = decide_auto_sync(app, OUT_OF_SYNC, REV, T0)
    assert decision.operation is None
    assert decision.condition == {
        "type": "SyncError",
        "message": f"Failed sync attempt to {REV}: one or more objects failed",
    }


def test_auto_sync_refuses_to_wipe_out_everything() -> None:
    """prune on, allowEmpty off, every resource requires pruning: "auto-sync will wipe out all resources"."""
    everything_pruned = _drift(("web", "OutOfSync", True), ("db", "OutOfSync", True))
    decision = decide_auto_sync(_app(automated={"prune": True}), everything_pruned, REV, T0)
    assert decision.condition == {
        "type": "SyncError",
        "message": f"Skipping sync attempt to {REV}: auto-sync will wipe out all resources",
    }
    allowed = decide_auto_sync(_app(automated={"prune": True, "allowEmpty": True}), everything_pruned, REV, T0)
    assert allowed.operation is not None


@pytest.mark.parametrize(
    ("attempts", "seconds"),
    [(0, 0), (1, 2), (2, 6), (3, 18), (4, 54), (5, 162), (6, 300), (9, 300)],
)
def test_self_heal_backoff_worked_numbers(attempts: int, seconds: float) -> None:
    """Argo 3.x: 2 s × 3^(n-1) for the n-th heal, capped at 300 s (162 × 3 = 486 → 300)."""
    assert self_heal_backoff(attempts) == seconds


def test_self_heal_waits_out_its_backoff() -> None:
    """Two heals done, the last finished 4 s ago: the third waits 6 − 4 = 2 more seconds."""
    app = _app(automated={"selfHeal": True}, state=_last_sync("Succeeded", finished_seconds_ago=4, heals=2))
    decision = decide_auto_sync(app, OUT_OF_SYNC, REV, T0)
    assert (decision.operation, decision.retry_after) == (None, 2.0)


def test_self_heal_syncs_only_the_drifted_resources_and_counts_the_attempt() -> None:
    """Backoff over (6 s < 7 s): the heal syncs only OutOfSync resources and increments autoHealAttemptsCount."""
    app = _app(automated={"selfHeal": True}, state=_last_sync("Succeeded", finished_seconds_ago=7, heals=2))
    operation = auto_sync_operation(app, OUT_OF_SYNC, REV, T0)
    assert isinstance(operation, dict)
    assert operation["sync"]["resources"] == [{"group": "apps", "kind": "Deployment", "name": "web"}]
    assert operation["sync"]["autoHealAttemptsCount"] == 3


@pytest.mark.parametrize(("count", "seconds"), [(0, 5), (1, 10), (2, 20), (3, 40), (4, 80)])
def test_retry_backoff_defaults(count: int, seconds: float) -> None:
    """Default backoff 5 s × 2^n: 5, 10, 20, 40, 80 s."""
    assert backoff_seconds({"limit": 5}, count) == seconds


def test_retry_backoff_is_capped_by_max_duration() -> None:
    """5 s × 2^6 = 320 s exceeds maxDuration 3m: 180 s."""
    assert backoff_seconds({"limit": -1}, 6) == 180


def _failed(retry: JsonObject, count: int) -> JsonObject:
    return {
        "operation": {"sync": {}, "retry": retry},
        "phase": "Failed",
        "message": "boom",
        "retryCount": count,
        "startedAt": "2026-01-01T11:00:00Z",
    }


def test_failed_operation_is_scheduled_for_retry() -> None:
    """retryCount < limit: back to Running, "Retrying attempt #N at <kitchen time>", due after the backoff."""
    state = schedule_retry(_failed({"limit": 5}, 2), T0)
    assert (state["phase"], state["retryCount"]) == ("Running", 3)
    assert state["message"] == "boom. Retrying attempt #3 at 12:00PM."
    assert retry_after({}, state, T0) == T0 + timedelta(seconds=20)


def test_retries_run_out_at_the_limit() -> None:
    """retryCount == limit: the failure stands, noting "(retried N times)."."""
    state = schedule_retry(_failed({"limit": 2}, 2), T0)
    assert (state["phase"], state["message"]) == ("Failed", "boom (retried 2 times).")


def test_negative_limit_retries_forever() -> None:
    """retry.limit < 0 means unlimited retries."""
    assert schedule_retry(_failed({"limit": -1}, 1000), T0)["phase"] == "Running"


def test_zero_limit_never_retries() -> None:
    """The default limit 0 (manual syncs): the failed state is left as it is."""
    assert schedule_retry(_failed({}, 0), T0) == dict(_failed({}, 0))


def _done(revision: str) -> JsonObject:
    return {
        "operation": {"initiatedBy": {"username": "admin"}},
        "startedAt": "2026-01-01T11:59:00Z",
        "finishedAt": "2026-01-01T12:00:00Z",
        "syncResult": {"revision": revision, "source": SOURCE},
    }


def test_history_ids_increment_and_the_limit_keeps_the_newest() -> None:
    """revisionHistoryLimit 3: entries 2, 3, 4 remain after five syncs; ids keep counting."""
    app = _app(revisionHistoryLimit=3)
    for n in range(5):
        app["status"]["history"] = append_history(app, _done(f"rev{n}"))
    assert [(h["id"], h["revision"]) for h in app["status"]["history"]] == [(2, "rev2"), (3, "rev3"), (4, "rev4")]
    assert app["status"]["history"][-1]["initiatedBy"] == {"username": "admin"}


def test_history_default_limit_is_ten() -> None:
    """revisionHistoryLimit defaults to 10: twelve syncs keep ids 2–11."""
    app = _app()
    for n in range(12):
        app["status"]["history"] = append_history(app, _done(f"rev{n}"))
    assert [h["id"] for h in app["status"]["history"]] == list(range(2, 12))


def test_rollback_refused_while_auto_sync_is_on() -> None:
    """argocd app rollback is refused while automated sync is enabled (Argo's message)."""
    assert rollback_operation(_app(automated={}), 1) == "rollback cannot be initiated when auto-sync is enabled"


def test_rollback_syncs_the_entrys_revision_and_source() -> None:
    """A rollback is a sync to the history entry's revision and source."""
    app = _app()
    app["status"]["history"] = [{"id": 0, "revision": "old", "source": SOURCE}, {"id": 1, "revision": "new"}]
    operation = rollback_operation(app, 0, username="admin")
    assert operation == {
        "sync": {"revision": "old", "source": SOURCE, "prune": False, "dryRun": False},
        "initiatedBy": {"username": "admin"},
    }


def test_rollback_to_an_unknown_id() -> None:
    """An id not in the history names the application and the id."""
    app = _app()
    app["status"]["history"] = [{"id": 0, "revision": "old"}]
    assert rollback_operation(app, 7) == "application guestbook does not have deployment with id 7"
