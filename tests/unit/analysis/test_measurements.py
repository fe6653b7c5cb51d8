"""Recording measurements into a metric's result, and judging a metric by Argo's rules."""

from __future__ import annotations

from typing import Any

import pytest

from analysis.models import AnalysisPhase
from analysis.runner.measurements import assess_metric, deciding_measurement_message, record_measurement
from analysis.runner.rules import MetricRules, MetricRulesError, is_dry_run, measurement_retention
from tests.unit.analysis.runner_builders import measurement, metric

JsonObject = dict[str, Any]


def recorded(phases: list[str], retention: int = 10, dry_run: bool = False, **fields: Any) -> JsonObject:
    """The metric result after recording one measurement per phase, one second apart, stopping when the metric
    completes (the runner takes no measurement of a completed metric)."""
    spec = metric("success-rate", **fields)
    status: JsonObject = {}
    for second, phase in enumerate(phases):
        if status and status["metricResults"][0]["phase"] not in ("Running", "Pending"):
            break
        message = None if phase == "Successful" else f"success-rate: measurement {second} was {phase}"
        status = record_measurement(
            status, spec, measurement(phase, second, message), dry_run=dry_run, retention=retention
        )
    return status["metricResults"][0]


# --- the metric phase rules -----------------------------------------------------------------------------------

S, F, INC, E = "Successful", "Failed", "Inconclusive", "Error"

METRIC_PHASES: list[tuple[str, dict[str, Any], list[str], str, str | None]] = [
    # (case, metric fields, measurement phases, metric phase, why)
    ("one-success-completes-a-default-metric", {}, [S], S, None),
    ("one-failure-fails-a-default-metric", {}, [F], F, "failed (1) > failureLimit (0)"),
    ("inconclusive-beyond-the-default-limit", {}, [INC], INC, "inconclusive (1) > inconclusiveLimit (0)"),
    (
        "failures-within-the-limit-keep-it-running",
        {"interval": "1m", "count": 3, "failureLimit": 1},
        [F],
        "Running",
        None,
    ),
    (
        "failures-beyond-the-limit-fail-it",
        {"interval": "1m", "count": 3, "failureLimit": 1},
        [F, F],
        F,
        "failed (2) > failureLimit (1)",
    ),
    (
        "tolerated-failure-then-count-reached-succeeds",
        {"interval": "1m", "count": 3, "failureLimit": 1},
        [F, S, S],
        S,
        None,
    ),
    (
        "failure-limit-minus-one-never-fails",
        {"interval": "1m", "failureLimit": -1, "consecutiveSuccessLimit": 2},
        [F, F, F, F],
        "Running",
        None,
    ),
    ("inconclusive-within-its-limit", {"interval": "1m", "count": 2, "inconclusiveLimit": 1}, [INC], "Running", None),
    ("four-errors-are-within-the-default-limit", {}, [E, E, E, E], "Running", None),
    (
        "a-fifth-consecutive-error-errors-it",
        {},
        [E, E, E, E, E],
        E,
        "consecutiveErrors (5) > consecutiveErrorLimit (4)",
    ),
    (
        "a-success-resets-the-error-streak",
        {"interval": "1m", "count": 3, "consecutiveErrorLimit": 1},
        [E, S, E, S],
        "Running",
        None,
    ),
    ("errors-are-not-counted-towards-count", {"interval": "1m", "count": 2}, [E, S], "Running", None),
    ("count-reached-after-an-error", {"interval": "1m", "count": 2}, [E, S, S], S, None),
    (
        "consecutive-success-limit-completes-early",
        {"interval": "1m", "count": 10, "consecutiveSuccessLimit": 2},
        [S, S],
        S,
        None,
    ),
    (
        "a-failure-ends-it-before-any-streak",
        {"interval": "1m", "count": 10, "consecutiveSuccessLimit": 2},
        [F, S, S],
        F,
        "failed (1) > failureLimit (0)",
    ),
    (
        "consecutive-successes-with-failures-tolerated",
        {"interval": "1m", "count": 10, "failureLimit": 2, "consecutiveSuccessLimit": 2},
        [F, S, S],
        S,
        None,
    ),
    (
        "an-error-breaks-a-success-streak",
        {"interval": "1m", "failureLimit": -1, "consecutiveSuccessLimit": 2},
        [S, E, S],
        "Running",
        None,
    ),
    (
        "only-consecutive-success-applies-and-count-runs-out",
        {"interval": "1m", "count": 3, "failureLimit": -1, "consecutiveSuccessLimit": 3},
        [S, F, S],
        F,
        "consecutiveSuccess (1) < consecutiveSuccessLimit (3) when count (3) was reached",
    ),
    (
        "both-apply-and-neither-decides-by-count",
        {"interval": "1m", "count": 3, "failureLimit": 2, "consecutiveSuccessLimit": 3},
        [S, F, S],
        INC,
        "consecutiveSuccess (1) < consecutiveSuccessLimit (3) when count (3) was reached, "
        "and failed (1) <= failureLimit (2)",
    ),
    ("interval-only-runs-until-terminated", {"interval": "1m"}, [S] * 20, "Running", None),
    ("count-as-a-string", {"interval": "1m", "count": "2"}, [S, S], S, None),
]


