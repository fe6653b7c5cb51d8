"""Canary ``analysis`` steps: the step's AnalysisRun is created once when the step is reached, and its verdict
completes the step (Successful), aborts the update (Failed, Error) or pauses it (Inconclusive); a run the Rollout has
moved on from is terminated. The in-memory cluster plays the analysis controller (``finish_run``)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from cli.promote import promote_patches
from rollouts.plan import Create, Patch, Plan
from rollouts.reconcile import decide
from tests.unit.rollouts.builders import (
    NAME,
    NAMESPACE,
    UID,
    Cluster,
    deployed,
    hash_of,
    messages,
    reasons,
    template,
)

JsonObject = dict[str, Any]

V1, V2, V3 = "reviews:v1", "reviews:v2", "reviews:v3"
H1, H2 = hash_of(V1), hash_of(V2)
ANALYSIS = {
    "templates": [{"templateName": "success-rate"}],
    "args": [{"name": "service-name", "value": "reviews-canary.default.svc.cluster.local"}],
}
STEPS = [{"setWeight": 20}, {"analysis": ANALYSIS}, {"setWeight": 60}, {"pause": {}}]
STEP_RUN = f"{NAME}-{H2}-2-1"
FAILED_MESSAGE = (
    'Metric "success-rate" assessed Failed due to failed (1) > failureLimit (0): '
    '"Error Message: success-rate: 0.71 does not satisfy result[0] >= 0.95"'
)
ERROR_MESSAGE = (
    'Metric "success-rate" assessed Error due to consecutiveErrors (5) > consecutiveErrorLimit (4): '
    '"Error Message: Post "http://prometheus:9090/api/v1/query": connection refused"'
)
TERMINATE = {"spec": {"terminate": True}}
INCONCLUSIVE_MESSAGE = 'Metric "success-rate" assessed Inconclusive due to inconclusive (1) > inconclusiveLimit (0)'


def run_until(cluster: Cluster, done: Callable[[Cluster], Any], *, limit: int = 20) -> list[Plan]:
    """Reconcile, pods settling after each pass, until ``done``; the plans made on the way."""
    plans: list[Plan] = []
    for _ in range(limit):
        if done(cluster):
            return plans
        plans.append(cluster.reconcile())
        cluster.settle()
        cluster.settle_runs()
    if done(cluster):
        return plans
    raise AssertionError(f"not done after {limit} passes; status: {cluster.status}")


def at_analysis_step(steps: list[JsonObject] | None = None, **options: Any) -> Cluster:
    """v1 deployed, updated to v2, reconciled until the analysis step's run exists."""
    cluster = deployed(V1, steps=STEPS if steps is None else steps, **options)
    cluster.set_spec({"template": template(V2)})
    run_until(cluster, lambda c: c.runs("Step"))
    return cluster


def step_status(cluster: Cluster) -> JsonObject | None:
    return (cluster.status.get("canary") or {}).get("currentStepAnalysisRunStatus")


def promote(cluster: Cluster) -> None:
    """Exactly what `rollouts promote` writes for the Rollout as it is now."""
    status_patch, spec_patch = promote_patches(cluster.rollout, full=False)
    if status_patch is not None:
        cluster.set_status(status_patch["status"])
    if spec_patch is not None:
        cluster.set_spec(spec_patch["spec"])


def terminated(plan: Plan) -> list[str]:
    return [
        write.name
        for write in plan.writes
        if isinstance(write, Patch) and write.kind.kind == "AnalysisRun" and write.patch == TERMINATE
    ]


def created_runs(plan: Plan) -> list[JsonObject]:
    return [write.body for write in plan.writes if isinstance(write, Create) and write.kind.kind == "AnalysisRun"]


# --- creation ---------------------------------------------------------------------------------------------------


