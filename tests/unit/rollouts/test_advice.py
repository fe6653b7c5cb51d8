"""Lint's warnings about Rollouts Argo accepts: a background analysis `startingStep` outside the steps, pingPong
beside canaryService and stableService."""

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
