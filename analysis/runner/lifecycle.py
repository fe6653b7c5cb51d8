"""One pass over an AnalysisRun, decided: which measurements to take, resume or terminate now, the run's new
status by Argo's rules, the Events to emit, and when to look again.

Pure: the run (plain data) and ``now`` in, a :class:`RunDecision` out. Time waits — an initial delay, an interval,
an Error retry, a provider's ``resumeAt`` — become ``requeue_after``, never sleeps. ``status_patch`` is the merge
patch from the observed status to the new one, None when nothing changed, so a resync of a run with nothing due
writes nothing.

The rules, as Argo applies them:

* A metric's first measurement is taken ``initialDelay`` after the run's ``startedAt``; the next one ``interval``
  after the previous one's ``finishedAt`` (10 s after an Error, whatever the interval), until ``count``
  measurements (errors not counted) are in — one when neither count nor interval is set, without end when only
  the interval is.
* A measurement in flight (a Job, say) is resumed once its ``resumeAt`` has passed — or at once when the caller
  says that what it waits on has changed (``resume_now``: the controller saw its Job finish).
* The run is terminating when ``spec.terminate`` is set or a metric that is not a dry run is Failed, Error or
  Inconclusive: no new measurement starts, measurements in flight are terminated, and each metric still open
  completes Successful unless its limits say otherwise.
* The run is Running while any metric is incomplete; then it takes the worst phase of its metrics that are not
  dry runs, in the order Successful < Running < Pending < Inconclusive < Error < Failed (Successful when there is
  none). A terminated run ends once nothing is in flight: Successful unless a metric failed, "Run Terminated".
"""

from __future__ import annotations

import copy
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from analysis.arguments import ArgumentResolutionError, resolve_arguments
from analysis.kinds import ANALYSIS_RUN
from analysis.models import AnalysisPhase
from analysis.runner.args_io import unresolved_argument_problem, values_without_secrets
from analysis.runner.measurements import (
    FAILING_PHASES,
    MetricAssessment,
    assess_metric,
    counter,
    deciding_measurement_message,
    is_completed,
    is_finished,
    metric_message,
    phase_of,
)
from analysis.runner.rules import (
    ERROR_RETRY_SECONDS,
    MetricRules,
    MetricRulesError,
    is_dry_run,
    measurement_retention,
)
from kube.event_records import EventRecord, EventType
from kube.issues import summarize
from kube.json_data import JsonObject
from kube.merge_patch import merge_patch_between
from kube.timestamps import format_time, later, parse_time, seconds_until

Action = Literal["run", "resume", "terminate"]

RUN_TERMINATED = "Run Terminated"

_PHASE_ORDER = (
    AnalysisPhase.SUCCESSFUL,
    AnalysisPhase.RUNNING,
    AnalysisPhase.PENDING,
    AnalysisPhase.INCONCLUSIVE,
    AnalysisPhase.ERROR,
    AnalysisPhase.FAILED,
)
"""Best to worst, as Argo ranks them when a run takes the worst phase of its metrics."""


def worse(current: AnalysisPhase | None, candidate: AnalysisPhase) -> bool:
    """Whether ``candidate`` is strictly worse than ``current`` (anything is worse than nothing)."""
    return current is None or _PHASE_ORDER.index(candidate) > _PHASE_ORDER.index(current)


@dataclass(frozen=True)
class MetricTask:
    """One provider call to make in this pass."""

    action: Action
    metric: JsonObject
    """The metric as the run's spec writes it: arguments (secrets included) are substituted by the caller."""
    measurement: JsonObject | None
    """For ``resume`` and ``terminate``: the measurement in flight that the call continues."""
    measurement_index: int
    """How many measurements of this metric completed before this one (count + error): a stable name for what a
    provider creates per measurement, such as a Job, so that a pass repeated after a crash finds it again."""
    dry_run: bool
    retention: int

    @property
    def metric_name(self) -> str:
        return str(self.metric.get("name", ""))


