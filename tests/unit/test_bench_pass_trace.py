"""bench.pass_trace: each pass is put down to the first thing that queued its Rollout since its previous pass."""

from __future__ import annotations

from bench.pass_trace import TIMER, passes_of

TRACE = [
    "event kind=Rollout type=MODIFIED object=fleet/r-1 queued=fleet/r-1 urgency=USER_ACTION changed=spec.template",
    "pass rollout=fleet/r-1 step=6 phase=Healthy",
    "write rollout=fleet/r-1 request=create kind=ReplicaSet subresource=-",
    "round rollout=fleet/r-1 step=0 phase=Progressing",
    "write rollout=fleet/r-1 request=patch kind=Rollout subresource=status fields=currentPodHash,phase",
    "events rollout=fleet/r-1 reasons=NewReplicaSetCreated,RolloutUpdated",
    "event kind=Pod type=MODIFIED object=fleet/r-1-abc-x queued=- urgency=ROUTINE changed=-",
    "event kind=ReplicaSet type=MODIFIED object=fleet/r-1-abc queued=fleet/r-1 urgency=ROUTINE "
    "changed=status.readyReplicas,status.availableReplicas",
    "follow-up queued=fleet/r-1",
    "pass rollout=fleet/r-1 step=0 phase=Progressing",
    "pass rollout=fleet/r-1 step=0 phase=Progressing",
]


def test_each_pass_has_its_first_trigger_rounds_writes_and_events() -> None:
    first, second, third = passes_of(TRACE)
    assert (first.trigger, first.step, first.rounds) == ("Rollout MODIFIED spec.template", "6", 2)
    assert first.writes == ["create ReplicaSet", "patch Rollout/status"]
    assert first.events == ["NewReplicaSetCreated", "RolloutUpdated"]
    # The Pod event queued nothing; the ReplicaSet's came first, the follow-up merged into the same pass.
    assert second.triggers == ["ReplicaSet MODIFIED status.availableReplicas,status.readyReplicas",
                               "follow-up of a pass that wrote"]
    assert second.writes == []
    assert third.trigger == TIMER
