"""`get analysisrun`'s text from fixture runs: the header, each metric's facts, and its measurements as a table.

The fixtures have the shape the runner writes (checked at the end against a status the runner itself produced):
values as stored (``[0.99]``), messages as the runner words them, the query in ``ResolvedPrometheusQuery``.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from analysis.providers.base import MeasurementContext, MetricProvider, ProviderResult
from analysis.runner.measure_io import reconcile_run
from cli.analysisrun_view import is_completed, render_analysis_run
from kube.merge_patch import apply_merge_patch

NOW = datetime(2024, 5, 10, 12, 0, 0, tzinfo=UTC)
QUERY = (
    'sum(rate(istio_requests_total{destination_service=~"{{args.service-name}}",response_code!~"5.*"}[1m])) / '
    'sum(rate(istio_requests_total{destination_service=~"{{args.service-name}}"}[1m]))'
)
SERVICE = "reviews-canary.shop.svc.cluster.local"
RESOLVED = QUERY.replace("{{args.service-name}}", SERVICE)


def ts(**delta: float) -> str:
    return (NOW - timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%SZ")


def success_rate(**fields: Any) -> dict[str, Any]:
    return {"name": "success-rate", "successCondition": "result[0] >= 0.95",
            "provider": {"prometheus": {"address": "http://prometheus:9090", "query": QUERY}}, **fields}


def make_run(phase: str | None, metrics: list[dict[str, Any]], status: dict[str, Any],
             args: list[dict[str, Any]] | None = None, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AnalysisRun",
        "metadata": {"name": "reviews-5d8f9c7b6-4-2", "namespace": "shop", "creationTimestamp": ts(minutes=5)},
        "spec": {"args": [{"name": "service-name", "value": SERVICE}] if args is None else args, "metrics": metrics,
                 **spec},
        "status": {**({"phase": phase} if phase is not None else {}), **status},
    }


def measured(phase: str, started: str, value: str | None = None, message: str | None = None,
             **fields: Any) -> dict[str, Any]:
    made: dict[str, Any] = {"phase": phase, "startedAt": started, **fields}
    if phase not in ("Running", "Pending"):
        made["finishedAt"] = started
    if value is not None:
        made["value"] = value
    if message is not None:
        made["message"] = message
    return made


def text(run: dict[str, Any], **kwargs: Any) -> str:
    return "\n".join(render_analysis_run(run, NOW, **kwargs)) + "\n"


def test_a_successful_run() -> None:
    run = make_run("Successful", [success_rate(interval="30s", count=3)], {
        "startedAt": ts(minutes=5), "completedAt": ts(minutes=4),
        "runSummary": {"count": 1, "successful": 1, "failed": 0, "inconclusive": 0, "error": 0},
        "metricResults": [{
            "name": "success-rate", "phase": "Successful", "count": 3, "successful": 3, "consecutiveSuccess": 3,
            "metadata": {"ResolvedPrometheusQuery": RESOLVED},
            "measurements": [measured("Successful", ts(minutes=5), "[0.99]"),
                             measured("Successful", ts(minutes=4, seconds=30), "[0.98]"),
                             measured("Successful", ts(minutes=4), "[1]")],
        }],
    })
    assert text(run) == f"""\
Name:            reviews-5d8f9c7b6-4-2
Namespace:       shop
Status:          ✔ Successful
Run Summary:     1 metric: ✔ 1
Started:         2024-05-10T11:55:00Z (5m ago)
Completed:       2024-05-10T11:56:00Z (4m ago)
Args:            service-name={SERVICE}

Metric:          success-rate
  Status:        ✔ Successful
  Provider:      prometheus
  Query:         {RESOLVED}
  Succeeds when: result[0] >= 0.95
  Count:         3/3, every 30s
  Limits:        failureLimit 0, inconclusiveLimit 0, consecutiveErrorLimit 4
  Measurements:  ✔ 3

  #  STARTED    PHASE         VALUE   MESSAGE
  1  5m ago     ✔ Successful  [0.99]
  2  4m30s ago  ✔ Successful  [0.98]
  3  4m ago     ✔ Successful  [1]
