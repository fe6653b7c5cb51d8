"""Each analysis metric of an AnalysisRun as a chart: its measurements (value, verdict, time) against the limit its
success or failure condition sets. Pure: a run in, data and inline SVG out.

A condition is an expression (``result[0] >= 0.95``); where it compares the result with a number, that number is
the limit drawn as a line. Other conditions (several clauses, functions) have no single limit: their points are
still drawn, coloured by the verdict the analysis controller recorded, and the condition is shown as text.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING, Any, Final

from kube.json_data import as_json_object

if TYPE_CHECKING:
    from kube.json_data import JsonObject

WIDTH: Final = 360
HEIGHT: Final = 140
MARGIN: Final = 28
# `result`, `result[0]`, `result.rate`, `asFloat(result)` compared with a number, either way round.
_RESULT: Final = r"(?:asFloat\()?result(?:\[\d+\]|\.\w+)*\)?"
_NUMBER: Final = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_OPERATOR: Final = r"<=|>=|==|!=|<|>"
_RESULT_FIRST: Final = re.compile(rf"^\s*{_RESULT}\s*({_OPERATOR})\s*({_NUMBER})\s*$")
_NUMBER_FIRST: Final = re.compile(rf"^\s*({_NUMBER})\s*({_OPERATOR})\s*{_RESULT}\s*$")
_MIRRORED: Final = {"<": ">", ">": "<", "<=": ">=", ">=": "<=", "==": "==", "!=": "!="}


@dataclass(frozen=True)
class Limit:
    """``result <operator> value``: the comparison a condition makes, with the result on the left."""

    operator: str
    value: float


@dataclass(frozen=True)
class Point:
    """One measurement: its value as a number (None when it has none: an error, a non-numeric result)."""

    index: int
    value: float | None
    raw: str
    phase: str
    started_at: str


@dataclass(frozen=True)
class MetricChart:
    """What one metric's chart shows."""

    name: str
    phase: str
    success_condition: str
    failure_condition: str
    limit: Limit | None
    limit_kind: str  # "success" or "failure": which condition the limit line is from
    points: tuple[Point, ...]


def condition_limit(condition: str) -> Limit | None:
    """The comparison of a one-clause condition, result on the left; None for any other condition."""
    match = _RESULT_FIRST.match(condition or "")
    if match:
        return Limit(match.group(1), float(match.group(2)))
    match = _NUMBER_FIRST.match(condition or "")
    if match:
        return Limit(_MIRRORED[match.group(2)], float(match.group(1)))
    return None


def numeric_value(raw: Any) -> float | None:
    """A measurement's value as one number: a number, or the first of a list (a Prometheus vector); else None."""
    if raw is None or raw == "":
        return None
    value: Any = raw
    if isinstance(raw, str):
        try:
            value = json.loads(raw)
        except ValueError:
            return None
    while isinstance(value, list) and value:
        value = value[0]
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def metric_charts(run: JsonObject) -> list[MetricChart]:
    """One chart per metric the run's spec names, with the measurements its status holds, in spec order."""
    spec, status = as_json_object(run.get("spec")), as_json_object(run.get("status"))
    results = {str(as_json_object(r).get("name", "")): as_json_object(r) for r in status.get("metricResults") or []}
    charts = []
    for metric in spec.get("metrics") or []:
        metric = as_json_object(metric)
        name = str(metric.get("name", ""))
        result = results.get(name, {})
        success, failure = str(metric.get("successCondition") or ""), str(metric.get("failureCondition") or "")
        limit, kind = condition_limit(success), "success"
        if limit is None:
            limit, kind = condition_limit(failure), "failure"
        points = tuple(
            Point(index, numeric_value(m.get("value")), str(m.get("value") or ""), str(m.get("phase") or ""),
                  str(m.get("startedAt") or ""))
            for index, m in enumerate(as_json_object(item) for item in result.get("measurements") or [])
        )
        charts.append(MetricChart(name, str(result.get("phase") or "Pending"), success, failure, limit,
                                  kind if limit else "", points))
    return charts


def _scale(values: list[float]) -> tuple[float, float]:
    low, high = min(values), max(values)
    if high == low:
        pad = abs(high) * 0.1 or 1.0
        return low - pad, high + pad
    pad = (high - low) * 0.1
    return low - pad, high + pad


def chart_svg(chart: MetricChart) -> str:
    """The chart as inline SVG: the limit as a dashed line, one circle per measurement coloured by its verdict
    (``data-phase``), its value and verdict in the circle's tooltip."""
    numbers = [p.value for p in chart.points if p.value is not None]
    if chart.limit is not None:
        numbers.append(chart.limit.value)
    low, high = _scale(numbers) if numbers else (0.0, 1.0)
    plot_w, plot_h = WIDTH - 2 * MARGIN, HEIGHT - 2 * MARGIN
    count = max(len(chart.points), 2)

    def x(index: int) -> float:
        return MARGIN + plot_w * index / (count - 1)

    def y(value: float) -> float:
        return MARGIN + plot_h * (1 - (value - low) / (high - low))

    parts = [
        f'<svg class="metric-chart" data-metric="{escape(chart.name)}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="metric {escape(chart.name)}">',
        f'<rect x="{MARGIN}" y="{MARGIN}" width="{plot_w}" height="{plot_h}" class="plot"/>',
        f'<text x="2" y="{MARGIN + 4}" class="axis">{high:.3g}</text>',
        f'<text x="2" y="{HEIGHT - MARGIN}" class="axis">{low:.3g}</text>',
    ]
    if chart.limit is not None:
        ly = y(chart.limit.value)
        label = f"{chart.limit_kind}: result {chart.limit.operator} {chart.limit.value:g}"
        parts.append(f'<line class="limit" data-limit="{chart.limit.value:g}" x1="{MARGIN}" y1="{ly:.1f}" '
                     f'x2="{WIDTH - MARGIN}" y2="{ly:.1f}"><title>{escape(label)}</title></line>')
        parts.append(f'<text x="{MARGIN + 2}" y="{ly - 3:.1f}" class="limit-label">{escape(label)}</text>')
    previous: tuple[float, float] | None = None
    for point in chart.points:
        if point.value is None:
            cx, cy = x(point.index), HEIGHT - MARGIN / 2
        else:
            cx, cy = x(point.index), y(point.value)
            if previous is not None:
                parts.append(f'<line class="trend" x1="{previous[0]:.1f}" y1="{previous[1]:.1f}" x2="{cx:.1f}" '
                             f'y2="{cy:.1f}"/>')
            previous = (cx, cy)
        tooltip = f"#{point.index + 1} {point.started_at}: value {point.raw or '(none)'} → {point.phase}"
        parts.append(f'<circle class="point {escape(point.phase.lower())}" data-phase="{escape(point.phase)}" '
                     f'data-value="{escape(point.raw)}" cx="{cx:.1f}" cy="{cy:.1f}" r="5">'
                     f"<title>{escape(tooltip)}</title></circle>")
    parts.append("</svg>")
    return "".join(parts)
