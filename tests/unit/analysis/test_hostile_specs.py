"""Analysis specs that once slipped through (issue #15 item 5): a zero interval (a measuring loop of 60–135
queries a second), durations beyond Go's range, int32 counts and limits beyond 2^31 - 1. Each is refused at its
field — by lint and template validation, and by the run itself when an argument resolves to such a value."""

from __future__ import annotations

from typing import Any

import pytest

from analysis.kinds import ANALYSIS_RUN, ANALYSIS_TEMPLATE
from analysis.runner.lifecycle import decide_run
from analysis.runner.rules import MetricRules, MetricRulesError
from tests.unit.analysis.runner_builders import T0, analysis_run, metric

INT32_MAX = 2**31 - 1


def template(**metric_fields: Any) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AnalysisTemplate",
        "metadata": {"name": "t"},
        "spec": {"args": [{"name": "service"}], "metrics": [metric(**metric_fields)]},
    }


def issues_of(manifest: dict[str, Any]) -> list[str]:
    return [str(issue) for issue in ANALYSIS_TEMPLATE.check(manifest)]


# Argo accepts interval: 0s and then measures on every pass. We refuse it instead: a metric measured in a loop
# against a metrics server is never what the author meant, and an InvalidSpec says so before it happens.
@pytest.mark.parametrize("interval", ["0s", "0", 0, "0ms", "0h0m"])
def test_a_zero_interval_is_refused_naming_the_field(interval: str | int) -> None:
    assert "spec.metrics[0].interval: interval must be greater than 0 (a zero interval measures in a loop)" in (
        issues_of(template(interval=interval, count=3))
    )


def test_a_sub_second_interval_is_still_allowed() -> None:
    assert issues_of(template(interval="500ms", count=3)) == []


def test_an_interval_argument_that_resolves_to_zero_errs_the_run_before_any_measurement() -> None:
    run = analysis_run(metric(interval="{{args.every}}", count=3))
    run["spec"]["args"].append({"name": "every", "value": "0s"})
    decision = decide_run(run, T0)
    assert decision.tasks == ()
    assert decision.status["phase"] == "Error"
    assert "spec.metrics[0].interval: interval must be greater than 0" in decision.status["message"]


def test_metric_rules_refuse_a_zero_interval_naming_the_metric() -> None:
    with pytest.raises(MetricRulesError, match='metric "m": interval must be greater than 0'):
        MetricRules.of(metric(interval="0s"))


@pytest.mark.parametrize("field", ["interval", "initialDelay"])
def test_a_duration_beyond_gos_range_is_refused(field: str) -> None:
    issues = issues_of(template(**{field: "2562048h"}))
    assert any(issue.startswith(f"spec.metrics[0].{field}: ") and "Go's largest duration" in issue for issue in issues)


def test_an_initial_delay_argument_beyond_gos_range_errs_the_run() -> None:
    run = analysis_run(metric(initialDelay="{{args.wait}}"))
    run["spec"]["args"].append({"name": "wait", "value": "9999999999999h"})
    decision = decide_run(run, T0)
    assert decision.status["phase"] == "Error"
    assert "spec.metrics[0].initialDelay" in decision.status["message"]


@pytest.mark.parametrize("field", ["count", "failureLimit", "inconclusiveLimit", "consecutiveErrorLimit"])
@pytest.mark.parametrize("value", [INT32_MAX + 1, str(INT32_MAX + 1)])
def test_an_int32_count_or_limit_beyond_2_to_the_31_is_refused_naming_it(field: str, value: int | str) -> None:
    fields: dict[str, Any] = {field: value, "interval": "1m"}
    assert f"spec.metrics[0].{field}: {field} must be at most {INT32_MAX} (a 32-bit integer), got {INT32_MAX + 1}" in (
        issues_of(template(**fields))
    )


def test_metric_rules_refuse_a_count_beyond_int32() -> None:
    with pytest.raises(MetricRulesError, match='metric "m": count must be at most 2147483647'):
        MetricRules.of(metric(count=INT32_MAX + 1, interval="1m"))


def test_a_measurement_retention_limit_beyond_int32_is_refused() -> None:
    manifest = template()
    manifest["spec"]["measurementRetention"] = [{"metricName": "m", "limit": INT32_MAX + 1}]
    assert any(issue.startswith("spec.measurementRetention[0].limit: must be at most") for issue in issues_of(manifest))


def test_a_ttl_beyond_int32_is_refused() -> None:
    run = analysis_run(ttlStrategy={"secondsAfterCompletion": INT32_MAX + 1})
    issues = [str(issue) for issue in ANALYSIS_RUN.check(run)]
    assert any(issue.startswith("spec.ttlStrategy.secondsAfterCompletion: must be at most") for issue in issues)
