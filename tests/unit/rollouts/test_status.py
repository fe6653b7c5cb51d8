"""Status: phase and message by Argo's precedence, conditions that only change on change, and a resync of a
settled Rollout that writes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from rollouts.conditions import condition
from rollouts.status import calculate_phase, label_selector_string, rollout_phase
from tests.unit.rollouts.builders import T0, at, deployed, template

CANARY_SPEC: dict[str, Any] = {"replicas": 5, "strategy": {"canary": {"trafficRouting": {"istio": {}}}}}
BASIC_SPEC: dict[str, Any] = {"replicas": 5, "strategy": {"canary": {}}}
DONE: dict[str, Any] = {
    "replicas": 5,
    "updatedReplicas": 5,
    "availableReplicas": 5,
    "currentPodHash": "a",
    "stableRS": "a",
}


@pytest.mark.parametrize(
    ("spec", "status", "expected"),
    [
        (CANARY_SPEC, DONE, ("Healthy", "")),
        (
            CANARY_SPEC,
            {**DONE, "conditions": [{"type": "InvalidSpec", "status": "True", "message": "bad"}]},
            ("Degraded", "InvalidSpec: bad"),
        ),
        (
            CANARY_SPEC,
            {**DONE, "conditions": [{"type": "Progressing", "reason": "RolloutAborted", "message": "m"}]},
            ("Degraded", "RolloutAborted: m"),
        ),
        (
            CANARY_SPEC,
            {**DONE, "conditions": [{"type": "Progressing", "reason": "ProgressDeadlineExceeded", "message": "m"}]},
            ("Degraded", "ProgressDeadlineExceeded: m"),
        ),
        ({**CANARY_SPEC, "paused": True}, DONE, ("Paused", "manually paused")),
        (CANARY_SPEC, {**DONE, "pauseConditions": [{"reason": "CanaryPauseStep"}]}, ("Paused", "CanaryPauseStep")),
        ({**CANARY_SPEC, "restartAt": "t"}, DONE, ("Progressing", "rollout is restarting")),
        (CANARY_SPEC, {**DONE, "updatedReplicas": 2}, ("Progressing", "more replicas need to be updated")),
        (
            CANARY_SPEC,
            {**DONE, "availableReplicas": 4},
            ("Progressing", "updated replicas are still becoming available"),
        ),
        (BASIC_SPEC, {**DONE, "replicas": 6}, ("Progressing", "old replicas are pending termination")),
        (CANARY_SPEC, {**DONE, "replicas": 6}, ("Healthy", "")),  # a router keeps old pods out of traffic
        (CANARY_SPEC, {**DONE, "stableRS": "b"}, ("Progressing", "waiting for all steps to complete")),
    ],
)
def test_phase_follows_argos_order_of_precedence(
    spec: dict[str, Any], status: dict[str, Any], expected: tuple[str, str]
) -> None:
    assert calculate_phase(spec, status) == expected


def test_a_client_sees_progressing_until_the_controller_has_observed_the_spec() -> None:
    manifest = {"metadata": {"generation": 3}, "spec": CANARY_SPEC, "status": {**DONE, "observedGeneration": "2"}}
    assert rollout_phase(manifest) == ("Progressing", "waiting for rollout spec update to be observed")
    manifest["status"] = {**DONE, "observedGeneration": "3", "phase": "Paused", "message": "CanaryPauseStep"}
    assert rollout_phase(manifest) == ("Paused", "CanaryPauseStep")


def test_a_client_sees_an_unpause_in_flight() -> None:
    manifest = {
        "metadata": {"generation": 1},
        "spec": CANARY_SPEC,
        "status": {"observedGeneration": "1", "controllerPause": True, "phase": "Paused"},
    }
    assert rollout_phase(manifest) == ("Progressing", "waiting for rollout to unpause")


def test_condition_timestamps_move_only_when_the_condition_changes() -> None:
    first = condition(None, "Available", "True", "AvailableReason", "ok", T0)
    assert first["lastTransitionTime"] == first["lastUpdateTime"] == "2024-05-01T10:00:00Z"
    assert condition(first, "Available", "True", "AvailableReason", "ok", at(60)) == first
    reworded = condition(first, "Available", "True", "AvailableReason", "still ok", at(60))
    assert (reworded["lastTransitionTime"], reworded["lastUpdateTime"]) == (
        "2024-05-01T10:00:00Z",
        "2024-05-01T10:01:00Z",
    )
    flipped = condition(first, "Available", "False", "AvailableReason", "ok", at(120))
    assert flipped["lastTransitionTime"] == "2024-05-01T10:02:00Z"


def test_a_resync_of_a_healthy_rollout_is_a_no_op() -> None:
    cluster = deployed("reviews:v1")
    cluster.advance(86400)
    plan = cluster.decide()
    assert plan.is_noop
    assert plan.requeue_after is None
    assert plan.status == cluster.status


def test_the_status_of_a_healthy_rollout_reads_like_argos() -> None:
    status = deployed("reviews:v1").status
    assert status["phase"] == "Healthy" and "message" not in status
    assert status["observedGeneration"] == "1"
    assert status["selector"] == "app=reviews"
    assert (status["replicas"], status["updatedReplicas"], status["availableReplicas"], status["HPAReplicas"]) == (
        5,
        5,
        5,
        5,
    )
    assert {c["type"]: (c["status"], c["reason"]) for c in status["conditions"]} == {
        "Available": ("True", "AvailableReason"),
        "Progressing": ("True", "NewReplicaSetAvailable"),
        "Completed": ("True", "RolloutCompleted"),
        "Healthy": ("True", "RolloutHealthy"),
    }


def test_observed_generation_follows_the_spec() -> None:
    cluster = deployed("reviews:v1")
    cluster.set_spec({"template": template("reviews:v2")})
    cluster.reconcile()
    assert cluster.status["observedGeneration"] == "2"


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ({"matchLabels": {"b": "2", "a": "1"}}, "a=1,b=2"),
        (
            {
                "matchExpressions": [
                    {"key": "tier", "operator": "In", "values": ["web", "api"]},
                    {"key": "x", "operator": "DoesNotExist"},
                ]
            },
            "tier in (api,web),!x",
        ),
        (None, ""),
    ],
)
def test_the_scale_selector_is_written_like_kubectl_reads_it(selector: dict[str, Any] | None, expected: str) -> None:
    assert label_selector_string(selector) == expected
