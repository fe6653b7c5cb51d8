"""An analysis metric as a chart (dashboard/metric_charts.py): each measurement a point coloured by the verdict the
analysis controller recorded, against the limit its condition sets (Argo's analysis docs: a metric's
successCondition / failureCondition over ``result``)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from dashboard.metric_charts import Limit, chart_svg, condition_limit, metric_charts, numeric_value


@pytest.mark.parametrize(
    ("condition", "limit"),
    [
        ("result >= 0.95", Limit(">=", 0.95)),
        ("result[0] < 0.5", Limit("<", 0.5)),
        ("asFloat(result) <= 10", Limit("<=", 10.0)),
        ("result.rate > 1e-3", Limit(">", 0.001)),
        ("0.5 > result", Limit("<", 0.5)),  # the result is put on the left: 0.5 > r is r < 0.5
        ("100 <= result[0]", Limit(">=", 100.0)),
        ("result < 0.5 && result > 0", None),  # two clauses: no single limit
        ("len(result) == 0", None),
        ("", None),
    ],
)
def test_a_one_clause_condition_gives_the_limit_it_compares_with(condition: str, limit: Limit | None) -> None:
    assert condition_limit(condition) == limit


@pytest.mark.parametrize(
    ("raw", "value"),
    [("0.9", 0.9), ("[0.93]", 0.93), ("[[4]]", 4.0), (7, 7.0), ("abc", None), ("", None), (None, None),
     ("true", None), ("[]", None), ('{"a": 1}', None)],
)
def test_a_measurement_value_is_read_as_one_number(raw: Any, value: float | None) -> None:
    assert numeric_value(raw) == value


def run_with(measurements: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "metadata": {"name": "reviews-abc-2-1"},
        "spec": {"metrics": [
            {"name": "error-rate", "successCondition": "result < 0.5", "provider": {"web": {"url": "http://x"}}},
            {"name": "latency", "provider": {"web": {"url": "http://y"}}},
        ]},
        "status": {"phase": "Failed", "metricResults": [
            {"name": "error-rate", "phase": "Failed", "measurements": measurements},
        ]},
    }


def _circles(svg: str) -> list[dict[str, str]]:
    return [dict(re.findall(r'([\w-]+)="([^"]*)"', match)) for match in re.findall(r"<circle ([^>]*)>", svg)]


def test_each_metric_of_the_spec_gets_a_chart_with_its_measurements_in_order() -> None:
    charts = metric_charts(run_with([
        {"phase": "Successful", "value": "0.2", "startedAt": "2026-01-01T00:00:00Z"},
        {"phase": "Failed", "value": "0.9", "startedAt": "2026-01-01T00:00:10Z"},
    ]))
    assert [c.name for c in charts] == ["error-rate", "latency"]
    assert [(p.value, p.phase) for p in charts[0].points] == [(0.2, "Successful"), (0.9, "Failed")]
    assert charts[0].limit == Limit("<", 0.5) and charts[0].limit_kind == "success"
    assert charts[1].points == () and charts[1].phase == "Pending"  # not measured yet


def test_the_failing_point_is_drawn_beyond_the_limit_line_and_marked_failed() -> None:
    chart = metric_charts(run_with([
        {"phase": "Successful", "value": "0.2"},
        {"phase": "Failed", "value": "0.9"},
    ]))[0]
    svg = chart_svg(chart)
    limit_line = re.search(r'class="limit" data-limit="0.5" x1="[\d.]+" y1="([\d.]+)"', svg)
    assert limit_line is not None
    limit_y = float(limit_line.group(1))
    good, bad = _circles(svg)
    assert (good["data-phase"], bad["data-phase"]) == ("Successful", "Failed")
    assert "failed" in bad["class"].split()
    # SVG's y grows downwards: 0.9 is above the 0.5 line, 0.2 below it.
    assert float(bad["cy"]) < limit_y < float(good["cy"])
    assert bad["data-value"] == "0.9"


def test_a_measurement_without_a_value_is_still_shown_with_its_verdict() -> None:
    chart = metric_charts(run_with([{"phase": "Error", "message": "connection refused"}]))[0]
    (point,) = _circles(chart_svg(chart))
    assert point["data-phase"] == "Error" and point["data-value"] == ""


def test_names_and_values_are_escaped_in_the_svg() -> None:
    run = run_with([{"phase": "Failed", "value": '"><script>x</script>'}])
    run["spec"]["metrics"][0]["name"] = "<b>m</b>"
    run["status"]["metricResults"][0]["name"] = "<b>m</b>"
    svg = chart_svg(metric_charts(run)[0])
    assert "<script>" not in svg and "<b>" not in svg
