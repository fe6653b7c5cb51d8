"""A Rollout following a ReplicaSet's pod template (Argo's workloadRef to an ``apps/v1`` ReplicaSet) under the real
controller: it runs that template, and a change of the ReplicaSet's template — seen through the watch the Rollout's
reference puts on it — is a new revision taken through the steps; the ReplicaSet itself is never scaled."""

from __future__ import annotations

from typing import Any

from kube.resources import REPLICASETS
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
