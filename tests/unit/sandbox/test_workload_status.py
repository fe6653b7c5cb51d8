"""ReplicaSet and Deployment status as kube-controller-manager reports it."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.workload_status import (
    format_timestamp,
    is_pod_available,
    max_surge,
    max_unavailable,
    next_availability_change,
    parse_timestamp,
    replica_set_status,
    set_condition,
    status_patch,
)

NOW = 1_700_000_000.0


def pod(*, ready: bool = True, ready_for: float = 60, labels: dict[str, str] | None = None) -> dict[str, Any]:
    conditions = [{"type": "Ready", "status": "True" if ready else "False"}]
    if ready:
        conditions[0]["lastTransitionTime"] = format_timestamp(NOW - ready_for)
    return {
        "metadata": {"labels": {"app": "web"} if labels is None else labels},
        "status": {"phase": "Running" if ready else "Pending", "conditions": conditions},
    }


def replica_set(*, replicas: int = 3, generation: int = 2, min_ready: int = 0) -> dict[str, Any]:
    return {
        "metadata": {"name": "web-abc", "generation": generation},
        "spec": {
            "replicas": replicas,
            "minReadySeconds": min_ready,
            "template": {"metadata": {"labels": {"app": "web"}}},
        },
    }


def deployment(replicas: int, strategy: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"spec": {"replicas": replicas, **({"strategy": strategy} if strategy else {})}}


def test_timestamps_have_whole_seconds_and_round_trip() -> None:
    assert format_timestamp(0.9) == "1970-01-01T00:00:00Z"
    assert parse_timestamp(format_timestamp(NOW)) == NOW
    assert parse_timestamp("not a time") is None
    assert parse_timestamp(None) is None


@pytest.mark.parametrize(
    ("pods", "expected"),
    [
        ([], {"replicas": 0, "observedGeneration": 2}),
        (
            [pod(ready=False), pod(ready=False)],
            {"replicas": 2, "fullyLabeledReplicas": 2, "observedGeneration": 2},
        ),
        (
            [pod(), pod(), pod(ready=False)],
            {
                "replicas": 3,
                "fullyLabeledReplicas": 3,
                "readyReplicas": 2,
                "availableReplicas": 2,
                "observedGeneration": 2,
            },
        ),
        (
            [pod(labels={"app": "web"}), pod(labels={"other": "x"})],
            {
                "replicas": 2,
                "fullyLabeledReplicas": 1,
                "readyReplicas": 2,
                "availableReplicas": 2,
                "observedGeneration": 2,
            },
        ),
    ],
    ids=["no pods", "none ready", "two of three ready", "one pod lacks the template labels"],
)
def test_replica_set_status_counts_and_omits_zeros(pods: list[dict[str, Any]], expected: dict[str, Any]) -> None:
    assert replica_set_status(replica_set(), pods, NOW) == expected


def test_ready_pods_are_available_only_after_min_ready_seconds() -> None:
    rs = replica_set(min_ready=10)
    pods = [pod(ready_for=30), pod(ready_for=5)]
    status = replica_set_status(rs, pods, NOW)
    assert status["readyReplicas"] == 2
    assert status["availableReplicas"] == 1
    assert next_availability_change(rs, pods, NOW) == NOW + 5


def test_availability_needs_strictly_more_than_min_ready_seconds() -> None:
    assert not is_pod_available(pod(ready_for=10), 10, NOW)
    assert is_pod_available(pod(ready_for=11), 10, NOW)
    assert is_pod_available(pod(ready_for=0), 0, NOW)


def test_replica_set_status_keeps_existing_conditions() -> None:
    rs = replica_set()
    rs["status"] = {"conditions": [{"type": "ReplicaFailure", "status": "True"}]}
    assert replica_set_status(rs, [], NOW)["conditions"] == rs["status"]["conditions"]


@pytest.mark.parametrize(
    ("replicas", "strategy", "surge", "unavailable"),
    [
        (4, None, 1, 1),
        (10, None, 3, 2),
        (1, None, 1, 0),
        (3, {"rollingUpdate": {"maxSurge": 0, "maxUnavailable": "10%"}}, 0, 1),
        (3, {"rollingUpdate": {"maxSurge": 2, "maxUnavailable": 5}}, 2, 3),
        (3, {"type": "Recreate"}, 0, 0),
        (0, None, 0, 0),
    ],
    ids=["25% of 4", "25% of 10 rounds", "25% of 1", "never both zero", "capped", "recreate", "zero"],
)
def test_surge_and_unavailable_resolve_like_kubernetes(
    replicas: int, strategy: dict[str, Any] | None, surge: int, unavailable: int
) -> None:
    d = deployment(replicas, strategy)
    assert (max_surge(d), max_unavailable(d)) == (surge, unavailable)


def test_set_condition_keeps_transition_time_while_status_holds() -> None:
    status: dict[str, Any] = {
        "conditions": [
            {"type": "Progressing", "status": "True", "reason": "A", "lastTransitionTime": "t0"},
            {"type": "Available", "status": "True", "reason": "B", "lastTransitionTime": "t0"},
        ]
    }
    set_condition(status, {"type": "Progressing", "status": "True", "reason": "C", "lastTransitionTime": "t1"})
    assert [c["type"] for c in status["conditions"]] == ["Available", "Progressing"]
    assert status["conditions"][1] == {
        "type": "Progressing",
        "status": "True",
        "reason": "C",
        "lastTransitionTime": "t0",
    }


def test_set_condition_ignores_same_status_and_reason() -> None:
    original = {"type": "Available", "status": "True", "reason": "B", "lastUpdateTime": "t0"}
    status: dict[str, Any] = {"conditions": [dict(original)]}
    set_condition(status, {**original, "lastUpdateTime": "t9"})
    assert status["conditions"] == [original]


@pytest.mark.parametrize(
    ("current", "desired", "patch"),
    [
        ({"replicas": 3}, {"replicas": 3}, None),
        (None, {"replicas": 0}, {"replicas": 0}),
        ({"replicas": 3, "readyReplicas": 3}, {"replicas": 2}, {"replicas": 2, "readyReplicas": None}),
        ({"replicas": 1}, {"replicas": 1, "readyReplicas": 1}, {"readyReplicas": 1}),
    ],
    ids=["equal", "first write", "field dropped", "field added"],
)
def test_status_patch_carries_only_differences(
    current: dict[str, Any] | None, desired: dict[str, Any], patch: dict[str, Any] | None
) -> None:
    assert status_patch(current, desired) == patch
