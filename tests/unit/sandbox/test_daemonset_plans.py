"""One pass of the DaemonSet controller, checked against the documented behaviour of DaemonSets:
https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/ and …/tasks/manage-daemon/update-daemon-set/"""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.daemonset_plans import daemonset_hash, plan_daemonset

NOW = 1_700_000_000.0


def ds(image: str = "agent:1", generation: int = 1, **template_spec: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "agent", "namespace": "ns", "uid": "ds-uid", "generation": generation},
        "spec": {
            "selector": {"matchLabels": {"app": "agent"}},
            "template": {
                "metadata": {"labels": {"app": "agent"}},
                "spec": {"containers": [{"image": image}], **template_spec},
            },
        },
    }


def node(name: str, **labels: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, **labels}}}


def pod(name: str, node_name: str, revision: str, *, ready: bool = True, phase: str = "Running") -> dict[str, Any]:
    return {
        "metadata": {"name": name, "labels": {"controller-revision-hash": revision}, "creationTimestamp": name},
        "spec": {"nodeName": node_name},
        "status": {"phase": phase, "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]},
    }


NODES = [node("n1", disk="ssd"), node("n2"), node("n3", disk="ssd")]
REV = daemonset_hash(ds())


def test_one_pod_is_created_for_every_node_without_one() -> None:
    plan = plan_daemonset(ds(), [pod("a", "n2", REV)], NODES, NOW)
    assert sorted(p["spec"]["nodeName"] for p in plan.create) == ["n1", "n3"]
    created = plan.create[0]
    assert created["metadata"]["generateName"] == "agent-"
    assert created["metadata"]["labels"] == {
        "app": "agent",
        "controller-revision-hash": REV,
        "pod-template-generation": "1",
    }
    term = created["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert term["nodeSelectorTerms"] == [
        {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n1"]}]}
    ]


def test_a_node_selector_limits_the_nodes() -> None:
    plan = plan_daemonset(ds(nodeSelector={"disk": "ssd"}), [pod("b", "n2", REV)], NODES, NOW)
    assert sorted(p["spec"]["nodeName"] for p in plan.create) == ["n1", "n3"]
    assert [p["metadata"]["name"] for p in plan.delete] == ["b"]  # misscheduled on n2
    assert plan.status is not None
    assert (plan.status["desiredNumberScheduled"], plan.status["numberMisscheduled"]) == (2, 1)


def test_status_counts_scheduled_ready_updated_and_available_pods() -> None:
    pods = [pod("a", "n1", REV), pod("b", "n2", REV, ready=False), pod("c", "n3", "old")]
    plan = plan_daemonset(ds(), pods, NODES, NOW)
    assert plan.status == {
        "currentNumberScheduled": 3,
        "numberMisscheduled": 0,
        "desiredNumberScheduled": 3,
        "numberReady": 2,
        "observedGeneration": 1,
        "updatedNumberScheduled": 2,
        "numberAvailable": 2,
        "numberUnavailable": 1,
    }


def test_rolling_update_replaces_at_most_max_unavailable_pods_at_once() -> None:
    pods = [pod("a", "n1", "old"), pod("b", "n2", "old"), pod("c", "n3", "old")]
    plan = plan_daemonset(ds(), pods, NODES, NOW)
    assert len(plan.delete) == 1  # maxUnavailable defaults to 1


@pytest.mark.parametrize(("max_unavailable", "deleted"), [(2, 2), ("100%", 3), ("34%", 2)])
def test_max_unavailable_may_be_a_count_or_a_percentage_rounded_up(max_unavailable: Any, deleted: int) -> None:
    pods = [pod("a", "n1", "old"), pod("b", "n2", "old"), pod("c", "n3", "old")]
    spec = ds()
    spec["spec"]["updateStrategy"] = {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": max_unavailable}}
    assert len(plan_daemonset(spec, pods, NODES, NOW).delete) == deleted


def test_rolling_update_waits_while_the_budget_is_spent_on_an_unavailable_pod() -> None:
    pods = [pod("a", "n1", REV, ready=False), pod("b", "n2", "old"), pod("c", "n3", "old")]
    assert plan_daemonset(ds(), pods, NODES, NOW).delete == []


def test_on_delete_strategy_leaves_old_pods() -> None:
    spec = ds()
    spec["spec"]["updateStrategy"] = {"type": "OnDelete"}
    pods = [pod("a", "n1", "old"), pod("b", "n2", "old"), pod("c", "n3", "old")]
    assert plan_daemonset(spec, pods, NODES, NOW).delete == []


def test_failed_pods_are_replaced_on_their_node() -> None:
    failed = pod("a", "n1", REV, phase="Failed", ready=False)
    plan = plan_daemonset(ds(), [failed, pod("b", "n2", REV), pod("c", "n3", REV)], NODES, NOW)
    assert plan.delete == [failed]
    assert [p["spec"]["nodeName"] for p in plan.create] == ["n1"]
