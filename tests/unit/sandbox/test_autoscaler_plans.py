"""HorizontalPodAutoscaler status without metrics: the target's replicas held within the autoscaler's bounds.
Condition types and reasons as autoscaling/v2 reports them:
https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/#appendix-horizontal-pod-autoscaler-status-conditions"""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.autoscaler_plans import plan_hpa
from sandbox.workload_status import format_timestamp

NOW = 1_700_000_000.0


def hpa(minimum: int | None = 2, maximum: int = 5, status: dict[str, Any] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "api"},
        "maxReplicas": maximum,
    }
    if minimum is not None:
        spec["minReplicas"] = minimum
    return {"metadata": {"name": "api", "generation": 1}, "spec": spec, "status": status or {}}


def target(wanted: int, running: int) -> dict[str, Any]:
    return {"spec": {"replicas": wanted}, "status": {"replicas": running}}


# (min, max, target's spec.replicas) → desired, scale the target to, ScalingLimited (status, reason)
BOUNDS = [
    (2, 5, 3, 3, None, ("False", "DesiredWithinRange")),
    (2, 5, 1, 2, 2, ("True", "TooFewReplicas")),
    (2, 5, 9, 5, 5, ("True", "TooManyReplicas")),
    (None, 5, 0, 1, 1, ("True", "TooFewReplicas")),  # minReplicas defaults to 1
]


@pytest.mark.parametrize(("minimum", "maximum", "wanted", "desired", "scale_to", "limited"), BOUNDS)
def test_the_recommendation_is_the_targets_replicas_within_bounds(
    minimum: int | None, maximum: int, wanted: int, desired: int, scale_to: int | None, limited: tuple[str, str]
) -> None:
    result = plan_hpa(hpa(minimum, maximum), target(wanted, wanted), NOW)
    assert result.scale_to == scale_to
    status = result.plan.status
    assert status is not None
    assert (status["currentReplicas"], status["desiredReplicas"]) == (wanted, desired)
    kinds = {c["type"]: (c["status"], c["reason"]) for c in status["conditions"]}
    assert kinds == {
        "AbleToScale": ("True", "ReadyForNewScale"),
        "ScalingActive": ("True", "ValidMetricFound"),
        "ScalingLimited": limited,
    }
    assert ("lastScaleTime" in status) is (scale_to is not None)


def test_current_replicas_are_the_targets_observed_replicas() -> None:
    status = plan_hpa(hpa(), target(3, 2), NOW).plan.status
    assert status is not None and status["currentReplicas"] == 2


def test_a_missing_target_cannot_be_scaled() -> None:
    status = plan_hpa(hpa(), None, NOW).plan.status
    assert status is not None
    (able,) = status["conditions"]
    assert (able["type"], able["status"], able["reason"]) == ("AbleToScale", "False", "FailedGetScale")
    assert 'deployments/scale.apps "api" not found' in able["message"]


def test_a_condition_keeps_its_transition_time_while_its_status_holds() -> None:
    earlier = format_timestamp(NOW - 60)
    previous = {"conditions": [{"type": "AbleToScale", "status": "True", "lastTransitionTime": earlier}]}
    status = plan_hpa(hpa(status=previous), target(3, 3), NOW).plan.status
    assert status is not None
    assert status["conditions"][0]["lastTransitionTime"] == earlier
    assert status["conditions"][1]["lastTransitionTime"] == format_timestamp(NOW)
