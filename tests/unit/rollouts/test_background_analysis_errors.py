"""Issue #15 item 9: a background analysis whose measurements only err must not let the update be promoted.

Argo promotes when the steps are done whatever the background run says short of a Failed or Error verdict, so with
Prometheus down the new version gets 100 % on no evidence at all. Here, by default, the last step does not complete
(and a finished update is not marked stable) while the background run's latest measurement of some metric is an
Error: the Rollout waits, and aborts when the run reaches its error limit and ends in Error. ``rollouts controller
--promote-on-background-analysis-errors`` restores Argo's behaviour.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from rollouts.gating.background import background_promotion_hold, promoting_on_background_errors
from rollouts.plan import Plan
from rollouts.snapshot import RolloutSnapshot
from tests.unit.rollouts.builders import Cluster, deployed, hash_of, messages, template
from tests.unit.rollouts.test_background_analysis import RUN, STEPS, background, run_until

JsonObject = dict[str, Any]

V1, V2 = "reviews:v1", "reviews:v2"
H1, H2 = hash_of(V1), hash_of(V2)
UNREACHABLE = "prometheus at http://prometheus:9090 is unreachable: connection refused"
LAST_STEP = len(STEPS) - 1


def measured(*phases: str, metric: str = "success-rate", run_phase: str = "Running") -> JsonObject:
    """A run's status as the analysis controller writes it, one completed measurement per phase, oldest first."""
    measurements = [
        {"phase": phase, "startedAt": "2024-01-01T00:00:00Z", "finishedAt": "2024-01-01T00:00:01Z",
         **({"message": UNREACHABLE} if phase == "Error" else {"value": "[0.99]"})}
        for phase in phases
    ]
    return {"phase": run_phase, "metricResults": [{"name": metric, "phase": "Running", "measurements": measurements}]}


def at_last_step(*phases: str, hold: bool = True) -> Cluster:
    """An update at its last step (a 60 s pause) with the background run's measurements so far."""
    cluster = deployed(V1, steps=STEPS, canary={"analysis": background(starting_step=None)})
    cluster.background_errors_hold_promotion = hold
    cluster.set_spec({"template": template(V2)})
    run_until(cluster, lambda c: c.runs("Background"))
    cluster.analysis_runs[RUN]["status"] = measured("Successful")
    run_until(cluster, lambda c: c.status.get("currentStepIndex") == LAST_STEP, tick=61)
    cluster.analysis_runs[RUN]["status"] = measured(*phases)
    return cluster


def test_a_background_run_whose_latest_measurement_is_an_error_holds_the_last_step() -> None:
    cluster = at_last_step("Successful", "Error")
    for _ in range(5):  # the last pause has long expired; each pass looks and holds
        cluster.advance(61)
        cluster.reconcile()
        cluster.settle()
    assert cluster.status["currentStepIndex"] == LAST_STEP
    assert cluster.status["stableRS"] == H1
    assert cluster.canary_weight == 60
    assert cluster.status["phase"] == "Progressing"
    assert cluster.status["message"] == (
        f"waiting for background analysis: AnalysisRun {RUN}: the latest measurement of metric \"success-rate\" "
        f"is an Error ({UNREACHABLE}); not promoting without evidence"
    )
    assert cluster.run(RUN).get("spec", {}).get("terminate") is None  # it goes on measuring


def test_the_update_completes_once_a_measurement_succeeds_again() -> None:
    cluster = at_last_step("Error", "Error")
    cluster.advance(61)
    cluster.reconcile()
    assert cluster.status["currentStepIndex"] == LAST_STEP
    cluster.analysis_runs[RUN]["status"] = measured("Error", "Error", "Successful")
    plans = run_until(cluster, lambda c: c.status.get("stableRS") == H2, tick=61)
    completed = [m for plan in plans for m in messages(plan, "RolloutCompleted")]
    assert completed == [f"Rollout completed update to revision 2 ({H2}): Completed all 6 canary steps"]


