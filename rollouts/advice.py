"""What `rollouts lint` warns about in a Rollout that Argo accepts: valid, but probably not what was meant.

These never make a Rollout invalid (the controller acts on it as Argo would); lint prints them as warnings and
still exits 0 when nothing else is wrong.
"""

from __future__ import annotations

from kube.issues import FieldIssue
from rollouts.models import CanaryStrategy, Rollout

CANARY = "spec.strategy.canary"


def rollout_advice(rollout: Rollout) -> list[FieldIssue]:
    """The doubtful choices in a Rollout's spec that Argo's validation lets through."""
    canary = rollout.spec.strategy.canary
    if canary is None:
        return []
    return _ping_pong_advice(canary) + _starting_step_advice(canary) + _experiment_weight_advice(canary)


def _ping_pong_advice(canary: CanaryStrategy) -> list[FieldIssue]:
    routing = canary.traffic_routing
    if canary.ping_pong is None or routing is None or routing.istio is None or routing.istio.destination_rule:
        return []
    services = (("canaryService", canary.canary_service), ("stableService", canary.stable_service))
    named = [name for name, value in services if value]
    if not named:
        return []
    return [
        FieldIssue(
            f"{CANARY}.pingPong",
            f"is set with {' and '.join(named)}: Istio then weighs canaryService against stableService (both are "
            "required) and the ping and pong Services only follow the revisions; drop canaryService and "
            "stableService to weigh the ping and pong Services",
        )
    ]


def _experiment_weight_advice(canary: CanaryStrategy) -> list[FieldIssue]:
    """Experiment template weights that cannot be routed: with the canary's weight (the last setWeight before the
    step) they exceed 100, or one is negative. Argo accepts them and its router fails at that step; so does ours."""
    advice: list[FieldIssue] = []
    canary_weight = 0
    for index, step in enumerate(canary.steps):
        if step.set_weight is not None:
            canary_weight = step.set_weight
        if step.experiment is None:
            continue
        weights = [template.weight for template in step.experiment.templates if template.weight is not None]
        if any(weight < 0 for weight in weights) or canary_weight + sum(weights) > 100:
            advice.append(
                FieldIssue(
                    f"{CANARY}.steps[{index}].experiment.templates",
                    f"the template weights ({', '.join(map(str, weights))}) and the canary's {canary_weight} cannot be "
                    "routed (more than 100, or negative): the step would wait on a TrafficRoutingError",
                )
            )
    return advice


def _starting_step_advice(canary: CanaryStrategy) -> list[FieldIssue]:
    if canary.analysis is None:
        return []
    start = canary.analysis.starting_step
    steps = len(canary.steps)
    if start is None:
        return []
    if start > steps:
        return [
            FieldIssue(
                f"{CANARY}.analysis.startingStep",
                f"{start} is past the last step (the canary has {steps} steps): the background analysis never "
                f"starts; {steps} starts it once every step is done",
            )
        ]
    if start < 0:
        return [
            FieldIssue(
                f"{CANARY}.analysis.startingStep",
                f"{start} is negative: the background analysis starts with the first step, as with 0",
            )
        ]
    return []
