"""A Rollout following the pod template of a ReplicaSet or a PodTemplate (Argo's workloadRef to an ``apps/v1``
ReplicaSet or a ``v1`` PodTemplate) under the real controller: it runs that template, and a change of it — seen
through the watch the Rollout's reference puts on the object — is a new revision taken through the steps; the
referenced object itself is never written."""

from __future__ import annotations

from typing import Any

from kube.resources import POD_TEMPLATES, REPLICASETS
from tests.rollout_harness import RolloutCluster, reviews_objects

REVIEWS = "reviews"
SOURCE = "reviews-template"


def test_a_rollout_follows_a_replica_sets_template_through_an_update(cluster: RolloutCluster, namespace: str) -> None:
    documents = reviews_objects(steps=[{"setWeight": 20}, {"pause": {"duration": 1}}])
    rollout = documents[-1]
    template = rollout["spec"].pop("template")
    selector = rollout["spec"].pop("selector")
    rollout["spec"]["workloadRef"] = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": SOURCE}
    source: dict[str, Any] = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": SOURCE},
        "spec": {"replicas": 0, "selector": selector, "template": template},
    }
    cluster.apply_all(namespace, [source, *documents])
    stable = str(cluster.wait_for_phase(namespace, REVIEWS, "Healthy")["stableRS"])
    running = cluster.replica_set_for_hash(namespace, stable)
    assert running is not None and running["spec"]["template"]["spec"]["containers"][0]["image"] == "reviews:v1"

    containers = [{"name": REVIEWS, "image": "reviews:v2", "ports": [{"containerPort": 9080}]}]
    cluster.patch(REPLICASETS, namespace, SOURCE, {"spec": {"template": {"spec": {"containers": containers}}}})

    status = cluster.wait_for(
        lambda: (s := cluster.status(namespace, REVIEWS)).get("stableRS") not in (None, stable)
        and s.get("phase") == "Healthy"
        and s,
        "the ReplicaSet's new template promoted",
    )
    promoted = cluster.replica_set_for_hash(namespace, str(status["stableRS"]))
    assert promoted is not None and promoted["spec"]["template"]["spec"]["containers"][0]["image"] == "reviews:v2"
    assert status["currentStepIndex"] == 2
    assert cluster.must_get(REPLICASETS, namespace, SOURCE)["spec"]["replicas"] == 0


def test_a_rollout_follows_a_pod_templates_template_through_an_update(cluster: RolloutCluster, namespace: str) -> None:
    documents = reviews_objects(steps=[{"setWeight": 20}, {"pause": {"duration": 1}}])
    rollout = documents[-1]
    template = rollout["spec"].pop("template")  # the selector stays: a PodTemplate has none
    rollout["spec"]["workloadRef"] = {"apiVersion": "v1", "kind": "PodTemplate", "name": "reviews-pods"}
    source: dict[str, Any] = {"apiVersion": "v1", "kind": "PodTemplate", "metadata": {"name": "reviews-pods"},
                              "template": template}
    cluster.apply_all(namespace, documents)
    cluster.create(POD_TEMPLATES, namespace, source)
    stable = str(cluster.wait_for_phase(namespace, REVIEWS, "Healthy")["stableRS"])

    containers = [{"name": REVIEWS, "image": "reviews:v2", "ports": [{"containerPort": 9080}]}]
    cluster.patch(POD_TEMPLATES, namespace, "reviews-pods", {"template": {"spec": {"containers": containers}}})

    status = cluster.wait_for(
        lambda: (s := cluster.status(namespace, REVIEWS)).get("stableRS") not in (None, stable)
        and s.get("phase") == "Healthy"
        and s,
        "the PodTemplate's new template promoted",
    )
    promoted = cluster.replica_set_for_hash(namespace, str(status["stableRS"]))
    assert promoted is not None and promoted["spec"]["template"]["spec"]["containers"][0]["image"] == "reviews:v2"
