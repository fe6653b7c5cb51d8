"""spec.restartAt: pods older than the restart time are replaced max(maxUnavailable, 1) at a time.

Argo's RolloutPodRestarter counts the available pods themselves (Ready, not terminating): it may delete as many as
are available beyond max(replicas, total ReplicaSet size) - max(maxUnavailable, 1).
"""

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


def pod(name: str, rs: dict[str, Any], created: str, *, ready: bool = True) -> dict[str, Any]:
    return {
        "status": {
            "conditions": [
                {"type": "Ready", "status": "True" if ready else "False", "lastTransitionTime": created}
            ]
        },
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


def test_restart_waits_while_a_pod_is_not_ready() -> None:
    cluster = deployed(V1)  # 5 replicas, maxUnavailable 1: 4 must stay available
    pods_for(cluster, V1)
    first = f"{NAME}-{hash_of(V1)}-pod0"
    cluster.pods[first] = pod(first, cluster.rs(V1), "2024-05-01T09:00:00Z", ready=False)
    cluster.advance(60)
    cluster.set_spec({"restartAt": "2024-05-01T10:00:30Z"})
    plan = cluster.reconcile()
    assert not [w for w in plan.writes if isinstance(w, Delete)]


def test_restart_counts_pods_not_the_lagging_replica_set_status() -> None:
    """4 replicas, maxUnavailable 75 % (3 pods): the first pass deletes 3 pods; in the next one the ReplicaSet's
    status still says 4 available, but 3 of the 4 pods are replacements not yet Ready, so the fourth old pod stays
    (1 available, 1 must stay) until they are."""
    cluster = deployed(V1, replicas=4, canary={"maxUnavailable": "75%", "maxSurge": 0})
    pods_for(cluster, V1)
    cluster.advance(60)
    cluster.set_spec({"restartAt": "2024-05-01T10:00:30Z"})
    first = cluster.reconcile()
    deleted = [w.name for w in first.writes if isinstance(w, Delete)]
    assert deleted == [f"{NAME}-{hash_of(V1)}-pod{n}" for n in range(3)]
    for n in range(3):
        replacement = f"{NAME}-{hash_of(V1)}-new{n}"
        cluster.pods[replacement] = pod(replacement, cluster.rs(V1), "2024-05-01T10:01:00Z", ready=False)
    assert cluster.rs(V1)["status"]["availableReplicas"] == 4  # the status has not caught up
    second = cluster.reconcile()
    assert not [w for w in second.writes if isinstance(w, Delete)]
    for n in range(3):
        replacement = f"{NAME}-{hash_of(V1)}-new{n}"
        cluster.pods[replacement] = pod(replacement, cluster.rs(V1), "2024-05-01T10:01:00Z")
    third = cluster.reconcile()
    assert [w.name for w in third.writes if isinstance(w, Delete)] == [f"{NAME}-{hash_of(V1)}-pod3"]


def test_a_restart_in_the_future_asks_to_be_woken_then() -> None:
    cluster = deployed(V1)
    pods_for(cluster, V1)
    cluster.set_spec({"restartAt": at(300).strftime("%Y-%m-%dT%H:%M:%SZ")})
    plan = cluster.reconcile()
    assert not [w for w in plan.writes if isinstance(w, Delete)]
    cluster.reconcile()
    assert cluster.reconcile().requeue_after == 300