"""
    assert is_completed(run)


FAILED_MESSAGE = (
    'Metric "success-rate" assessed Failed due to failed (2) > failureLimit (1): '
    '"Error Message: success-rate: 0.71 does not satisfy result[0] >= 0.95"'
)


def test_a_failed_run_shows_the_condition_each_value_missed() -> None:
    metric = success_rate(failureLimit=1, interval="1m", count=5, failureCondition="result[0] < 0.5")
    run = make_run("Failed", [metric], {
        "message": FAILED_MESSAGE,
        "startedAt": ts(minutes=5), "completedAt": ts(minutes=3),
        "runSummary": {"count": 1, "successful": 0, "failed": 1, "inconclusive": 0, "error": 0},
        "metricResults": [{
            "name": "success-rate", "phase": "Failed", "count": 3, "successful": 1, "failed": 2,
            "message": 'Metric "success-rate" assessed Failed due to failed (2) > failureLimit (1)',
            "metadata": {"ResolvedPrometheusQuery": RESOLVED},
            "measurements": [
                measured("Successful", ts(minutes=5), "[0.99]"),
                measured("Failed", ts(minutes=4), "[0.82]", "success-rate: 0.82 does not satisfy result[0] >= 0.95"),
                measured("Failed", ts(minutes=3), "[0.71]", "success-rate: 0.71 does not satisfy result[0] >= 0.95"),
            ],
        }],
    })
    assert text(run) == f"""\
Name:            reviews-5d8f9c7b6-4-2
Namespace:       shop
Status:          ✖ Failed
Message:         {FAILED_MESSAGE}
Run Summary:     1 metric: ✖ 1
Started:         2024-05-10T11:55:00Z (5m ago)
Completed:       2024-05-10T11:57:00Z (3m ago)
Args:            service-name={SERVICE}

Metric:          success-rate
  Status:        ✖ Failed
  Message:       Metric "success-rate" assessed Failed due to failed (2) > failureLimit (1)
  Provider:      prometheus
  Query:         {RESOLVED}
  Succeeds when: result[0] >= 0.95
  Fails when:    result[0] < 0.5
  Count:         3/5, every 1m
  Limits:        failureLimit 1, inconclusiveLimit 0, consecutiveErrorLimit 4
  Measurements:  ✔ 1,✖ 2

  #  STARTED  PHASE         VALUE   MESSAGE
  1  5m ago   ✔ Successful  [0.99]
  2  4m ago   ✖ Failed      [0.82]  success-rate: 0.82 does not satisfy result[0] >= 0.95
  3  3m ago   ✖ Failed      [0.71]  success-rate: 0.71 does not satisfy result[0] >= 0.95
"""


PARSE_ERROR = "prometheus rejected the query (bad_data): 1:15: parse error: unclosed left parenthesis"


def test_an_error_run_shows_the_prometheus_error_and_the_query_that_caused_it() -> None:
    broken = "sum(rate(http_requests_total{service=\"{{args.service-name}}\"}[1m])"
    sent = broken.replace("{{args.service-name}}", SERVICE)
    metadata = {"ResolvedPrometheusQuery": sent}
    run = make_run("Error", [{"name": "requests", "successCondition": "result[0] > 1",
                              "provider": {"prometheus": {"query": broken}}}], {
        "message": f'Metric "requests" assessed Error due to consecutiveErrors (5) > consecutiveErrorLimit (4): '
                   f'"Error Message: {PARSE_ERROR}"',
        "startedAt": ts(minutes=1), "completedAt": ts(seconds=10),
        "runSummary": {"count": 1, "error": 1},
        "metricResults": [{
            "name": "requests", "phase": "Error", "error": 5, "consecutiveError": 5, "metadata": metadata,
            "message": 'Metric "requests" assessed Error due to consecutiveErrors (5) > consecutiveErrorLimit (4)',
            "measurements": [measured("Error", ts(seconds=50 - 10 * i), None, PARSE_ERROR, metadata=metadata)
                             for i in range(5)],
        }],
    })
    output = text(run)
    assert "Status:          ⚠ Error\n" in output
    assert f"  Query:         {sent}\n" in output
    assert "  Count:         0/1\n" in output  # errors are not counted toward count
    assert "  Measurements:  ⚠ 5 (5 consecutive errors)\n" in output
    assert output.endswith(f"""\
  #  STARTED  PHASE    VALUE  MESSAGE
  1  50s ago  ⚠ Error         {PARSE_ERROR}
  2  40s ago  ⚠ Error         {PARSE_ERROR}
  3  30s ago  ⚠ Error         {PARSE_ERROR}
  4  20s ago  ⚠ Error         {PARSE_ERROR}
  5  10s ago  ⚠ Error         {PARSE_ERROR}
