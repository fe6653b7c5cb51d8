"""The analysis gates of a blue-green promotion: ``prePromotionAnalysis`` before the active switch, and
``postPromotionAnalysis`` after it, before the new revision is marked stable.

A gate is a pure function from what the pass knows (``GateContext``) to a verdict (``GateResult``): Passed lets the
promotion go on, Pending holds it with a message that says what it waits for, Failed aborts the update (the active
Service goes back to the stable revision) with the gate's message as the reason, Inconclusive pauses it
(``InconclusiveAnalysisRun``) until someone promotes or aborts. A gate may also ask for writes (create its
AnalysisRun) and report the ``{name, status, message}`` of its run, which the pass writes to
``status.blueGreen.prePromotionAnalysisRunStatus`` / ``postPromotionAnalysisRunStatus``.

The real gates (``pre_promotion_gate``, ``post_promotion_gate``) run the analysis as Argo does
(rollout/analysis.go): the pre-promotion run is created once the preview is fully available (the pass consults the
gate only then), the post-promotion run once the active Service selects the new revision; the run's phase is the
verdict (Successful passes, Failed or Error fails, Inconclusive pauses, Pending and Running hold). A gate keeps
using the run its status entry names; it starts a new one for a new revision (the pass resets the entries), after a
retry, and after ``promote`` answered an inconclusive run — never reusing a run for a new attempt
(``rollouts.gating.tracking``). Terminating and deleting runs that are no longer current is the pass's
housekeeping (``rollouts.gating.history``). ``rollouts promote --full`` skips both gates, as in Argo.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from analysis.models import AnalysisPhase
from kube.json_data import JsonObject
from rollouts.gating.runs import AnalysisProblem, RunKind, RunRole
from rollouts.gating.tracking import (
    AnalysisInputs,
    TrackedRun,
    answered_inconclusive,
    current_run,
    retried,
    start_run,
    status_events,
    tracked,
)
from rollouts.models import Rollout
from rollouts.pause_state import PauseState
from rollouts.plan import Event, Write
from rollouts.snapshot import RolloutSnapshot

PRE_RUN_STATUS = "prePromotionAnalysisRunStatus"
POST_RUN_STATUS = "postPromotionAnalysisRunStatus"


class GateState(StrEnum):
    PASSED = "Passed"
    PENDING = "Pending"
    FAILED = "Failed"
    INCONCLUSIVE = "Inconclusive"


@dataclass(frozen=True)
class GateResult:
    """A gate's verdict for this pass.

    - ``message``: for Pending, what the promotion waits for (it becomes the status message); for Failed and
      Inconclusive, why (the abort reason, e.g. ``Pre-promotion analysis phase Failed: AnalysisRun
      reviews-6b8f9c-2-pre: <the run's message>``).
    - ``run_status``: ``{name, status, message}`` of the gate's AnalysisRun, written to
      ``status.blueGreen.prePromotionAnalysisRunStatus`` / ``postPromotionAnalysisRunStatus``.
    - ``writes`` and ``events``: what the gate needs done (they go out with the pass's other writes).
    - ``look_again_in``: seconds until the gate wants another pass (a run's next measurement).
    """

    state: GateState
    message: str | None = None
    run_status: JsonObject | None = None
    writes: tuple[Write, ...] = ()
    events: tuple[Event, ...] = ()
    look_again_in: float | None = None

    @property
    def passed(self) -> bool:
        return self.state is GateState.PASSED


PASSED = GateResult(GateState.PASSED)


@dataclass(frozen=True)
class GateContext:
    """What a gate may read: the whole snapshot (the AnalysisRuns the Rollout owns are in it), the parsed Rollout,
    and the pass's view of the revision being promoted."""

    snapshot: RolloutSnapshot
    rollout: Rollout
    current_hash: str
    """The pod-template hash being promoted (``Latest`` in analysis args)."""
    stable_hash: str | None
    """The stable pod-template hash (``Stable`` in analysis args)."""
    revision: int
    now: datetime

    @property
    def previous_status(self) -> JsonObject:
        """The observed ``status.blueGreen`` (holds the run statuses a gate reported before)."""
        return self.rollout.status.blue_green.to_dict()


PromotionGate = Callable[[GateContext], GateResult]


def pre_promotion_gate(context: GateContext) -> GateResult:
    """``prePromotionAnalysis``: consulted once the preview is fully available and before the active Service may
    switch (and before an automatic pause starts, as in Argo)."""
    return _analysis_gate(context, "prePromotionAnalysis", RunRole(RunKind.PRE_PROMOTION), PRE_RUN_STATUS)


def post_promotion_gate(context: GateContext) -> GateResult:
    """``postPromotionAnalysis``: consulted once the active Service selects the new revision; the revision becomes
    the stable one only when this passes."""
    return _analysis_gate(context, "postPromotionAnalysis", RunRole(RunKind.POST_PROMOTION), POST_RUN_STATUS)


def _analysis_gate(context: GateContext, field_name: str, role: RunRole, status_key: str) -> GateResult:
    manifest = context.snapshot.rollout
    strategy = ((manifest.get("spec") or {}).get("strategy") or {}).get("blueGreen") or {}
    analysis = strategy.get(field_name)
    if not isinstance(analysis, dict):
        return PASSED
    observed = PauseState.observed(context.rollout.status, manual=context.rollout.spec.paused)
    entry = context.previous_status.get(status_key)
    if retried(observed):
        entry = None  # the runs of the aborted attempt are not this attempt's
    inputs = AnalysisInputs.of(
        context.snapshot,
        current_hash=context.current_hash,
        stable_hash=context.stable_hash,
        revision=context.revision,
    )
    run = current_run(role, entry if isinstance(entry, dict) else None, inputs)
    writes: tuple[Write, ...] = ()
    if run is not None and not answered_inconclusive(observed, run):
        found: TrackedRun = tracked(role, run)
    else:
        started = start_run(role, analysis, inputs)
        if isinstance(started, AnalysisProblem):
            # Not expected: the spec was checked before the pass (InvalidSpec). Hold rather than promote blindly.
            return GateResult(GateState.PENDING, f"waiting for {role.title.lower()}: {started.message}")
        found = started
        create = started.create(inputs.namespace)
        writes = (create,) if create is not None else ()
    events = tuple(status_events(entry if isinstance(entry, dict) else None, found))
    common: dict[str, Any] = {"run_status": found.status_entry, "writes": writes, "events": events}
    if found.phase is AnalysisPhase.SUCCESSFUL:
        return GateResult(GateState.PASSED, **common)
    if found.failed:
        return GateResult(GateState.FAILED, found.verdict, **common)
    if found.phase is AnalysisPhase.INCONCLUSIVE:
        return GateResult(GateState.INCONCLUSIVE, found.verdict, **common)
    return GateResult(GateState.PENDING, found.waiting, **common)


@dataclass(frozen=True)
class PromotionGates:
    """The two gates a blue-green pass consults (tests and the analysis integration pass their own)."""

    pre: PromotionGate = field(default=pre_promotion_gate)
    post: PromotionGate = field(default=post_promotion_gate)


DEFAULT_GATES = PromotionGates()


__all__ = [
    "DEFAULT_GATES",
    "PASSED",
    "POST_RUN_STATUS",
    "PRE_RUN_STATUS",
    "GateContext",
    "GateResult",
    "GateState",
    "PromotionGate",
    "PromotionGates",
    "post_promotion_gate",
    "pre_promotion_gate",
]