def test_the_step_run_is_created_when_the_analysis_step_is_reached() -> None:
    cluster = at_analysis_step()
    (run,) = cluster.runs()
    assert run["metadata"]["name"] == STEP_RUN
    assert run["metadata"]["labels"] == {
        "rollouts-pod-template-hash": H2,
        "rollout-type": "Step",
        "step-index": "1",
        "app": NAME,
    }
    assert run["metadata"]["annotations"] == {"rollout.argoproj.io/revision": "2"}
    assert run["metadata"]["ownerReferences"][0]["uid"] == UID
    assert run["spec"]["args"] == [{"name": "service-name", "value": "reviews-canary.default.svc.cluster.local"}]
    assert cluster.status["currentStepIndex"] == 1
    assert step_status(cluster) == {"name": STEP_RUN, "status": "Pending"}
    assert (cluster.status["phase"], cluster.status["message"]) == (
        "Progressing",
        f"waiting for step-based analysis: AnalysisRun {STEP_RUN} is Pending",
    )
    assert cluster.canary_weight == 20  # the traffic of the step before stays while the analysis runs


def test_the_step_run_is_created_once_however_many_passes_look_at_it() -> None:
    cluster = at_analysis_step()
    cluster.finish_run(STEP_RUN, "Running")
    plan = cluster.reconcile()
    assert step_status(cluster) == {"name": STEP_RUN, "status": "Running"}
    assert created_runs(plan) == []
    for _ in range(3):
        cluster.advance(30)
        assert cluster.reconcile().is_noop


def test_a_run_that_starts_running_is_said_once_in_argos_words() -> None:
    """Argo posts AnalysisRun<Phase> on the Rollout whenever a run's phase changes, Running included (the
    on-analysis-run-running notification trigger keys on it)."""
    cluster = at_analysis_step()
    cluster.finish_run(STEP_RUN, "Running")
    plan = cluster.reconcile()
    assert messages(plan, "AnalysisRunRunning") == [
        f"Step Analysis Run '{STEP_RUN}' Status New: 'Running' Previous: 'Pending'"
    ]
    assert [e.type for e in plan.events if e.reason == "AnalysisRunRunning"] == ["Normal"]
    assert "AnalysisRunRunning" not in reasons(cluster.reconcile())


def test_a_run_whose_name_the_status_lost_is_taken_up_again_not_created_twice() -> None:
    cluster = at_analysis_step()
    cluster.finish_run(STEP_RUN, "Running")
    # The status write after the create failed: the status names no run.
    del cluster.rollout["status"]["canary"]["currentStepAnalysisRunStatus"]
    plan = cluster.reconcile()
    assert created_runs(plan) == []
    assert step_status(cluster) == {"name": STEP_RUN, "status": "Running"}


def test_no_run_is_created_before_the_analysis_step() -> None:
    cluster = deployed(V1, steps=[{"setWeight": 20}, {"pause": {}}, {"analysis": ANALYSIS}])
    cluster.set_spec({"template": template(V2)})
    run_until(cluster, lambda c: c.status.get("pauseConditions"))
    assert cluster.runs() == []
    assert "currentStepAnalysisRunStatus" not in cluster.status["canary"]


# --- verdicts ---------------------------------------------------------------------------------------------------


def test_a_successful_run_completes_the_step() -> None:
    cluster = at_analysis_step()
    cluster.finish_run(STEP_RUN, "Successful")
    plan = cluster.reconcile()
    assert cluster.status["currentStepIndex"] == 2
    assert messages(plan, "RolloutStepCompleted") == ["Rollout step 2/4 completed (analysis)"]
    assert [(e.type, e.message) for e in plan.events if e.reason == "AnalysisRunSuccessful"] == [
        ("Normal", f"Step-based analysis phase Successful: AnalysisRun {STEP_RUN}")
    ]
    run_until(cluster, lambda c: c.canary_weight == 60)
    assert "currentStepAnalysisRunStatus" not in cluster.status["canary"]  # the step is behind
    assert [run["metadata"]["name"] for run in cluster.runs()] == [STEP_RUN]


