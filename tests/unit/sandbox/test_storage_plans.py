"""Claim provisioning and binding, checked against the documented behaviour of dynamic provisioning:
https://kubernetes.io/docs/concepts/storage/persistent-volumes/ and …/storage/storage-classes/"""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.storage_plans import default_storage_class, plan_claim, plan_volume
from sandbox.workload_status import format_timestamp

NOW = 1_700_000_000.0
STANDARD = default_storage_class()
LATE = {
    **STANDARD,
    "metadata": {"name": "late"},
    "volumeBindingMode": "WaitForFirstConsumer",
    "reclaimPolicy": "Retain",
}


def claim(age: float = 10, **spec: Any) -> dict[str, Any]:
    return {
        "metadata": {
            "name": "data",
            "namespace": "ns",
            "uid": "c-uid",
            "creationTimestamp": format_timestamp(NOW - age),
        },
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "5Gi"}}, **spec},
    }


def test_a_claim_is_bound_to_a_new_volume_of_its_size() -> None:
    plan = plan_claim(claim(), [STANDARD], None, consumed=False, now=NOW, bind_delay=1)
    (volume,) = plan.create
    assert volume["metadata"]["name"] == "pvc-c-uid"
    assert volume["spec"]["capacity"] == {"storage": "5Gi"}
    assert volume["spec"]["storageClassName"] == "standard"
    assert volume["spec"]["persistentVolumeReclaimPolicy"] == "Delete"
    assert volume["spec"]["claimRef"] == {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "name": "data",
        "namespace": "ns",
        "uid": "c-uid",
    }
    assert plan.patch is not None and plan.patch["spec"] == {"volumeName": "pvc-c-uid"}
    assert plan.patch["metadata"]["annotations"]["pv.kubernetes.io/bind-completed"] == "yes"
    assert plan.status == {"phase": "Bound", "accessModes": ["ReadWriteOnce"], "capacity": {"storage": "5Gi"}}


def test_an_existing_volume_is_not_created_twice() -> None:
    plan = plan_claim(claim(), [STANDARD], {"metadata": {"name": "pvc-c-uid"}}, consumed=False, now=NOW, bind_delay=1)
    assert plan.create == [] and plan.status is not None and plan.status["phase"] == "Bound"


def test_a_claim_is_pending_until_the_bind_delay_has_passed() -> None:
    plan = plan_claim(claim(age=1), [STANDARD], None, consumed=False, now=NOW, bind_delay=3)
    assert plan.status == {"phase": "Pending"} and plan.create == []
    assert plan.recheck_at == NOW + 2


@pytest.mark.parametrize(
    ("spec", "classes"),
    [({"storageClassName": "fast"}, [STANDARD]), ({}, []), ({"storageClassName": ""}, [STANDARD])],
    ids=["unknown class", "no default class", "static binding"],
)
def test_a_claim_without_a_provisioning_class_stays_pending(spec: dict[str, Any], classes: list[Any]) -> None:
    plan = plan_claim(claim(**spec), classes, None, consumed=False, now=NOW, bind_delay=0)
    assert plan.status == {"phase": "Pending"} and plan.create == [] and plan.recheck_at is None


def test_wait_for_first_consumer_binds_only_once_a_pod_mounts_the_claim() -> None:
    waiting = plan_claim(claim(storageClassName="late"), [STANDARD, LATE], None, consumed=False, now=NOW, bind_delay=0)
    assert waiting.status == {"phase": "Pending"}
    bound = plan_claim(claim(storageClassName="late"), [STANDARD, LATE], None, consumed=True, now=NOW, bind_delay=0)
    assert bound.status is not None and bound.status["phase"] == "Bound"
    assert bound.create[0]["spec"]["persistentVolumeReclaimPolicy"] == "Retain"


def test_a_bound_claim_is_left_alone() -> None:
    bound = {**claim(), "status": {"phase": "Bound"}}
    plan = plan_claim(bound, [STANDARD], None, consumed=False, now=NOW, bind_delay=0)
    assert (plan.create, plan.patch, plan.status) == ([], None, None)


def volume(policy: str) -> dict[str, Any]:
    return {
        "spec": {
            "persistentVolumeReclaimPolicy": policy,
            "claimRef": {"namespace": "ns", "name": "data", "uid": "c-uid"},
        }
    }


def test_a_volume_is_bound_while_its_claim_lives() -> None:
    assert plan_volume(volume("Delete"), claim()).status == {"phase": "Bound"}


@pytest.mark.parametrize(
    ("policy", "deleted", "status"), [("Delete", True, None), ("Retain", False, {"phase": "Released"})]
)
def test_a_volume_whose_claim_is_gone_follows_its_reclaim_policy(policy: str, deleted: bool, status: Any) -> None:
    plan = plan_volume(volume(policy), None)
    assert (plan.delete_self, plan.status) == (deleted, status)


def test_a_claim_of_the_same_name_but_another_uid_does_not_hold_the_volume() -> None:
    other = {**claim(), "metadata": {**claim()["metadata"], "uid": "other"}}
    assert plan_volume(volume("Delete"), other).delete_self
