"""spec.restartAt: pods older than the restart time are replaced max(maxUnavailable, 1) at a time."""

from __future__ import annotations

from typing import Any

from kube.resources import PODS
from rollouts.plan import Delete
from tests.unit.rollouts.builders import NAME, NAMESPACE, Cluster, at, deployed, hash_of

V1 = "reviews:v1"


def pods_for(cluster: Cluster, image: str, *, created: str = "2024-05-01T09:00:00Z") -> None:
    rs = cluster.rs(image)
    for n in range(rs["spec"]["replicas"]):
        name = f"{rs['metadata']['name']}-pod{n}"
        cluster.pods[name] = pod(name, rs, created)


def pod(name: str, rs: dict[str, Any], created: str) -> dict[str, Any]:
    return {
        "metadata": {
            "name": name,
            "namespace": NAMESPACE,
            "creationTimestamp": created,
            "ownerReferences": [
                {"kind": "ReplicaSet", "name": rs["metadata"]["name"], "uid": rs["metadata"]["uid"], "controller": True}
            ],
        }
    }


def test_restart_replaces_old_pods_in_batches_of_max_unavailable_then_records_restarted_at() -> None:
    cluster = deployed(V1)  # 5 replicas: maxUnavailable 25 % → 1 pod at a time
    pods_for(cluster, V1)
    cluster.advance(60)
    cluster.set_spec({"restartAt": "2024-05-01T10:00:30Z"})
    plan = cluster.reconcile()
    deletes = [w for w in plan.writes if isinstance(w, Delete) and w.kind == PODS]
    assert [w.name for w in deletes] == [f"{NAME}-{hash_of(V1)}-pod0"]
    assert plan.requeue_after == 0
    assert cluster.status["phase"] == "Progressing"
    assert cluster.status["message"] == "rollout is restarting"
    for n in range(1, 5):
        # The ReplicaSet controller replaces the deleted pod with a fresh one.
        replacement = f"{NAME}-{hash_of(V1)}-new{n}"
        cluster.pods[replacement] = pod(replacement, cluster.rs(V1), "2024-05-01T10:01:00Z")
        plan = cluster.reconcile()
        assert [w.name for w in plan.writes if isinstance(w, Delete)] == [f"{NAME}-{hash_of(V1)}-pod{n}"]
    cluster.pods["last"] = pod("last", cluster.rs(V1), "2024-05-01T10:01:00Z")
    plan = cluster.reconcile()
    assert not plan.writes
    assert cluster.status["restartedAt"] == "2024-05-01T10:00:30Z"
    assert cluster.status["phase"] == "Healthy"


def test_restart_waits_while_a_replica_set_is_not_fully_available() -> None:
    cluster = deployed(V1)
    pods_for(cluster, V1)
    cluster.settle(available=4)
    cluster.advance(60)
    cluster.set_spec({"restartAt": "2024-05-01T10:00:30Z"})
    plan = cluster.reconcile()
    assert not [w for w in plan.writes if isinstance(w, Delete)]


def test_a_restart_in_the_future_asks_to_be_woken_then() -> None:
    cluster = deployed(V1)
    pods_for(cluster, V1)
    cluster.set_spec({"restartAt": at(300).strftime("%Y-%m-%dT%H:%M:%SZ")})
    plan = cluster.reconcile()
    assert not [w for w in plan.writes if isinstance(w, Delete)]
    cluster.reconcile()
    assert cluster.reconcile().requeue_after == 300
