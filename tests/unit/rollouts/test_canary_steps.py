"""A canary with traffic routing walked through its steps, pass by pass: 10 % → 30 % → 60 % → promotion."""

from __future__ import annotations

from typing import Any

from rollouts.reconcile import decide
from tests.unit.rollouts.builders import (
    NAME,
    Cluster,
    at,
    deployed,
    hash_of,
    messages,
    reasons,
    replica_set,
    rollout,
    services,
    snapshot,
    template,
    virtual_service,
)

V1, V2 = "reviews:v1", "reviews:v2"


def updated_to_v2(**options: Any) -> Cluster:
    cluster = deployed(V1, **options)
    cluster.set_spec({"template": template(V2)})
    return cluster


def run_until_paused(cluster: Cluster, *, limit: int = 10) -> None:
    for _ in range(limit):
        cluster.reconcile()
        cluster.settle()
        if cluster.status.get("pauseConditions"):
            return
    raise AssertionError(f"never paused: {cluster.status}")


def test_a_new_template_creates_its_replica_set_at_zero_and_restarts_the_steps() -> None:
    cluster = updated_to_v2()
    plan = cluster.reconcile()
    created = [w for w in plan.writes if w.kind.kind == "ReplicaSet" and type(w).__name__ == "Create"]
    assert [w.body["metadata"]["name"] for w in created] == [f"{NAME}-{hash_of(V2)}"]  # type: ignore[union-attr]
    assert created[0].body["spec"]["replicas"] == 0  # type: ignore[union-attr]
    assert reasons(plan) == ["RolloutUpdated", "NewReplicaSetCreated", "RolloutNotCompleted"]
    assert messages(plan, "RolloutNotCompleted") == [
        f"Rollout not completed, started update to revision 2 ({hash_of(V2)})"
    ]
    assert messages(plan, "RolloutUpdated") == ["Rollout updated to revision 2"]
    assert cluster.status["currentStepIndex"] == 0
    assert cluster.status["currentPodHash"] == hash_of(V2)
    assert cluster.status["stableRS"] == hash_of(V1)


def test_the_canary_gets_traffic_only_once_its_pods_are_available() -> None:
    cluster = updated_to_v2()
    cluster.reconcile()  # creates the ReplicaSet
    plan = cluster.reconcile()  # scales it to ceil(10 % of 5) = 1
    assert cluster.replicas_of(V2) == 1
    assert messages(plan, "ScalingReplicaSet") == [
        f"Scaled up ReplicaSet {NAME}-{hash_of(V2)} (revision 2) from 0 to 1"
    ]
    plan = cluster.reconcile()  # the pod is not available yet: no weight, no step completed
    assert cluster.canary_weight == 0
    assert "RolloutStepCompleted" not in reasons(plan)
    cluster.settle()
    plan = cluster.reconcile()
    assert cluster.canary_weight == 10
    assert cluster.selector_hash(f"{NAME}-canary") == hash_of(V2)
    assert messages(plan, "TrafficWeightUpdated") == ["Traffic weight updated from 0 to 10"]
    assert messages(plan, "RolloutStepCompleted") == ["Rollout step 1/6 completed (setWeight: 10)"]
    assert cluster.status["currentStepIndex"] == 1
    assert cluster.status["canary"]["weights"] == {
        "canary": {"weight": 10, "serviceName": f"{NAME}-canary", "podTemplateHash": hash_of(V2)},
        "stable": {"weight": 90, "serviceName": f"{NAME}-stable", "podTemplateHash": hash_of(V1)},
    }


def test_a_timed_pause_marks_the_rollout_paused_and_asks_to_be_woken_at_expiry() -> None:
    cluster = updated_to_v2()
    run_until_paused(cluster)
    status = cluster.status
    assert status["pauseConditions"] == [{"reason": "CanaryPauseStep", "startTime": "2024-05-01T10:00:00Z"}]
    assert status["controllerPause"] is True
    assert (status["phase"], status["message"]) == ("Paused", "CanaryPauseStep")
    assert [e.message for e in cluster.events if e.reason == "RolloutPaused"] == ["Rollout is paused (CanaryPauseStep)"]
    cluster.advance(20)
    plan = cluster.reconcile()
    assert plan.is_noop
    assert plan.requeue_after == 40


def test_a_timed_pause_ends_by_itself_when_its_duration_has_passed() -> None:
    cluster = updated_to_v2()
    run_until_paused(cluster)
    cluster.advance(59)
    assert cluster.reconcile().is_noop
    cluster.advance(1)
    plan = cluster.reconcile()
    assert messages(plan, "RolloutStepCompleted") == ["Rollout step 2/6 completed (pause: 60)"]
    assert "RolloutResumed" in reasons(plan)
    assert cluster.status["currentStepIndex"] == 2
    assert "pauseConditions" not in cluster.status
    assert "controllerPause" not in cluster.status


