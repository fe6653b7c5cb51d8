"""The pause and abort state of an update, and the one place that changes it.

A Rollout's status carries what people asked of the update and what the controller decided about it:
``pauseConditions`` (why the controller paused: a pause step, the blue-green pause before the switch, an
inconclusive analysis), ``controllerPause`` (the controller paused; left set with no condition once ``promote``
cleared the conditions, meaning "resumed, act on it"), ``abort`` and ``abortedAt``, and ``promoteFull``.
``spec.paused`` is a person's pause; the controller only reads it.

Both strategies' passes read these fields through ``PauseState`` and change them only through its operations;
``write`` is the only code that puts them into a new status (Argo gathers the same intent in its pauseContext and
persists it once). Pure data: no I/O, and the clock is a parameter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from kube.json_data import JsonObject
from kube.timestamps import format_time
from rollouts.models import PauseCondition, RolloutStatus

# The reasons the controller pauses for (Argo's PauseReason).
CANARY_PAUSE_STEP = "CanaryPauseStep"
BLUE_GREEN_PAUSE = "BlueGreenPause"
INCONCLUSIVE_ANALYSIS = "InconclusiveAnalysisRun"

# The status fields this module owns.
OWNED_FIELDS = ("pauseConditions", "controllerPause", "abort", "abortedAt", "promoteFull")


@dataclass(frozen=True)
class PauseOutcome:
    """What a strategy's pause (a canary pause step, the blue-green pause before the switch) does in this pass."""

    start: bool = False
    """The pause begins now: add its condition."""
    over: bool = False
    """The pause is over in this pass (its condition, if it holds, goes)."""
    wake_at: datetime | None = None
    """When a timed pause ends by itself (look again then)."""


@dataclass
class PauseState:
    """The pause, abort and full-promotion state one pass decides, starting from what it observed."""

    conditions: list[PauseCondition] = field(default_factory=list)
    controller_pause: bool = False
    abort: bool = False
    aborted_at: str | None = None
    promote_full: bool = False
    manual: bool = False
    """``spec.paused``: a person paused the Rollout (read only; the controller never writes the spec)."""

    @classmethod
    def observed(cls, status: RolloutStatus, *, manual: bool) -> PauseState:
        """The state recorded in the observed status, and whether ``spec.paused`` holds."""
        return cls(
            conditions=list(status.pause_conditions),
            controller_pause=status.controller_pause,
            abort=status.abort,
            aborted_at=status.aborted_at,
            promote_full=status.promote_full,
            manual=manual,
        )

    # --- reading ---------------------------------------------------------------------------------

    @property
    def paused(self) -> bool:
        """The controller holds the update for some reason (a pause condition)."""
        return bool(self.conditions)

    @property
    def paused_now(self) -> bool:
        """Paused by the controller or by a person (the Paused condition and phase)."""
        return self.paused or self.manual

    def condition(self, reason: str) -> PauseCondition | None:
        """The pause condition with ``reason``, if it holds."""
        return next((found for found in self.conditions if found.reason == reason), None)

    def holds(self, reason: str) -> bool:
        return self.condition(reason) is not None

    # --- pausing ---------------------------------------------------------------------------------

    def pause(self, reason: str, now: datetime) -> None:
        """The controller pauses for ``reason`` (from ``now``, unless that pause already holds)."""
        if not self.holds(reason):
            self.conditions.append(PauseCondition(reason=reason, start_time=format_time(now)))
        self.controller_pause = True

    def remove(self, reason: str) -> None:
        """The pause for ``reason`` is over; ``controllerPause`` stays until the resume is acted upon."""
        self.conditions = [found for found in self.conditions if found.reason != reason]

    def resume(self, reason: str) -> None:
        """The pause for ``reason`` is over and acted upon: no controller pause is left unless another holds."""
        self.remove(reason)
        self.acted_on_resume(True)

    def acted_on_resume(self, acted: bool) -> None:
        """Forget a resume (``controllerPause`` with no condition) once the pass ``acted`` on it."""
        if acted and not self.conditions:
            self.controller_pause = False

    def lift_pauses(self) -> None:
        """No pause of the controller's holds any more (an abort, a full promotion, a finished update)."""
        self.conditions, self.controller_pause = [], False

    # --- aborting and the requests ---------------------------------------------------------------

    def abort_update(self, now: datetime) -> None:
        """Give the update up: every pause lifts, and ``abortedAt`` keeps the moment the abort was first noted."""
        self.abort = True
        self.aborted_at = self.aborted_at or format_time(now)
        self.lift_pauses()

    def settle(self, *, aborted: bool, promote_full: bool, now: datetime) -> None:
        """Record this pass's abort and full-promotion decisions: an abort (first noted at ``now``) or a full
        promotion lifts every pause, and a Rollout no longer aborted forgets when it was."""
        if aborted:
            self.lift_pauses()
            self.aborted_at = self.aborted_at or format_time(now)
        else:
            self.abort, self.aborted_at = False, None
        if promote_full:
            self.lift_pauses()
        self.promote_full = promote_full

    def finish_update(self) -> None:
        """The new revision is the stable one (Argo's promoteStable): nothing paused, aborted or requested."""
        self.lift_pauses()
        self.abort, self.aborted_at, self.promote_full = False, None, False

    def start_over(self) -> None:
        """A new revision starts with no pause, abort or full promotion carried over."""
        self.finish_update()

    # --- the status ------------------------------------------------------------------------------

    def write(self, status: JsonObject) -> None:
        """Put the state into ``status`` (a field that is false or empty is left out): the only writer of
        ``pauseConditions``, ``controllerPause``, ``abort``, ``abortedAt`` and ``promoteFull``."""
        for key in OWNED_FIELDS:
            status.pop(key, None)
        if self.conditions:
            status["pauseConditions"] = [found.to_dict() for found in self.conditions]
        if self.controller_pause:
            status["controllerPause"] = True
        if self.abort:
            status["abort"] = True
        if self.aborted_at:
            status["abortedAt"] = self.aborted_at
        if self.promote_full:
            status["promoteFull"] = True


__all__ = [
    "BLUE_GREEN_PAUSE",
    "CANARY_PAUSE_STEP",
    "INCONCLUSIVE_ANALYSIS",
    "OWNED_FIELDS",
    "PauseOutcome",
    "PauseState",
]
