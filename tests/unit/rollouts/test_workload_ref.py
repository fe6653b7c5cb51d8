"""spec.workloadRef: the Rollout runs the pod template of a Deployment (Argo's docs/migrating.md, "Reference
Deployment From Rollout", and the workloadRef section of docs/features/specification.md)."""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

import pytest

from kube.resources import DEPLOYMENTS
from rollouts.hashing import pod_template_hash
from rollouts.plan import Create, Patch, Plan
from rollouts.reconcile import decide
from rollouts.workload_ref import deployment_replicas
from tests.unit.rollouts.bluegreen_builders import V1 as BG_V1
from tests.unit.rollouts.bluegreen_builders import V2 as BG_V2
from tests.unit.rollouts.bluegreen_builders import bg_cluster, bg_rollout, run_until
from tests.unit.rollouts.builders import NAME, NAMESPACE, Cluster, hash_of, rollout, template

DEPLOYMENT = "reviews-deployment"
STEPS = [{"setWeight": 20}, {"pause": {}}]


def deployment(image: str = "reviews:v1", *, replicas: int = 5, generation: int = 1) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": DEPLOYMENT, "namespace": NAMESPACE, "generation": generation},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": NAME}}, "template": template(image)},
    }


def referencing(scale_down: str | None = None, *, steps: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A canary Rollout with no template or selector of its own, naming the Deployment."""
    manifest = rollout(steps=STEPS if steps is None else steps)
    del manifest["spec"]["template"], manifest["spec"]["selector"]
    reference: dict[str, Any] = {"apiVersion": "apps/v1", "kind": "Deployment", "name": DEPLOYMENT}
    if scale_down is not None:
        reference["scaleDown"] = scale_down
    manifest["spec"]["workloadRef"] = reference
    return manifest


def cluster_with(scale_down: str | None = None, *, replicas: int = 5) -> Cluster:
    cluster = Cluster(rollout=referencing(scale_down))
    cluster.deployments[DEPLOYMENT] = deployment(replicas=replicas)
    return cluster


def deployment_scales(plan: Plan) -> list[int]:
    return [
        w.patch["spec"]["replicas"] for w in plan.writes if isinstance(w, Patch) and w.kind == DEPLOYMENTS
    ]


def test_the_rollout_runs_the_deployments_pod_template() -> None:
    cluster = cluster_with()
    cluster.converge()
    assert cluster.status["phase"] == "Healthy"
    assert cluster.status["stableRS"] == hash_of("reviews:v1")
    rs = cluster.rs("reviews:v1")
    assert rs["spec"]["template"]["spec"]["containers"][0]["image"] == "reviews:v1"
    assert rs["spec"]["selector"]["matchLabels"]["app"] == NAME  # the Deployment's selector


def test_the_status_records_the_deployment_generation_it_used() -> None:
    cluster = cluster_with()
    cluster.converge()
    assert cluster.status["workloadObservedGeneration"] == "1"


def test_nothing_of_the_deployment_is_written_into_the_rollout_spec() -> None:
    cluster = cluster_with()
    before = copy.deepcopy(cluster.rollout["spec"])
    cluster.converge()
    assert cluster.rollout["spec"] == before


def test_a_change_of_the_deployments_template_is_a_new_revision_that_runs_the_steps() -> None:
    cluster = cluster_with()
    cluster.converge()
    cluster.deployments[DEPLOYMENT] = deployment("reviews:v2", generation=2)
    cluster.converge()
    status = cluster.status
    assert status["currentPodHash"] == hash_of("reviews:v2")
    assert status["stableRS"] == hash_of("reviews:v1")  # paused at the indefinite pause after 20 %
    assert status["phase"] == "Paused" and status["currentStepIndex"] == 1
    assert status["workloadObservedGeneration"] == "2"


def test_a_missing_deployment_is_an_invalid_spec_naming_it() -> None:
    cluster = Cluster(rollout=referencing())
    plan = cluster.reconcile()
    assert cluster.status["phase"] == "Degraded"
    assert "spec.workloadRef.name: Deployment 'reviews-deployment' not found" in cluster.status["message"]
    assert plan.writes == ()


def test_a_deployment_template_that_the_selector_does_not_match_is_an_invalid_spec() -> None:
    cluster = cluster_with()
    cluster.rollout["spec"]["selector"] = {"matchLabels": {"app": "other"}}
    plan = cluster.reconcile()
    assert "spec.selector: selector does not match template labels" in cluster.status["message"]
    assert plan.writes == ()


@pytest.mark.parametrize(
    ("kind", "api_version", "message"),
    [
        ("StatefulSet", "apps/v1", "spec.workloadRef.kind: StatefulSet is not supported"),
        ("Deployment", "extensions/v1beta1", "spec.workloadRef.apiVersion: must be apps/v1 for a Deployment"),
        ("ReplicaSet", "v1", "spec.workloadRef.apiVersion: must be apps/v1 for a ReplicaSet"),
    ],
)
def test_a_reference_to_a_kind_argo_does_not_follow_or_of_the_wrong_group_is_refused(
    kind: str, api_version: str, message: str
) -> None:
    cluster = cluster_with()
    cluster.rollout["spec"]["workloadRef"].update(kind=kind, apiVersion=api_version)
    cluster.reconcile()
    assert message in cluster.status["message"]


def test_scale_down_never_leaves_the_deployment_alone() -> None:
    cluster = cluster_with("never")
    plans = cluster.converge()
    assert all(deployment_scales(plan) == [] for plan in plans)
    assert cluster.deployments[DEPLOYMENT]["spec"]["replicas"] == 5


def test_scale_down_onsuccess_scales_the_deployment_to_zero_once_the_rollout_is_healthy() -> None:
    cluster = cluster_with("onsuccess")
    first = cluster.reconcile()
    assert deployment_scales(first) == []  # the Rollout's pods are not there yet
    cluster.converge()
    assert cluster.status["phase"] == "Healthy"
    assert cluster.deployments[DEPLOYMENT]["spec"]["replicas"] == 0


def test_scale_down_progressively_gives_up_one_deployment_pod_per_ready_rollout_pod() -> None:
    cluster = cluster_with("progressively")
    cluster.reconcile()  # creates the ReplicaSet at 5
    cluster.settle(available=2)
    plan = cluster.reconcile()
    assert deployment_scales(plan) == [3]  # 5 wanted − 2 ready
    cluster.settle()
    cluster.converge()
    assert cluster.deployments[DEPLOYMENT]["spec"]["replicas"] == 0


@pytest.mark.parametrize(
    ("scale_down", "phase", "ready", "expected"),
    [
        (None, "Progressing", 0, None),
        ("never", "Healthy", 5, None),
        ("onsuccess", "Progressing", 4, None),
        ("onsuccess", "Healthy", 5, 0),
        ("progressively", "Progressing", 0, 5),
        ("progressively", "Progressing", 2, 3),
        ("progressively", "Progressing", 7, 0),  # surge: never below 0
        ("progressively", "Healthy", 5, 0),
    ],
)
def test_deployment_replicas_by_scale_down_mode(
    scale_down: str | None, phase: str, ready: int, expected: int | None
) -> None:
    status = {"phase": phase, "readyReplicas": ready}
    assert deployment_replicas(scale_down, replicas=5, status=status) == expected


def test_a_settled_rollout_following_a_deployment_writes_nothing_on_a_resync() -> None:
    cluster = cluster_with("onsuccess")
    cluster.converge()
    assert cluster.reconcile().is_noop


def test_a_replica_set_of_the_same_name_owned_by_the_deployment_bumps_the_collision_count() -> None:
    """The Deployment's own ReplicaSet is named `<deployment>-<hash>` with the same hash when the Rollout has the
    Deployment's name (Argo's example does): the Rollout escapes the name with status.collisionCount, as Argo does."""
    cluster = Cluster(rollout=referencing())
    cluster.rollout["metadata"]["name"] = DEPLOYMENT
    cluster.deployments[DEPLOYMENT] = deployment()
    snapshot = replace(
        cluster.snapshot(), foreign_replica_set_names=frozenset({f"{DEPLOYMENT}-{hash_of('reviews:v1')}"})
    )
    plan = decide(snapshot)
    created = [w.body["metadata"]["name"] for w in plan.writes if isinstance(w, Create)]
    assert plan.status["collisionCount"] == 1
    assert created == [f"{DEPLOYMENT}-{pod_template_hash(template('reviews:v1'), 1)}"]


def test_a_blue_green_rollout_follows_the_deployment_too_and_scales_it_down_once_healthy() -> None:
    manifest = bg_rollout(blue_green={"autoPromotionEnabled": False})
    del manifest["spec"]["template"], manifest["spec"]["selector"]
    manifest["spec"]["workloadRef"] = {
        "apiVersion": "apps/v1", "kind": "Deployment", "name": DEPLOYMENT, "scaleDown": "onsuccess"
    }
    cluster = bg_cluster()
    cluster.rollout = manifest
    cluster.deployments[DEPLOYMENT] = deployment(BG_V1, replicas=3)
    cluster.converge()
    assert cluster.active == hash_of(BG_V1) and cluster.status["phase"] == "Healthy"
    assert cluster.deployments[DEPLOYMENT]["spec"]["replicas"] == 0
    cluster.deployments[DEPLOYMENT] = deployment(BG_V2, replicas=0, generation=2)
    run_until(cluster, lambda c: bool(c.status.get("pauseConditions")))
    assert cluster.preview == hash_of(BG_V2) and cluster.active == hash_of(BG_V1)
    cluster.promote()
    cluster.converge()
    assert cluster.active == hash_of(BG_V2)


# --- what happens to the Deployment after the migration (Argo's scaleDown, docs/features/specification.md) --------


def updated_to_v2_and_paused(cluster: Cluster) -> None:
    """A Healthy Rollout following the Deployment, then its template changed to v2, up to the pause step."""
    cluster.converge()
    assert cluster.status["phase"] == "Healthy"
    replicas = cluster.deployments[DEPLOYMENT]["spec"]["replicas"]
    cluster.deployments[DEPLOYMENT] = deployment("reviews:v2", replicas=replicas, generation=2)
    cluster.converge()
    assert cluster.status["currentStepIndex"] == 1 and cluster.status.get("pauseConditions")


def test_onsuccess_leaves_the_deployment_at_zero_when_a_later_update_is_aborted() -> None:
    """Argo scales an onsuccess Deployment down once and never up again: the stable's pods serve the abort."""
    cluster = cluster_with("onsuccess")
    updated_to_v2_and_paused(cluster)
    cluster.set_status({"abort": True})

    plans = cluster.converge()

    assert cluster.status["phase"] == "Degraded"
    assert all(deployment_scales(plan) == [] for plan in plans)
    assert cluster.deployments[DEPLOYMENT]["spec"]["replicas"] == 0


