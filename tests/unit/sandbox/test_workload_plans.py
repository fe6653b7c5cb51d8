"""Pods, names, hashes and the Deployment controller's decisions, as pure data."""

from __future__ import annotations

import copy
import random
import re
from typing import Any

import pytest

from sandbox.workload_plans import (
    DEPLOYMENT_HASH_LABEL,
    DESIRED_REPLICAS_ANNOTATION,
    MAX_REPLICAS_ANNOTATION,
    NAME_ALPHABET,
    REVISION_ANNOTATION,
    DeploymentPlan,
    plan_deployment,
    pod_for_replica_set,
    pod_name,
    pod_ready_delay,
    pod_template_hash,
    pods_to_delete,
    running_pod_status,
)
from sandbox.workload_status import condition_of, format_timestamp, is_pod_ready, status_patch

NOW = 1_700_000_000.0


# --- pods ---------------------------------------------------------------------------------------------------


def test_pod_names_are_the_owner_name_and_five_safe_characters() -> None:
    name = pod_name("web-7d9f8", random.Random(1))
    assert re.fullmatch(rf"web-7d9f8-[{NAME_ALPHABET}]{{5}}", name)
    assert set(NAME_ALPHABET) <= set("abcdefghijklmnopqrstuvwxyz0123456789")


def test_long_owner_names_are_truncated_like_generate_name() -> None:
    name = pod_name("x" * 80, random.Random(1))
    assert len(name) == 63
    assert name.startswith("x" * 58)


def test_pod_from_replica_set_copies_template_and_is_controlled_by_it() -> None:
    rs = {
        "metadata": {"name": "web-abc", "namespace": "prod", "uid": "u-1"},
        "spec": {
            "template": {
                "metadata": {
                    "labels": {"app": "web", "rollouts-pod-template-hash": "abc"},
                    "annotations": {"a": "1"},
                },
                "spec": {"containers": [{"name": "web", "image": "web:1"}]},
            }
        },
    }
    pod = pod_for_replica_set(rs, "web-abc-xyz12")
    assert pod["metadata"]["name"] == "web-abc-xyz12"
    assert pod["metadata"]["namespace"] == "prod"
    assert pod["metadata"]["labels"] == {"app": "web", "rollouts-pod-template-hash": "abc"}
    assert pod["metadata"]["annotations"] == {"a": "1"}
    assert pod["metadata"]["ownerReferences"] == [
        {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "name": "web-abc",
            "uid": "u-1",
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]
    assert pod["spec"] == rs["spec"]["template"]["spec"]  # type: ignore[index]
    assert "status" not in pod


def _pod_with_images(*images: str) -> dict[str, Any]:
    return {"spec": {"containers": [{"name": f"c{i}", "image": image} for i, image in enumerate(images)]}}


@pytest.mark.parametrize(
    ("images", "by_image", "expected"),
    [
        (["web:1"], {}, 0.5),
        (["web:2"], {"web:2": 3.0}, 3.0),
        (["web:1", "sidecar:1"], {"sidecar:1": 2.0}, 2.0),
        (["web:bad"], {"web:bad": None}, None),
        (["web:bad", "sidecar:1"], {"web:bad": None}, None),
        (["web:0"], {"web:0": 0.0}, 0.0),
    ],
    ids=["default", "per image", "slowest image wins", "never", "never wins", "immediate"],
)
def test_ready_delay_comes_from_the_pods_images(
    images: list[str], by_image: dict[str, float | None], expected: float | None
) -> None:
    assert pod_ready_delay(_pod_with_images(*images), 0.5, by_image) == expected


def test_running_status_is_ready_with_every_container_ready() -> None:
    pod = _pod_with_images("web:1", "sidecar:1")
    status = running_pod_status(pod, NOW, "10.244.0.2")
    assert status["phase"] == "Running"
    assert is_pod_ready({"status": status})
    assert [c["ready"] for c in status["containerStatuses"]] == [True, True]
    assert status["podIP"] == "10.244.0.2"


def _ranked_pod(name: str, phase: str, ready: bool, ready_for: float, created: float) -> dict[str, Any]:
    condition: dict[str, Any] = {"type": "Ready", "status": "True" if ready else "False"}
    if ready:
        condition["lastTransitionTime"] = format_timestamp(NOW - ready_for)
    return {
        "metadata": {"name": name, "creationTimestamp": format_timestamp(created)},
        "status": {"phase": phase, "conditions": [condition]},
    }


def test_scale_down_removes_unready_then_recently_ready_then_newest() -> None:
    pods = [
        _ranked_pod("old-ready", "Running", True, 100, NOW - 200),
        _ranked_pod("new-ready", "Running", True, 100, NOW - 150),
        _ranked_pod("just-ready", "Running", True, 5, NOW - 300),
        _ranked_pod("running-unready", "Running", False, 0, NOW - 400),
        _ranked_pod("pending", "Pending", False, 0, NOW - 500),
    ]
    order = [p["metadata"]["name"] for p in pods_to_delete(pods, 5)]
    assert order == ["pending", "running-unready", "just-ready", "new-ready", "old-ready"]
    assert pods_to_delete(pods, 0) == []


# --- pod-template hash --------------------------------------------------------------------------------------


def test_template_hash_is_stable_safe_and_sensitive() -> None:
    template = {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"image": "web:1"}]}}
    first = pod_template_hash(template)
    assert first == pod_template_hash(copy.deepcopy(template))
    assert set(first) <= set(NAME_ALPHABET)
    assert 1 <= len(first) <= 10
    changed = copy.deepcopy(template)
    changed["spec"]["containers"][0]["image"] = "web:2"  # type: ignore[index]
    assert pod_template_hash(changed) != first
    assert pod_template_hash(template, 1) != first


