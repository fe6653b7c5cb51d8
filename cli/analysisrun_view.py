"""The text of `get analysisrun`: what the run measured, how each measurement came out, and why the run ended.

Pure: an AnalysisRun (plain data, as read from the API) and the time it is now go in; lines come out. The header
and icons are those of `get rollout` (Argo has no `get analysisrun`; its dashboard shows the same facts), then one
block per metric — phase, provider, resolved query, conditions, count and limits — with its measurements as a
table. Values are shown exactly as the runner stored them (``[0.99]``), because that is what the conditions were
evaluated against; the questions people ask of a failed analysis are "what was measured, against what condition,
with which query" (Argo #2741, #1591), and this page answers them without reading YAML.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from analysis.arguments import ArgumentResolutionError, resolve_arguments
from analysis.runner.args_io import values_without_secrets
from analysis.runner.rules import MetricRules, MetricRulesError
from cli.tree import (
    COLORS,
    ICON_PROGRESSING,
    Cell,
    align,
    analysis_icon,
    analysis_run_phase,
    count_cells,
    header_line,
)
from kube.ages import human_duration
from kube.json_data import as_int, as_json_object
from kube.timestamps import parse_time

if TYPE_CHECKING:
    from kube.json_data import JsonObject

RESOLVED_QUERY: Final = "ResolvedPrometheusQuery"
COMPLETED_PHASES: Final = frozenset({"Successful", "Failed", "Error", "Inconclusive"})
METRIC_INDENT: Final = "  "


def _one_line(text: Any) -> str:
    """Table cells stay on one row: a provider's multi-line error is joined up rather than breaking the table."""
    return " ".join(part.strip() for part in str(text).splitlines() if part.strip())


def _status(phase: str, color: bool, suffix: str = "") -> str:
    return Cell.of((analysis_icon(phase), _icon_color(phase)), f" {phase}{suffix}").render(color)


def _icon_color(phase: str) -> int | None:
    return COLORS.get(analysis_icon(phase))


def _when(value: Any, now: datetime) -> str:
    """``2024-05-10T11:55:00Z (5m ago)``: the timestamp for the record, the age for a person."""
    moment = parse_time(value)
    if moment is None:
        return ""
    return f"{value} ({human_duration((now - moment).total_seconds())} ago)"


def _ago(value: Any, now: datetime) -> str:
    moment = parse_time(value)
    return f"{human_duration((now - moment).total_seconds())} ago" if moment else ""


def is_completed(run: JsonObject) -> bool:
    """Whether the run has reached a final phase (what ends `get analysisrun --watch`)."""
    return analysis_run_phase(run) in COMPLETED_PHASES


# -- the header ---------------------------------------------------------------------------------------------


def _summary_text(summary: Mapping[str, Any], color: bool) -> str:
    """``2 metrics: ✔ 1,✖ 1`` — completed metrics by phase, and ``◌ 1`` for those still running or pending."""
    total = as_int(summary.get("count"))
    counts = {key: as_int(summary.get(key)) for key in ("successful", "failed", "inconclusive", "error")}
    cells = count_cells(counts)
    open_metrics = total - sum(counts.values())
    if open_metrics > 0:
        cells.append(Cell.of((ICON_PROGRESSING, _icon_color("Running")), f" {open_metrics}"))
    noun = "metric" if total == 1 else "metrics"
    return f"{total} {noun}" + (": " + ",".join(cell.render(color) for cell in cells) if cells else "")


def _argument_text(argument: Mapping[str, Any]) -> str:
    """``name=value``; for a value read elsewhere, where from (never a secret's value: the run does not hold it)."""
    name = argument.get("name", "")
    if argument.get("value") is not None:
        return f"{name}={argument['value']}"
    value_from = as_json_object(argument.get("valueFrom"))
    secret = as_json_object(value_from.get("secretKeyRef"))
    if secret:
        return f"{name}=(secret {secret.get('name', '')}/{secret.get('key', '')})"
    field = as_json_object(value_from.get("fieldRef"))
    if field:
        return f"{name}=(fieldRef {field.get('fieldPath', '')})"
    if value_from.get("podTemplateHashValue"):
        return f"{name}=(podTemplateHashValue {value_from['podTemplateHashValue']})"
    return f"{name}=(no value)"


