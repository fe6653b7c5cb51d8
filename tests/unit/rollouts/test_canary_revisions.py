"""Revisions: the initial deploy, a template changed mid-update, undo to the stable revision, step changes,
and the revision history that is kept."""

from __future__ import annotations

from kube.resources import REPLICASETS
from rollouts.plan import Create, Delete, Patch
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
)

V1, V2, V3 = "reviews:v1", "reviews:v2", "reviews:v3"


def test_the_initial_deploy_skips_every_step_and_is_stable_at_once() -> None:
    plan = decide(snapshot(rollout(image=V1), services_by_name=services(managed=False)))
    [create] = plan.writes[:1]
    assert isinstance(create, Create) and create.kind == REPLICASETS
    body = create.body
    assert body["metadata"]["name"] == f"{NAME}-{hash_of(V1)}"
    assert body["spec"]["replicas"] == 5  # the first version starts at full size
    assert body["metadata"]["annotations"] == {
        "rollout.argoproj.io/revision": "1",
        "rollout.argoproj.io/desired-replicas": "5",
    }
    assert body["metadata"]["ownerReferences"] == [
        {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Rollout",
            "name": NAME,
            "uid": "uid-reviews",
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]
    assert body["spec"]["selector"]["matchLabels"] == {"app": NAME, "rollouts-pod-template-hash": hash_of(V1)}
    assert body["spec"]["template"]["metadata"]["labels"]["rollouts-pod-template-hash"] == hash_of(V1)
    assert plan.status["stableRS"] == plan.status["currentPodHash"] == hash_of(V1)
    assert plan.status["currentStepIndex"] == 6
    assert reasons(plan) == ["RolloutUpdated", "NewReplicaSetCreated", "ScalingReplicaSet", "RolloutCompleted"]
    assert messages(plan, "RolloutCompleted") == [
        f"Rollout completed update to revision 1 ({hash_of(V1)}): Initial deploy"
    ]
    # The Rollout carries its revision, as Argo's does.
    assert any(isinstance(w, Patch) and w.kind.kind == "Rollout" for w in plan.writes)


def test_services_not_yet_managed_are_taken_over_only_when_the_replica_set_is_fully_available() -> None:
    cluster = Cluster(rollout=rollout(image=V1))
    cluster.reconcile()
    cluster.settle(available=3)
    cluster.reconcile()
    assert cluster.selector_hash(f"{NAME}-stable") is None
    cluster.settle()
    plan = cluster.reconcile()
    assert cluster.selector_hash(f"{NAME}-stable") == hash_of(V1)
    assert cluster.services[f"{NAME}-stable"]["metadata"]["annotations"] == {
        "argo-rollouts.argoproj.io/managed-by-rollouts": NAME
    }
    assert f"Switched selector for service '{NAME}-stable' from '' to '{hash_of(V1)}'" in messages(
        plan, "SwitchService"
    )


def test_undo_to_the_stable_revision_is_a_fast_rollback() -> None:
    cluster = deployed(V1)
    cluster.set_spec({"template": template(V2)})
    for _ in range(4):
        cluster.reconcile()
        cluster.settle()
    assert cluster.canary_weight == 10
    cluster.set_spec({"template": template(V1)})  # `rollouts undo`
    seen = len(cluster.events)
    plan = cluster.reconcile()
    assert reasons(plan)[:3] == ["RolloutUpdated", "SkipSteps", "RolloutCompleted"]
    assert messages(plan, "RolloutUpdated") == ["Rollout updated to revision 3"]
    assert messages(plan, "SkipSteps") == ["Rollback to stable ReplicaSets"]
    assert cluster.rs(V1)["metadata"]["annotations"]["rollout.argoproj.io/revision"] == "3"
    assert cluster.status["currentStepIndex"] == 6
    cluster.reconcile()
    assert cluster.canary_weight == 0
    assert cluster.selector_hash(f"{NAME}-canary") == hash_of(V1)
    cluster.converge()
    cluster.advance(30)
    cluster.converge()
    assert cluster.replicas_of(V2) == 0
    assert cluster.status["phase"] == "Healthy"
    assert "RolloutStepCompleted" not in [e.reason for e in cluster.events[seen:]]  # no steps were run


def test_a_template_change_mid_update_restarts_the_steps_and_retires_the_intermediate_replica_set() -> None:
    cluster = deployed(V1)
    cluster.set_spec({"template": template(V2)})
    for _ in range(4):
        cluster.reconcile()
        cluster.settle()
    assert (cluster.replicas_of(V2), cluster.canary_weight) == (1, 10)
    cluster.set_spec({"template": template(V3)})
    plan = cluster.reconcile()
    assert messages(plan, "RolloutUpdated") == ["Rollout updated to revision 3"]
    assert cluster.status["currentStepIndex"] == 0
    assert cluster.status["stableRS"] == hash_of(V1)
    # The canary Service still points at V2 until V3 has a pod: V2 keeps its pod until then.
    plan = cluster.reconcile()
    assert cluster.replicas_of(V2) == 1
    assert cluster.canary_weight == 0  # V3 has no available pod yet
    cluster.settle()
    for _ in range(3):
        cluster.reconcile()
        cluster.settle()
    assert cluster.selector_hash(f"{NAME}-canary") == hash_of(V3)
    assert cluster.replicas_of(V2) == 0
    assert cluster.canary_weight == 10


def test_changing_only_the_steps_restarts_them() -> None:
    cluster = deployed(V1)
    cluster.set_spec({"template": template(V2)})
    for _ in range(6):
        cluster.reconcile()
        cluster.settle()
    assert cluster.status["currentStepIndex"] >= 1
    cluster.set_spec({"strategy": {"canary": {"steps": [{"setWeight": 50}, {"pause": {}}]}}})
    plan = cluster.reconcile()
    assert cluster.status["currentStepIndex"] == 0
    assert "RolloutUpdated" not in reasons(plan)  # same revision, new steps


def test_changing_the_steps_of_a_healthy_rollout_changes_nothing_else() -> None:
    cluster = deployed(V1)
    cluster.set_spec({"strategy": {"canary": {"steps": [{"setWeight": 50}]}}})
    plan = cluster.reconcile()
    assert plan.writes == ()
    assert reasons(plan) == []
    assert cluster.status["currentStepIndex"] == 1


def test_old_revisions_beyond_the_history_limit_are_deleted_oldest_first() -> None:
    manifest = rollout(image="reviews:v5", spec={"revisionHistoryLimit": 2})
    seed = decide(snapshot(manifest)).status
    manifest["status"] = {**seed, "stableRS": hash_of("reviews:v5")}
    replica_sets = [replica_set(f"reviews:v{n}", replicas=0, revision=n, created=at(n)) for n in range(1, 5)] + [
        replica_set("reviews:v5", replicas=5, revision=5)
    ]
    plan = decide(
        snapshot(
            manifest,
            replica_sets=replica_sets,
            services_by_name=services(canary=hash_of("reviews:v5"), stable=hash_of("reviews:v5")),
        )
    )
    deleted = [w.name for w in plan.writes if isinstance(w, Delete)]
    assert deleted == [f"{NAME}-{hash_of('reviews:v1')}", f"{NAME}-{hash_of('reviews:v2')}"]


def test_a_replica_set_that_still_has_pods_is_never_deleted_for_history() -> None:
    manifest = rollout(image="reviews:v3", spec={"revisionHistoryLimit": 0})
    seed = decide(snapshot(manifest)).status
    manifest["status"] = {**seed, "stableRS": hash_of("reviews:v3")}
    plan = decide(
        snapshot(
            manifest,
            replica_sets=[
                replica_set("reviews:v1", replicas=0, revision=1),
                {**replica_set("reviews:v2", replicas=0, revision=2), "status": {"replicas": 1}},
                replica_set("reviews:v3", replicas=5, revision=3),
            ],
            services_by_name=services(canary=hash_of("reviews:v3"), stable=hash_of("reviews:v3")),
        )
    )
    assert [w.name for w in plan.writes if isinstance(w, Delete)] == [f"{NAME}-{hash_of('reviews:v1')}"]