""")


def test_a_running_run_with_a_job_in_flight_and_a_metric_not_started() -> None:
    job = {"job-name": "run-uid.smoke.1", "job-namespace": "shop"}
    run = make_run("Running", [
        success_rate(interval="30s"),
        {"name": "smoke", "provider": {"job": {"spec": {"template": {"spec": {"containers": []}}}}}},
        {"name": "latency", "initialDelay": "5m", "successCondition": "result[0] < 0.3", "provider": {
            "prometheus": {"query": 'histogram_quantile(0.99, sum(rate(x{svc="{{args.service-name}}"}[1m])))'}}},
    ], {
        "startedAt": ts(minutes=1),
        "runSummary": {"count": 3},
        "metricResults": [
            {"name": "success-rate", "phase": "Running", "count": 2, "successful": 2, "consecutiveSuccess": 2,
             "metadata": {"ResolvedPrometheusQuery": RESOLVED},
             "measurements": [measured("Successful", ts(seconds=60), "[0.97]"),
                              measured("Successful", ts(seconds=29), "[0.96]")]},
            {"name": "smoke", "phase": "Running", "metadata": job,
             "measurements": [measured("Running", ts(seconds=55), metadata=job, resumeAt=ts(seconds=-5))]},
        ],
    })
    assert text(run) == f"""\
Name:            reviews-5d8f9c7b6-4-2
Namespace:       shop
Status:          ◌ Running
Run Summary:     3 metrics: ◌ 3
Started:         2024-05-10T11:59:00Z (60s ago)
Args:            service-name={SERVICE}

Metric:          success-rate
  Status:        ◌ Running
  Provider:      prometheus
  Query:         {RESOLVED}
  Succeeds when: result[0] >= 0.95
  Count:         2 (until terminated, every 30s)
  Limits:        failureLimit 0, inconclusiveLimit 0, consecutiveErrorLimit 4
  Measurements:  ✔ 2

  #  STARTED  PHASE         VALUE   MESSAGE
  1  60s ago  ✔ Successful  [0.97]
  2  29s ago  ✔ Successful  [0.96]

Metric:          smoke
  Status:        ◌ Running
  Provider:      job
  Metadata:      job-name=run-uid.smoke.1
                 job-namespace=shop
  Count:         0/1
  Limits:        failureLimit 0, inconclusiveLimit 0, consecutiveErrorLimit 4
  Measurements:  none completed, 1 in progress

  #  STARTED  PHASE      VALUE  MESSAGE
  1  55s ago  ◌ Running

Metric:          latency
  Status:        ◷ Pending
  Provider:      prometheus
  Query:         histogram_quantile(0.99, sum(rate(x{{svc="{SERVICE}"}}[1m])))
  Succeeds when: result[0] < 0.3
  Count:         0/1, first after 5m
  Limits:        failureLimit 0, inconclusiveLimit 0, consecutiveErrorLimit 4
  Measurements:  none completed
