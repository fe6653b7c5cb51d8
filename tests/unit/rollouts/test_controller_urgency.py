"""Which watch events ask for an urgent pass (issue #13: aborts, user actions and due timers before routine
follow-ups and resyncs), and that the controller queues the Rollouts they concern at that urgency."""

from __future__ import annotations

from typing import Any, cast

import pytest

from kube.client import AsyncKubeClient
from kube.resources import ANALYSIS_RUNS, PODS, REPLICASETS, ROLLOUTS, ResourceKind
from kube.work_queue import Urgency
from rollouts.controller.cache import RolloutKey
from rollouts.controller.controller import ControllerOptions, RolloutController
from rollouts.controller.urgency import event_urgency
from rollouts.plan import Plan

JsonObject = dict[str, Any]


def rollout(generation: int = 1, **status: Any) -> JsonObject:
    return {"metadata": {"namespace": "shop", "name": "reviews", "uid": "rollout-uid", "generation": generation},
            "spec": {}, "status": status}


def run(phase: str | None) -> JsonObject:
    return {
        "metadata": {"namespace": "shop", "name": "reviews-run", "uid": "run-uid", "ownerReferences": [
            {"kind": "Rollout", "name": "reviews", "uid": "rollout-uid", "controller": True}]},
        "status": {"phase": phase} if phase else {},
    }


PAUSED = [{"reason": "CanaryPauseStep", "startTime": "2025-01-01T00:00:00Z"}]

CASES: list[tuple[str, ResourceKind, str | None, JsonObject | None, JsonObject, Urgency]] = [
    # Argo aborts the update when an AnalysisRun of the Rollout fails or errs (docs: analysis.md, "Failed" and
    # "Error" phases abort the rollout).
    ("a run that turned Failed aborts", ANALYSIS_RUNS, "MODIFIED", run("Running"), run("Failed"), Urgency.ABORT),
    ("a run that turned Error aborts", ANALYSIS_RUNS, "MODIFIED", run("Running"), run("Error"), Urgency.ABORT),
    ("a run first seen Failed aborts", ANALYSIS_RUNS, "ADDED", None, run("Failed"), Urgency.ABORT),
    ("a failed run seen again is routine", ANALYSIS_RUNS, None, run("Failed"), run("Failed"), Urgency.ROUTINE),
    ("a run that succeeded is routine", ANALYSIS_RUNS, "MODIFIED", run("Running"), run("Successful"),
     Urgency.ROUTINE),
    ("a run measuring is routine", ANALYSIS_RUNS, "MODIFIED", run(None), run("Running"), Urgency.ROUTINE),
    # `rollouts abort` patches status.abort=true; `rollouts retry` patches it back to false.
    ("rollouts abort", ROLLOUTS, "MODIFIED", rollout(), rollout(abort=True), Urgency.ABORT),
    ("rollouts retry", ROLLOUTS, "MODIFIED", rollout(abort=True), rollout(abort=False), Urgency.USER_ACTION),
    # A spec change (new image, pause, restart, undo) bumps metadata.generation.
    ("a new spec", ROLLOUTS, "MODIFIED", rollout(1), rollout(2), Urgency.USER_ACTION),
    ("rollouts promote clears the pause", ROLLOUTS, "MODIFIED", rollout(pauseConditions=PAUSED),
     rollout(pauseConditions=None), Urgency.USER_ACTION),
    ("rollouts promote --full", ROLLOUTS, "MODIFIED", rollout(), rollout(promoteFull=True), Urgency.USER_ACTION),
    ("a new Rollout", ROLLOUTS, "ADDED", None, rollout(), Urgency.USER_ACTION),
    ("a status follow-up", ROLLOUTS, "MODIFIED", rollout(phase="Progressing"), rollout(phase="Healthy"),
     Urgency.ROUTINE),
    ("the initial listing of a cached Rollout", ROLLOUTS, None, rollout(), rollout(), Urgency.ROUTINE),
    ("a deleted Rollout", ROLLOUTS, "DELETED", rollout(), rollout(abort=True), Urgency.ROUTINE),
    ("a ReplicaSet's status", REPLICASETS, "MODIFIED", {"status": {}}, {"status": {"readyReplicas": 1}},
     Urgency.ROUTINE),
    ("a Pod", PODS, "ADDED", None, {"status": {"phase": "Running"}}, Urgency.ROUTINE),
]


@pytest.mark.parametrize(
    ("kind", "event_type", "previous", "current", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_the_urgency_of_a_watch_event_follows_what_it_changed(
    kind: ResourceKind, event_type: str | None, previous: JsonObject | None, current: JsonObject, expected: Urgency
) -> None:
    assert event_urgency(kind, event_type, previous, current) is expected


def controller() -> RolloutController:
    return RolloutController(cast(AsyncKubeClient, object()), lambda snapshot: Plan(), ControllerOptions())


def primed() -> RolloutController:
    """A controller whose cache holds the Rollout and its running AnalysisRun, as its start-up listing leaves it."""
    running = controller()
    running.cache.observe(ROLLOUTS, None, rollout())
    running.cache.observe(ANALYSIS_RUNS, None, run("Running"))
    return running


def test_a_failed_analysis_run_raises_its_rollouts_queued_resync_to_an_abort() -> None:
    running = primed()
    running.runner.resync()
    key = RolloutKey("shop", "reviews")
    assert running.runner.queue.pending_urgency(key) is Urgency.RESYNC
    running.observe(ANALYSIS_RUNS, "MODIFIED", run("Failed"))
    assert running.runner.queue.pending_urgency(key) is Urgency.ABORT


def test_the_initial_listing_of_a_cached_rollout_queues_routine_work() -> None:
    running = primed()
    running.observe(ROLLOUTS, None, rollout())
    assert running.runner.queue.pending_urgency(RolloutKey("shop", "reviews")) is Urgency.ROUTINE