@dataclass(frozen=True)
class RunDecision:
    """What one pass decided; see the module docstring for the rules."""

    status: JsonObject
    """The run's new status, before this pass's measurements are recorded."""
    status_patch: JsonObject | None = None
    tasks: tuple[MetricTask, ...] = ()
    requeue_after: float | None = None
    """Seconds until something is due (0 when the tasks are); None once the run is complete."""
    events: tuple[EventRecord, ...] = ()

    @property
    def completed(self) -> bool:
        return is_completed(self.status.get("phase"))


def decide_run(run: Mapping[str, Any], now: datetime, *, resume_now: Collection[str] = ()) -> RunDecision:
    """The decision for a run as observed at ``now``.

    ``resume_now`` names metrics whose measurement in flight is to be resumed in this pass even though its
    ``resumeAt`` is still ahead: a caller that watches what the measurement waits on knows it has finished, and
    ``resumeAt`` is only the fallback for when nothing says so.
    """
    status = _status_of(run)
    return _decide(run, status, status, now, resume_now=frozenset(resume_now))


def decide_after_measuring(run: Mapping[str, Any], measured_status: Mapping[str, Any], now: datetime) -> RunDecision:
    """The decision once this pass's measurements are recorded in ``measured_status``: phases reassessed, and the
    patch and Events relative to the status the run was observed with. Its tasks are for the next pass."""
    return _decide(run, measured_status, _status_of(run), now, resume_now=frozenset())


def decide_error(
    run: Mapping[str, Any], message: str, now: datetime, *, status: Mapping[str, Any] | None = None
) -> RunDecision:
    """The run ends in Error with ``message`` (a spec it cannot measure, an argument it cannot read)."""
    observed = _status_of(run)
    new_status = copy.deepcopy(dict(status if status is not None else observed))
    new_status["phase"] = AnalysisPhase.ERROR.value
    new_status["message"] = message
    new_status.setdefault("startedAt", format_time(now))
    new_status["completedAt"] = format_time(now)
    return _decision(observed, new_status, tasks=(), requeue_after=None, metrics=())


# --- the pass ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Metric:
    spec: JsonObject
    rules: MetricRules
    dry_run: bool
    retention: int

    @property
    def name(self) -> str:
        return self.rules.name


def _decide(
    run: Mapping[str, Any],
    status: Mapping[str, Any],
    observed: Mapping[str, Any],
    now: datetime,
    *,
    resume_now: frozenset[str],
) -> RunDecision:
    if is_completed(status.get("phase")):
        return _decision(observed, dict(status), tasks=(), requeue_after=None, metrics=())
    spec: Mapping[str, Any] = run.get("spec") or {}
    prepared = _prepare(run)
    if isinstance(prepared, str):
        return decide_error(run, prepared, now, status=status)
    metrics = prepared

    results: dict[str, Mapping[str, Any]] = {
        str(result.get("name")): result for result in status.get("metricResults") or [] if isinstance(result, Mapping)
    }
    terminate_requested = bool(spec.get("terminate"))
    terminating = terminate_requested or any(
        phase_of(results[m.name].get("phase")) in FAILING_PHASES for m in metrics if not m.dry_run and m.name in results
    )
    assessed = _assess(metrics, results, terminating=terminating)
    if not terminating and any(
        assessed[m.name].phase in FAILING_PHASES for m in metrics if not m.dry_run and m.name in assessed
    ):
        # A metric failed in this very pass: the run ends early now, not one pass later.
        terminating = True
        assessed = _assess(metrics, results, terminating=True)

    new_results = _updated_results(status, metrics, assessed)
    by_name = {str(result.get("name")): result for result in new_results}
    started_at = parse_time(status.get("startedAt")) or now
    tasks, wakes = _schedule(
        metrics, by_name, terminating=terminating, started_at=started_at, now=now, resume_now=resume_now
    )

    phase, message = _run_phase(metrics, by_name, terminating=terminating, terminate_requested=terminate_requested)
    new_status = _run_status(status, new_results, metrics, phase, message, now)
    if phase.completed:
        requeue_after: float | None = None
    elif tasks:
        requeue_after = 0.0
    elif wakes:
        requeue_after = seconds_until(min(wakes), now)
    else:
        requeue_after = None
    return _decision(observed, new_status, tasks=tuple(tasks), requeue_after=requeue_after, metrics=metrics)