"""
    assert not is_completed(run)


def test_measurements_trimmed_by_retention_keep_their_ordinals() -> None:
    # 12 measurements taken, the last one still running; the runner kept the newest 3.
    run = make_run("Running", [success_rate(interval="1m")], {"metricResults": [{
        "name": "success-rate", "phase": "Running", "count": 10, "successful": 10, "error": 1,
        "measurements": [measured("Successful", ts(minutes=2), "[0.99]"), measured("Successful", ts(minutes=1), "[1]"),
                         measured("Running", ts(seconds=1))],
    }]})
    rows = text(run).splitlines()[-3:]
    assert [row.split()[0] for row in rows] == ["10", "11", "12"]


def test_secrets_never_show_and_placeholders_resolve_with_visible_values() -> None:
    run = make_run(None, [{
        "name": "errors", "successCondition": "result < {{args.threshold}}",
        "provider": {"web": {"url": "https://metrics.example/api?token={{args.token}}&svc={{args.service-name}}"}},
        "count": "{{args.count}}",
    }], {}, args=[
        {"name": "service-name", "value": "reviews"},
        {"name": "threshold", "value": "5"},
        {"name": "count", "value": "3"},
        {"name": "token", "valueFrom": {"secretKeyRef": {"name": "metrics-api", "key": "token"}}},
    ])
    output = text(run)
    assert "Status:          ◷ Pending\n" in output  # the controller has not seen it yet
    assert "Args:            service-name=reviews\n" in output
    assert "                 token=(secret metrics-api/token)\n" in output
    assert "  Provider:      web\n" in output
    assert "  Succeeds when: result < 5\n" in output
    assert "  Count:         0/3\n" in output


def test_a_terminating_run_and_a_dry_run_metric() -> None:
    run = make_run("Running", [success_rate()], {"metricResults": [
        {"name": "success-rate", "phase": "Failed", "dryRun": True, "failed": 1, "count": 1,
         "measurements": [measured("Failed", ts(seconds=5), "[0.5]", "success-rate: 0.5 does not satisfy …")]},
    ], "dryRunSummary": {"count": 1, "failed": 1}}, terminate=True)
    output = text(run)
    assert "Status:          ◌ Running (terminating)\n" in output
    assert "Dry-Run Summary: 1 metric: ✖ 1\n" in output
    assert "  Status:        ✖ Failed (dry run)\n" in output


def test_a_message_of_several_lines_continues_aligned_and_table_cells_stay_on_one_line() -> None:
    run = make_run("Error", [success_rate()], {
        "message": "Unable to resolve metric arguments:\nargs.service-name was not resolved",
        "metricResults": [{"name": "success-rate", "phase": "Error", "error": 1, "measurements": [
            measured("Error", ts(seconds=5), None, "web returned 500:\n  upstream connect error")]}],
    })
    output = text(run)
    assert ("Message:         Unable to resolve metric arguments:\n"
            "                 args.service-name was not resolved\n") in output
    assert output.endswith("  1  5s ago   ⚠ Error         web returned 500: upstream connect error\n")


def test_colour_codes_do_not_shift_the_columns() -> None:
    run = make_run("Failed", [success_rate()], {"runSummary": {"count": 1, "failed": 1}, "metricResults": [
        {"name": "success-rate", "phase": "Failed", "failed": 1, "count": 1,
         "measurements": [measured("Failed", ts(seconds=5), "[0.5]", "success-rate: 0.5 does not satisfy x")]}]})
    coloured = text(run, color=True)
    assert "\x1b[31m✖\x1b[0m" in coloured
    assert re.sub(r"\x1b\[\d+m", "", coloured) == text(run)


# -- against the runner's own output --------------------------------------------------------------------------


class ScriptedPrometheus:
    """Answers like the Prometheus provider: a vector, and the query it sent."""

    name = "prometheus"

    def __init__(self, values: list[float]) -> None:
        self.values = values

    async def run(self, context: MeasurementContext) -> ProviderResult:
        query = str(context.metric["provider"]["prometheus"]["query"])
        return ProviderResult(value=[self.values[context.measurement_index]],
                              metadata={"ResolvedPrometheusQuery": query})

    async def resume(self, context: MeasurementContext, metadata: Mapping[str, str]) -> ProviderResult:
        return await self.run(context)

    async def terminate(self, context: MeasurementContext, metadata: Mapping[str, str]) -> None:
        return None

    async def garbage_collect(self, context: MeasurementContext, keep: int) -> None:
        return None


def test_a_status_written_by_the_runner_renders() -> None:
    provider = ScriptedPrometheus([0.99, 0.71])
    run = make_run(None, [success_rate(interval="30s", count=2)], {})
    clock = [NOW - timedelta(minutes=1)]

    def factory(metric: Mapping[str, Any], *, kube: Any) -> MetricProvider:
        return provider

    for _ in range(2):
        outcome = asyncio.run(reconcile_run(run, kube=None, now=lambda: clock[0], providers=factory))
        assert outcome.status_patch is not None
        run = {**run, "status": apply_merge_patch(run["status"], outcome.status_patch)}
        clock[0] += timedelta(seconds=30)
    output = text(run)
    assert "Status:          ✖ Failed\n" in output
    assert "Run Summary:     1 metric: ✖ 1\n" in output
    assert f"  Query:         {RESOLVED}\n" in output
    assert "  Measurements:  ✔ 1,✖ 1\n" in output
    assert "  1  60s ago  ✔ Successful  [0.99]\n" in output
    assert "  2  30s ago  ✖ Failed      [0.71]  success-rate: 0.71 does not satisfy result[0] >= 0.95\n" in output