@pytest.mark.parametrize(("phase", "run_message"), [("Failed", FAILED_MESSAGE), ("Error", ERROR_MESSAGE)])
def test_a_failed_or_errored_run_aborts_the_update_in_the_same_pass(phase: str, run_message: str) -> None:
    cluster = at_analysis_step()
    cluster.finish_run(STEP_RUN, phase, run_message)
    plan = cluster.reconcile()

    reason = f"Step-based analysis phase {phase}: AnalysisRun {STEP_RUN}: {run_message}"
    aborted = f"Rollout aborted update to revision 2: {reason}"
    status = cluster.status
    assert (status["abort"], status["abortedAt"], status["currentStepIndex"]) == (True, "2024-05-01T10:00:00Z", 0)
    assert (status["phase"], status["message"]) == ("Degraded", f"RolloutAborted: {aborted}")
    assert step_status(cluster) == {"name": STEP_RUN, "status": phase, "message": run_message}
    # Traffic is back on stable by this very plan, and the canary Service selects the stable pods.
    assert [w.kind.kind for w in plan.writes if w.kind.kind == "VirtualService"] == ["VirtualService"]
    assert cluster.canary_weight == 0
    assert cluster.selector_hash(f"{NAME}-canary") == H1
    said = [(e.type, e.reason, e.message) for e in plan.events if e.reason in ("RolloutAborted", f"AnalysisRun{phase}")]
    assert said == [("Warning", f"AnalysisRun{phase}", reason), ("Warning", "RolloutAborted", aborted)]
    assert run_message in aborted  # the metric, the value measured and the condition

    assert cluster.reconcile().events == ()  # said once
    assert step_status(cluster) == {"name": STEP_RUN, "status": phase, "message": run_message}


def test_an_inconclusive_run_pauses_until_a_person_promotes() -> None:
    cluster = at_analysis_step()
    cluster.finish_run(STEP_RUN, "Inconclusive", INCONCLUSIVE_MESSAGE)
    plan = cluster.reconcile()
    status = cluster.status
    assert status["pauseConditions"] == [{"reason": "InconclusiveAnalysisRun", "startTime": "2024-05-01T10:00:00Z"}]
    assert status["controllerPause"] is True
    assert (status["phase"], status["message"]) == ("Paused", "InconclusiveAnalysisRun")
    assert status["currentStepIndex"] == 1
    assert messages(plan, "RolloutPaused") == ["Rollout is paused (InconclusiveAnalysisRun)"]
    assert [(e.type, e.reason) for e in plan.events if e.reason.startswith("AnalysisRun")] == [
        ("Normal", "AnalysisRunInconclusive")
    ]
    cluster.advance(3600)
    assert cluster.reconcile().is_noop  # nothing moves on while a person decides, and no deadline runs

    promote(cluster)  # moves past the step, as Argo's promote does for an inconclusive step
    run_until(cluster, lambda c: c.status.get("pauseConditions"))
    assert cluster.canary_weight == 60
    assert [pause["reason"] for pause in cluster.status["pauseConditions"]] == ["CanaryPauseStep"]  # the next one
    assert [run["metadata"]["name"] for run in cluster.runs()] == [STEP_RUN]


# --- runs the Rollout moves on from -----------------------------------------------------------------------------


def test_promote_past_a_running_analysis_terminates_its_run() -> None:
    cluster = at_analysis_step()
    cluster.finish_run(STEP_RUN, "Running")
    cluster.reconcile()
    promote(cluster)
    plan = cluster.reconcile()
    assert terminated(plan) == [STEP_RUN]
    assert "currentStepAnalysisRunStatus" not in cluster.status["canary"]
    cluster.settle_runs()
    assert terminated(cluster.reconcile()) == []  # once is enough