# --- the Deployment controller ------------------------------------------------------------------------------


def make_deployment(image: str = "web:1", replicas: int = 3, generation: int = 1, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "uid": "d-uid", "generation": generation},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": image}]},
            },
            **spec,
        },
    }


class FakeCluster:
    """Applies plans to plain dicts; every pod a ReplicaSet asks for is at once ready and available."""

    def __init__(self, deployment: dict[str, Any]) -> None:
        self.deployment = deployment
        self.replica_sets: dict[str, dict[str, Any]] = {}
        self.created = 0

    def apply(self, plan: DeploymentPlan, *, pods_ready: bool = True) -> None:
        if plan.create is not None:
            rs = copy.deepcopy(plan.create)
            self.created += 1
            rs["metadata"].update(
                uid=f"rs-{self.created}", generation=1, creationTimestamp=format_timestamp(NOW + self.created)
            )
            self.replica_sets[rs["metadata"]["name"]] = rs
        for name, patch in plan.patches.items():
            _merge(self.replica_sets[name], patch)
        for name in plan.deletes:
            del self.replica_sets[name]
        for rs in self.replica_sets.values():
            replicas = rs["spec"]["replicas"]
            ready = replicas if pods_ready else 0
            rs["status"] = {
                "replicas": replicas,
                "readyReplicas": ready,
                "availableReplicas": ready,
                "observedGeneration": 1,
            }
        annotations = self.deployment["metadata"].setdefault("annotations", {})
        annotations.update(plan.deployment_annotations)
        self.deployment["status"] = plan.status

    def plan(self, now: float = NOW) -> DeploymentPlan:
        return plan_deployment(self.deployment, list(self.replica_sets.values()), now)

    def converge(self, *, pods_ready: bool = True, limit: int = 20) -> list[DeploymentPlan]:
        plans = []
        for _ in range(limit):
            plan = self.plan()
            if is_noop(plan, self.deployment):
                return plans
            plans.append(plan)
            self.apply(plan, pods_ready=pods_ready)
        raise AssertionError("the Deployment never settled")


def is_noop(plan: DeploymentPlan, deployment: dict[str, Any]) -> bool:
    return (
        plan.create is None
        and not plan.patches
        and not plan.deletes
        and not plan.deployment_annotations
        and status_patch(deployment.get("status"), plan.status) is None
    )


def _merge(target: dict[str, Any], patch: dict[str, Any]) -> None:
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


