"""One reconcile pass over an AnalysisRun: decide, read the arguments, call the providers, record, judge.

The I/O edge of the runner, free of kopf: the caller hands in the run as observed, a Kubernetes client and a clock,
writes the returned ``status_patch`` to the run's ``/status`` subresource, emits the Events, and looks again after
``requeue_after`` seconds. Nothing here sleeps: an interval, a retry or a Job still running is a later pass.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from analysis.arguments import ArgumentResolutionError, resolve_arguments
from analysis.expressions import ConditionEvaluationError, assess_measurement, format_value
from analysis.models import AnalysisPhase
from analysis.providers.base import (
    MeasurementContext,
    MetricProvider,
    ProviderError,
    ProviderResult,
    mask,
    mask_metadata,
    provider_for,
)
from analysis.runner.args_io import ArgumentError, resolve_run_arguments
from analysis.runner.lifecycle import (
    MetricTask,
    RunDecision,
    decide_after_measuring,
    decide_error,
    decide_run,
)
from analysis.runner.measurements import record_measurement
from kube.event_records import EventRecord
from kube.json_data import JsonObject
from kube.timestamps import format_time, later

if TYPE_CHECKING:
    from kube.client import AsyncKubeClient

logger = logging.getLogger(__name__)

_evaluator: ThreadPoolExecutor | None = None
_evaluator_lock = threading.Lock()


Clock = Callable[[], datetime]
ProviderFactory = Callable[..., MetricProvider]
"""``provider_for``'s shape: ``(metric, *, kube) -> MetricProvider``, raising ProviderError when unsupported."""

METRIC_TERMINATED = "Metric Terminated"
DEFAULT_CONDITION_SECONDS = 1.0
"""CPU seconds one condition may take (about what the evaluator's step budget allows). Conditions run one at a time
on a thread of their own, so however costly, they take at most that thread from the event loop."""
DEFAULT_RESUME_SECONDS = 10.0
"""When a provider reports Running without saying when to look again, the run looks again this much later."""
DEFAULT_MEASUREMENT_TIMEOUT = 300.0
"""A provider call that takes longer is recorded as an Error, so that one stuck endpoint cannot hold the pass
(providers have their own, shorter timeouts; this is the backstop)."""


class RunOutcome(NamedTuple):
    """What a pass produced: the merge patch for ``/status`` (None: write nothing), when to look again (None: only a
    change to the run can change anything), and the Events to emit."""

    status_patch: JsonObject | None
    requeue_after: float | None
    events: tuple[EventRecord, ...] = ()


async def reconcile_run(
    run: Mapping[str, Any],
    *,
    kube: AsyncKubeClient | None,
    now: Clock,
    providers: ProviderFactory = provider_for,
    measurement_timeout: float = DEFAULT_MEASUREMENT_TIMEOUT,
    resume_now: Collection[str] = (),
    condition_time_budget: float = DEFAULT_CONDITION_SECONDS,
) -> RunOutcome:
    """Take the measurements that are due, record them, and return the run's new status as a patch.

    ``resume_now``: metrics whose measurement in flight is resumed now rather than at its ``resumeAt`` (see
    ``decide_run``) — the controller passes the metrics whose Job it saw finish.

    Conditions are evaluated on one thread beside the event loop, each within ``condition_time_budget`` seconds
    of CPU (and the evaluator's step budget): a costly condition is an Error measurement that names the budget,
    and never holds up the loop — the watches, the Lease renewal, ``/healthz``.

    Measurements of different metrics run concurrently; one that fails (a provider raising anything, a condition
    that cannot be evaluated, a timeout) becomes an Error measurement of its metric and leaves the others alone.
    Secret argument values are masked in every message, value and metadata written. Errors reaching the
    Kubernetes API while reading a Secret propagate, so that the caller retries the pass.
    """
    decision = decide_run(run, now(), resume_now=resume_now)
    if not decision.tasks:
        return _outcome(decision)
    try:
        arguments = await resolve_run_arguments(run, kube)
    except ArgumentError as error:
        message = f"Unable to resolve metric arguments: {error}"
        return _outcome(decide_error(run, message, now(), status=decision.status))
    resolved: list[JsonObject] = []
    for task in decision.tasks:
        try:
            resolved.append(resolve_arguments(task.metric, arguments.values))
        except ArgumentResolutionError as error:
            message = f'Unable to resolve metric arguments: metric "{task.metric_name}": {error}'
            return _outcome(decide_error(run, message, now(), status=decision.status))

    metadata = run.get("metadata") or {}
    measured = await asyncio.gather(
        *(
            _measure(
                task,
                _context(metadata, task, metric, arguments.secrets),
                kube=kube,
                now=now,
                providers=providers,
                timeout=measurement_timeout,
                condition_time_budget=condition_time_budget,
            )
            for task, metric in zip(decision.tasks, resolved, strict=True)
        )
    )

    status: Mapping[str, Any] = decision.status
    for task, metric, (measurement, _, _) in zip(decision.tasks, resolved, measured, strict=True):
        status = record_measurement(status, metric, measurement, dry_run=task.dry_run, retention=task.retention)
    await _collect_garbage(decision.tasks, measured)
    return _outcome(decide_after_measuring(run, status, now()))