def _run_status(
    status: Mapping[str, Any],
    results: list[JsonObject],
    metrics: Sequence[_Metric],
    phase: AnalysisPhase,
    message: str | None,
    now: datetime,
) -> JsonObject:
    """The status with the run's verdict: fields the runner does not own are kept as they are."""
    new_status = copy.deepcopy(dict(status))
    new_status["startedAt"] = status.get("startedAt") or format_time(now)
    if results or "metricResults" in status:
        new_status["metricResults"] = results
    new_status["phase"] = phase.value
    if phase.completed and message:
        new_status["message"] = message
    else:
        new_status.pop("message", None)
    if phase.completed:
        new_status["completedAt"] = status.get("completedAt") or format_time(now)
    by_name = {str(result.get("name")): result for result in results}
    new_status["runSummary"] = _summary([m for m in metrics if not m.dry_run], by_name)
    dry_runs = [m for m in metrics if m.dry_run]
    if dry_runs:
        new_status["dryRunSummary"] = _summary(dry_runs, by_name)
    return new_status


def _shaped_for_resolution(spec: object) -> bool:
    """Whether a run's spec is an object whose ``args`` and ``metrics`` are lists, each metric an object."""
    if not isinstance(spec, Mapping):
        return False
    arguments, metrics = spec.get("args") or [], spec.get("metrics") or []
    return (
        isinstance(arguments, list)
        and isinstance(metrics, list)
        and all(isinstance(metric, Mapping) for metric in metrics)
    )


def _prepare(run: Mapping[str, Any]) -> list[_Metric] | str:
    """The run's metrics with their rules, or why the run cannot be measured (its Error message)."""
    spec: Mapping[str, Any] = run.get("spec") or {}
    if not _shaped_for_resolution(spec):
        # Arguments cannot be substituted into what is not a list of metrics: say what the schema says.
        issues = ANALYSIS_RUN.check({key: value for key, value in run.items() if key != "status"})
        return f"Analysis spec invalid: {summarize(issues) if issues else 'spec: must be an object'}"
    arguments = [argument for argument in spec.get("args") or [] if isinstance(argument, Mapping)]
    problem = unresolved_argument_problem(arguments)
    if problem is not None:
        return f"Unable to resolve metric arguments: {problem}"
    values = values_without_secrets(arguments)
    resolved: list[JsonObject] = []
    for metric in spec.get("metrics") or []:
        try:
            resolved.append(resolve_arguments(metric, values))
        except ArgumentResolutionError as error:
            return f'Unable to resolve metric arguments: metric "{metric.get("name", "")}": {error}'
    # Checked with arguments substituted, as Argo checks the resolved metrics: `count: "{{args.count}}"` is only
    # a number (or not) now. The status is left out: it is ours, not the author's.
    manifest = {key: value for key, value in run.items() if key != "status"}
    issues = ANALYSIS_RUN.check({**manifest, "spec": {**spec, "metrics": resolved}})
    if issues:
        return f"Analysis spec invalid: {summarize(issues)}"
    metrics: list[_Metric] = []
    for original, metric in zip(spec.get("metrics") or [], resolved, strict=True):
        try:
            rules = MetricRules.of(metric)
        except MetricRulesError as error:
            return f"Analysis spec invalid: {error}"
        metrics.append(_Metric(original, rules, is_dry_run(spec, rules.name), measurement_retention(spec, rules.name)))
    return metrics


def _assess(
    metrics: Sequence[_Metric], results: Mapping[str, Mapping[str, Any]], *, terminating: bool
) -> dict[str, MetricAssessment]:
    return {
        m.name: assess_metric(m.rules, results[m.name], terminating=terminating) for m in metrics if m.name in results
    }