def test_progressively_raises_the_deployment_by_the_rollout_pods_that_stop_being_ready() -> None:
    """Argo: "If the Rollout fails the Deployment will be scaled back up" — by replicas − the Rollout's ready pods."""
    cluster = cluster_with("progressively")
    updated_to_v2_and_paused(cluster)
    assert cluster.deployments[DEPLOYMENT]["spec"]["replicas"] == 0

    cluster.settle(only="reviews:v1", available=2)  # three of the stable's five pods crash
    plan = cluster.reconcile()

    # Ready: 2 stable + 1 canary (setWeight 20 of 5) = 3 of 5 wanted.
    assert deployment_scales(plan) == [2]


def test_progressively_raises_nothing_when_an_abort_keeps_the_stable_pods_ready() -> None:
    cluster = cluster_with("progressively")
    updated_to_v2_and_paused(cluster)
    cluster.set_status({"abort": True})

    plans = cluster.converge()

    assert all(deployment_scales(plan) == [] for plan in plans)
    assert cluster.deployments[DEPLOYMENT]["spec"]["replicas"] == 0


# --- a ReplicaSet's pod template (Argo's templateref.go follows apps ReplicaSets too) -------------------------------


def replica_set_workload(image: str = "reviews:v1", *, generation: int = 1) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": "reviews-template", "namespace": NAMESPACE, "generation": generation},
        "spec": {"replicas": 0, "selector": {"matchLabels": {"app": NAME}}, "template": template(image)},
    }


