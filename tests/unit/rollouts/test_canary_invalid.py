"""An invalid spec, or Services the spec names that cannot be used: InvalidSpec, Degraded, and no other write."""

from __future__ import annotations

from rollouts.reconcile import decide
from tests.unit.rollouts.builders import deployed, replica_set, rollout, service, services, snapshot


def test_an_invalid_spec_writes_nothing_but_an_invalid_spec_condition() -> None:
    cluster = deployed("reviews:v1")
    # A new template that would need a new ReplicaSet, together with a spec the controller must refuse.
    cluster.set_spec(
        {"template": {"spec": {"containers": [{"name": "reviews", "image": "reviews:v2"}]}}, "replicas": -1}
    )
    plan = cluster.decide()
    assert plan.writes == ()
    condition = next(c for c in plan.status["conditions"] if c["type"] == "InvalidSpec")
    assert (condition["status"], condition["reason"]) == ("True", "InvalidSpec")
    assert condition["message"] == "spec.replicas: must not be negative, got -1"
    assert plan.status["phase"] == "Degraded"
    assert plan.status["message"] == f"InvalidSpec: {condition['message']}"
    assert plan.status["stableRS"] == cluster.status["stableRS"]  # everything else is left as it was
    assert [(e.type, e.reason) for e in plan.events] == [("Warning", "InvalidSpec")]
    cluster.apply(plan)
    assert cluster.decide().is_noop  # said once


def test_a_structurally_broken_manifest_is_reported_not_raised() -> None:
    manifest = rollout()
    manifest["spec"]["replicas"] = "three"
    plan = decide(snapshot(manifest))
    assert plan.writes == ()
    assert plan.status["message"].startswith("InvalidSpec: spec.replicas:")


def test_fixing_the_spec_removes_the_condition() -> None:
    cluster = deployed("reviews:v1")
    cluster.set_spec({"replicas": -1})
    cluster.reconcile()
    cluster.set_spec({"replicas": 5})
    cluster.reconcile()
    assert all(c["type"] != "InvalidSpec" for c in cluster.status["conditions"])
    assert cluster.status["phase"] == "Healthy"


def test_a_missing_service_is_invalid_spec_and_looked_at_again() -> None:
    plan = decide(snapshot(rollout(), services_by_name={"reviews-stable": service("reviews-stable")}))
    assert plan.writes == ()
    assert (
        plan.status["message"] == 'InvalidSpec: spec.strategy.canary.canaryService: Service "reviews-canary" not found'
    )
    assert plan.requeue_after == 20


def test_a_service_managed_by_another_rollout_is_not_taken_over() -> None:
    taken = service("reviews-stable")
    taken["metadata"]["annotations"] = {"argo-rollouts.argoproj.io/managed-by-rollouts": "ratings"}
    plan = decide(
        snapshot(
            rollout(),
            services_by_name={**services(), "reviews-stable": taken},
            replica_sets=[replica_set("reviews:v1", replicas=5)],
        )
    )
    assert plan.writes == ()
    assert 'Service "reviews-stable" is managed by Rollout "ratings"' in plan.status["message"]


def test_a_service_whose_selector_cannot_match_the_pods_is_invalid() -> None:
    other = service("reviews-canary")
    other["spec"]["selector"] = {"app": "ratings"}
    plan = decide(snapshot(rollout(), services_by_name={**services(), "reviews-canary": other}))
    assert plan.status["message"] == (
        'InvalidSpec: spec.strategy.canary.canaryService: Service "reviews-canary" selects app=ratings, '
        "which the pod template labels do not have"
    )


def test_blue_green_goes_to_the_blue_green_pass() -> None:
    manifest = rollout()
    manifest["spec"]["strategy"] = {"blueGreen": {"activeService": "reviews-stable"}}
    plan = decide(snapshot(manifest))
    assert [write.kind.kind for write in plan.writes][:1] == ["ReplicaSet"]  # the first revision, created
    assert "blueGreen" in plan.status


def test_a_blue_green_rollout_whose_active_service_is_missing_is_invalid() -> None:
    manifest = rollout()
    manifest["spec"]["strategy"] = {"blueGreen": {"activeService": "reviews-active"}}
    plan = decide(snapshot(manifest))
    assert plan.writes == ()
    assert plan.requeue_after == 20
    assert plan.status["message"] == (
        'InvalidSpec: spec.strategy.blueGreen.activeService: Service "reviews-active" not found'
    )
