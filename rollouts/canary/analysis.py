"""The analyses of a canary update: the run of the current ``analysis`` step and the background run, decided.

Argo's reconcileStepBasedAnalysisRun and reconcileBackgroundAnalysisRun, as one pure function of the pass's view:

* **Step.** At an ``analysis`` step its run is created (once: the name is deterministic and the run is found again
  in later passes), unless the Rollout is paused or aborted. Successful completes the step; Failed or Error aborts
  the update; Inconclusive pauses it (``InconclusiveAnalysisRun``) until ``rollouts promote`` (which moves past the
  step) or ``rollouts abort``. When the index moves past the step (a promote, a new revision) the run stops being
  current, and the housekeeping terminates it.
* **Background.** ``strategy.canary.analysis`` starts once ``currentStepIndex >= startingStep`` (at once without
  one) and runs alongside the remaining steps: Failed or Error aborts, Inconclusive pauses (``promote`` starts a new
  run). The update does not wait for it: once the new revision is stable the run is no longer current and is
  terminated (Successful, unless it failed first).
* **Skipped.** An aborted update, a full promotion and an initial deploy run no analysis: every run still running
  is terminated, and the statuses keep naming the runs they named (so ``get rollout`` shows what failed).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from analysis.models import AnalysisPhase
from kube.json_data import JsonObject
from rollouts.gating.history import housekeeping
from rollouts.gating.runs import AnalysisProblem, RunKind, RunRole
from rollouts.gating.tracking import (
    AnalysisInputs,
    TrackedRun,
    answered_inconclusive,
    current_run,
    paused_for_inconclusive,
    refreshed,
    retried,
    start_run,
    status_events,
    tracked,
)
from rollouts.pause_state import PauseState
from rollouts.plan import Event, Write

STEP_STATUS = "currentStepAnalysisRunStatus"
BACKGROUND_STATUS = "currentBackgroundAnalysisRunStatus"


@dataclass(frozen=True)
class CanaryAnalysis:
    """What the analyses decide in one canary pass.

    - ``statuses``: the ``status.canary`` entries (``currentStepAnalysisRunStatus``,
      ``currentBackgroundAnalysisRunStatus``) that are set after this pass.
    - ``step_phase``: the phase of the current step's run (None when the step is not an analysis, or has no run).
    - ``abort_reason``: a run Failed or Errored: abort, with this as the reason.
    - ``inconclusive``: a run is Inconclusive and nobody answered yet: pause (``InconclusiveAnalysisRun``).
    - ``waiting``: what an analysis step waits for (the phase message).
    - ``creates``/``terminations``/``deletions``: the run writes; ``events`` the verdicts reached.
    """

    statuses: dict[str, JsonObject] = field(default_factory=dict)
    step_phase: AnalysisPhase | None = None
    abort_reason: str | None = None
    inconclusive: bool = False
    waiting: str | None = None
    creates: tuple[Write, ...] = ()
    terminations: tuple[Write, ...] = ()
    deletions: tuple[Write, ...] = ()
    events: tuple[Event, ...] = ()


@dataclass(frozen=True)
class CanaryAnalysisView:
    """What the pass knows that the analyses depend on."""

    index: int | None
    """The step index after this pass's own adjustments (an abort or retry resets it, a full promotion ends it)."""
    aborted: bool
    promote_full: bool
    fully_promoted: bool
    initial_deploy: bool
    observed_pause: PauseState
    """The pause and abort state as the observed status records it (before this pass changes it)."""
    observed_statuses: Mapping[str, JsonObject]
    """The run status entries the observed status records, by key (``currentStepAnalysisRunStatus``, …)."""
    reset: bool = False
    """A new revision or new steps: nothing the status names counts any more."""
    retried: bool = False
    """The pass answers ``rollouts retry``: the runs of the aborted attempt are not this attempt's."""
    replica_set_hashes: frozenset[str] = frozenset()
    successful_limit: int = 5
    unsuccessful_limit: int = 5


def decide_canary_analysis(inputs: AnalysisInputs, view: CanaryAnalysisView) -> CanaryAnalysis:
    """The analyses' decision for one pass of a canary Rollout (see the module docstring)."""
    entries: dict[str, Mapping[str, Any] | None] = {
        key: view.observed_statuses.get(key) for key in (STEP_STATUS, BACKGROUND_STATUS)
    }
    fresh_attempt = view.reset or view.retried or retried(view.observed_pause)
    if fresh_attempt:
        # The runs of an earlier revision, or of the attempt that was aborted, are not this attempt's.
        entries = dict.fromkeys(entries)

    if view.aborted or view.promote_full or view.initial_deploy or view.reset:
        statuses = kept_statuses(entries, inputs)
        return _finish(inputs, view, statuses, [], terminate_all=True)

    runs, problems = _tracked_runs(inputs, view, entries, fresh_attempt=fresh_attempt)

    events: list[Event] = []
    abort_reason: str | None = None
    inconclusive = False
    for key, run in runs.items():
        events += status_events(entries[key], run)
        if run.failed and abort_reason is None:
            abort_reason = run.verdict
        elif run.phase is AnalysisPhase.INCONCLUSIVE:
            inconclusive = True
    if abort_reason is not None:
        # The update is given up in this very pass: start nothing more, and stop what is still measuring.
        runs = {key: run for key, run in runs.items() if run.created is None}
    step_run = runs.get(STEP_STATUS)
    waiting = step_run.waiting if step_run is not None else None
    if problems and waiting is None:
        # Not expected: the spec was checked before the pass (InvalidSpec); say it rather than promote blindly.
        waiting = f"waiting for analysis: {problems[0]}"
    result = _finish(
        inputs,
        view,
        {key: run.status_entry for key, run in runs.items()},
        [write for run in runs.values() if (write := run.create(inputs.namespace)) is not None],
        terminate_all=abort_reason is not None,
    )
    return CanaryAnalysis(
        statuses=result.statuses,
        step_phase=step_run.phase if step_run is not None else None,
        abort_reason=abort_reason,
        inconclusive=inconclusive,
        waiting=waiting,
        creates=result.creates,
        terminations=result.terminations,
        deletions=result.deletions,
        events=tuple(events),
    )