def _updated_results(
    status: Mapping[str, Any], metrics: Sequence[_Metric], assessed: Mapping[str, MetricAssessment]
) -> list[JsonObject]:
    """The metric results with each open metric's phase and message reassessed; completed ones are final."""
    by_name = {m.name: m for m in metrics}
    updated: list[JsonObject] = []
    for result in status.get("metricResults") or []:
        new_result = copy.deepcopy(dict(result))
        name = str(result.get("name"))
        if name in assessed and not is_completed(result.get("phase")):
            assessment = assessed[name]
            new_result["phase"] = assessment.phase.value
            message = metric_message(name, assessment, result)
            if message:
                new_result["message"] = message
            else:
                new_result.pop("message", None)
            if by_name[name].dry_run:
                new_result["dryRun"] = True
        updated.append(new_result)
    return updated


def _schedule(
    metrics: Sequence[_Metric],
    results: Mapping[str, Mapping[str, Any]],
    *,
    terminating: bool,
    started_at: datetime,
    now: datetime,
    resume_now: frozenset[str],
) -> tuple[list[MetricTask], list[datetime]]:
    """The provider calls due now, and the moments later calls fall due."""
    tasks: list[MetricTask] = []
    wakes: list[datetime] = []
    for metric in metrics:
        result = results.get(metric.name) or {}
        if is_completed(result.get("phase")):
            continue
        measurements = result.get("measurements") or []
        last: Mapping[str, Any] | None = measurements[-1] if measurements else None
        index = counter(result, "count") + counter(result, "error")
        if last is not None and not is_finished(last):
            if terminating:
                # Argo would wait for resumeAt before terminating; stopping at once is what terminate asks for,
                # and it lets the run complete without leaving a Job behind.
                tasks.append(_task("terminate", metric, index, last))
                continue
            resume_at = parse_time(last.get("resumeAt"))
            if resume_at is None or resume_at <= now or metric.name in resume_now:
                tasks.append(_task("resume", metric, index, last))
            else:
                wakes.append(resume_at)
            continue
        if terminating:
            continue
        if last is None:
            due = later(started_at, metric.rules.initial_delay or 0.0)
        else:
            if metric.rules.count is not None and counter(result, "count") >= metric.rules.count:
                continue
            errored = last.get("phase") == AnalysisPhase.ERROR
            interval = ERROR_RETRY_SECONDS if errored or metric.rules.interval is None else metric.rules.interval
            finished_at = parse_time(last.get("finishedAt"))
            due = later(finished_at, interval) if finished_at is not None else now
        if due <= now:
            tasks.append(_task("run", metric, index))
        else:
            wakes.append(due)
    return tasks, wakes


def _task(action: Action, metric: _Metric, index: int, measurement: Mapping[str, Any] | None = None) -> MetricTask:
    in_flight = copy.deepcopy(dict(measurement)) if measurement is not None else None
    return MetricTask(action, copy.deepcopy(metric.spec), in_flight, index, metric.dry_run, metric.retention)


def _run_phase(
    metrics: Sequence[_Metric],
    results: Mapping[str, Mapping[str, Any]],
    *,
    terminating: bool,
    terminate_requested: bool,
) -> tuple[AnalysisPhase, str | None]:
    worst: AnalysisPhase | None = None
    worst_result: Mapping[str, Any] | None = None
    everything_completed = True
    in_flight = False
    for metric in metrics:
        result = results.get(metric.name)
        phase = phase_of(result.get("phase")) if result is not None else None
        if result is None or phase is None or not phase.completed:
            everything_completed = False
            measurements = (result or {}).get("measurements") or []
            in_flight = in_flight or bool(measurements and not is_finished(measurements[-1]))
            continue
        if metric.dry_run:
            # A dry run never decides the run; it only counts as done.
            if worst is None:
                worst = AnalysisPhase.SUCCESSFUL
            continue
        if worse(worst, phase):
            worst, worst_result = phase, result
    if terminating:
        if in_flight:
            # Terminations are issued this pass; the run completes once they are recorded.
            return AnalysisPhase.RUNNING, None
        phase = worst or AnalysisPhase.SUCCESSFUL
    elif not everything_completed or worst is None:
        return AnalysisPhase.RUNNING, None
    else:
        phase = worst
    message = RUN_TERMINATED if terminate_requested else None
    if worst_result is not None and phase in FAILING_PHASES:
        message = _failure_message(worst_result, phase)
    return phase, message