def test_new_deployment_creates_a_hashed_replica_set_at_full_size() -> None:
    plan = plan_deployment(make_deployment(), [], NOW)
    rs = plan.create
    assert rs is not None
    rs_hash = rs["spec"]["template"]["metadata"]["labels"][DEPLOYMENT_HASH_LABEL]
    assert rs["metadata"]["name"] == f"web-{rs_hash}"
    assert rs["spec"]["replicas"] == 3
    assert rs["spec"]["selector"] == {"matchLabels": {"app": "web", DEPLOYMENT_HASH_LABEL: rs_hash}}
    assert rs["metadata"]["annotations"] == {
        REVISION_ANNOTATION: "1",
        DESIRED_REPLICAS_ANNOTATION: "3",
        MAX_REPLICAS_ANNOTATION: "4",
    }
    assert rs["metadata"]["ownerReferences"][0]["uid"] == "d-uid"
    assert plan.status["observedGeneration"] == 1
    assert plan.status["unavailableReplicas"] == 3
    assert "replicas" not in plan.status
    assert [(c["type"], c["status"], c["reason"]) for c in plan.status["conditions"]] == [
        ("Progressing", "True", "NewReplicaSetCreated"),
        ("Available", "False", "MinimumReplicasUnavailable"),
    ]


def test_deployment_settles_complete_and_then_plans_nothing() -> None:
    cluster = FakeCluster(make_deployment())
    cluster.converge()
    status = cluster.deployment["status"]
    assert {k: status.get(k) for k in ("replicas", "updatedReplicas", "readyReplicas", "availableReplicas")} == {
        "replicas": 3,
        "updatedReplicas": 3,
        "readyReplicas": 3,
        "availableReplicas": 3,
    }
    assert "unavailableReplicas" not in status
    assert condition_of(status, "Available")["reason"] == "MinimumReplicasAvailable"  # type: ignore[index]
    assert condition_of(status, "Progressing")["reason"] == "NewReplicaSetAvailable"  # type: ignore[index]
    assert cluster.deployment["metadata"]["annotations"][REVISION_ANNOTATION] == "1"
    # A later pass, any time later, writes nothing.
    assert is_noop(cluster.plan(NOW + 3600), cluster.deployment)


def test_unready_pods_leave_the_deployment_progressing_and_unavailable() -> None:
    cluster = FakeCluster(make_deployment())
    cluster.converge(pods_ready=False)
    status = cluster.deployment["status"]
    assert status["replicas"] == 3
    assert status["updatedReplicas"] == 3
    assert "readyReplicas" not in status
    assert status["unavailableReplicas"] == 3
    assert condition_of(status, "Available")["status"] == "False"  # type: ignore[index]
    assert condition_of(status, "Progressing")["reason"] == "ReplicaSetUpdated"  # type: ignore[index]
    plan = cluster.plan()
    assert plan.recheck_at is not None and plan.recheck_at > NOW + 599


def test_progress_deadline_exceeded_after_the_deadline_without_progress() -> None:
    cluster = FakeCluster(make_deployment(progressDeadlineSeconds=30))
    cluster.converge(pods_ready=False)
    plan = cluster.plan(NOW + 31)
    progressing = condition_of(plan.status, "Progressing")
    assert progressing is not None
    assert (progressing["status"], progressing["reason"]) == ("False", "ProgressDeadlineExceeded")
    assert progressing["message"].startswith('ReplicaSet "web-')


def test_rolling_update_keeps_within_surge_and_availability() -> None:
    cluster = FakeCluster(make_deployment(replicas=4))
    cluster.converge()
    cluster.deployment = make_deployment("web:2", replicas=4, generation=2) | {
        "status": cluster.deployment["status"],
        "metadata": cluster.deployment["metadata"] | {"generation": 2},
    }
    surge, unavailable = 1, 1  # 25% of 4
    steps = 0
    for _ in range(30):
        plan = cluster.plan()
        if is_noop(plan, cluster.deployment):
            break
        cluster.apply(plan)
        steps += 1
        total = sum(rs["spec"]["replicas"] for rs in cluster.replica_sets.values())
        assert total <= 4 + surge
        available = sum(rs["status"]["availableReplicas"] for rs in cluster.replica_sets.values())
        assert available >= 4 - unavailable
    assert steps > 2
    new, old = sorted(cluster.replica_sets.values(), key=lambda rs: rs["metadata"]["creationTimestamp"])[::-1]
    assert new["spec"]["template"]["spec"]["containers"][0]["image"] == "web:2"
    assert (new["spec"]["replicas"], old["spec"]["replicas"]) == (4, 0)
    assert new["metadata"]["annotations"][REVISION_ANNOTATION] == "2"
    assert cluster.deployment["metadata"]["annotations"][REVISION_ANNOTATION] == "2"
    assert condition_of(cluster.deployment["status"], "Progressing")["reason"] == "NewReplicaSetAvailable"  # type: ignore[index]


