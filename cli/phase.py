"""The figures the CLI shows besides the phase: canary step, set weight, desired replicas.

The phase itself is the shared reader's, ``rollouts.status.rollout_phase`` (Argo's GetRolloutPhase): the
controller's ``status.phase``/``message``, except that a client must say "Progressing" while the controller has
not observed the latest spec or has not yet reacted to a promote, or it would report a stale Healthy right after
``set image``. It is re-exported here so that every command reads it the same way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kube.json_data import as_int, as_json_object
from rollouts.status import DEGRADED, HEALTHY, PAUSED, PROGRESSING, rollout_phase

if TYPE_CHECKING:
    from kube.json_data import JsonObject

__all__ = [
    "DEGRADED",
    "FINISHED_PHASES",
    "HEALTHY",
    "PAUSED",
    "PROGRESSING",
    "canary_steps",
    "current_set_weight",
    "current_step",
    "current_step_index",
    "desired_replicas",
    "rollout_phase",
    "step_label",
]

# The phases a watching command stops at: the update is over, one way or the other.
FINISHED_PHASES = frozenset({HEALTHY, DEGRADED})


def desired_replicas(spec: dict[str, Any]) -> int:
    """``spec.replicas``, which the controller defaults to 1."""
    return as_int(spec.get("replicas"), 1)


# -- canary steps ----------------------------------------------------------------------------------------


def canary_steps(rollout: JsonObject) -> list[dict[str, Any]] | None:
    """The canary steps, or None for a blue-green rollout."""
    strategy = as_json_object(as_json_object(rollout.get("spec")).get("strategy"))
    if "canary" not in strategy:
        return None
    return [as_json_object(step) for step in as_json_object(strategy["canary"]).get("steps") or []]


def current_step_index(rollout: JsonObject) -> int | None:
    """``status.currentStepIndex`` (0 when unset) for a canary with steps; None otherwise."""
    steps = canary_steps(rollout)
    if not steps:
        return None
    return as_int(as_json_object(rollout.get("status")).get("currentStepIndex"), 0)


def current_step(rollout: JsonObject) -> dict[str, Any] | None:
    """The step being executed; None without steps or once every step is done."""
    steps = canary_steps(rollout) or []
    index = current_step_index(rollout)
    return steps[index] if index is not None and 0 <= index < len(steps) else None


def current_set_weight(rollout: JsonObject) -> int:
    """The canary weight the current step asks for: the last setWeight at or before it (0 when aborted)."""
    if as_json_object(rollout.get("status")).get("abort"):
        return 0
    steps = canary_steps(rollout) or []
    index = current_step_index(rollout)
    if index is None or index >= len(steps):
        return 100
    for step in reversed(steps[: index + 1]):
        if step.get("setWeight") is not None:
            return as_int(step["setWeight"])
    return 0


def step_label(rollout: JsonObject) -> str:
    """``i/N`` once the controller has set an index on a canary with steps, else ""."""
    steps = canary_steps(rollout)
    index = as_json_object(rollout.get("status")).get("currentStepIndex")
    if not steps or index is None:
        return ""
    return f"{as_int(index)}/{len(steps)}"