def render_header(run: JsonObject, now: datetime, *, color: bool = False) -> list[str]:
    meta, spec, status = (as_json_object(run.get(section)) for section in ("metadata", "spec", "status"))
    phase = analysis_run_phase(run)
    terminating = " (terminating)" if spec.get("terminate") and phase not in COMPLETED_PHASES else ""
    lines = [
        header_line("Name:", meta.get("name", "")),
        header_line("Namespace:", meta.get("namespace", "")),
        header_line("Status:", _status(phase, color, terminating)),
    ]
    if status.get("message"):
        lines.append(header_line("Message:", status["message"]))
    if isinstance(status.get("runSummary"), dict):
        lines.append(header_line("Run Summary:", _summary_text(status["runSummary"], color)))
    if isinstance(status.get("dryRunSummary"), dict):
        lines.append(header_line("Dry-Run Summary:", _summary_text(status["dryRunSummary"], color)))
    if status.get("startedAt"):
        lines.append(header_line("Started:", _when(status["startedAt"], now)))
    if status.get("completedAt"):
        lines.append(header_line("Completed:", _when(status["completedAt"], now)))
    arguments = [as_json_object(argument) for argument in spec.get("args") or []]
    for index, argument in enumerate(arguments):
        lines.append(header_line("Args:" if index == 0 else "", _argument_text(argument)))
    return lines


# -- one metric ---------------------------------------------------------------------------------------------


def _displayed_metric(metric: JsonObject, arguments: Sequence[Mapping[str, Any]]) -> JsonObject:
    """The metric with its ``{{args.NAME}}`` filled in, as the runner measures it — except that secrets read as
    ``*****`` (their values are not in the run, and must not be shown anyway). As written when some argument has
    no value here, so that the page still shows what the template said."""
    try:
        return resolve_arguments(metric, values_without_secrets(arguments))
    except ArgumentResolutionError:
        return metric


def _provider_name(metric: Mapping[str, Any]) -> str:
    provider = as_json_object(metric.get("provider"))
    names = [f"plugin/{name}" for name in as_json_object(provider.get("plugin"))]
    names += [name for name in provider if name != "plugin"]
    return ", ".join(names) or "(none)"


def _count_text(metric: Mapping[str, Any], result: Mapping[str, Any]) -> str:
    """``2/3, every 30s``: measurements counted so far (errors are not) against the target."""
    try:
        rules = MetricRules.of(metric)
    except MetricRulesError:
        return f"{as_int(result.get('count'))}/{metric.get('count', '?')}"
    counted = as_int(result.get("count"))
    details = []
    if rules.interval is not None:
        details.append(f"every {metric.get('interval')}")
    if rules.initial_delay is not None:
        details.append(f"first after {metric.get('initialDelay')}")
    if rules.count is None:
        text = f"{counted} (until terminated" + "".join(f", {detail}" for detail in details) + ")"
        return text
    return f"{counted}/{rules.count}" + (f", {', '.join(details)}" if details else "")


def _limits_text(metric: Mapping[str, Any]) -> str:
    try:
        rules = MetricRules.of(metric)
    except MetricRulesError as error:
        return str(error)
    parts = [
        f"failureLimit {rules.failure_limit}" + ("" if rules.failure_limit_applies else " (off)"),
        f"inconclusiveLimit {rules.inconclusive_limit}",
        f"consecutiveErrorLimit {rules.consecutive_error_limit}",
    ]
    if rules.consecutive_success_limit_applies:
        parts.append(f"consecutiveSuccessLimit {rules.consecutive_success_limit}")
    return ", ".join(parts)


def _resolved_query(metric: Mapping[str, Any], result: Mapping[str, Any]) -> str | None:
    """The query as sent (Argo #1591): the runner keeps it in the result's metadata and in each measurement's;
    before the first measurement, the spec's query with the arguments filled in."""
    metadata = as_json_object(result.get("metadata"))
    if metadata.get(RESOLVED_QUERY):
        return str(metadata[RESOLVED_QUERY])
    for measurement in reversed(result.get("measurements") or []):
        found = as_json_object(as_json_object(measurement).get("metadata")).get(RESOLVED_QUERY)
        if found:
            return str(found)
    query = as_json_object(as_json_object(metric.get("provider")).get("prometheus")).get("query")
    return str(query) if query else None


def _in_flight(result: Mapping[str, Any]) -> bool:
    """Whether the latest measurement is still being taken (a Job running): only the latest one ever is."""
    measurements = result.get("measurements") or []
    return bool(measurements) and as_json_object(measurements[-1]).get("phase") in ("Running", "Pending")