def _failure_message(result: Mapping[str, Any], phase: AnalysisPhase) -> str:
    """``Metric "x" assessed Failed due to failed (1) > failureLimit (0): "Error Message: x: 0.71 does not
    satisfy result[0] >= 0.95"`` — Argo's form, with the measurement that decided it."""
    message = str(result.get("message") or f'Metric "{result.get("name")}" assessed {phase}')
    measurement_message = deciding_measurement_message(result)
    if measurement_message and measurement_message != message:
        message += f': "Error Message: {measurement_message}"'
    return message


def _summary(metrics: Sequence[_Metric], results: Mapping[str, Mapping[str, Any]]) -> JsonObject:
    """How many of these metrics there are, and how many completed in each phase."""
    summary = {"count": len(metrics), "successful": 0, "failed": 0, "inconclusive": 0, "error": 0}
    for metric in metrics:
        phase = phase_of((results.get(metric.name) or {}).get("phase"))
        if phase is not None and phase.completed:
            summary[phase.value.lower()] += 1
    return summary


def _decision(
    observed: Mapping[str, Any],
    new_status: JsonObject,
    *,
    tasks: tuple[MetricTask, ...],
    requeue_after: float | None,
    metrics: Sequence[_Metric],
) -> RunDecision:
    patch = merge_patch_between(dict(observed), new_status)
    return RunDecision(
        status=new_status,
        status_patch=patch or None,
        tasks=tasks,
        requeue_after=requeue_after,
        events=tuple(_events(observed, new_status, metrics)),
    )


def _events(
    observed: Mapping[str, Any], new_status: Mapping[str, Any], metrics: Sequence[_Metric]
) -> list[EventRecord]:
    """An Event for each metric that completed, and one when the run completes (Warning for Failed and Error)."""
    old = {str(r.get("name")): r for r in observed.get("metricResults") or [] if isinstance(r, Mapping)}
    new = {str(r.get("name")): r for r in new_status.get("metricResults") or [] if isinstance(r, Mapping)}
    events: list[EventRecord] = []
    for metric in metrics:
        result = new.get(metric.name)
        phase = phase_of((result or {}).get("phase"))
        if result is None or phase is None or not phase.completed:
            continue
        if is_completed((old.get(metric.name) or {}).get("phase")):
            continue
        detail = _failure_message(result, phase) if phase in FAILING_PHASES else result.get("message")
        text = _with_detail(f"Metric '{metric.name}' Completed. Result: {phase}", detail)
        events.append(EventRecord(_event_type(phase), f"Metric{phase}", text))
    phase = phase_of(new_status.get("phase"))
    if phase is not None and phase.completed and not is_completed(observed.get("phase")):
        text = _with_detail(f"Analysis Completed. Result: {phase}", new_status.get("message"))
        events.append(EventRecord(_event_type(phase), f"AnalysisRun{phase}", text))
    return events


def _event_type(phase: AnalysisPhase) -> EventType:
    return "Warning" if phase in (AnalysisPhase.FAILED, AnalysisPhase.ERROR) else "Normal"


def _with_detail(text: str, detail: Any) -> str:
    # Argo's Events stop at the result; the reason is what a person reading `kubectl get events` needs (#2741).
    return f"{text}: {detail}" if detail else text


def _status_of(run: Mapping[str, Any]) -> JsonObject:
    status = run.get("status")
    return dict(status) if isinstance(status, Mapping) else {}