def _tracked_runs(
    inputs: AnalysisInputs,
    view: CanaryAnalysisView,
    entries: Mapping[str, Mapping[str, Any] | None],
    *,
    fresh_attempt: bool,
) -> tuple[dict[str, TrackedRun], list[str]]:
    """The current step's run and the background run, each found or to be created, by status key; and the
    problems that prevent one."""
    manifest = inputs.manifest
    observed = view.observed_pause
    canary = ((manifest.get("spec") or {}).get("strategy") or {}).get("canary") or {}
    steps: Sequence[Any] = canary.get("steps") or ()
    runs: dict[str, TrackedRun] = {}
    problems: list[str] = []
    index = view.index
    step = steps[index] if index is not None and 0 <= index < len(steps) else None
    step_analysis = step.get("analysis") if isinstance(step, Mapping) else None
    if isinstance(step_analysis, Mapping):
        assert index is not None
        # Argo creates no step run while the Rollout is paused (a pause condition) and keeps the one it has.
        may_start = not observed.paused
        found = _track(
            RunRole(RunKind.STEP, index), step_analysis, entries[STEP_STATUS], inputs, observed, may_start=may_start,
            fresh_attempt=fresh_attempt,
        )
        _gather(found, STEP_STATUS, runs, problems)
    background = canary.get("analysis")
    starting_step = background.get("startingStep") if isinstance(background, Mapping) else None
    started = index is None or not isinstance(starting_step, int) or index >= starting_step
    if isinstance(background, Mapping) and background.get("templates") and started and not view.fully_promoted:
        may_start = not paused_for_inconclusive(observed)
        found = _track(
            RunRole(RunKind.BACKGROUND), background, entries[BACKGROUND_STATUS], inputs, observed, may_start=may_start,
            fresh_attempt=fresh_attempt,
        )
        _gather(found, BACKGROUND_STATUS, runs, problems)
    return runs, problems


def _gather(found: TrackedRun | AnalysisProblem | None, key: str, runs: dict[str, TrackedRun],
            problems: list[str]) -> None:
    """A tracked run under its status key, or the problem that prevents it among the problems."""
    if isinstance(found, AnalysisProblem):
        problems.append(found.message)
    elif found is not None:
        runs[key] = found


def kept_statuses(entries: Mapping[str, Mapping[str, Any] | None], inputs: AnalysisInputs) -> dict[str, JsonObject]:
    """The status entries still worth showing when no analysis runs (aborted, skipped): those naming a run of the
    revision being rolled out, brought up to date with it (``get rollout`` shows what failed)."""
    found = {key: refreshed(entry, inputs.runs, inputs.facts.current_hash) for key, entry in entries.items()}
    return {key: entry for key, entry in found.items() if entry is not None}


def _track(
    role: RunRole,
    analysis: Mapping[str, Any],
    entry: Mapping[str, Any] | None,
    inputs: AnalysisInputs,
    observed: PauseState,
    *,
    may_start: bool,
    fresh_attempt: bool,
) -> TrackedRun | AnalysisProblem | None:
    """The role's current run, or a new one when there is none (or a person answered its inconclusive verdict)."""
    run = current_run(role, entry, inputs, fresh_attempt=fresh_attempt)
    if run is not None and not answered_inconclusive(observed, run):
        return tracked(role, run)
    if not may_start:
        return tracked(role, run) if run is not None else None
    return start_run(role, analysis, inputs)


def _finish(
    inputs: AnalysisInputs,
    view: CanaryAnalysisView,
    statuses: dict[str, JsonObject],
    creates: list[Write],
    *,
    terminate_all: bool,
) -> CanaryAnalysis:
    terminations, deletions = housekeeping(
        inputs.runs,
        current={str(entry["name"]) for entry in statuses.values()},
        terminate_all=terminate_all,
        replica_set_hashes=view.replica_set_hashes,
        successful_limit=view.successful_limit,
        unsuccessful_limit=view.unsuccessful_limit,
        namespace=inputs.namespace,
    )
    return CanaryAnalysis(
        statuses=statuses, creates=tuple(creates), terminations=tuple(terminations), deletions=tuple(deletions)
    )


__all__ = [
    "BACKGROUND_STATUS",
    "STEP_STATUS",
    "CanaryAnalysis",
    "CanaryAnalysisView",
    "decide_canary_analysis",
    "kept_statuses",
]