def _first_ordinal(result: Mapping[str, Any], kept: int) -> int:
    """The ordinal of the first measurement still listed. measurementRetention trims old ones while the counters
    go on, so numbering from the counters (plus one in flight) tells the reader how many came before."""
    taken = as_int(result.get("count")) + as_int(result.get("error")) + (1 if _in_flight(result) else 0)
    return max(1, taken - kept + 1)


def _measurement_rows(result: Mapping[str, Any], now: datetime) -> list[list[Cell]]:
    measurements = [as_json_object(m) for m in result.get("measurements") or []]
    first = _first_ordinal(result, len(measurements))
    rows = [[Cell.of("#"), Cell.of("STARTED"), Cell.of("PHASE"), Cell.of("VALUE"), Cell.of("MESSAGE")]]
    for offset, measurement in enumerate(measurements):
        phase = str(measurement.get("phase") or "Pending")
        rows.append([
            Cell.of(str(first + offset)),
            Cell.of(_ago(measurement.get("startedAt"), now)),
            Cell.of((analysis_icon(phase), _icon_color(phase)), f" {phase}"),
            Cell.of(_one_line(measurement.get("value") or "")),
            Cell.of(_one_line(measurement.get("message") or "")),
        ])
    return rows


def render_metric(
    metric: JsonObject, result: JsonObject, arguments: Sequence[Mapping[str, Any]], now: datetime, *, color: bool
) -> list[str]:
    shown = _displayed_metric(metric, arguments)
    phase = str(result.get("phase") or "Pending")
    dry_run = " (dry run)" if result.get("dryRun") else ""

    def line(label: str, value: object) -> str:
        return header_line(METRIC_INDENT + label if label else "", value)

    lines = [
        header_line("Metric:", metric.get("name") or result.get("name", "")),
        line("Status:", _status(phase, color, dry_run)),
    ]
    if result.get("message"):
        lines.append(line("Message:", result["message"]))
    lines.append(line("Provider:", _provider_name(shown)))
    query = _resolved_query(shown, result)
    if query:
        lines.append(line("Query:", query))
    # What else the provider recorded (Prometheus warnings, the latest Job's name), one entry a line.
    recorded = as_json_object(result.get("metadata"))
    extra = sorted((key, value) for key, value in recorded.items() if key != RESOLVED_QUERY)
    for index, (key, value) in enumerate(extra):
        lines.append(line("Metadata:" if index == 0 else "", f"{key}={value}"))
    if shown.get("successCondition"):
        lines.append(line("Succeeds when:", shown["successCondition"]))
    if shown.get("failureCondition"):
        lines.append(line("Fails when:", shown["failureCondition"]))
    if metric:
        lines.append(line("Count:", _count_text(shown, result)))
        lines.append(line("Limits:", _limits_text(shown)))
    counts = {key: as_int(result.get(key)) for key in ("successful", "failed", "inconclusive", "error")}
    cells = count_cells(counts)
    measured = ",".join(cell.render(color) for cell in cells) if cells else "none completed"
    if _in_flight(result):
        measured += ", 1 in progress"
    if as_int(result.get("consecutiveError")):
        measured += f" ({as_int(result['consecutiveError'])} consecutive errors)"
    lines.append(line("Measurements:", measured))
    rows = _measurement_rows(result, now)
    if len(rows) > 1:
        lines.append("")
        lines.extend(f"{METRIC_INDENT}{text}" for text in align(rows, color))
    return lines


def render_analysis_run(run: JsonObject, now: datetime, *, color: bool = False) -> list[str]:
    """Every line `get analysisrun` prints: the header, then a block per metric in the order of the spec."""
    spec, status = as_json_object(run.get("spec")), as_json_object(run.get("status"))
    arguments = [as_json_object(argument) for argument in spec.get("args") or []]
    results = {str(as_json_object(r).get("name", "")): as_json_object(r) for r in status.get("metricResults") or []}
    metrics = [as_json_object(metric) for metric in spec.get("metrics") or []]
    names = [str(metric.get("name", "")) for metric in metrics]
    lines = render_header(run, now, color=color)
    for metric in metrics:
        lines.append("")
        lines.extend(render_metric(metric, results.get(str(metric.get("name", "")), {}), arguments, now,
                                   color=color))
    # A result whose metric is no longer in the spec (edited by hand) is still evidence: show it after the rest.
    for name, result in results.items():
        if name not in names:
            lines.append("")
            lines.extend(render_metric({}, result, arguments, now, color=color))
    return lines
