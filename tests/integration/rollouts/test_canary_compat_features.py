"""Argo Rollouts canary features beyond steps and routing, under the real controller in the sandbox: the canary's
and the stable's pod metadata and a Rollout following a Deployment (workloadRef)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from kube.resources import DEPLOYMENTS
from kube.timestamps import parse_time
from tests.rollout_harness import HASH_LABEL, RolloutCluster, reviews_objects

REVIEWS = "reviews"
JsonObject = dict[str, Any]


def objects_with(canary: JsonObject, **options: Any) -> list[JsonObject]:
    """The seed reviews objects, with extra ``strategy.canary`` fields on the Rollout."""
    documents = reviews_objects(**options)
    documents[-1]["spec"]["strategy"]["canary"].update(canary)
    return documents


def deploy(cluster: RolloutCluster, namespace: str, documents: list[JsonObject]) -> str:
    cluster.apply_all(namespace, documents)
    status = cluster.wait_for_phase(namespace, REVIEWS, "Healthy")
    return str(status["stableRS"])


def new_pod_hash(cluster: RolloutCluster, namespace: str, old: str) -> str:
    return str(
        cluster.wait_for(
            lambda: (h := cluster.status(namespace, REVIEWS).get("currentPodHash")) not in (None, old) and h,
            "a new pod-template hash",
        )
    )


def roles(cluster: RolloutCluster, namespace: str) -> dict[str, set[str]]:
    """{pod-template hash: the `role` labels its live pods carry}."""
    found: dict[str, set[str]] = {}
    for pod in cluster.pods(namespace):
        if pod["metadata"].get("deletionTimestamp"):
            continue
        labels = pod["metadata"].get("labels") or {}
        found.setdefault(labels.get(HASH_LABEL, ""), set()).add(labels.get("role", ""))
    return found


def test_canary_and_stable_pods_carry_their_metadata_and_it_moves_on_promotion(
    cluster: RolloutCluster, namespace: str
) -> None:
    documents = objects_with(
        {"canaryMetadata": {"labels": {"role": "canary"}}, "stableMetadata": {"labels": {"role": "stable"}}},
        steps=[{"setWeight": 20}, {"pause": {}}],
    )
    stable = deploy(cluster, namespace, documents)
    cluster.wait_for(lambda: roles(cluster, namespace).get(stable) == {"stable"}, "the stable pods labelled stable")
    cluster.set_image(namespace, REVIEWS, "reviews:v2")
    new = new_pod_hash(cluster, namespace, stable)
    cluster.wait_for(
        lambda: (found := roles(cluster, namespace)).get(new) == {"canary"} and found.get(stable) == {"stable"},
        "canary pods labelled canary beside the stable ones",
    )
    cluster.wait_for_phase(namespace, REVIEWS, "Paused")
    cluster.promote(namespace, REVIEWS)
    cluster.wait_for_phase(namespace, REVIEWS, "Healthy")
    cluster.wait_for(lambda: roles(cluster, namespace).get(new) == {"stable"}, "the promoted pods labelled stable")


def test_workload_ref_onsuccess_scales_the_deployment_down_once_the_rollout_is_healthy(
    cluster: RolloutCluster, namespace: str
) -> None:
    documents = reviews_objects(steps=[{"setWeight": 20}, {"pause": {"duration": 1}}])
    rollout = documents[-1]
    template = rollout["spec"].pop("template")
    selector = rollout["spec"].pop("selector")
    rollout["spec"]["workloadRef"] = {
        "apiVersion": "apps/v1", "kind": "Deployment", "name": "reviews-deployment", "scaleDown": "onsuccess"
    }
    deployment: JsonObject = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "reviews-deployment"},
        "spec": {"replicas": 3, "selector": selector, "template": template},
    }
    stable = deploy(cluster, namespace, [deployment, *documents])
    cluster.wait_for(
        lambda: cluster.must_get(DEPLOYMENTS, namespace, "reviews-deployment")["spec"]["replicas"] == 0,
        "the Deployment scaled to 0",
    )
    assert cluster.replica_set_for_hash(namespace, stable) is not None
    # The Deployment's template changes: the Rollout takes it through its steps to Healthy.
    containers = [{"name": REVIEWS, "image": "reviews:v2"}]
    patch = {"spec": {"template": {"spec": {"containers": containers}}}}
    cluster.patch(DEPLOYMENTS, namespace, "reviews-deployment", patch)
    new = new_pod_hash(cluster, namespace, stable)
    cluster.wait_for(
        lambda: (s := cluster.status(namespace, REVIEWS)).get("stableRS") == new and s.get("phase") == "Healthy",
        "the Deployment's new template promoted",
    )


def test_dynamic_stable_scale_moves_pods_from_the_stable_to_the_canary_step_by_step(
    cluster: RolloutCluster, namespace: str
) -> None:
    documents = objects_with({"dynamicStableScale": True}, steps=[{"setWeight": 40}, {"pause": {}}])
    stable = deploy(cluster, namespace, documents)
    cluster.set_image(namespace, REVIEWS, "reviews:v2")
    new = new_pod_hash(cluster, namespace, stable)

    def replicas(pod_hash: str) -> int:
        found = cluster.replica_set_for_hash(namespace, pod_hash)
        return int(found["spec"]["replicas"]) if found is not None else -1

    cluster.wait_for_phase(namespace, REVIEWS, "Paused")
    cluster.wait_for(lambda: (replicas(new), replicas(stable)) == (2, 3), "canary 2 and stable 3 of 5 at 40 %")
    cluster.promote(namespace, REVIEWS)
    cluster.wait_for(
        lambda: cluster.status(namespace, REVIEWS).get("stableRS") == new and replicas(stable) == 0,
        "promoted, the old stable at 0 at once",
    )


def test_anti_affinity_keeps_the_canary_off_the_stables_nodes_until_it_is_stable(
    cluster: RolloutCluster, namespace: str
) -> None:
    documents = objects_with(
        {"antiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": {"weight": 40}}},
        steps=[{"setWeight": 20}, {"pause": {}}],
    )
    stable = deploy(cluster, namespace, documents)
    cluster.set_image(namespace, REVIEWS, "reviews:v2")
    new = new_pod_hash(cluster, namespace, stable)

    def preferred_terms() -> list[Any]:
        found = cluster.replica_set_for_hash(namespace, new)
        pod_spec = found["spec"]["template"]["spec"] if found is not None else {}
        anti = (pod_spec.get("affinity") or {}).get("podAntiAffinity") or {}
        return list(anti.get("preferredDuringSchedulingIgnoredDuringExecution") or [])

    terms = cluster.wait_for(preferred_terms, "the canary ReplicaSet's anti-affinity")
    selector = terms[0]["podAffinityTerm"]["labelSelector"]["matchExpressions"][0]
    assert terms[0]["weight"] == 40 and selector["values"] == [stable]
    cluster.wait_for_phase(namespace, REVIEWS, "Paused")
    cluster.promote(namespace, REVIEWS)
    cluster.wait_for(
        lambda: cluster.status(namespace, REVIEWS).get("stableRS") == new and not preferred_terms(),
        "the term taken off once the canary is stable",
    )


def test_rollback_within_the_window_skips_the_steps(cluster: RolloutCluster, namespace: str) -> None:
    documents = objects_with({}, steps=[{"setWeight": 20}, {"pause": {}}])
    documents[-1]["spec"]["rollbackWindow"] = {"revisions": 2}
    first = deploy(cluster, namespace, documents)
    # Creation timestamps have one-second resolution, and the window compares them: the next revision must be
    # created in a later second than this one.
    first_rs = cluster.replica_set_for_hash(namespace, first)
    assert first_rs is not None
    created = parse_time(first_rs["metadata"]["creationTimestamp"])
    assert created is not None
    cluster.wait_for(lambda: datetime.now(UTC) >= created + timedelta(seconds=1), "a later second")
    cluster.set_image(namespace, REVIEWS, "reviews:v2")
    second = new_pod_hash(cluster, namespace, first)
    cluster.wait_for_phase(namespace, REVIEWS, "Paused")
    cluster.promote(namespace, REVIEWS)
    cluster.wait_for(lambda: cluster.status(namespace, REVIEWS).get("stableRS") == second, "v2 promoted")
    cluster.set_image(namespace, REVIEWS, "reviews:v1")
    cluster.wait_for(
        lambda: (s := cluster.status(namespace, REVIEWS)).get("stableRS") == first and s.get("phase") == "Healthy",
        "the rollback to v1 promoted without its steps",
    )
    def messages() -> list[str]:
        return [str(e.get("message", "")) for e in cluster.events(namespace)]

    cluster.wait_for(
        lambda: any("Rollback within window" in m for m in messages()), "RolloutCompleted: Rollback within window"
    )
    assert "Rollback to active ReplicaSets within RollbackWindow" in messages()


def test_a_field_the_controller_does_not_carry_out_is_invalid_spec_and_nothing_is_created(
    cluster: RolloutCluster, namespace: str
) -> None:
    documents = objects_with(
        {}, steps=[{"setWeight": 20}, {"replicaProgressThreshold": {"type": "Percent", "value": 90}}]
    )
    cluster.apply_all(namespace, documents)
    status = cluster.wait_for_phase(namespace, REVIEWS, "Degraded")
    assert "spec.strategy.canary.steps[1].replicaProgressThreshold: is not supported yet" in status["message"]
    assert any(c["type"] == "InvalidSpec" and c["status"] == "True" for c in status["conditions"])
    cluster.look_again(namespace, REVIEWS)  # a pass that saw the spec created nothing
    assert cluster.replica_sets(namespace) == []