def following_a_replica_set() -> Cluster:
    manifest = referencing()
    manifest["spec"]["workloadRef"] = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "reviews-template"}
    cluster = Cluster(rollout=manifest)
    cluster.deployments["reviews-template"] = replica_set_workload()
    return cluster


def test_a_rollout_runs_the_pod_template_and_selector_of_a_replica_set() -> None:
    cluster = following_a_replica_set()

    plan = cluster.reconcile()

    (created,) = [w.body for w in plan.writes if isinstance(w, Create)]
    assert created["spec"]["template"]["spec"]["containers"][0]["image"] == "reviews:v1"
    assert created["spec"]["selector"]["matchLabels"]["app"] == NAME
    assert cluster.status["workloadObservedGeneration"] == "1"
    assert "template" not in cluster.rollout["spec"]


def test_a_change_of_the_replica_sets_template_is_a_new_revision_and_the_replica_set_is_never_scaled() -> None:
    cluster = following_a_replica_set()
    plans = cluster.converge()
    cluster.deployments["reviews-template"] = replica_set_workload("reviews:v2", generation=2)

    plans += cluster.converge()

    assert cluster.status["currentPodHash"] == hash_of("reviews:v2")
    assert cluster.status["currentStepIndex"] == 1  # paused at the steps' pause, as any update
    assert all(deployment_scales(plan) == [] for plan in plans)


