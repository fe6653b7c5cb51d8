"""The HorizontalPodAutoscaler's status, as a pure function (autoscaling/v2, pkg/controller/podautoscaler).

The sandbox has no metrics: every metric is taken to sit at its target, so the recommendation is the target's
own replica count held within `minReplicas` (default 1) and `maxReplicas`. A target outside those bounds is
scaled to them (`scale_to`), as the real controller would, and `lastScaleTime` records it. The conditions are
the controller's: AbleToScale, ScalingActive and ScalingLimited with its reasons and messages.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sandbox.controller_plans import ControllerPlan
from sandbox.workload_status import JsonDict, format_timestamp


@dataclass
class AutoscalerPlan:
    plan: ControllerPlan
    scale_to: int | None
    """The replica count to set on the target, when it is outside the autoscaler's bounds."""


def target_reference(hpa: Mapping[str, Any]) -> tuple[str, str, str]:
    """(apiVersion, kind, name) of spec.scaleTargetRef."""
    ref = (hpa.get("spec") or {}).get("scaleTargetRef") or {}
    return (str(ref.get("apiVersion") or "apps/v1"), str(ref.get("kind") or ""), str(ref.get("name") or ""))


def _condition(previous: list[JsonDict], kind: str, status: bool, reason: str, message: str, now: float) -> JsonDict:
    text = "True" if status else "False"
    since = format_timestamp(now)
    for entry in previous:
        if entry.get("type") == kind and entry.get("status") == text:
            since = str(entry.get("lastTransitionTime") or since)
    return {"type": kind, "status": text, "lastTransitionTime": since, "reason": reason, "message": message}


# ScalingLimited as the controller words it: (status, reason, message) for a wanted count below, above, within range.
_TOO_FEW = (True, "TooFewReplicas", "the desired replica count is less than the minimum replica count")
_TOO_MANY = (True, "TooManyReplicas", "the desired replica count is more than the maximum replica count")
_WITHIN_RANGE = (False, "DesiredWithinRange", "the desired count is within the acceptable range")


def plan_hpa(hpa: Mapping[str, Any], target: Mapping[str, Any] | None, now: float) -> AutoscalerPlan:
    """One pass of the autoscaler over its observed target (None: the target does not exist)."""
    spec = hpa.get("spec") or {}
    current: JsonDict = copy.deepcopy(dict(hpa.get("status") or {}))
    previous: list[JsonDict] = list(current.get("conditions") or [])
    minimum = int(spec.get("minReplicas") or 1)
    maximum = int(spec.get("maxReplicas") or minimum)
    plan = ControllerPlan()
    status: JsonDict = {}
    if current.get("lastScaleTime"):
        status["lastScaleTime"] = current["lastScaleTime"]
    generation = int((hpa.get("metadata") or {}).get("generation") or 0)
    if generation:
        status["observedGeneration"] = generation
    if target is None:
        status.update({"currentReplicas": int(current.get("currentReplicas") or 0), "desiredReplicas": 0})
        status["conditions"] = [_unable_to_get_scale(hpa, previous, now)]
        plan.status = status
        return AutoscalerPlan(plan, None)
    target_spec = target.get("spec") or {}
    wanted = 1 if target_spec.get("replicas") is None else int(target_spec["replicas"])
    actual = int((target.get("status") or {}).get("replicas") or 0)
    desired = min(max(wanted, minimum), maximum)
    scale_to = desired if desired != wanted else None
    if scale_to is not None:
        status["lastScaleTime"] = format_timestamp(now)
    status["currentReplicas"] = actual
    status["desiredReplicas"] = desired
    limited = _TOO_FEW if wanted < minimum else _TOO_MANY if wanted > maximum else _WITHIN_RANGE
    status["conditions"] = [
        _condition(previous, "AbleToScale", True, "ReadyForNewScale", "recommended size matches current size", now),
        _condition(
            previous,
            "ScalingActive",
            True,
            "ValidMetricFound",
            "the HPA was able to successfully calculate a replica count",
            now,
        ),
        _condition(previous, "ScalingLimited", *limited, now),
    ]
    plan.status = status
    return AutoscalerPlan(plan, scale_to)


def _unable_to_get_scale(hpa: Mapping[str, Any], previous: list[JsonDict], now: float) -> JsonDict:
    """AbleToScale False, naming the scale subresource of the missing target as the controller does."""
    api_version, kind, name = target_reference(hpa)
    plural = f"{kind.lower()}s"
    group = api_version.split("/")[0] if "/" in api_version else ""
    resource = f"{plural}/scale.{group}" if group else f"{plural}/scale"
    message = f'the HPA controller was unable to get the target\'s current scale: {resource} "{name}" not found'
    return _condition(previous, "AbleToScale", False, "FailedGetScale", message, now)
