"""What `rollouts lint` warns about in a Rollout that Argo accepts: valid, but probably not what was meant.

These never make a Rollout invalid (the controller acts on it as Argo would); lint prints them as warnings and
still exits 0 when nothing else is wrong.
"""

from __future__ import annotations

from kube.issues import FieldIssue
from rollouts.models import Rollout

CANARY = "spec.strategy.canary"


def rollout_advice(rollout: Rollout) -> list[FieldIssue]:
    """The doubtful choices in a Rollout's spec that Argo's validation lets through."""
    canary = rollout.spec.strategy.canary
    if canary is None or canary.analysis is None:
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