@pytest.mark.parametrize(
    ("fields", "phases", "expected", "why"),
    [case[1:] for case in METRIC_PHASES],
    ids=[case[0] for case in METRIC_PHASES],
)
def test_metric_phase_follows_argo_rules(
    fields: dict[str, Any], phases: list[str], expected: str, why: str | None
) -> None:
    result = recorded(phases, **fields)
    assert result["phase"] == expected
    if why is None:
        assert "assessed" not in (result.get("message") or "")
    else:
        assert result["message"] == f'Metric "success-rate" assessed {expected} due to {why}'


PRECEDENCE: list[tuple[str, dict[str, int], AnalysisPhase]] = [
    ("failed-alone", {"failed": 1}, AnalysisPhase.FAILED),
    ("inconclusive-beats-failed", {"failed": 1, "inconclusive": 1}, AnalysisPhase.INCONCLUSIVE),
    ("error-beats-failed", {"failed": 1, "consecutiveError": 5}, AnalysisPhase.ERROR),
    (
        "error-beats-inconclusive-and-failed",
        {"failed": 1, "inconclusive": 1, "consecutiveError": 5},
        AnalysisPhase.ERROR,
    ),
    ("limits-beat-a-success-streak", {"failed": 1, "consecutiveSuccess": 3}, AnalysisPhase.FAILED),
]


@pytest.mark.parametrize(("counters", "expected"), [c[1:] for c in PRECEDENCE], ids=[c[0] for c in PRECEDENCE])
def test_error_beats_inconclusive_beats_failed_when_several_limits_hold(
    counters: dict[str, int], expected: AnalysisPhase
) -> None:
    rules = MetricRules.of(metric(interval="1m", consecutiveSuccessLimit=3))
    result = {"name": "m", "phase": "Running", "measurements": [measurement("Failed")], **counters}
    assert assess_metric(rules, result, terminating=False).phase is expected


def test_a_metric_without_measurements_is_pending_and_successful_once_terminating() -> None:
    rules = MetricRules.of(metric())
    assert assess_metric(rules, {"name": "m"}, terminating=False).phase is AnalysisPhase.PENDING
    assert assess_metric(rules, {"name": "m"}, terminating=True).phase is AnalysisPhase.SUCCESSFUL


def test_a_measurement_in_flight_keeps_the_metric_running_even_when_terminating() -> None:
    result = {"name": "m", "measurements": [measurement("Running")]}
    assert assess_metric(MetricRules.of(metric()), result, terminating=True).phase is AnalysisPhase.RUNNING


def test_an_open_interval_metric_completes_successful_when_terminating() -> None:
    result = {"name": "m", "phase": "Running", "count": 3, "successful": 3, "measurements": [measurement("Successful")]}
    rules = MetricRules.of(metric(interval="1m"))
    assert assess_metric(rules, result, terminating=True).phase is AnalysisPhase.SUCCESSFUL


def test_a_completed_metric_keeps_its_phase() -> None:
    result = {"name": "m", "phase": "Failed", "measurements": [measurement("Successful")], "successful": 5}
    assert assess_metric(MetricRules.of(metric()), result, terminating=False).phase is AnalysisPhase.FAILED


# --- recording --------------------------------------------------------------------------------------------------


def test_counters_follow_argo() -> None:
    result = recorded(
        [S, F, E, E, INC, S, S], interval="1m", failureLimit=-1, inconclusiveLimit=5, consecutiveSuccessLimit=9
    )
    assert {key: result[key] for key in ("count", "successful", "failed", "inconclusive", "error")} == {
        "count": 5,
        "successful": 3,
        "failed": 1,
        "inconclusive": 1,
        "error": 2,
    }
    assert result["consecutiveError"] == 0
    assert result["consecutiveSuccess"] == 2


def test_the_first_measurement_creates_the_metric_result() -> None:
    result = recorded([S])
    assert result["name"] == "success-rate"
    assert result["measurements"] == [measurement("Successful", 0)]
    assert "dryRun" not in result


def test_a_dry_run_metric_result_says_so() -> None:
    assert recorded([F], dry_run=True)["dryRun"] is True


def test_a_resumed_measurement_replaces_the_one_in_flight() -> None:
    spec = metric("job", interval="1m")
    status = record_measurement(
        {}, spec, measurement("Running", 0, resumeAt="2024-05-01T10:00:05Z"), dry_run=False, retention=10
    )
    assert status["metricResults"][0]["phase"] == "Running"
    assert status["metricResults"][0]["count"] == 0
    done = measurement("Successful", 0, finishedAt="2024-05-01T10:00:07Z")
    status = record_measurement(status, spec, done, dry_run=False, retention=10)
    result = status["metricResults"][0]
    assert result["measurements"] == [done]
    assert result["count"] == 1