def test_an_abort_terminates_the_running_run_and_keeps_naming_it() -> None:
    cluster = at_analysis_step()
    cluster.finish_run(STEP_RUN, "Running")
    cluster.set_status({"abort": True})
    plan = cluster.reconcile()
    assert terminated(plan) == [STEP_RUN]
    assert step_status(cluster) == {"name": STEP_RUN, "status": "Running"}
    assert cluster.status["message"] == "RolloutAborted: Rollout aborted update to revision 2"
    cluster.settle_runs()
    cluster.reconcile()
    assert step_status(cluster) == {"name": STEP_RUN, "status": "Successful", "message": "Run Terminated"}


def test_a_new_revision_terminates_the_run_of_the_old_one() -> None:
    cluster = at_analysis_step()
    cluster.finish_run(STEP_RUN, "Running")
    cluster.set_spec({"template": template(V3)})
    plan = cluster.reconcile()
    assert terminated(plan) == [STEP_RUN]
    assert "currentStepAnalysisRunStatus" not in cluster.status["canary"]
    cluster.settle_runs()
    run_until(cluster, lambda c: len(c.runs()) == 2)
    assert {run["metadata"]["name"] for run in cluster.runs()} == {STEP_RUN, f"{NAME}-{hash_of(V3)}-3-1"}


def test_a_retry_after_a_failed_analysis_never_reuses_the_failed_run() -> None:
    cluster = at_analysis_step()
    cluster.finish_run(STEP_RUN, "Failed", FAILED_MESSAGE)
    cluster.reconcile()
    cluster.set_status({"abort": False})  # `rollouts retry`
    plan = cluster.reconcile()
    assert "RolloutRetry" in reasons(plan)
    assert "currentStepAnalysisRunStatus" not in cluster.status["canary"]
    run_until(cluster, lambda c: len(c.runs()) == 2)
    assert [run["metadata"]["name"] for run in cluster.runs()] == [STEP_RUN, f"{STEP_RUN}.1"]
    assert step_status(cluster) == {"name": f"{STEP_RUN}.1", "status": "Pending"}
    assert "abort" not in cluster.status


def test_a_full_promotion_terminates_the_running_run() -> None:
    cluster = at_analysis_step()
    cluster.finish_run(STEP_RUN, "Running")
    cluster.set_status({"promoteFull": True})
    plan = cluster.reconcile()
    assert terminated(plan) == [STEP_RUN]
    run_until(cluster, lambda c: c.status.get("stableRS") == H2)


# --- holding ----------------------------------------------------------------------------------------------------


def test_a_manually_paused_rollout_does_not_complete_a_successful_analysis_step() -> None:
    cluster = at_analysis_step()
    cluster.set_spec({"paused": True})
    cluster.finish_run(STEP_RUN, "Successful")
    cluster.reconcile()
    assert cluster.status["currentStepIndex"] == 1
    cluster.set_spec({"paused": False})
    cluster.reconcile()
    assert cluster.status["currentStepIndex"] == 2


def test_an_analysis_step_as_the_first_step_of_a_rollout_without_traffic_routing() -> None:
    cluster = deployed(V1, steps=[{"analysis": ANALYSIS}, {"setWeight": 50}], traffic_routing=False)
    cluster.set_spec({"template": template(V2)})
    run_until(cluster, lambda c: c.runs())
    assert [run["metadata"]["name"] for run in cluster.runs()] == [f"{NAME}-{H2}-2-0"]
    cluster.finish_run(f"{NAME}-{H2}-2-0", "Successful")
    run_until(cluster, lambda c: c.status.get("stableRS") == H2, limit=40)


def test_the_same_snapshot_at_an_analysis_step_gives_the_same_plan() -> None:
    cluster = at_analysis_step()
    for phase in ("Running", "Successful", "Failed", "Inconclusive"):
        cluster.finish_run(STEP_RUN, phase, "why")
        snapshot = cluster.snapshot()
        assert decide(snapshot) == decide(copy.deepcopy(snapshot))
    assert cluster.runs()[0]["metadata"]["namespace"] == NAMESPACE
