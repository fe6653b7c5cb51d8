"""Deciding a pass over an AnalysisRun: when to measure, when the run ends, and how it is judged (Argo's rules)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.runner.lifecycle import decide_after_measuring, decide_run
from analysis.runner.measurements import record_measurement
from tests.unit.analysis.runner_builders import (
    T0,
    analysis_run,
    at,
    measurement,
    metric,
    play,
    play_until_done,
    result_of,
    scripted,
    stamp,
)

JsonObject = dict[str, Any]
S, F, INC, E = "Successful", "Failed", "Inconclusive", "Error"


def completed_result(name: str, phase: str, **fields: Any) -> JsonObject:
    return {"name": name, "phase": phase, "measurements": [measurement(phase, 0, f"{name}: {phase}")], **fields}


# --- the first pass ---------------------------------------------------------------------------------------------


def test_the_first_pass_starts_the_run_and_measures_at_once() -> None:
    decision = decide_run(analysis_run(metric("success-rate")), T0)
    assert decision.status == {
        "phase": "Running",
        "startedAt": stamp(0),
        "runSummary": {"count": 1, "successful": 0, "failed": 0, "inconclusive": 0, "error": 0},
    }
    assert decision.status_patch == decision.status
    assert [(task.action, task.metric_name, task.measurement_index) for task in decision.tasks] == [
        ("run", "success-rate", 0)
    ]
    assert decision.requeue_after == 0
    assert decision.events == ()


def test_tasks_carry_the_metric_unresolved_for_the_caller_to_substitute_with_secrets() -> None:
    (task,) = decide_run(analysis_run(metric()), T0).tasks
    assert task.metric["provider"]["web"]["url"] == "http://metrics.example/{{args.service}}"


def test_a_run_goes_from_running_to_successful() -> None:
    run, decisions, _ = play_until_done(analysis_run(metric()), scripted({"m": [S]}))
    assert [d.status["phase"] for d in decisions] == ["Successful"]
    assert run["status"]["phase"] == "Successful"
    assert run["status"]["completedAt"] == stamp(0)
    assert "message" not in run["status"]
    assert run["status"]["runSummary"] == {"count": 1, "successful": 1, "failed": 0, "inconclusive": 0, "error": 0}
    assert [(e.type, e.reason, e.message) for e in decisions[-1].events] == [
        ("Normal", "MetricSuccessful", "Metric 'm' Completed. Result: Successful"),
        ("Normal", "AnalysisRunSuccessful", "Analysis Completed. Result: Successful"),
    ]


# --- when to measure --------------------------------------------------------------------------------------------


def test_neither_count_nor_interval_takes_one_measurement() -> None:
    run, decisions, _ = play_until_done(analysis_run(metric()), scripted({"m": [S]}))
    assert result_of(run)["count"] == 1
    assert len(decisions) == 1


def test_count_and_interval_take_count_measurements_interval_apart() -> None:
    run, decisions, seconds = play_until_done(analysis_run(metric(interval="30s", count=3)), scripted({"m": [S]}))
    assert [m["startedAt"] for m in result_of(run)["measurements"]] == [stamp(0), stamp(30), stamp(60)]
    assert [d.requeue_after for d in decisions] == [30, 30, None]
    assert (run["status"]["phase"], seconds) == ("Successful", 60)


def test_interval_only_measures_until_terminated() -> None:
    run, _decisions, _ = play_until_done(analysis_run(metric(interval="10s")), scripted({"m": [S]}), limit=15)
    assert run["status"]["phase"] == "Running"
    assert result_of(run)["count"] == 15
    run["spec"]["terminate"] = True
    run, decision = play(run, at(145), scripted({"m": [S]}))
    assert (run["status"]["phase"], run["status"]["message"]) == ("Successful", "Run Terminated")
    assert result_of(run)["phase"] == "Successful"
    assert decision.requeue_after is None


def test_initial_delay_waits_from_started_at() -> None:
    run = analysis_run(metric(initialDelay="2m"))
    run, first = play(run, T0, scripted({"m": [S]}))
    assert first.tasks == ()
    assert first.requeue_after == 120
    assert "metricResults" not in run["status"]
    _, early = play(run, at(119), scripted({"m": [S]}))
    assert (early.tasks, early.requeue_after) == ((), 1)
    run, _due = play(run, at(120), scripted({"m": [S]}))
    assert result_of(run)["measurements"][0]["startedAt"] == stamp(120)
    assert run["status"]["phase"] == "Successful"


def test_each_metric_keeps_its_own_schedule() -> None:
    run = analysis_run(metric("fast", interval="10s", count=2), metric("slow", interval="1m", count=2))
    run, decisions, seconds = play_until_done(run, scripted({"fast": [S], "slow": [S]}))
    assert [m["startedAt"] for m in result_of(run, "fast")["measurements"]] == [stamp(0), stamp(10)]
    assert [m["startedAt"] for m in result_of(run, "slow")["measurements"]] == [stamp(0), stamp(60)]
    assert [d.requeue_after for d in decisions] == [10, 50, None]
    assert seconds == 60


def test_an_error_is_retried_after_ten_seconds_whatever_the_interval() -> None:
    run = analysis_run(metric(interval="5m", count=2))
    run, decision = play(run, T0, scripted({"m": [E, S]}))
    assert decision.requeue_after == 10
    _, early = play(run, at(9), scripted({"m": [S]}))
    assert early.tasks == ()
    run, retried = play(run, at(10), scripted({"m": [S]}))
    assert [m["phase"] for m in result_of(run)["measurements"]] == [E, S]
    assert retried.requeue_after == 300


def test_a_single_measurement_metric_retries_errors_until_the_limit() -> None:
    run, _decisions, seconds = play_until_done(analysis_run(metric()), scripted({"m": [E]}))
    assert [m["phase"] for m in result_of(run)["measurements"]] == [E] * 5
    assert seconds == 40
    assert run["status"]["phase"] == "Error"
    assert run["status"]["message"] == (
        'Metric "m" assessed Error due to consecutiveErrors (5) > consecutiveErrorLimit (4): '
        '"Error Message: m: measured error"'
    )


def test_a_measurement_in_flight_is_resumed_at_resume_at() -> None:
    run = analysis_run(metric("job"))
    job = scripted({"job": ["Running", S]})
    run, started = play(run, T0, job)
    assert result_of(run, "job")["phase"] == "Running"
    assert started.requeue_after == 5
    _, early = play(run, at(4), job)
    assert early.tasks == ()
    decision = decide_run(run, at(5))
    in_flight = result_of(run, "job")["measurements"][-1]
    assert [(t.action, t.measurement) for t in decision.tasks] == [("resume", in_flight)]
    run, _ = play(run, at(5), job)
    assert [m["phase"] for m in result_of(run, "job")["measurements"]] == [S]
    assert run["status"]["phase"] == "Successful"


def test_the_measurement_index_counts_completed_measurements_errors_included() -> None:
    run = analysis_run(metric(interval="10s", count=5))
    run, _ = play(run, T0, scripted({"m": [E, S]}))
    (task,) = decide_run(run, at(10)).tasks
    assert task.measurement_index == 1


def test_arguments_are_substituted_before_the_schedule_is_read() -> None:
    run = analysis_run(metric(interval="{{args.every}}", count="{{args.times}}"))
    run["spec"]["args"] += [{"name": "every", "value": "20s"}, {"name": "times", "value": "2"}]
    run, _decisions, seconds = play_until_done(run, scripted({"m": [S]}))
    assert (run["status"]["phase"], seconds) == ("Successful", 20)


# --- early end and terminate -----------------------------------------------------------------------------------


def test_a_failed_metric_ends_the_run_early_and_stops_the_others() -> None:
    run = analysis_run(metric("errors"), metric("latency", interval="1m"))
    run, decision = play(run, T0, scripted({"errors": [F], "latency": [S]}))
    assert run["status"]["phase"] == "Failed"
    assert result_of(run, "latency")["phase"] == "Successful"
    assert run["status"]["message"] == (
        'Metric "errors" assessed Failed due to failed (1) > failureLimit (0): "Error Message: errors: measured failed"'
    )
    assert decision.requeue_after is None
    assert [(e.type, e.reason) for e in decision.events] == [
        ("Warning", "MetricFailed"),
        ("Normal", "MetricSuccessful"),
        ("Warning", "AnalysisRunFailed"),
    ]


def test_an_early_end_terminates_measurements_in_flight_before_completing() -> None:
    run = analysis_run(metric("job", interval="1m"), metric("errors", interval="1m", count=2))
    outcome = scripted({"job": ["Running"], "errors": [S, F]})
    run, _ = play(run, T0, outcome)
    run, decision = play(run, at(60), outcome)
    assert result_of(run, "errors")["phase"] == "Failed"
    assert run["status"]["phase"] == "Running"
    assert decision.requeue_after == 0
    next_pass = decide_run(run, at(60))
    assert [(t.action, t.metric_name) for t in next_pass.tasks] == [("terminate", "job")]
    run, _done = play(run, at(60), outcome)
    assert run["status"]["phase"] == "Failed"
    assert result_of(run, "job")["measurements"][-1]["message"] == "Metric Terminated"
    assert result_of(run, "job")["phase"] == "Successful"


def test_terminate_stops_measuring_and_succeeds_when_nothing_failed() -> None:
    run = analysis_run(metric("a", interval="1m"), metric("b", interval="1m", count=10), terminate=True)
    run["status"] = {
        "phase": "Running",
        "startedAt": stamp(0),
        "metricResults": [
            {"name": "a", "phase": "Running", "count": 1, "successful": 1, "measurements": [measurement(S, 0)]},
            {"name": "b", "phase": "Running", "count": 1, "successful": 1, "measurements": [measurement(S, 0)]},
        ],
    }
    decision = decide_run(run, at(600))
    assert decision.tasks == ()
    assert decision.status["phase"] == "Successful"
    assert decision.status["message"] == "Run Terminated"
    assert decision.status["completedAt"] == stamp(600)
    assert [r["phase"] for r in decision.status["metricResults"]] == [S, S]


def test_terminate_keeps_a_failure_that_already_happened() -> None:
    run = analysis_run(metric("a", interval="1m", failureLimit=3), terminate=True)
    run["status"] = {
        "phase": "Running",
        "startedAt": stamp(0),
        "metricResults": [
            {"name": "a", "phase": "Running", "count": 1, "failed": 1, "measurements": [measurement(F, 0, "a: bad")]},
        ],
    }
    assert decide_run(run, at(30)).status["phase"] == "Successful"
    run["status"]["metricResults"][0].update(phase="Failed", message='Metric "a" assessed Failed due to x')
    decision = decide_run(run, at(30))
    assert decision.status["phase"] == "Failed"
    assert decision.status["message"].startswith('Metric "a" assessed Failed')


def test_terminate_before_a_metric_started_leaves_it_unmeasured() -> None:
    run = analysis_run(metric("late", initialDelay="10m"), terminate=True)
    decision = decide_run(run, T0)
    assert (decision.status["phase"], decision.status["message"]) == ("Successful", "Run Terminated")
    assert "metricResults" not in decision.status
    assert decision.status["runSummary"]["count"] == 1


def test_terminate_terminates_a_measurement_in_flight_without_waiting_for_resume_at() -> None:
    run = analysis_run(metric("job"), terminate=True)
    run["status"] = {
        "phase": "Running",
        "startedAt": stamp(0),
        "metricResults": [
            {
                "name": "job",
                "phase": "Running",
                "measurements": [measurement("Running", 0, resumeAt=stamp(3600), metadata={"job-name": "j"})],
            },
        ],
    }
    decision = decide_run(run, at(10))
    assert [(t.action, (t.measurement or {}).get("metadata")) for t in decision.tasks] == [
        ("terminate", {"job-name": "j"})
    ]
    assert decision.status["phase"] == "Running"


# --- dry run ----------------------------------------------------------------------------------------------------


def test_a_failing_dry_run_metric_does_not_fail_the_run() -> None:
    run = analysis_run(
        metric("new-metric"), metric("success-rate", interval="10s", count=2), dryRun=[{"metricName": "new"}]
    )
    run, _decisions, _ = play_until_done(run, scripted({"new-metric": [F], "success-rate": [S]}))
    assert run["status"]["phase"] == "Successful"
    assert result_of(run, "new-metric")["dryRun"] is True
    assert result_of(run, "new-metric")["phase"] == "Failed"
    assert result_of(run, "success-rate")["count"] == 2, "a dry run failure does not end the run early"
    assert run["status"]["runSummary"] == {"count": 1, "successful": 1, "failed": 0, "inconclusive": 0, "error": 0}
    assert run["status"]["dryRunSummary"] == {"count": 1, "successful": 0, "failed": 1, "inconclusive": 0, "error": 0}
    assert "message" not in run["status"]


def test_a_run_of_dry_run_metrics_only_is_successful() -> None:
    run = analysis_run(metric("a"), metric("b"), dryRun=[{"metricName": "*"}])
    run, _, _ = play_until_done(run, scripted({"a": [F], "b": [E]}))
    assert run["status"]["phase"] == "Successful"
    assert run["status"]["runSummary"]["count"] == 0
    assert run["status"]["dryRunSummary"]["count"] == 2


# --- run phase precedence --------------------------------------------------------------------------------------

RUN_PHASES: list[tuple[list[str], str]] = [
    ([S, S], S),
    ([S, INC], INC),
    ([INC, E], E),
    ([E, F], F),
    ([F, E, INC, S], F),
    ([INC, S], INC),
    ([E, S], E),
]


@pytest.mark.parametrize(("phases", "expected"), RUN_PHASES, ids=["-".join(p) for p, _ in RUN_PHASES])
def test_the_run_takes_the_worst_metric_phase(phases: list[str], expected: str) -> None:
    metrics = [metric(f"m{i}") for i in range(len(phases))]
    results = [completed_result(f"m{i}", phase) for i, phase in enumerate(phases)]
    run = analysis_run(*metrics, status={"phase": "Running", "startedAt": stamp(0), "metricResults": results})
    decision = decide_run(run, at(1))
    assert decision.status["phase"] == expected
    counts = {phase.lower(): phases.count(phase) for phase in (S, F, INC, E)}
    assert decision.status["runSummary"] == {"count": len(phases), **counts}


def test_the_first_of_equally_bad_metrics_names_the_failure() -> None:
    run = analysis_run(metric("a"), metric("b"))
    run, _ = play(run, T0, scripted({"a": [F], "b": [F]}))
    assert run["status"]["message"].startswith('Metric "a" assessed Failed')


def test_an_inconclusive_run_explains_itself() -> None:
    run, _ = play(
        analysis_run(metric("m", successCondition="result > 1", failureCondition="result < 0")),
        T0,
        scripted({"m": [INC]}),
    )
    assert run["status"]["phase"] == "Inconclusive"
    assert run["status"]["message"] == (
        'Metric "m" assessed Inconclusive due to inconclusive (1) > inconclusiveLimit (0): '
        '"Error Message: m: measured inconclusive"'
    )


# --- retention --------------------------------------------------------------------------------------------------


def test_measurement_retention_rules_reach_the_tasks() -> None:
    run = analysis_run(
        metric("a", interval="1s"), metric("b", interval="1s"), measurementRetention=[{"metricName": "a", "limit": 3}]
    )
    run, _, _ = play_until_done(run, scripted({"a": [S], "b": [S]}), limit=12)
    assert len(result_of(run, "a")["measurements"]) == 3
    assert len(result_of(run, "b")["measurements"]) == 10


# --- a run that cannot be measured ------------------------------------------------------------------------------


def test_an_unresolved_field_ref_argument_errors_the_run() -> None:
    run = analysis_run(metric())
    run["spec"]["args"] = [{"name": "service", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}}}]
    decision = decide_run(run, T0)
    assert decision.status["phase"] == "Error"
    assert decision.status["message"].startswith(
        "Unable to resolve metric arguments: args.service was not resolved: valueFrom.fieldRef is resolved by"
    )
    assert decision.tasks == ()
    assert [(e.type, e.reason) for e in decision.events] == [("Warning", "AnalysisRunError")]


def test_an_undeclared_argument_errors_the_run() -> None:
    run = analysis_run(metric(successCondition="result > {{args.threshold}}"))
    decision = decide_run(run, T0)
    assert decision.status["message"] == (
        'Unable to resolve metric arguments: metric "m": failed to resolve {{args.threshold}}'
    )


def test_an_invalid_spec_errors_the_run() -> None:
    run = analysis_run(metric(count="{{args.times}}"))
    run["spec"]["args"].append({"name": "times", "value": "3"})
    decision = decide_run(run, T0)
    assert decision.status["phase"] == "Error"
    assert decision.status["message"] == (
        "Analysis spec invalid: spec.metrics[0].interval: interval must be specified when count > 1"
    )
    assert decision.status["completedAt"] == stamp(0)


def test_a_dry_run_rule_matching_nothing_errors_the_run() -> None:
    decision = decide_run(analysis_run(metric("a"), dryRun=[{"metricName": "zzz"}]), T0)
    assert (
        decision.status["message"] == 'Analysis spec invalid: spec.dryRun[0].metricName: "zzz" matches no metric name'
    )


# --- at rest ----------------------------------------------------------------------------------------------------


def test_a_resync_with_nothing_due_writes_nothing() -> None:
    run, _ = play(analysis_run(metric(interval="1m", count=3)), T0, scripted({"m": [S]}))
    decision = decide_run(run, at(30))
    assert decision.tasks == ()
    assert decision.status_patch is None
    assert decision.events == ()
    assert decision.requeue_after == 30


def test_a_completed_run_is_left_alone() -> None:
    run, _ = play(analysis_run(metric()), T0, scripted({"m": [F]}))
    decision = decide_run(run, at(3600))
    assert (decision.tasks, decision.status_patch, decision.events, decision.requeue_after) == ((), None, (), None)


def test_the_same_run_and_moment_always_give_the_same_decision() -> None:
    run, _ = play(
        analysis_run(metric("a", interval="1m"), metric("b", initialDelay="30s")), T0, scripted({"a": [S], "b": [S]})
    )
    assert decide_run(copy.deepcopy(run), at(45)) == decide_run(copy.deepcopy(run), at(45))


def test_the_decision_does_not_change_the_run() -> None:
    run, _ = play(analysis_run(metric(interval="1m")), T0, scripted({"m": [S]}))
    before = copy.deepcopy(run)
    decision = decide_run(run, at(60))
    record_measurement(decision.status, run["spec"]["metrics"][0], measurement(F, 60), dry_run=False, retention=10)
    decide_after_measuring(run, decision.status, at(60))
    assert run == before


# --- properties -------------------------------------------------------------------------------------------------

PHASES = st.sampled_from([S, S, S, F, INC, E, "Running"])
ORDER = [S, "Running", "Pending", INC, E, F]


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[JsonObject, dict[str, list[str]]]:
    count = draw(st.integers(min_value=1, max_value=3))
    metrics: list[JsonObject] = []
    scripts: dict[str, list[str]] = {}
    for index in range(count):
        fields: JsonObject = {}
        if draw(st.booleans()):
            fields["interval"] = f"{draw(st.integers(min_value=1, max_value=30))}s"
            fields["count"] = draw(st.integers(min_value=1, max_value=6))
        fields["failureLimit"] = draw(st.integers(min_value=0, max_value=2))
        fields["inconclusiveLimit"] = draw(st.integers(min_value=0, max_value=2))
        fields["consecutiveErrorLimit"] = draw(st.integers(min_value=0, max_value=3))
        if "interval" in fields and draw(st.booleans()):
            fields["consecutiveSuccessLimit"] = draw(st.integers(min_value=1, max_value=3))
            fields["failureLimit"] = draw(st.sampled_from([-1, fields["failureLimit"]]))
        metrics.append(metric(f"m{index}", **fields))
        scripts[f"m{index}"] = draw(st.lists(PHASES, min_size=1, max_size=12))
    dry_run = draw(st.lists(st.sampled_from([f"m{i}$" for i in range(count)]), max_size=1, unique=True))
    run = analysis_run(*metrics, dryRun=[{"metricName": pattern} for pattern in dry_run])
    return run, scripts


COUNTERS = ("count", "successful", "failed", "inconclusive", "error")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_run_phase_is_the_worst_non_dry_run_metric_phase_and_counts_never_decrease(
    scenario: tuple[JsonObject, dict[str, list[str]]],
) -> None:
    run, scripts = scenario
    outcome = scripted(scripts)
    seconds = 0.0
    previous: dict[str, dict[str, int]] = {}
    for _ in range(80):
        run, decision = play(run, at(seconds), outcome)
        for result in run["status"].get("metricResults", []):
            counters = {key: result.get(key, 0) for key in COUNTERS}
            before = previous.get(result["name"], dict.fromkeys(COUNTERS, 0))
            assert all(counters[key] >= before[key] for key in COUNTERS), "counters never decrease"
            previous[result["name"]] = counters
        if decision.completed or decision.requeue_after is None:
            break
        seconds += max(decision.requeue_after, 1)
    status = run["status"]
    results = {r["name"]: r for r in status.get("metricResults", [])}
    dry = {r["name"] for r in results.values() if r.get("dryRun")}
    if all(r["phase"] not in ("Running", "Pending") for r in results.values()) and len(results) == len(scripts):
        judged = [results[name]["phase"] for name in scripts if name not in dry]
        expected = max(judged, key=ORDER.index) if judged else S
        assert status["phase"] == expected
    assert decide_run(run, at(seconds)).status_patch is None or not decision.completed
