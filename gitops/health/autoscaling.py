"""Health of autoscaling HorizontalPodAutoscaler (v1 through its conditions annotation, v2 through status)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from gitops.health.fields import MalformedObject, items, section
from gitops.resources import Health, JsonObject

V1_CONDITIONS_ANNOTATION = "autoscaling.alpha.kubernetes.io/conditions"
WAITING = Health("Progressing", "Waiting to Autoscale")

_DEGRADED = {
    ("AbleToScale", "FailedGetScale"),
    ("AbleToScale", "FailedUpdateScale"),
    ("ScalingActive", "FailedGetResourceMetric"),
    ("ScalingActive", "InvalidSelector"),
}
_HEALTHY = {
    ("AbleToScale", "SucceededRescale"),
    ("ScalingLimited", "DesiredWithinRange"),
    ("ScalingLimited", "TooFewReplicas"),
    ("ScalingLimited", "TooManyReplicas"),
}


def hpa_health(obj: JsonObject) -> Health:
    """The first condition that is a known failure (→ Degraded) or success (→ Healthy) decides; else Progressing."""
    if str(obj.get("apiVersion", "")) == "autoscaling/v1":
        raw = section(obj, "metadata", "annotations").get(V1_CONDITIONS_ANNOTATION)
        if raw is None:
            return WAITING
        try:
            conditions = json.loads(raw)
        except (TypeError, ValueError) as error:
            raise MalformedObject(f"metadata.annotations[{V1_CONDITIONS_ANNOTATION}]: not JSON: {error}") from None
        if not isinstance(conditions, list):
            raise MalformedObject(f"metadata.annotations[{V1_CONDITIONS_ANNOTATION}]: expected a list of conditions")
        return _from_conditions([found for found in conditions if isinstance(found, Mapping)])
    return _from_conditions(list(items(obj, "status.conditions")))


def _from_conditions(conditions: list[Mapping[str, Any]]) -> Health:
    for found in conditions:
        pair = (found.get("type"), found.get("reason"))
        if pair in _DEGRADED:
            return Health("Degraded", str(found.get("message") or ""))
        if pair in _HEALTHY:
            return Health("Healthy", str(found.get("message") or ""))
    return WAITING