def test_an_indefinite_pause_waits_for_promote_and_moves_on_when_the_pause_is_cleared() -> None:
    cluster = updated_to_v2()
    run_until_paused(cluster)
    cluster.advance(60)
    cluster.reconcile()
    cluster.settle()
    run_until_paused(cluster)
    assert cluster.status["currentStepIndex"] == 3
    assert cluster.canary_weight == 30
    cluster.advance(3600)
    plan = cluster.reconcile()
    assert plan.is_noop and plan.requeue_after is None  # nothing to wake up for
    cluster.set_status({"pauseConditions": None})  # what `rollouts promote` writes
    plan = cluster.reconcile()
    assert messages(plan, "RolloutStepCompleted") == ["Rollout step 4/6 completed (pause)"]
    assert cluster.status["currentStepIndex"] == 4
    assert plan.requeue_after == 0


def test_a_rollout_walks_10_30_60_and_completes() -> None:
    cluster = updated_to_v2()
    weights_seen: list[int] = []
    for _ in range(40):
        cluster.reconcile()
        cluster.settle()
        if not weights_seen or weights_seen[-1] != cluster.canary_weight:
            weights_seen.append(cluster.canary_weight)
        if cluster.status.get("pauseConditions"):
            if cluster.status["currentStepIndex"] == 3:
                cluster.set_status({"pauseConditions": None})
            else:
                cluster.advance(120)
        if cluster.status.get("stableRS") == hash_of(V2) and cluster.canary_weight == 0:
            break
    assert weights_seen == [0, 10, 30, 60, 100, 0]
    completed = [e.message for e in cluster.events if e.reason == "RolloutCompleted"]
    assert completed[-1] == f"Rollout completed update to revision 2 ({hash_of(V2)}): Completed all 6 canary steps"
    assert [e.message for e in cluster.events if e.reason == "RolloutStepCompleted"] == [
        "Rollout step 1/6 completed (setWeight: 10)",
        "Rollout step 2/6 completed (pause: 60)",
        "Rollout step 3/6 completed (setWeight: 30)",
        "Rollout step 4/6 completed (pause)",
        "Rollout step 5/6 completed (setWeight: 60)",
        "Rollout step 6/6 completed (pause: 2m)",
    ]
    assert cluster.selector_hash(f"{NAME}-stable") == hash_of(V2)
    assert cluster.selector_hash(f"{NAME}-canary") == hash_of(V2)
    assert cluster.status["canary"]["weights"]["stable"] == {
        "weight": 100,
        "serviceName": f"{NAME}-stable",
        "podTemplateHash": hash_of(V2),
    }


def test_after_promotion_the_old_stable_keeps_its_pods_for_the_scale_down_delay() -> None:
    cluster = updated_to_v2(steps=[{"setWeight": 50}])
    cluster.converge()
    old = cluster.rs(V1)
    assert old["spec"]["replicas"] == 5
    assert old["metadata"]["annotations"]["scale-down-deadline"] == "2024-05-01T10:00:30Z"
    plan = cluster.reconcile()
    assert plan.is_noop and plan.requeue_after == 30
    cluster.advance(30)
    plan = cluster.reconcile()
    assert messages(plan, "ScalingReplicaSet") == [
        f"Scaled down ReplicaSet {NAME}-{hash_of(V1)} (revision 1) from 5 to 0"
    ]
    assert "scale-down-deadline" not in cluster.rs(V1)["metadata"]["annotations"]
    cluster.settle()
    assert cluster.converge()[-1].is_noop
    assert cluster.status["phase"] == "Healthy"


def test_promote_full_skips_the_remaining_steps_but_keeps_the_weight_until_the_canary_is_up() -> None:
    cluster = updated_to_v2()
    run_until_paused(cluster)
    cluster.set_status({"promoteFull": True})
    plan = cluster.reconcile()
    assert cluster.replicas_of(V2) == 5
    assert cluster.canary_weight == 10  # not before the new pods are available
    assert cluster.status["currentStepIndex"] == 6
    assert "pauseConditions" not in cluster.status
    assert "RolloutCompleted" not in reasons(plan)
    cluster.settle()
    plan = cluster.reconcile()
    assert messages(plan, "RolloutCompleted") == [
        f"Rollout completed update to revision 2 ({hash_of(V2)}): Full promotion requested"
    ]
    assert cluster.status["stableRS"] == hash_of(V2)
    assert "promoteFull" not in cluster.status
    cluster.reconcile()
    assert cluster.canary_weight == 0
    assert cluster.selector_hash(f"{NAME}-stable") == hash_of(V2)


def test_spec_paused_holds_everything_where_it_is() -> None:
    cluster = updated_to_v2()
    cluster.reconcile()
    cluster.set_spec({"paused": True})
    plan = cluster.reconcile()
    assert cluster.replicas_of(V2) == 0  # no scaling while paused
    assert (cluster.status["phase"], cluster.status["message"]) == ("Paused", "manually paused")
    assert messages(plan, "RolloutPaused") == ["Rollout is paused (manually paused)"]
    assert cluster.reconcile().is_noop
    cluster.set_spec({"paused": False})
    plan = cluster.reconcile()
    assert cluster.replicas_of(V2) == 1
    assert "RolloutResumed" in reasons(plan)