def test_first_step_of_a_rolling_update_only_surges() -> None:
    cluster = FakeCluster(make_deployment(replicas=3))
    cluster.converge()
    cluster.deployment["spec"]["template"]["spec"]["containers"][0]["image"] = "web:2"
    plan = cluster.plan()
    assert plan.create is not None
    assert plan.create["spec"]["replicas"] == 1  # maxSurge 25% of 3 rounds up to 1
    assert plan.patches == {}  # maxUnavailable rounds down to 0: nothing old may go yet


def test_recreate_scales_old_down_before_creating_new() -> None:
    cluster = FakeCluster(make_deployment(strategy={"type": "Recreate"}))
    cluster.converge()
    (old_name,) = cluster.replica_sets
    cluster.deployment["spec"]["template"]["spec"]["containers"][0]["image"] = "web:2"
    plan = cluster.plan()
    assert plan.create is None
    assert plan.patches[old_name]["spec"] == {"replicas": 0}
    cluster.apply(plan)
    plan = cluster.plan()
    assert plan.create is not None and plan.create["spec"]["replicas"] == 3


def test_scaling_a_settled_deployment_resizes_its_replica_set_directly() -> None:
    cluster = FakeCluster(make_deployment(replicas=3))
    cluster.converge()
    cluster.deployment["spec"]["replicas"] = 10
    (name,) = cluster.replica_sets
    plan = cluster.plan()
    assert plan.patches[name]["spec"] == {"replicas": 10}
    assert plan.patches[name]["metadata"]["annotations"][DESIRED_REPLICAS_ANNOTATION] == "10"


def test_paused_deployment_reports_paused_and_does_not_roll() -> None:
    cluster = FakeCluster(make_deployment())
    cluster.converge()
    cluster.deployment["spec"]["paused"] = True
    cluster.deployment["spec"]["template"]["spec"]["containers"][0]["image"] = "web:2"
    plan = cluster.plan()
    assert plan.create is None and not plan.patches
    progressing = condition_of(plan.status, "Progressing")
    assert progressing is not None and (progressing["status"], progressing["reason"]) == (
        "Unknown",
        "DeploymentPaused",
    )


def test_old_replica_sets_beyond_the_history_limit_are_deleted() -> None:
    cluster = FakeCluster(make_deployment(revisionHistoryLimit=1))
    for version in range(1, 5):
        cluster.deployment["spec"]["template"]["spec"]["containers"][0]["image"] = f"web:{version}"
        cluster.converge()
    assert len(cluster.replica_sets) == 2
    revisions = sorted(int(rs["metadata"]["annotations"][REVISION_ANNOTATION]) for rs in cluster.replica_sets.values())
    assert revisions == [3, 4]


def test_rolling_back_to_an_old_template_reuses_its_replica_set_with_a_new_revision() -> None:
    cluster = FakeCluster(make_deployment("web:1"))
    cluster.converge()
    cluster.deployment["spec"]["template"]["spec"]["containers"][0]["image"] = "web:2"
    cluster.converge()
    cluster.deployment["spec"]["template"]["spec"]["containers"][0]["image"] = "web:1"
    cluster.converge()
    assert len(cluster.replica_sets) == 2
    by_image = {rs["spec"]["template"]["spec"]["containers"][0]["image"]: rs for rs in cluster.replica_sets.values()}
    assert by_image["web:1"]["metadata"]["annotations"][REVISION_ANNOTATION] == "3"
    assert by_image["web:1"]["spec"]["replicas"] == 3
    assert by_image["web:2"]["spec"]["replicas"] == 0
