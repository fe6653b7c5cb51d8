"""Canary step logic: where a Rollout is in its steps, what weight that means, and when a step is done.

Pure functions over the model's steps and a step index; the reconcile pass supplies the observed facts (replica
counts, pause conditions, the clock) and acts on the answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from kube.timestamps import parse_time
from rollouts.models import CanaryStep, SetCanaryScale
from rollouts.pause_state import CANARY_PAUSE_STEP, PauseOutcome, PauseState

FULL_WEIGHT = 100


def clamp_step_index(recorded: int | None, steps: Sequence[CanaryStep]) -> int | None:
    """``status.currentStepIndex`` made safe to index with: None without steps, else within 0..len(steps)."""
    if not steps:
        return None
    return min(max(recorded or 0, 0), len(steps))


def current_step(steps: Sequence[CanaryStep], index: int | None) -> CanaryStep | None:
    """The step the Rollout is at; None without steps or once every step is done."""
    if index is None or index >= len(steps):
        return None
    return steps[index]


def current_set_weight(steps: Sequence[CanaryStep], index: int | None, *, aborted: bool) -> int:
    """The weight the steps ask for now: the last setWeight at or before the index (0 if none yet), 100 once past
    the last step (or without steps), 0 when aborted."""
    if aborted:
        return 0
    if current_step(steps, index) is None:
        return FULL_WEIGHT
    assert index is not None
    for step in reversed(steps[: index + 1]):
        if step.set_weight is not None:
            return step.set_weight
    return 0


def previous_set_weight(steps: Sequence[CanaryStep], index: int | None) -> int:
    """The last setWeight strictly before the index: the weight to keep while the canary is still scaling up."""
    if index is None:
        return 0
    for step in reversed(steps[: min(index, len(steps))]):
        if step.set_weight is not None:
            return step.set_weight
    return 0


def active_canary_scale(
    steps: Sequence[CanaryStep], index: int | None, *, traffic_routed: bool
) -> SetCanaryScale | None:
    """The setCanaryScale in force: the last one at or before the index, unless it says matchTrafficWeight.

    Only traffic routing can scale the canary apart from its weight (without a router the replica ratio *is* the
    weight), so without one there is never an override.
    """
    if not traffic_routed or current_step(steps, index) is None:
        return None
    assert index is not None
    for step in reversed(steps[: index + 1]):
        scale = step.set_canary_scale
        if scale is None:
            continue
        return None if scale.match_traffic_weight else scale
    return None


def step_description(step: CanaryStep) -> str:
    """How events name a step: ``setWeight: 10``, ``pause``, ``pause: 5m``, ``setCanaryScale{replicas: 2}``…"""
    if step.set_weight is not None:
        return f"setWeight: {step.set_weight}"
    if step.pause is not None:
        return "pause" if step.pause.duration is None else f"pause: {step.pause.duration}"
    if step.set_canary_scale is not None:
        scale = step.set_canary_scale
        if scale.weight is not None:
            return f"setCanaryScale{{weight: {scale.weight}}}"
        if scale.match_traffic_weight:
            return "setCanaryScale{matchTrafficWeight: true}"
        return f"setCanaryScale{{replicas: {scale.replicas}}}"
    return step.action or "invalid"


def is_indefinite_step(step: CanaryStep | None) -> bool:
    """Steps that wait on something other than pods (a clock, a person, a verdict): no progress deadline there."""
    return step is not None and (
        step.pause is not None or step.analysis is not None or step.experiment is not None or step.plugin is not None
    )


def waiting_message(step: CanaryStep | None, index: int | None) -> str | None:
    """Why the Rollout cannot complete this step yet, for steps this controller cannot carry out (yet).

    Such a step holds the Rollout where it is rather than being skipped: skipping a plugin would promote on no
    evidence. ``rollouts promote`` moves past it by hand. ``index`` is 0-based; messages number steps from 1.
    (An analysis step waits on its AnalysisRun instead: ``rollouts.canary.analysis``; an experiment step on its
    Experiment: ``rollouts.experiments.step``.)
    """
    if step is None or index is None:
        return None
    number = index + 1
    if step.plugin is not None:
        return f"waiting for plugin step {number}: step plugins are not supported yet"
    return None


def desired_traffic_weight(
    *,
    steps: Sequence[CanaryStep],
    index: int | None,
    fully_promoted: bool,
    aborted: bool,
    promote_full: bool,
    new_available: int,
    at_desired_counts: bool,
    recorded_weight: int | None,
) -> int:
    """The canary weight to route now (Argo's reconcileTrafficRouting).

    Once promoted the new version is the stable one, so the canary share is 0. An abort sends everything back to
    stable at once. A canary with no available pod gets nothing. A full promotion keeps the weight it had until the
    canary is fully up. Otherwise the steps decide, but a new weight only once the canary has the pods for it.
    """
    if fully_promoted or aborted or new_available <= 0:
        return 0
    if promote_full:
        return recorded_weight or 0
    if index is None:
        return 0
    if not at_desired_counts:
        return previous_set_weight(steps, index)
    if index < len(steps):
        return current_set_weight(steps, index, aborted=False)
    return FULL_WEIGHT


def pause_progress(
    step: CanaryStep,
    *,
    pause: PauseState,
    now: datetime,
) -> PauseOutcome:
    """Where a pause step stands.

    The controller marks the pause with a CanaryPauseStep condition and ``controllerPause``. ``promote`` clears
    the conditions: ``controllerPause`` with no CanaryPauseStep condition therefore means "resumed by a person".
    A timed pause also ends by itself once its duration has passed since the condition's startTime.
    """
    assert step.pause is not None
    condition = pause.condition(CANARY_PAUSE_STEP)
    if condition is None:
        return PauseOutcome(over=True) if pause.controller_pause else _started(step, now)
    seconds = step.pause.duration_seconds
    if seconds is None:
        return PauseOutcome()
    start = parse_time(condition.start_time) or now
    expires_at = start + timedelta(seconds=seconds)
    if now >= expires_at:
        return PauseOutcome(over=True)
    return PauseOutcome(wake_at=expires_at)


def _started(step: CanaryStep, now: datetime) -> PauseOutcome:
    assert step.pause is not None
    seconds = step.pause.duration_seconds
    if seconds is not None and seconds <= 0:
        # `pause: {duration: 0}` is a pause that is over as soon as it starts.
        return PauseOutcome(over=True)
    return PauseOutcome(start=True, wake_at=None if seconds is None else now + timedelta(seconds=seconds))