def _context(
    run_metadata: Mapping[str, Any], task: MetricTask, metric: JsonObject, secrets: tuple[str, ...]
) -> MeasurementContext:
    """What the provider gets for a task: the run it measures for, the metric with its arguments resolved, the
    secret values to mask."""
    return MeasurementContext(
        run_name=str(run_metadata.get("name", "")),
        run_namespace=str(run_metadata.get("namespace", "")),
        run_uid=str(run_metadata.get("uid", "")),
        metric_name=task.metric_name,
        metric=metric,
        secrets=secrets,
        measurement_index=task.measurement_index,
    )


def _outcome(decision: RunDecision) -> RunOutcome:
    return RunOutcome(decision.status_patch, decision.requeue_after, decision.events)


_Measured = tuple[JsonObject, "MetricProvider | None", MeasurementContext]
"""A task's measurement, the provider that took it (None when there was none to make) and the call's context."""


async def _measure(
    task: MetricTask,
    context: MeasurementContext,
    *,
    kube: AsyncKubeClient | None,
    now: Clock,
    providers: ProviderFactory,
    timeout: float,
    condition_time_budget: float,
) -> _Measured:
    """The measurement a task produces. Never raises: whatever goes wrong is the measurement's Error."""
    in_flight = task.measurement or {}
    started_at = in_flight.get("startedAt") or format_time(now())
    kept_metadata: dict[str, str] = {str(k): str(v) for k, v in (in_flight.get("metadata") or {}).items()}
    provider: MetricProvider | None = None
    try:
        provider = providers(context.metric, kube=kube)
        if task.action == "terminate":
            await asyncio.wait_for(provider.terminate(context, kept_metadata), timeout)
            measurement = _completed(AnalysisPhase.SUCCESSFUL, METRIC_TERMINATED, started_at, now)
        else:
            call = provider.run(context) if task.action == "run" else provider.resume(context, kept_metadata)
            result = await asyncio.wait_for(call, timeout)
            measurement = await _from_result(result, context, started_at, now, condition_time_budget)
        # What the in-flight measurement recorded (a Job's name) stays unless the provider says otherwise.
        merged = {**kept_metadata, **(measurement.get("metadata") or {})}
        if merged:
            measurement["metadata"] = merged
    except ProviderError as error:
        measurement = _completed(AnalysisPhase.ERROR, str(error), started_at, now)
        measurement["metadata"] = {**kept_metadata, **error.metadata}
    except TimeoutError:
        message = f"{task.action} of metric {task.metric_name!r} did not finish within {timeout:g}s"
        measurement = _completed(AnalysisPhase.ERROR, message, started_at, now)
        measurement["metadata"] = kept_metadata
    except Exception as error:  # any provider bug must become this metric's Error, not the pass's
        # A traceback would print the values in its frames and the unmasked message: only without secrets.
        logger.warning(
            "measuring metric %r failed: %s: %s", task.metric_name, type(error).__name__,
            mask(str(error), context.secrets), exc_info=not context.secrets,
        )
        measurement = _completed(AnalysisPhase.ERROR, str(error) or type(error).__name__, started_at, now)
        measurement["metadata"] = kept_metadata
    return _masked(measurement, context.secrets), provider, context


