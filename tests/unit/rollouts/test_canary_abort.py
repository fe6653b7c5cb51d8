"""Abort sends all traffic back to stable at once and scales the canary down after its delay; retry starts over."""

from __future__ import annotations

from typing import Any

from tests.unit.rollouts.builders import NAME, Cluster, deadline_of, deployed, hash_of, messages, reasons, template

V1, V2 = "reviews:v1", "reviews:v2"


def at_30_percent(**options: Any) -> Cluster:
    cluster = deployed(V1, **options)
    cluster.set_spec({"template": template(V2)})
    for _ in range(30):
        cluster.reconcile()
        cluster.settle()
        if cluster.status.get("pauseConditions"):
            if cluster.status["currentStepIndex"] == 3:
                return cluster
            cluster.advance(60)
    raise AssertionError(f"never reached 30 %: {cluster.status}")


def test_abort_returns_all_traffic_to_stable_at_once() -> None:
    cluster = at_30_percent()
    assert (cluster.canary_weight, cluster.replicas_of(V2)) == (30, 2)
    cluster.set_status({"abort": True})
    plan = cluster.reconcile()
    assert cluster.canary_weight == 0
    assert cluster.selector_hash(f"{NAME}-canary") == hash_of(V1)
    assert cluster.replicas_of(V2) == 2  # kept until the abort delay is over
    assert messages(plan, "RolloutAborted") == ["Rollout aborted update to revision 2"]
    assert [e.type for e in plan.events if e.reason == "RolloutAborted"] == ["Warning"]
    status = cluster.status
    assert (status["phase"], status["message"]) == ("Degraded", "RolloutAborted: Rollout aborted update to revision 2")
    assert status["abortedAt"] == "2024-05-01T10:01:00Z"
    assert status["currentStepIndex"] == 0
    assert "pauseConditions" not in status
    progressing = next(c for c in status["conditions"] if c["type"] == "Progressing")
    assert (progressing["status"], progressing["reason"]) == ("False", "RolloutAborted")
    assert status["canary"]["weights"]["canary"]["weight"] == 0


def test_the_aborted_canary_is_scaled_down_after_abort_scale_down_delay_seconds() -> None:
    cluster = at_30_percent()
    cluster.set_status({"abort": True})
    plan = cluster.reconcile()
    assert deadline_of(cluster.rs(V2)) == "2024-05-01T10:01:30Z"
    assert plan.requeue_after == 0
    plan = cluster.reconcile()
    assert plan.is_noop and plan.requeue_after == 30
    cluster.advance(30)
    plan = cluster.reconcile()
    assert messages(plan, "ScalingReplicaSet") == [
        f"Scaled down ReplicaSet {NAME}-{hash_of(V2)} (revision 2) from 2 to 0"
    ]
    assert cluster.replicas_of(V1) == 5
    assert cluster.reconcile().is_noop  # aborted and settled: no further writes, no repeated events


def test_abort_scale_down_delay_zero_leaves_the_canary_up() -> None:
    cluster = at_30_percent(canary={"abortScaleDownDelaySeconds": 0})
    cluster.set_status({"abort": True})
    cluster.reconcile()
    cluster.advance(3600)
    cluster.reconcile()
    assert cluster.replicas_of(V2) == 2
    assert deadline_of(cluster.rs(V2)) is None
    assert cluster.canary_weight == 0


def test_retry_clears_the_abort_and_starts_the_steps_again() -> None:
    cluster = at_30_percent()
    cluster.set_status({"abort": True})
    cluster.reconcile()
    cluster.advance(30)
    cluster.reconcile()
    cluster.set_status({"abort": False})  # what `rollouts retry` writes
    plan = cluster.reconcile()
    assert messages(plan, "RolloutRetry") == ["Retrying Rollout after abort"]
    status = cluster.status
    assert "abortedAt" not in status and "abort" not in status
    assert status["currentStepIndex"] == 0
    assert cluster.replicas_of(V2) == 1
    assert deadline_of(cluster.rs(V2)) is None
    cluster.settle()
    plan = cluster.reconcile()
    assert "RolloutRetry" not in reasons(plan)
    assert cluster.canary_weight == 10


def test_abort_without_a_router_points_the_canary_service_back_and_shrinks_the_canary() -> None:
    cluster = deployed(V1, traffic_routing=False, replicas=4, steps=[{"setWeight": 50}, {"pause": {}}])
    cluster.set_spec({"template": template(V2)})
    for _ in range(10):
        cluster.reconcile()
        cluster.settle()
    assert (cluster.replicas_of(V1), cluster.replicas_of(V2)) == (2, 2)
    cluster.set_status({"abort": True})
    cluster.converge()
    assert (cluster.replicas_of(V1), cluster.replicas_of(V2)) == (4, 0)
    assert cluster.selector_hash(f"{NAME}-canary") == hash_of(V1)
    assert cluster.status["phase"] == "Degraded"


def test_abort_of_a_fully_promoted_rollout_is_dropped() -> None:
    cluster = deployed(V1)
    cluster.set_status({"abort": True})
    plan = cluster.reconcile()
    assert "abort" not in cluster.status
    assert cluster.status["phase"] == "Healthy"
    assert "RolloutAborted" not in reasons(plan)


def test_a_full_promotion_overrides_an_abort() -> None:
    cluster = at_30_percent()
    cluster.set_status({"abort": True, "promoteFull": True})
    cluster.reconcile()
    assert "abort" not in cluster.status
    assert cluster.replicas_of(V2) == 5
    assert cluster.canary_weight == 30
