"""Background analysis (``strategy.canary.analysis``): the run starts at ``startingStep`` and measures alongside
the remaining steps; Failed or Error aborts, Inconclusive pauses; the update does not wait for it, and once the new
revision is stable the run is terminated. Old runs are kept up to the history limits."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from rollouts.plan import Create, Patch, Plan
from tests.unit.rollouts.builders import NAME, Cluster, deployed, hash_of, messages, reasons, template

JsonObject = dict[str, Any]

V1, V2, V3 = "reviews:v1", "reviews:v2", "reviews:v3"
H1, H2 = hash_of(V1), hash_of(V2)
SERVICE = {"name": "service-name", "value": "reviews-canary.default.svc.cluster.local"}
STEPS = [
    {"setWeight": 10},
    {"pause": {"duration": 60}},
    {"setWeight": 30},
    {"pause": {"duration": 60}},
    {"setWeight": 60},
    {"pause": {"duration": 60}},
]
RUN = f"{NAME}-{H2}-2"
TERMINATE = {"spec": {"terminate": True}}
FAILED_MESSAGE = (
    'Metric "success-rate" assessed Failed due to failed (1) > failureLimit (0): '
    '"Error Message: success-rate: 0.6 does not satisfy result[0] >= 0.95"'
)


def background(starting_step: int | None = 2, **extra: Any) -> JsonObject:
    found: JsonObject = {"templates": [{"templateName": "success-rate"}], "args": [SERVICE], **extra}
    if starting_step is not None:
        found["startingStep"] = starting_step
    return found


def run_until(cluster: Cluster, done: Callable[[Cluster], Any], *, limit: int = 30, tick: float = 0) -> list[Plan]:
    """Reconcile (pods settle, terminated runs end, the clock moves ``tick`` s) until ``done``."""
    plans: list[Plan] = []
    for _ in range(limit):
        if done(cluster):
            return plans
        plans.append(cluster.reconcile())
        cluster.settle()
        cluster.settle_runs()
        cluster.advance(tick)
    if done(cluster):
        return plans
    raise AssertionError(f"not done after {limit} passes; status: {cluster.status}")


def updated(starting_step: int | None = 2, **options: Any) -> Cluster:
    cluster = deployed(V1, steps=STEPS, canary={"analysis": background(starting_step)}, **options)
    cluster.set_spec({"template": template(V2)})
    return cluster


def with_background_run(**options: Any) -> Cluster:
    cluster = updated(**options)
    run_until(cluster, lambda c: c.runs("Background"), tick=61)
    return cluster


def background_status(cluster: Cluster) -> JsonObject | None:
    return (cluster.status.get("canary") or {}).get("currentBackgroundAnalysisRunStatus")


def terminated(plans: list[Plan]) -> list[str]:
    return [
        write.name
        for plan in plans
        for write in plan.writes
        if isinstance(write, Patch) and write.kind.kind == "AnalysisRun" and write.patch == TERMINATE
    ]


# --- starting -----------------------------------------------------------------------------------------------------


def test_the_background_run_starts_at_the_starting_step() -> None:
    cluster = updated(starting_step=2)
    run_until(cluster, lambda c: c.status.get("pauseConditions"))
    assert cluster.status["currentStepIndex"] == 1
    assert cluster.runs() == []
    cluster.advance(61)
    run_until(cluster, lambda c: c.runs())
    assert cluster.status["currentStepIndex"] == 2
    (run,) = cluster.runs()
    assert run["metadata"]["name"] == RUN
    assert run["metadata"]["labels"] == {"rollouts-pod-template-hash": H2, "rollout-type": "Background", "app": NAME}
    assert run["spec"]["args"] == [SERVICE]
    assert background_status(cluster) == {"name": RUN, "status": "Pending"}


@pytest.mark.parametrize("starting_step", [None, 0])
def test_without_a_starting_step_it_starts_with_the_update(starting_step: int | None) -> None:
    cluster = updated(starting_step=starting_step)
    run_until(cluster, lambda c: c.runs())
    assert cluster.status["currentStepIndex"] == 0
    assert [run["metadata"]["name"] for run in cluster.runs()] == [RUN]


def test_the_run_measures_while_the_steps_go_on_and_the_update_does_not_wait_for_it() -> None:
    cluster = with_background_run()
    cluster.finish_run(RUN, "Running")
    plans = run_until(cluster, lambda c: c.status.get("stableRS") == H2, tick=61)
    completed = [m for plan in plans for m in messages(plan, "RolloutCompleted")]
    assert completed == [f"Rollout completed update to revision 2 ({H2}): Completed all 6 canary steps"]
    # Once the new revision is stable, the run still measuring is no longer needed: terminated, Successful.
    plans = run_until(cluster, lambda c: c.run(RUN)["status"]["phase"] == "Successful")
    assert terminated(plans) == [RUN]
    assert cluster.run(RUN)["status"] == {"phase": "Successful", "message": "Run Terminated"}
    assert background_status(cluster) is None
    assert cluster.status["phase"] == "Healthy"
    assert [w for w in cluster.reconcile().writes if w.kind.kind == "AnalysisRun"] == []


def test_a_run_created_is_not_created_again() -> None:
    cluster = with_background_run()
    cluster.finish_run(RUN, "Running")
    plans = run_until(cluster, lambda c: c.status["currentStepIndex"] == 5, tick=61)
    assert [w for plan in plans for w in plan.writes if isinstance(w, Create) and w.kind.kind == "AnalysisRun"] == []
    assert background_status(cluster) == {"name": RUN, "status": "Running"}


# --- verdicts ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("phase", ["Failed", "Error"])
def test_a_failed_or_errored_background_run_aborts_at_once(phase: str) -> None:
    cluster = with_background_run()
    cluster.finish_run(RUN, "Running")
    cluster.reconcile()
    assert cluster.canary_weight == 30
    cluster.finish_run(RUN, phase, FAILED_MESSAGE)
    plan = cluster.reconcile()
    reason = f"Background analysis phase {phase}: AnalysisRun {RUN}: {FAILED_MESSAGE}"
    assert cluster.status["message"] == f"RolloutAborted: Rollout aborted update to revision 2: {reason}"
    assert cluster.status["abort"] is True
    assert cluster.canary_weight == 0
    assert messages(plan, f"AnalysisRun{phase}") == [reason]
    assert [e.type for e in plan.events if e.reason in ("RolloutAborted", f"AnalysisRun{phase}")] == ["Warning"] * 2
    assert background_status(cluster) == {"name": RUN, "status": phase, "message": FAILED_MESSAGE}


def test_a_failed_background_run_also_stops_the_step_run_measuring_beside_it() -> None:
    analysis = {"templates": [{"templateName": "success-rate"}], "args": [SERVICE]}
    cluster = deployed(
        V1, steps=[{"setWeight": 10}, {"analysis": analysis}], canary={"analysis": background(starting_step=None)}
    )
    cluster.set_spec({"template": template(V2)})
    run_until(cluster, lambda c: len(c.runs()) == 2)
    step_run = f"{NAME}-{H2}-2-1"
    cluster.finish_run(step_run, "Running")
    cluster.finish_run(RUN, "Failed", FAILED_MESSAGE)
    plan = cluster.reconcile()
    assert terminated([plan]) == [step_run]
    assert cluster.status["abort"] is True


def test_an_inconclusive_background_run_pauses_and_promote_starts_a_new_one() -> None:
    cluster = with_background_run()
    cluster.finish_run(RUN, "Inconclusive", 'Metric "success-rate" assessed Inconclusive')
    plan = cluster.reconcile()
    assert [p["reason"] for p in cluster.status["pauseConditions"]] == ["InconclusiveAnalysisRun"]
    assert (cluster.status["phase"], cluster.status["message"]) == ("Paused", "InconclusiveAnalysisRun")
    assert "RolloutPaused" in reasons(plan)
    index = cluster.status["currentStepIndex"]
    cluster.advance(600)  # not even a timed pause moves on while a person decides
    assert cluster.reconcile().is_noop
    assert cluster.status["currentStepIndex"] == index

    cluster.set_status({"pauseConditions": None})  # `rollouts promote`
    plan = cluster.reconcile()
    assert [w.body["metadata"]["name"] for w in plan.writes if isinstance(w, Create)] == [f"{RUN}.1"]
    assert background_status(cluster) == {"name": f"{RUN}.1", "status": "Pending"}
    assert "pauseConditions" not in cluster.status
    assert "RolloutResumed" in reasons(plan)


def test_an_inconclusive_run_ends_a_timed_pause_when_its_time_is_up_and_only_its_own_pause_holds() -> None:
    """Argo completes a timed pause step by its clock alone; an inconclusive analysis that came meanwhile is the
    one pause left (the Rollout shows Paused: InconclusiveAnalysisRun) and holds the next steps."""
    cluster = with_background_run()
    run_until(cluster, lambda c: c.status.get("currentStepIndex") == 3 and c.status.get("pauseConditions"))
    cluster.advance(10)
    cluster.finish_run(RUN, "Inconclusive", 'Metric "success-rate" assessed Inconclusive')
    cluster.reconcile()
    assert [p["reason"] for p in cluster.status["pauseConditions"]] == ["CanaryPauseStep", "InconclusiveAnalysisRun"]
    cluster.advance(51)  # the 60 s pause has run out
    plan = cluster.reconcile()
    assert messages(plan, "RolloutStepCompleted") == ["Rollout step 4/6 completed (pause: 60)"]
    assert [p["reason"] for p in cluster.status["pauseConditions"]] == ["InconclusiveAnalysisRun"]
    assert (cluster.status["phase"], cluster.status["message"]) == ("Paused", "InconclusiveAnalysisRun")
    cluster.settle()
    cluster.advance(600)
    cluster.reconcile()
    assert cluster.status["currentStepIndex"] == 4  # the next step waits for a person


# --- runs left behind -----------------------------------------------------------------------------------------


def test_a_full_promotion_terminates_the_background_run() -> None:
    cluster = with_background_run()
    cluster.finish_run(RUN, "Running")
    cluster.set_status({"promoteFull": True})
    plans = run_until(cluster, lambda c: c.status.get("stableRS") == H2)
    assert terminated(plans) == [RUN]


def test_a_new_revision_terminates_the_background_run_of_the_old_one() -> None:
    cluster = with_background_run()
    cluster.finish_run(RUN, "Running")
    cluster.set_spec({"template": template(V3)})
    plan = cluster.reconcile()
    assert terminated([plan]) == [RUN]
    assert background_status(cluster) is None


def test_old_runs_beyond_the_history_limit_are_deleted() -> None:
    cluster = updated(starting_step=None, spec={"analysis": {"unsuccessfulRunHistoryLimit": 2}})
    failed: list[tuple[str, str]] = []  # (created, name) of each failed attempt's run
    for _ in range(4):
        run_until(cluster, lambda c: (background_status(c) or {}).get("status") == "Pending")
        name = str((background_status(cluster) or {})["name"])
        failed.append((cluster.run(name)["metadata"]["creationTimestamp"], name))
        cluster.finish_run(name, "Failed", FAILED_MESSAGE)
        cluster.advance(1)
        cluster.reconcile()  # aborted
        cluster.set_status({"abort": False})  # `rollouts retry`: a new run, and the oldest failed ones go
        cluster.reconcile()
    current = str((background_status(cluster) or {})["name"])
    kept = {name for _, name in sorted(failed)[-2:]}
    assert {run["metadata"]["name"] for run in cluster.runs()} == kept | {current}
    assert current not in kept  # a name is never shared by two runs at once (a deleted one's may come back)
