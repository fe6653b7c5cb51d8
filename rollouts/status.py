"""A Rollout's phase and message, and the status fields every strategy reports the same way.

``calculate_phase`` is the controller's rule (Argo's CalculateRolloutPhase); ``rollout_phase`` is what a client
should show for a Rollout it read, which also accounts for a spec the controller has not seen yet.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rollouts.conditions import INVALID_SPEC, ROLLOUT_ABORTED, TIMED_OUT, conditions_of

HEALTHY = "Healthy"
PROGRESSING = "Progressing"
PAUSED = "Paused"
DEGRADED = "Degraded"

SPEC_NOT_OBSERVED = "waiting for rollout spec update to be observed"
UNPAUSING = "waiting for rollout to unpause"


def calculate_phase(spec: Mapping[str, Any], status: Mapping[str, Any]) -> tuple[str, str]:
    """Phase and message from a Rollout's spec and (new) status, in Argo's order of precedence."""
    for found in conditions_of(status):
        if found.get("type") == INVALID_SPEC and found.get("status") != "False":
            return DEGRADED, f"{INVALID_SPEC}: {found.get('message', '')}"
        if found.get("reason") in (ROLLOUT_ABORTED, TIMED_OUT):
            return DEGRADED, f"{found['reason']}: {found.get('message', '')}"
    if spec.get("paused") is True:
        return PAUSED, "manually paused"
    for pause in status.get("pauseConditions") or ():
        if isinstance(pause, dict):
            return PAUSED, str(pause.get("reason", ""))
    restart_at = spec.get("restartAt")
    if restart_at and restart_at != status.get("restartedAt"):
        return PROGRESSING, "rollout is restarting"
    replicas = _spec_replicas(spec)
    updated = _count(status, "updatedReplicas")
    if updated < replicas:
        return PROGRESSING, "more replicas need to be updated"
    if _count(status, "availableReplicas") < updated:
        return PROGRESSING, "updated replicas are still becoming available"
    strategy = spec.get("strategy") or {}
    current = status.get("currentPodHash")
    stable = status.get("stableRS")
    if strategy.get("blueGreen") is not None:
        active = (status.get("blueGreen") or {}).get("activeSelector")
        if not active or active != current:
            return PROGRESSING, "active service cutover pending"
        if not stable or stable != current:
            return PROGRESSING, "waiting for post-promotion verification to complete"
    elif strategy.get("canary") is not None:
        canary = strategy.get("canary") or {}
        # Without a router every pod serves traffic, so old pods still running are part of the update.
        if canary.get("trafficRouting") is None and _count(status, "replicas") > updated:
            return PROGRESSING, "old replicas are pending termination"
        if not stable or stable != current:
            return PROGRESSING, "waiting for all steps to complete"
    return HEALTHY, ""


def rollout_phase(rollout: Mapping[str, Any]) -> tuple[str, str]:
    """Phase and message a client should show for a Rollout manifest it read (Argo's GetRolloutPhase)."""
    metadata = rollout.get("metadata") or {}
    status = rollout.get("status") or {}
    generation = metadata.get("generation")
    if generation is not None and str(status.get("observedGeneration", "")) != str(generation):
        return PROGRESSING, SPEC_NOT_OBSERVED
    if status.get("controllerPause") and not status.get("pauseConditions"):
        # `promote` cleared the pause; the controller has yet to act on it.
        return PROGRESSING, UNPAUSING
    phase = status.get("phase")
    if phase:
        return str(phase), str(status.get("message") or "")
    return calculate_phase(rollout.get("spec") or {}, status)


def label_selector_string(selector: Mapping[str, Any] | None) -> str:
    """A label selector written the way ``kubectl get -l`` reads it (``status.selector`` for the scale subresource)."""
    if not selector:
        return ""
    requirements: list[tuple[str, str]] = []
    for key, value in (selector.get("matchLabels") or {}).items():
        requirements.append((str(key), f"{key}={value}"))
    for expression in selector.get("matchExpressions") or ():
        key = str(expression.get("key", ""))
        values = ",".join(sorted(str(value) for value in expression.get("values") or ()))
        operator = expression.get("operator")
        if operator == "In":
            requirements.append((key, f"{key} in ({values})"))
        elif operator == "NotIn":
            requirements.append((key, f"{key} notin ({values})"))
        elif operator == "Exists":
            requirements.append((key, key))
        elif operator == "DoesNotExist":
            requirements.append((key, f"!{key}"))
    return ",".join(text for _, text in sorted(requirements))


def _spec_replicas(spec: Mapping[str, Any]) -> int:
    value = spec.get("replicas", 1)
    return value if isinstance(value, int) and not isinstance(value, bool) else 1


def _count(status: Mapping[str, Any], key: str) -> int:
    value = status.get(key, 0)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
