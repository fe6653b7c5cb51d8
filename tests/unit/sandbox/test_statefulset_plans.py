"""One pass of the StatefulSet controller, checked against the documented guarantees of StatefulSets:
https://kubernetes.io/docs/concepts/workloads/controllers/statefulset/#deployment-and-scaling-guarantees"""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.statefulset_plans import plan_statefulset, update_revision

NOW = 1_700_000_000.0


def sts(replicas: int = 3, image: str = "db:1", status: dict[str, Any] | None = None, **spec: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "db", "namespace": "ns", "uid": "sts-uid", "generation": 1},
        "spec": {
            "replicas": replicas,
            "serviceName": "db",
            "selector": {"matchLabels": {"app": "db"}},
            "template": {"metadata": {"labels": {"app": "db"}}, "spec": {"containers": [{"image": image}]}},
            **spec,
        },
        "status": status or {},
    }


def pod(ordinal: int, revision: str, *, ready: bool = True, phase: str = "Running") -> dict[str, Any]:
    return {
        "metadata": {"name": f"db-{ordinal}", "labels": {"controller-revision-hash": revision}},
        "status": {"phase": phase, "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]},
    }


def names(objects: list[Any]) -> list[str]:
    return [o["metadata"]["name"] for o in objects]


REV = update_revision(sts())


# (ready pods already there, policy) → pods created: OrderedReady waits for each pod to be Running and Ready.
@pytest.mark.parametrize(
    ("existing", "policy", "created"),
    [
        ([], "OrderedReady", ["db-0"]),
        ([(0, True)], "OrderedReady", ["db-1"]),
        ([(0, False)], "OrderedReady", []),
        ([(0, True), (1, True)], "OrderedReady", ["db-2"]),
        ([], "Parallel", ["db-0", "db-1", "db-2"]),
        ([(0, False)], "Parallel", ["db-1", "db-2"]),
    ],
)
def test_pods_are_created_in_ordinal_order(existing: list[tuple[int, bool]], policy: str, created: list[str]) -> None:
    pods = [pod(o, REV, ready=r) for o, r in existing]
    plan = plan_statefulset(sts(podManagementPolicy=policy), pods, set(), NOW)
    assert names(plan.create) == created


def test_a_pod_has_a_stable_name_hostname_and_revision_labels() -> None:
    (created,) = plan_statefulset(sts(), [], set(), NOW).create
    assert created["metadata"]["name"] == "db-0"
    assert created["metadata"]["labels"] == {
        "app": "db",
        "controller-revision-hash": REV,
        "statefulset.kubernetes.io/pod-name": "db-0",
        "apps.kubernetes.io/pod-index": "0",
    }
    assert (created["spec"]["hostname"], created["spec"]["subdomain"]) == ("db-0", "db")
    assert created["metadata"]["ownerReferences"][0]["kind"] == "StatefulSet"


def test_update_revision_is_the_set_name_and_a_template_hash_that_changes_with_the_template() -> None:
    assert REV.startswith("db-") and len(REV) > 3
    assert update_revision(sts(image="db:2")) != REV
    assert update_revision(sts(replicas=7)) == REV


@pytest.mark.parametrize(("policy", "deleted"), [("OrderedReady", ["db-4"]), ("Parallel", ["db-4", "db-3"])])
def test_scale_down_removes_the_highest_ordinals_first(policy: str, deleted: list[str]) -> None:
    pods = [pod(o, REV) for o in range(5)]
    plan = plan_statefulset(sts(replicas=3, podManagementPolicy=policy), pods, set(), NOW)
    assert names(plan.delete) == deleted


def test_rolling_update_replaces_the_highest_ordinal_not_yet_updated() -> None:
    old = REV
    new_set = sts(image="db:2", status={"currentRevision": old})
    new = update_revision(new_set)
    plan = plan_statefulset(new_set, [pod(0, old), pod(1, old), pod(2, new)], set(), NOW)
    assert names(plan.delete) == ["db-1"]
    assert plan.status is not None
    assert (plan.status["currentRevision"], plan.status["updateRevision"]) == (old, new)
    assert (plan.status["currentReplicas"], plan.status["updatedReplicas"]) == (1, 1)  # db-1 is on its way out


def test_rolling_update_waits_while_a_pod_is_not_ready() -> None:
    new_set = sts(image="db:2", status={"currentRevision": REV})
    new = update_revision(new_set)
    plan = plan_statefulset(new_set, [pod(0, REV), pod(1, REV), pod(2, new, ready=False)], set(), NOW)
    assert plan.delete == []


def test_rolling_update_stops_at_the_partition() -> None:
    new_set = sts(image="db:2", status={"currentRevision": REV}, updateStrategy={"rollingUpdate": {"partition": 2}})
    new = update_revision(new_set)
    plan = plan_statefulset(new_set, [pod(0, REV), pod(1, REV), pod(2, new)], set(), NOW)
    assert plan.delete == []


def test_on_delete_strategy_leaves_old_pods_alone() -> None:
    new_set = sts(image="db:2", status={"currentRevision": REV}, updateStrategy={"type": "OnDelete"})
    plan = plan_statefulset(new_set, [pod(o, REV) for o in range(3)], set(), NOW)
    assert plan.delete == []


def test_the_update_revision_becomes_current_once_every_replica_runs_it() -> None:
    new_set = sts(image="db:2", status={"currentRevision": REV})
    new = update_revision(new_set)
    plan = plan_statefulset(new_set, [pod(o, new) for o in range(3)], set(), NOW)
    assert plan.status == {
        "observedGeneration": 1,
        "replicas": 3,
        "readyReplicas": 3,
        "currentReplicas": 3,
        "updatedReplicas": 3,
        "availableReplicas": 3,
        "currentRevision": new,
        "updateRevision": new,
        "collisionCount": 0,
    }


def test_a_failed_pod_is_deleted_to_be_recreated() -> None:
    failed = pod(1, REV, phase="Failed", ready=False)
    plan = plan_statefulset(sts(), [pod(0, REV), failed, pod(2, REV)], set(), NOW)
    assert plan.delete == [failed] and plan.create == []


def test_claims_from_templates_are_created_before_their_pod_unless_they_exist() -> None:
    template = {"metadata": {"name": "data"}, "spec": {"resources": {"requests": {"storage": "1Gi"}}}}
    plan = plan_statefulset(
        sts(podManagementPolicy="Parallel", volumeClaimTemplates=[template]), [], {"data-db-1"}, NOW
    )
    assert names(plan.create) == ["data-db-0", "db-0", "db-1", "data-db-2", "db-2"]
    claim = plan.create[0]
    assert claim["kind"] == "PersistentVolumeClaim"
    assert claim["metadata"]["labels"] == {"app": "db"}
    assert {"name": "data", "persistentVolumeClaim": {"claimName": "data-db-0"}} in plan.create[1]["spec"]["volumes"]
