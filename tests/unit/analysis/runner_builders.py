"""Builders for AnalysisRuns as plain data, and a pure driver that plays passes of the runner with scripted
measurement outcomes (what ``reconcile_run`` does, without providers or I/O)."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from analysis.arguments import resolve_arguments
from analysis.runner.args_io import values_without_secrets
from analysis.runner.lifecycle import MetricTask, RunDecision, decide_after_measuring, decide_run
from analysis.runner.measurements import record_measurement
from kube.merge_patch import apply_merge_patch
from kube.timestamps import format_time

JsonObject = dict[str, Any]

T0 = datetime(2024, 5, 1, 10, 0, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def stamp(seconds: float) -> str:
    return format_time(at(seconds))


def metric(name: str = "m", **fields: Any) -> JsonObject:
    return {"name": name, "provider": {"web": {"url": "http://metrics.example/{{args.service}}"}}, **fields}


def analysis_run(*metrics: JsonObject, status: JsonObject | None = None, **spec: Any) -> JsonObject:
    run: JsonObject = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AnalysisRun",
        "metadata": {"name": "run", "namespace": "default", "uid": "uid-1"},
        "spec": {
            "args": [{"name": "service", "value": "checkout"}],
            "metrics": list(metrics) or [metric()],
            **spec,
        },
    }
    if status is not None:
        run["status"] = status
    return run


def measurement(phase: str, seconds: float = 0, message: str | None = None, **fields: Any) -> JsonObject:
    """A measurement that started and (unless Running) finished ``seconds`` after T0."""
    made: JsonObject = {"phase": phase, "startedAt": stamp(seconds), **fields}
    if phase not in ("Running", "Pending"):
        made.setdefault("finishedAt", stamp(seconds))
    if message is not None:
        made["message"] = message
    return made


Outcome = Callable[[MetricTask, datetime], JsonObject]
"""What one provider call produced: the measurement to record for a task at a moment."""


def scripted(phases: dict[str, Iterable[str]]) -> Outcome:
    """Each metric's measurements take the next phase of its script (the last one repeats); a terminate is a
    Successful "Metric Terminated", as the runner records it."""
    scripts = {name: list(sequence) for name, sequence in phases.items()}
    taken: dict[str, int] = {}

    def outcome(task: MetricTask, now: datetime) -> JsonObject:
        if task.action == "terminate":
            return {
                "phase": "Successful",
                "message": "Metric Terminated",
                "startedAt": (task.measurement or {}).get("startedAt", format_time(now)),
                "finishedAt": format_time(now),
            }
        script = scripts[task.metric_name]
        index = taken.get(task.metric_name, 0)
        taken[task.metric_name] = index + 1
        phase = script[min(index, len(script) - 1)]
        made: JsonObject = {"phase": phase, "startedAt": format_time(now)}
        if phase == "Running":
            made["resumeAt"] = format_time(now + timedelta(seconds=5))
        else:
            made["finishedAt"] = format_time(now)
        if phase != "Successful":
            made["message"] = f"{task.metric_name}: measured {phase.lower()}"
        return made

    return outcome


def play(run: JsonObject, now: datetime, outcome: Outcome) -> tuple[JsonObject, RunDecision]:
    """One pass: decide, take the due measurements with ``outcome``, record them, and apply the status patch to
    the run as the API server would. Returns the run as it is afterwards and the final decision."""
    decision = decide_run(run, now)
    final = decision
    if decision.tasks:
        values = values_without_secrets(run["spec"].get("args") or [])
        status: JsonObject = decision.status
        for task in decision.tasks:
            resolved = resolve_arguments(task.metric, values)
            status = record_measurement(
                status, resolved, outcome(task, now), dry_run=task.dry_run, retention=task.retention
            )
        final = decide_after_measuring(run, status, now)
    updated = copy.deepcopy(run)
    if final.status_patch is not None:
        updated = apply_merge_patch(run, {"status": final.status_patch})
    assert updated.get("status", {}) == final.status, "the patch must turn the observed status into the new one"
    return updated, final


def play_until_done(
    run: JsonObject, outcome: Outcome, *, start: float = 0, limit: int = 200
) -> tuple[JsonObject, list[RunDecision], float]:
    """Passes at each requeue time until the run completes (or ``limit`` passes): the run, every decision, and the
    seconds after T0 the last pass ran."""
    seconds = start
    decisions: list[RunDecision] = []
    for _ in range(limit):
        run, decision = play(run, at(seconds), outcome)
        decisions.append(decision)
        if decision.completed or decision.requeue_after is None:
            break
        seconds += decision.requeue_after
    return run, decisions, seconds


def result_of(run: JsonObject, name: str = "m") -> JsonObject:
    return next(r for r in run["status"]["metricResults"] if r["name"] == name)