def test_measurements_are_trimmed_to_ten_by_default_and_counters_keep_counting() -> None:
    result = recorded([S] * 25, interval="1m")
    assert len(result["measurements"]) == 10
    assert result["measurements"][0]["startedAt"] == "2024-05-01T10:00:15Z"
    assert result["count"] == 25


def test_measurement_retention_limit_applies() -> None:
    assert len(recorded([S] * 8, retention=3, interval="1m")["measurements"]) == 3


def test_the_measurement_in_flight_survives_any_retention() -> None:
    spec = metric(interval="1m")
    status = record_measurement({}, spec, measurement("Successful", 0), dry_run=False, retention=1)
    status = record_measurement(status, spec, measurement("Running", 60), dry_run=False, retention=0)
    assert [m["phase"] for m in status["metricResults"][0]["measurements"]] == ["Running"]


def test_measurement_metadata_is_kept_on_the_result() -> None:
    query = {"ResolvedPrometheusQuery": 'sum(rate(http_requests_total{service="checkout"}[1m]))'}
    status = record_measurement({}, metric(), measurement("Successful", metadata=query), dry_run=False, retention=10)
    result = status["metricResults"][0]
    assert result["metadata"] == query
    assert result["measurements"][0]["metadata"] == query


def test_the_input_status_is_not_changed() -> None:
    status: JsonObject = {"phase": "Running", "metricResults": []}
    record_measurement(status, metric(), measurement("Failed"), dry_run=False, retention=10)
    assert status == {"phase": "Running", "metricResults": []}


def test_the_deciding_measurement_is_the_latest_in_the_metric_phase() -> None:
    result = {
        "phase": "Failed",
        "measurements": [
            measurement("Failed", 0, "m: 0.5 does not satisfy result >= 0.9"),
            measurement("Error", 1, "m: connection refused"),
            measurement("Failed", 2, "m: 0.7 does not satisfy result >= 0.9"),
            measurement("Successful", 3, "m: 0.95 satisfies result >= 0.9"),
        ],
    }
    assert deciding_measurement_message(result) == "m: 0.7 does not satisfy result >= 0.9"


# --- rules ------------------------------------------------------------------------------------------------------

EFFECTIVE_COUNTS: list[tuple[dict[str, Any], int | None]] = [
    ({}, 1),
    ({"count": 0}, 1),
    ({"interval": "30s"}, None),
    ({"interval": "30s", "count": 5}, 5),
    ({"count": 1}, 1),
]


@pytest.mark.parametrize(("fields", "count"), EFFECTIVE_COUNTS)
def test_effective_count_is_argos(fields: dict[str, Any], count: int | None) -> None:
    assert MetricRules.of(metric(**fields)).count == count


def test_rules_parse_durations_and_defaults() -> None:
    rules = MetricRules.of(metric(interval="1m30s", initialDelay=5))
    assert (rules.interval, rules.initial_delay) == (90.0, 5.0)
    assert (rules.failure_limit, rules.inconclusive_limit, rules.consecutive_error_limit) == (0, 0, 4)
    assert rules.consecutive_success_limit == 0


def test_rules_refuse_a_count_that_is_not_a_number() -> None:
    with pytest.raises(MetricRulesError, match='metric "m": count must be an integer'):
        MetricRules.of(metric(count="many"))


DRY_RUN_RULES: list[tuple[list[str], str, bool]] = [
    (["error"], "error-rate", True),
    (["rate$"], "error-rate", True),
    (["^rate"], "error-rate", False),
    (["*"], "anything", True),
    ([".*"], "anything", True),
    (["other"], "error-rate", False),
]


@pytest.mark.parametrize(("patterns", "name", "selected"), DRY_RUN_RULES)
def test_dry_run_rules_are_unanchored_regexes(patterns: list[str], name: str, selected: bool) -> None:
    assert is_dry_run({"dryRun": [{"metricName": p} for p in patterns]}, name) is selected


def test_measurement_retention_takes_the_last_matching_positive_limit() -> None:
    spec = {"measurementRetention": [{"metricName": ".*", "limit": 20}, {"metricName": "error", "limit": 3}]}
    assert measurement_retention(spec, "error-rate") == 3
    assert measurement_retention(spec, "latency") == 20
    assert measurement_retention({}, "latency") == 10
    assert measurement_retention({"measurementRetention": [{"metricName": "x", "limit": 0}]}, "x") == 10


def test_recording_into_a_completed_metric_keeps_its_verdict() -> None:
    spec = metric(interval="1m", count=5)
    status = record_measurement({}, spec, measurement("Failed", 0, "m: bad"), dry_run=False, retention=10)
    verdict = status["metricResults"][0]["message"]
    status = record_measurement(status, spec, measurement("Successful", 60), dry_run=False, retention=10)
    result = status["metricResults"][0]
    assert (result["phase"], result["message"]) == ("Failed", verdict)