def test_the_run_reaching_its_error_limit_aborts_the_held_update() -> None:
    cluster = at_last_step("Error", "Error")
    cluster.advance(61)
    cluster.reconcile()
    message = 'Metric "success-rate" assessed Error due to consecutiveErrors (5) > consecutiveErrorLimit (4)'
    cluster.analysis_runs[RUN]["status"] = {**measured(*["Error"] * 5, run_phase="Error"), "message": message}
    cluster.reconcile()
    assert cluster.status["abort"] is True
    assert cluster.canary_weight == 0
    assert cluster.status["stableRS"] == H1


def test_argo_behaviour_on_request_promotes_with_an_erroring_background_run() -> None:
    """Argo Rollouts: only the run's verdict counts, so the steps complete and the update is promoted."""
    cluster = at_last_step("Error", "Error", hold=False)
    run_until(cluster, lambda c: c.status.get("stableRS") == H2, tick=61)
    assert cluster.status["currentStepIndex"] == len(STEPS)


def test_a_full_promotion_asked_for_is_not_held() -> None:
    cluster = at_last_step("Error")
    cluster.set_status({"promoteFull": True})
    run_until(cluster, lambda c: c.status.get("stableRS") == H2)


# --- the rule, on its own -----------------------------------------------------------------------------------------


def run_named(status: JsonObject, *, dry_run: list[JsonObject] | None = None) -> JsonObject:
    spec: JsonObject = {"metrics": [{"name": "success-rate"}, {"name": "latency"}]}
    if dry_run:
        spec["dryRun"] = dry_run
    return {"metadata": {"name": RUN, "namespace": "default"}, "spec": spec, "status": status}


ENTRY = {"name": RUN, "status": "Running"}


def test_the_rule_reads_the_latest_completed_measurement_of_each_metric() -> None:
    erring_latency = measured("Successful", metric="success-rate")
    erring_latency["metricResults"].append(measured("Error", metric="latency")["metricResults"][0])
    assert background_promotion_hold(ENTRY, [run_named(erring_latency)]) is not None
    assert background_promotion_hold(ENTRY, [run_named(measured("Error", "Successful"))]) is None
    in_flight = measured("Error")
    in_flight["metricResults"][0]["measurements"].append({"phase": "Running", "startedAt": "2024-01-01T00:00:02Z"})
    assert background_promotion_hold(ENTRY, [run_named(in_flight)]) is not None


def test_the_rule_ignores_dry_run_metrics_runs_without_measurements_and_finished_runs() -> None:
    assert background_promotion_hold(
        ENTRY, [run_named(measured("Error"), dry_run=[{"metricName": "success-.*"}])]
    ) is None
    assert background_promotion_hold(ENTRY, [run_named({"phase": "Running"})]) is None
    assert background_promotion_hold(ENTRY, [run_named(measured("Error", run_phase="Successful"))]) is None
    assert background_promotion_hold(None, [run_named(measured("Error"))]) is None
    assert background_promotion_hold({"name": "other"}, [run_named(measured("Error"))]) is None




def test_a_last_set_weight_step_is_held_too() -> None:
    steps = [{"setWeight": 10}, {"pause": {"duration": 60}}, {"setWeight": 50}]
    cluster = deployed(V1, steps=steps, canary={"analysis": background(starting_step=None)})
    cluster.set_spec({"template": template(V2)})
    run_until(cluster, lambda c: c.runs("Background"))
    cluster.analysis_runs[RUN]["status"] = measured("Error")
    for _ in range(8):
        cluster.reconcile()
        cluster.settle()
        cluster.advance(61)
    assert (cluster.status["currentStepIndex"], cluster.canary_weight) == (2, 50)
    assert cluster.status["message"].startswith("waiting for background analysis: ")


def test_the_controller_option_decides_as_argo() -> None:
    """What ``--promote-on-background-analysis-errors`` wraps the decision core in."""
    seen: list[bool] = []

    def recording(snapshot: RolloutSnapshot) -> Plan:
        seen.append(snapshot.background_errors_hold_promotion)
        return Plan()

    at_argo = promoting_on_background_errors(recording)
    at_argo(RolloutSnapshot(rollout={}, now=datetime(2024, 1, 1, tzinfo=UTC)))
    assert seen == [False]
