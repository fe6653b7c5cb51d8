"""progressDeadlineSeconds: a Rollout that makes no progress for that long is Degraded (and, with
progressDeadlineAbort, aborted) — but never while it waits on purpose."""

from __future__ import annotations

from tests.unit.rollouts.builders import Cluster, deployed, messages, reasons, template

V1, V2 = "reviews:v1", "reviews:v2"


def stuck_canary(**spec: object) -> Cluster:
    """An update whose canary pod never becomes available."""
    cluster = deployed(V1, spec={"progressDeadlineSeconds": 120, **spec})
    cluster.set_spec({"template": template(V2)})
    cluster.reconcile()
    cluster.reconcile()  # scales the canary to 1; it never becomes available
    return cluster


def test_no_progress_for_the_deadline_degrades_the_rollout() -> None:
    cluster = stuck_canary()
    plan = cluster.reconcile()
    assert plan.is_noop and plan.requeue_after == 120
    cluster.advance(119)
    assert cluster.reconcile().requeue_after == 1
    cluster.advance(1)
    plan = cluster.reconcile()
    assert messages(plan, "ProgressDeadlineExceeded") == ['ReplicaSet "reviews-69776b897b" has timed out progressing.']
    assert [e.type for e in plan.events] == ["Warning"]
    status = cluster.status
    assert (status["phase"], status["message"]) == (
        "Degraded",
        'ProgressDeadlineExceeded: ReplicaSet "reviews-69776b897b" has timed out progressing.',
    )
    assert "abort" not in status
    plan = cluster.reconcile()
    assert plan.is_noop and plan.requeue_after is None  # said once; nothing to wait for


def test_progress_after_the_deadline_clears_the_timeout() -> None:
    cluster = stuck_canary()
    cluster.advance(120)
    cluster.reconcile()
    cluster.settle()
    cluster.reconcile()
    progressing = next(c for c in cluster.status["conditions"] if c["type"] == "Progressing")
    assert (progressing["status"], progressing["reason"]) == ("True", "ReplicaSetUpdated")
    assert cluster.status["phase"] != "Degraded"


def test_progress_deadline_abort_aborts_the_update() -> None:
    cluster = stuck_canary(progressDeadlineAbort=True)
    cluster.advance(120)
    plan = cluster.reconcile()
    assert reasons(plan) == ["ProgressDeadlineExceeded", "RolloutAborted"]
    status = cluster.status
    assert status["abort"] is True
    assert status["message"] == (
        "RolloutAborted: Rollout aborted update to revision 2: "
        'ReplicaSet "reviews-69776b897b" has timed out progressing.'
    )
    plan = cluster.reconcile()
    assert "RolloutAborted" not in reasons(plan)  # emitted once


def test_progress_deadline_abort_set_after_the_deadline_aborts_on_the_next_pass() -> None:
    """Argo checks progressDeadlineAbort on every pass that finds the update timed out, not only on the pass
    where the deadline ran out."""
    cluster = stuck_canary()
    cluster.advance(120)
    cluster.reconcile()
    assert cluster.status["phase"] == "Degraded" and "abort" not in cluster.status
    cluster.advance(30)
    cluster.set_spec({"progressDeadlineAbort": True})
    plan = cluster.reconcile()
    assert reasons(plan) == ["RolloutAborted"]
    assert cluster.status["abort"] is True
    assert cluster.status["message"] == (
        "RolloutAborted: Rollout aborted update to revision 2: "
        'ReplicaSet "reviews-69776b897b" has timed out progressing.'
    )


def test_no_deadline_while_paused() -> None:
    cluster = stuck_canary()
    cluster.set_spec({"paused": True})
    cluster.reconcile()
    cluster.advance(3600)
    plan = cluster.reconcile()
    assert "ProgressDeadlineExceeded" not in reasons(plan)
    assert cluster.status["phase"] == "Paused"