def test_a_missing_replica_set_is_an_invalid_spec_naming_it() -> None:
    cluster = following_a_replica_set()
    del cluster.deployments["reviews-template"]

    plan = cluster.reconcile()

    assert "spec.workloadRef.name: ReplicaSet 'reviews-template' not found" in cluster.status["message"]
    assert plan.writes == ()


# --- a PodTemplate (Argo's templateref.go: the object's own `template`, no selector) --------------------------------


def pod_template_workload(image: str = "reviews:v1") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "PodTemplate",
        "metadata": {"name": "reviews-pods", "namespace": NAMESPACE, "generation": 1},
        "template": template(image),
    }


def following_a_pod_template(*, selector: bool = True) -> Cluster:
    manifest = referencing()
    manifest["spec"]["workloadRef"] = {"apiVersion": "v1", "kind": "PodTemplate", "name": "reviews-pods"}
    if selector:
        manifest["spec"]["selector"] = {"matchLabels": {"app": NAME}}
    cluster = Cluster(rollout=manifest)
    cluster.deployments["reviews-pods"] = pod_template_workload()
    return cluster


def test_a_rollout_runs_a_pod_templates_template_with_its_own_selector() -> None:
    cluster = following_a_pod_template()

    plan = cluster.reconcile()

    (created,) = [w.body for w in plan.writes if isinstance(w, Create)]
    assert created["spec"]["template"]["spec"]["containers"][0]["image"] == "reviews:v1"
    assert created["spec"]["selector"]["matchLabels"]["app"] == NAME


def test_a_pod_template_gives_no_selector_so_the_rollout_must_name_one() -> None:
    cluster = following_a_pod_template(selector=False)

    plan = cluster.reconcile()

    assert "spec.selector: is required with a workloadRef to a PodTemplate (it has no selector)" in (
        cluster.status["message"]
    )
    assert plan.writes == ()