def _evaluation_pool() -> ThreadPoolExecutor:
    global _evaluator
    with _evaluator_lock:
        if _evaluator is None:
            _evaluator = ThreadPoolExecutor(max_workers=1, thread_name_prefix="condition-evaluation")
        return _evaluator


async def _assess(result: ProviderResult, context: MeasurementContext, time_budget: float) -> tuple[str, str]:
    """The conditions' verdict on a value, evaluated on the evaluation thread rather than the event loop."""
    call = functools.partial(
        assess_measurement,
        result.value,
        context.metric.get("successCondition"),
        context.metric.get("failureCondition"),
        time_budget=time_budget,
    )
    try:
        return await asyncio.get_running_loop().run_in_executor(_evaluation_pool(), call)
    except ConditionEvaluationError as error:  # the evaluator returns Error itself; this is the backstop
        return AnalysisPhase.ERROR.value, str(error)


async def _from_result(
    result: ProviderResult, context: MeasurementContext, started_at: str, now: Clock, condition_time_budget: float
) -> JsonObject:
    """A provider's answer as a measurement: a phase it decided, or the conditions' verdict on its value."""
    value = format_value(result.value) if result.value is not None else None
    phase_name = result.phase
    message = result.message
    if phase_name is None:
        phase_name, reason = await _assess(result, context, condition_time_budget)
        # Named after the metric so that the message stands alone wherever it is shown (the run's message, the
        # Rollout's, an Event): `success-rate: 0.71 does not satisfy result[0] >= 0.95`.
        message = f"{context.metric_name}: {reason}" if reason else message
    try:
        phase = AnalysisPhase(phase_name)
    except ValueError:
        phase = AnalysisPhase.ERROR
        message = f"provider reported an unknown phase {phase_name!r}" + (f": {message}" if message else "")
    measurement: JsonObject = {"phase": phase.value, "startedAt": started_at}
    if message:
        measurement["message"] = message
    if value is not None:
        measurement["value"] = value
    if result.metadata:
        measurement["metadata"] = dict(result.metadata)
    moment = now()
    if phase.completed:
        measurement["finishedAt"] = format_time(moment)
    else:
        wait = result.resume_after if result.resume_after is not None else DEFAULT_RESUME_SECONDS
        measurement["resumeAt"] = format_time(later(moment, max(wait, 0.0)))
    return measurement


def _completed(phase: AnalysisPhase, message: str, started_at: str, now: Clock) -> JsonObject:
    measurement: JsonObject = {"phase": phase.value, "startedAt": started_at, "finishedAt": format_time(now())}
    if message:
        measurement["message"] = message
    return measurement


def _masked(measurement: JsonObject, secrets: Sequence[str]) -> JsonObject:
    """The measurement with secret values hidden in everything a person can read."""
    if not secrets:
        return measurement
    masked = dict(measurement)
    for field in ("message", "value"):
        if isinstance(masked.get(field), str):
            masked[field] = mask(masked[field], secrets)
    if isinstance(masked.get("metadata"), Mapping):
        masked["metadata"] = mask_metadata(masked["metadata"], secrets)
    return masked


async def _collect_garbage(tasks: Sequence[MetricTask], measured: Sequence[_Measured]) -> None:
    """Let providers delete what they made for measurements no longer listed (a Job per measurement), as Argo does
    when it trims a metric's measurements. Failures are logged: they never fail the run."""
    for task, (_, provider, context) in zip(tasks, measured, strict=True):
        # measurement_index + 1 measurements of this metric have now been started.
        if provider is None or task.action != "run" or task.measurement_index + 1 <= task.retention:
            continue
        try:
            await provider.garbage_collect(context, task.retention)
        except Exception as error:  # leftover Jobs are untidy, not a reason to lose the measurements
            logger.warning(
                "garbage collection for metric %r failed: %s: %s", task.metric_name, type(error).__name__,
                mask(str(error), context.secrets), exc_info=not context.secrets,
            )
