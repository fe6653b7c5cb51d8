"""Lint's warnings about Rollouts Argo accepts: a background analysis `startingStep` outside the steps, pingPong
beside canaryService and stableService, experiment template weights that cannot be routed beside the canary's."""

from __future__ import annotations

import pytest

from rollouts.advice import rollout_advice
from rollouts.models import Rollout
from tests.unit.rollouts.builders import rollout

STEPS = [{"setWeight": 20}, {"pause": {}}, {"setWeight": 50}]


def advice_for(starting_step: int | None) -> list[str]:
    analysis: dict[str, object] = {"templates": [{"templateName": "success-rate"}]}
    if starting_step is not None:
        analysis["startingStep"] = starting_step
    parsed = Rollout.from_dict(rollout(steps=STEPS, canary={"analysis": analysis}))
    return [str(issue) for issue in rollout_advice(parsed)]


@pytest.mark.parametrize("starting_step", [None, 0, 2, 3])
def test_a_starting_step_within_the_steps_or_right_after_them_is_fine(starting_step: int | None) -> None:
    assert advice_for(starting_step) == []


def test_a_starting_step_past_the_steps_never_starts_the_run() -> None:
    assert advice_for(4) == [
        "spec.strategy.canary.analysis.startingStep: 4 is past the last step (the canary has 3 steps): the background "
        "analysis never starts; 3 starts it once every step is done"
    ]


def test_a_negative_starting_step_starts_with_the_first_step() -> None:
    assert advice_for(-1) == [
        "spec.strategy.canary.analysis.startingStep: -1 is negative: the background analysis starts with the first "
        "step, as with 0"
    ]


def test_ping_pong_beside_canary_and_stable_services_warns_that_istio_weighs_those() -> None:
    # Argo accepts both; its Istio router then weighs canaryService/stableService (GetStableAndCanaryServices with
    # isPingpongPreferred=false), so the ping and pong Services are pointed at the revisions but carry no weight.
    parsed = Rollout.from_dict(
        rollout(steps=STEPS, canary={"pingPong": {"pingService": "reviews-ping", "pongService": "reviews-pong"}})
    )
    assert [str(issue) for issue in rollout_advice(parsed)] == [
        "spec.strategy.canary.pingPong: is set with canaryService and stableService: Istio then weighs canaryService "
        "against stableService (both are required) and the ping and pong Services only follow the revisions; drop "
        "canaryService and stableService to weigh the ping and pong Services"
    ]


def test_ping_pong_alone_needs_no_advice() -> None:
    manifest = rollout(steps=STEPS, canary={"pingPong": {"pingService": "reviews-ping", "pongService": "reviews-pong"}})
    del manifest["spec"]["strategy"]["canary"]["canaryService"], manifest["spec"]["strategy"]["canary"]["stableService"]
    assert rollout_advice(Rollout.from_dict(manifest)) == []


def experiment_advice(steps: list[dict[str, object]]) -> list[str]:
    return [str(issue) for issue in rollout_advice(Rollout.from_dict(rollout(steps=steps)))]


def experiment_step(*weights: int) -> dict[str, object]:
    templates = [{"name": f"t{i}", "specRef": "canary", "weight": weight} for i, weight in enumerate(weights)]
    return {"experiment": {"templates": templates}}


@pytest.mark.parametrize(
    "steps",
    [
        [{"setWeight": 10}, experiment_step(20)],  # Argo's istio-host-split example: 10 + 20
        [{"setWeight": 60}, experiment_step(20, 20)],  # exactly 100: the stable keeps nothing, but it routes
        [{"setWeight": 90}, {"setWeight": 10}, experiment_step(80)],  # the last setWeight counts
    ],
)
def test_experiment_weights_that_fit_beside_the_canary_weight_are_fine(steps: list[dict[str, object]]) -> None:
    assert experiment_advice(steps) == []


def test_experiment_weights_beyond_what_the_canary_leaves_are_a_warning() -> None:
    assert experiment_advice([{"setWeight": 50}, experiment_step(30, 30)]) == [
        "spec.strategy.canary.steps[1].experiment.templates: the template weights (30, 30) and the canary's 50 cannot "
        "be routed (more than 100, or negative): the step would wait on a TrafficRoutingError"
    ]
