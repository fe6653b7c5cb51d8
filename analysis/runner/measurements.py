"""One metric's result: recording a measurement into it, and judging the metric from its counters.

Pure: a run's status (plain data, camelCase) in, a new status out. The counters follow Argo exactly —
``count`` counts Successful, Failed and Inconclusive measurements but not Errors; an Error raises
``consecutiveError`` and every other completed measurement resets it; a Successful one raises
``consecutiveSuccess`` and every other completed one resets it — and they keep counting after old measurements
are trimmed, so a metric is judged on all its measurements, not only the ones still listed.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from analysis.models import AnalysisPhase
from analysis.runner.rules import MetricRules
from kube.json_data import JsonObject

FAILING_PHASES = frozenset({AnalysisPhase.FAILED, AnalysisPhase.ERROR, AnalysisPhase.INCONCLUSIVE})
"""Metric phases that end a run early (unless the metric is a dry run)."""
MAX_MEASUREMENT_TEXT = 2048
"""The longest value, message or metadata value a measurement records. A run keeps 10 measurements per metric by
default, and the whole AnalysisRun must stay far below the API server's object size limit (about 1.5 MiB in
etcd): a query returning thousands of series must not make the run unwritable. The conditions judge the whole
value; only what is written is cut."""
_TRUNCATED = " … (truncated: {} characters)"


def bounded_text(text: str, limit: int = MAX_MEASUREMENT_TEXT) -> str:
    """``text`` when it fits in ``limit`` characters; else its start and a marker that gives the full length, in
    exactly ``limit`` characters."""
    if len(text) <= limit:
        return text
    marker = _TRUNCATED.format(len(text))
    return text[: max(limit - len(marker), 0)] + marker


def bounded_measurement(measurement: Mapping[str, Any]) -> JsonObject:
    """The measurement with its value, message and metadata values cut to :data:`MAX_MEASUREMENT_TEXT`."""
    bounded: JsonObject = dict(measurement)
    for field in ("value", "message"):
        if isinstance(bounded.get(field), str):
            bounded[field] = bounded_text(bounded[field])
    if isinstance(bounded.get("metadata"), Mapping):
        bounded["metadata"] = {
            str(key): bounded_text(value) if isinstance(value, str) else value
            for key, value in bounded["metadata"].items()
        }
    return bounded


def phase_of(value: Any) -> AnalysisPhase | None:
    """The phase a status field holds, or None for "" (Go's unset phase), a missing or an unknown value."""
    try:
        return AnalysisPhase(value)
    except ValueError:
        return None


def is_completed(value: Any) -> bool:
    phase = phase_of(value)
    return phase is not None and phase.completed


@dataclass(frozen=True)
class MetricAssessment:
    """A metric's phase and, when a limit decided it, why (``failed (2) > failureLimit (1)``)."""

    phase: AnalysisPhase
    reason: str | None = None


def assess_metric(rules: MetricRules, result: Mapping[str, Any], *, terminating: bool) -> MetricAssessment:
    """The phase of one metric from its result, by Argo's rules.

    A completed metric keeps its phase. Otherwise: Pending before any measurement (Successful when the run is
    terminating); Running while the latest measurement is in flight; then the limits, where a later rule
    overrides an earlier one so that Error beats Inconclusive beats Failed — Failed when failed > failureLimit
    (unless failureLimit is -1), Inconclusive when inconclusive > inconclusiveLimit, Error when consecutiveError
    > consecutiveErrorLimit; then Successful once consecutiveSuccessLimit consecutive successes are reached;
    then, once ``count`` is reached, Successful — or, when consecutiveSuccessLimit applies and was not reached,
    Inconclusive if failureLimit applies too and Failed if it does not; otherwise Successful when terminating
    and Running when not.
    """
    current = phase_of(result.get("phase"))
    if current is not None and current.completed:
        return MetricAssessment(current, None)
    measurements = result.get("measurements") or []
    if not measurements:
        return MetricAssessment(AnalysisPhase.SUCCESSFUL if terminating else AnalysisPhase.PENDING)
    if not is_completed(measurements[-1].get("phase")):
        return MetricAssessment(AnalysisPhase.RUNNING)

    failed, inconclusive = counter(result, "failed"), counter(result, "inconclusive")
    consecutive_error = counter(result, "consecutiveError")
    verdict: MetricAssessment | None = None
    if rules.failure_limit_applies and failed > rules.failure_limit:
        verdict = MetricAssessment(AnalysisPhase.FAILED, f"failed ({failed}) > failureLimit ({rules.failure_limit})")
    if inconclusive > rules.inconclusive_limit:
        verdict = MetricAssessment(
            AnalysisPhase.INCONCLUSIVE,
            f"inconclusive ({inconclusive}) > inconclusiveLimit ({rules.inconclusive_limit})",
        )
    if consecutive_error > rules.consecutive_error_limit:
        verdict = MetricAssessment(
            AnalysisPhase.ERROR,
            f"consecutiveErrors ({consecutive_error}) > consecutiveErrorLimit ({rules.consecutive_error_limit})",
        )
    if verdict is not None:
        return verdict

    consecutive_success = counter(result, "consecutiveSuccess")
    if rules.consecutive_success_limit_applies and consecutive_success >= rules.consecutive_success_limit:
        return MetricAssessment(AnalysisPhase.SUCCESSFUL)

    count = counter(result, "count")
    if rules.count is not None and count >= rules.count:
        if not rules.consecutive_success_limit_applies:
            return MetricAssessment(AnalysisPhase.SUCCESSFUL)
        streak = (
            f"consecutiveSuccess ({consecutive_success}) < consecutiveSuccessLimit "
            f"({rules.consecutive_success_limit}) when count ({rules.count}) was reached"
        )
        if rules.failure_limit_applies:
            # Neither limit decided it: Argo leaves the call to a person.
            return MetricAssessment(
                AnalysisPhase.INCONCLUSIVE, f"{streak}, and failed ({failed}) <= failureLimit ({rules.failure_limit})"
            )
        return MetricAssessment(AnalysisPhase.FAILED, streak)
    if terminating:
        return MetricAssessment(AnalysisPhase.SUCCESSFUL)
    return MetricAssessment(AnalysisPhase.RUNNING)


def metric_message(name: str, assessment: MetricAssessment, result: Mapping[str, Any]) -> str | None:
    """What a metric result's ``message`` says: why a limit decided it (``Metric "x" assessed Failed due to
    failed (1) > failureLimit (0)``), otherwise the latest measurement's message."""
    if assessment.reason is not None:
        return f'Metric "{name}" assessed {assessment.phase} due to {assessment.reason}'
    measurements = result.get("measurements") or []
    message = measurements[-1].get("message") if measurements else None
    return message or None


def deciding_measurement_message(result: Mapping[str, Any]) -> str | None:
    """The message of the measurement that best explains a metric's phase: the latest one in that phase, else the
    latest unsuccessful one, else the latest one — e.g. ``success-rate: 0.71 does not satisfy result[0] >= 0.95``."""
    measurements = [m for m in result.get("measurements") or [] if m.get("message")]
    phase = result.get("phase")
    for choose in (
        lambda m: m.get("phase") == phase,
        lambda m: m.get("phase") != AnalysisPhase.SUCCESSFUL,
        lambda m: True,
    ):
        chosen = [m for m in measurements if choose(m)]
        if chosen:
            return str(chosen[-1]["message"])
    return None


def record_measurement(
    status: Mapping[str, Any],
    metric: Mapping[str, Any],
    measurement: Mapping[str, Any],
    *,
    dry_run: bool,
    retention: int,
) -> JsonObject:
    """A copy of a run's status with one measurement of ``metric`` recorded.

    The measurement (``{phase, message, value, startedAt, finishedAt, resumeAt, metadata}``) is appended to the
    metric's result — created Running on its first measurement — or, when the result's latest measurement is
    still in flight, replaces it: a metric has at most one measurement in flight, and a resumed or terminated one
    continues it. A completed measurement updates the counters; then the list is trimmed to the newest
    ``retention`` measurements, the measurement's ``metadata`` (such as ``ResolvedPrometheusQuery``) becomes the
    result's, and the metric's phase and message are assessed (as for a run that is not terminating;
    :func:`analysis.runner.lifecycle.decide_run` applies termination). The value, message and metadata values
    are recorded cut to :data:`MAX_MEASUREMENT_TEXT` characters (:func:`bounded_text`).
    """
    rules = MetricRules.of(metric)
    new_status: JsonObject = copy.deepcopy(dict(status))
    results: list[JsonObject] = new_status.setdefault("metricResults", [])
    result = next((item for item in results if item.get("name") == rules.name), None)
    if result is None:
        result = {"name": rules.name, "phase": AnalysisPhase.RUNNING.value}
        results.append(result)
    if dry_run:
        result["dryRun"] = True

    recorded = {
        key: copy.deepcopy(value) for key, value in bounded_measurement(measurement).items()
        if value not in (None, "", {})
    }
    measurements: list[JsonObject] = result.setdefault("measurements", [])
    if measurements and not is_finished(measurements[-1]):
        measurements[-1] = recorded
    else:
        measurements.append(recorded)
    _count(result, phase_of(recorded.get("phase")))
    # The in-flight measurement is always the newest, so it survives any limit.
    del measurements[: max(0, len(measurements) - max(retention, 1))]

    metadata = recorded.get("metadata")
    if isinstance(metadata, Mapping) and metadata:
        # The latest word wins whole: a warning of an old query must not linger beside a newer query.
        result["metadata"] = dict(metadata)

    if is_completed(result.get("phase")):
        # A completed metric's verdict and its explanation are final.
        return new_status
    assessment = assess_metric(rules, result, terminating=False)
    result["phase"] = assessment.phase.value
    message = metric_message(rules.name, assessment, result)
    if message:
        result["message"] = message
    else:
        result.pop("message", None)
    return new_status


def is_finished(measurement: Mapping[str, Any]) -> bool:
    """Whether a measurement is over (a phase other than Running/Pending, or a finishedAt)."""
    return is_completed(measurement.get("phase")) or bool(measurement.get("finishedAt"))


def _count(result: JsonObject, phase: AnalysisPhase | None) -> None:
    for field in ("count", "successful", "failed", "inconclusive", "error", "consecutiveError", "consecutiveSuccess"):
        result[field] = counter(result, field)
    if phase is None or not phase.completed:
        return
    if phase is AnalysisPhase.ERROR:
        result["error"] += 1
        result["consecutiveError"] += 1
        # An error breaks a streak of successes as much as a failure does.
        result["consecutiveSuccess"] = 0
        return
    result["count"] += 1
    result["consecutiveError"] = 0
    if phase is AnalysisPhase.SUCCESSFUL:
        result["successful"] += 1
        result["consecutiveSuccess"] += 1
    else:
        result["failed" if phase is AnalysisPhase.FAILED else "inconclusive"] += 1
        result["consecutiveSuccess"] = 0


def counter(result: Mapping[str, Any], field: str) -> int:
    """A metric result's counter, 0 when absent."""
    value = result.get(field)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