def test_an_analysis_step_waits_for_its_run_instead_of_being_skipped() -> None:
    analysis = {"templates": [{"templateName": "success-rate"}], "args": [{"name": "service-name", "value": "x"}]}
    cluster = updated_to_v2(steps=[{"setWeight": 20}, {"analysis": analysis}])
    for _ in range(6):
        cluster.reconcile()
        cluster.settle()
    assert cluster.status["currentStepIndex"] == 1
    run_name = f"{NAME}-{hash_of(V2)}-2-1"
    assert (cluster.status["phase"], cluster.status["message"]) == (
        "Progressing",
        f"waiting for step-based analysis: AnalysisRun {run_name} is Pending",
    )
    assert cluster.status["stableRS"] == hash_of(V1)
    cluster.advance(3600)
    plan = cluster.reconcile()
    assert plan.is_noop and plan.requeue_after is None  # no progress deadline while waiting for a verdict


def test_set_canary_scale_sizes_the_canary_apart_from_its_weight() -> None:
    cluster = updated_to_v2(steps=[{"setCanaryScale": {"replicas": 3}}, {"setWeight": 20}, {"pause": {}}])
    for _ in range(8):
        cluster.reconcile()
        cluster.settle()
    assert cluster.status["currentStepIndex"] == 2
    assert cluster.replicas_of(V2) == 3  # the scale stays in force for the later steps
    assert cluster.canary_weight == 20


def test_without_steps_the_canary_is_promoted_once_fully_available() -> None:
    cluster = updated_to_v2(steps=[])
    cluster.converge()
    assert cluster.status["stableRS"] == hash_of(V2)
    assert "currentStepIndex" not in cluster.status
    assert [e.message for e in cluster.events if e.reason == "RolloutCompleted"][-1].endswith(
        "Completed all 0 canary steps"
    )


def test_a_step_never_completes_in_the_pass_that_scales_for_it() -> None:
    manifest = rollout(
        image=V2,
        status={
            "currentPodHash": hash_of(V2),
            "stableRS": hash_of(V1),
            "currentStepIndex": 2,
            "currentStepHash": decide(snapshot(rollout(image=V2))).status["currentStepHash"],
            "observedGeneration": "1",
        },
    )
    plan = decide(
        snapshot(
            manifest,
            replica_sets=[replica_set(V1, replicas=5), replica_set(V2, replicas=1, revision=2)],
            services_by_name=services(canary=hash_of(V2), stable=hash_of(V1)),
            vs=virtual_service(10),
            now=at(0),
        )
    )
    assert messages(plan, "ScalingReplicaSet") == [
        f"Scaled up ReplicaSet {NAME}-{hash_of(V2)} (revision 2) from 1 to 2"
    ]
    assert plan.status["currentStepIndex"] == 2
    assert messages(plan, "TrafficWeightUpdated") == []  # the weight stays at 10 until the pods are there


def test_a_lowered_weight_without_a_router_completes_only_at_the_final_counts_all_available() -> None:
    """Argo's AtDesiredReplicaCountsForCanary: `setWeight: 0` after 50 % is done once the canary has no pod and the
    stable all of its pods available; the pause after it starts only then."""
    cluster = deployed(
        V1, traffic_routing=False, replicas=4, steps=[{"setWeight": 50}, {"pause": {}}, {"setWeight": 0}, {"pause": {}}]
    )
    cluster.set_spec({"template": template(V2)})
    for _ in range(10):
        cluster.reconcile()
        cluster.settle()
    assert (cluster.replicas_of(V1), cluster.replicas_of(V2), cluster.status["currentStepIndex"]) == (2, 2, 1)
    cluster.set_status({"pauseConditions": None})  # `rollouts promote`
    for _ in range(12):
        plan = cluster.reconcile()
        stable, canary = cluster.rs(V1), cluster.rs(V2)
        if "RolloutStepCompleted" in reasons(plan) and cluster.status["currentStepIndex"] == 3:
            assert (stable["spec"]["replicas"], stable["status"]["availableReplicas"]) == (4, 4)
            assert canary["spec"]["replicas"] == 0
            return
        # The ReplicaSet controller creates the stable's new pods at once; they become available one pass later.
        cluster.settle(only=V2)
        before = stable["status"].get("availableReplicas", 0)
        cluster.settle(only=V1)
        stable["status"]["availableReplicas"] = stable["status"]["readyReplicas"] = min(
            before, stable["spec"]["replicas"]
        )
        if "ScalingReplicaSet" not in reasons(plan):
            cluster.settle(only=V1)
    raise AssertionError(f"the setWeight: 0 step never completed; status: {cluster.status}")
