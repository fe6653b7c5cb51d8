"""The analysis gates of a blue-green promotion: ``prePromotionAnalysis`` before the active switch, and
``postPromotionAnalysis`` after it, before the new revision is marked stable.

This is the extension point the analysis runner fills in. A gate is a pure function from what the pass knows
(``GateContext``) to a verdict (``GateResult``): Passed lets the promotion go on, Pending holds it with a message
that says what it waits for, Failed aborts the update (the active Service goes back to the stable revision) with the
gate's message as the reason, Inconclusive pauses it (``InconclusiveAnalysisRun``) until someone promotes or aborts.
A gate may also ask for writes (create its AnalysisRun, terminate an old one) and a look again later.

After ``promote`` clears an InconclusiveAnalysisRun pause (the snapshot's status then has ``controllerPause`` and no
pause condition, and the gate's last ``run_status`` says Inconclusive), what happens is the gate's call: Argo starts
a new AnalysisRun. The pass only remembers the verdicts through the ``run_status`` a gate reports, so a gate should
report one.

Until the runner is wired in, a Rollout that asks for promotion analysis waits at the gate: never promote on
evidence nobody gathered. ``rollouts promote --full`` skips both gates, as in Argo.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from rollouts.models import Rollout, RolloutAnalysis
from rollouts.plan import Event, JsonObject, Write
from rollouts.snapshot import RolloutSnapshot

PRE_PROMOTION_RUNNER_MISSING = "waiting for pre-promotion analysis: the analysis runner is not available yet"
POST_PROMOTION_RUNNER_MISSING = "waiting for post-promotion analysis: the analysis runner is not available yet"


class GateState(StrEnum):
    PASSED = "Passed"
    PENDING = "Pending"
    FAILED = "Failed"
    INCONCLUSIVE = "Inconclusive"


@dataclass(frozen=True)
class GateResult:
    """A gate's verdict for this pass.

    - ``message``: for Pending, what the promotion waits for (it becomes the status message); for Failed and
      Inconclusive, why (the abort reason, e.g. ``PrePromotionAnalysis phase Failed: <AnalysisRun message>``).
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
        status = self.snapshot.rollout.get("status") or {}
        blue_green = status.get("blueGreen") if isinstance(status, dict) else None
        return dict(blue_green) if isinstance(blue_green, dict) else {}


PromotionGate = Callable[[GateContext], GateResult]


def pre_promotion_gate(context: GateContext) -> GateResult:
    """``prePromotionAnalysis``: consulted once the preview is fully available and before the active Service may
    switch (and before an automatic pause starts, as in Argo)."""
    strategy = context.rollout.spec.strategy.blue_green
    analysis: RolloutAnalysis | None = strategy.pre_promotion_analysis if strategy is not None else None
    if analysis is None:
        return PASSED
    return GateResult(GateState.PENDING, PRE_PROMOTION_RUNNER_MISSING)


def post_promotion_gate(context: GateContext) -> GateResult:
    """``postPromotionAnalysis``: consulted once the active Service selects the new revision; the revision becomes
    the stable one only when this passes."""
    strategy = context.rollout.spec.strategy.blue_green
    analysis: RolloutAnalysis | None = strategy.post_promotion_analysis if strategy is not None else None
    if analysis is None:
        return PASSED
    return GateResult(GateState.PENDING, POST_PROMOTION_RUNNER_MISSING)


@dataclass(frozen=True)
class PromotionGates:
    """The two gates a blue-green pass consults (tests and the analysis integration pass their own)."""

    pre: PromotionGate = field(default=pre_promotion_gate)
    post: PromotionGate = field(default=post_promotion_gate)


DEFAULT_GATES = PromotionGates()


__all__ = [
    "DEFAULT_GATES",
    "PASSED",
    "POST_PROMOTION_RUNNER_MISSING",
    "PRE_PROMOTION_RUNNER_MISSING",
    "GateContext",
    "GateResult",
    "GateState",
    "PromotionGate",
    "PromotionGates",
    "post_promotion_gate",
    "pre_promotion_gate",
]
