"""One reconcile pass of one Rollout: snapshot from the cache → decide → carry out → schedule the next look.

Nothing here decides anything: ``decide`` (``rollouts.reconcile.decide``) is pure, and this module only turns
its Plans into writes, metrics and wake-ups. A pass that finds nothing to do writes nothing.

A pass that wrote decides again at once, from what it wrote (the cache holds the API server's answers), in up to
``MAX_ROUNDS`` rounds: a chain such as "complete the setWeight step → enter the pause" is one pass, not one pass per
link plus a follow-up that finds nothing. A round's new status is held, not written, while the next round only
changes the status again, so the chain's status changes are one patch; it is written before any other write of a
later round (a Service, a route, a ReplicaSet), so the cluster never holds a later write beside a status older than
the one the sequence of single passes would have written before it. Only a pass whose last round still wrote
asks for a follow-up pass (``follow_up``); the watch's echoes of its writes ask for none (``ObjectCache``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Final

from pydantic import ValidationError

from kube.controller_runner import GONE, Gone, PassFailed
from kube.json_data import JsonObject
from kube.merge_patch import apply_merge_patch, merge_patch_between
from kube.resources import ROLLOUTS
from kube.timestamps import Clock, utc_now
from rollouts.controller.cache import ObjectCache, RolloutKey
from rollouts.controller.executor import Outcome, PlanExecutor
from rollouts.controller.metrics import ControllerMetrics
from rollouts.controller.parsed_rollouts import ParsedRollouts
from rollouts.controller.pass_trace import trace, tracing
from rollouts.models import RolloutStatus
from rollouts.parsed import ParsedRollout
from rollouts.plan import Event, Plan
from rollouts.snapshot import RolloutSnapshot
from rollouts.status import HEALTHY

Decide = Callable[[RolloutSnapshot], Plan]
FollowUp = Callable[[RolloutKey], None]

MAX_ROUNDS: Final = 4
"""Decisions per pass: a canary step's chain (complete a pause → set the next weight → enter the next pause) is
three, and the fourth finds that nothing is left; a longer chain goes on in a follow-up pass."""


@dataclass
class _Held:
    """What a pass has decided but not yet written: the Rollout's new status and the Events that announce it."""

    status: JsonObject | None = None
    events: list[Event] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class Reconciler:
    """One pass over one Rollout key, as ``kube.controller_runner`` calls it: it returns when to look again, and
    raises when a write failed (the runner retries with backoff and counts what is not transient)."""

    cache: ObjectCache
    executor: PlanExecutor
    metrics: ControllerMetrics
    decide: Decide
    clock: Clock = utc_now
    parsed: ParsedRollouts = field(default_factory=ParsedRollouts)
    follow_up: FollowUp | None = None
    max_rounds: int = MAX_ROUNDS

    async def reconcile(self, key: RolloutKey) -> float | Gone | None:
        snapshot = self.cache.snapshot_for(key.namespace, key.name, self.clock())
        if snapshot is None:
            return GONE
        rollout = snapshot.rollout
        version = _version(rollout)
        held = _Held()
        requeue_after: float | None = None
        progressed = False
        decided: tuple[RolloutSnapshot, Plan] | None = None
        try:
            for round_number in range(self.max_rounds):
                if round_number:
                    fresh = self.cache.snapshot_for(key.namespace, key.name, self.clock())
                    if fresh is None or _version(fresh.rollout) != version:
                        break  # deleted, or changed by someone else: its watch event has queued the next pass
                    snapshot, rollout = fresh, fresh.rollout
                decided = self._decide(key, snapshot, held.status, round_number)
                plan = decided[1]
                requeue_after = plan.requeue_after
                progressed = False
                if plan.writes:
                    # A later write never goes out beside a status older than the one decided before it.
                    version = await self._write_held(rollout, held, version)
                    outcome = self._checked(await self.executor.write(rollout, plan, version))
                    version = outcome.resource_version or version
                    progressed = outcome.writes > 0
                if plan.status_patch is not None:
                    base = held.status if held.status is not None else _status(self.cache, key, rollout)
                    status = apply_merge_patch(base, plan.status_patch)
                    if status != base:
                        held.status, progressed = status, True
                held.events.extend(dict.fromkeys(plan.events))
                if not progressed:
                    break  # this round's decision is what the cluster (and the held status) already says
        finally:
            if decided is not None:
                self._observe(*decided)
        await self._write_held(rollout, held, version)
        if progressed and self.follow_up is not None:
            self.follow_up(key)  # the last round still wrote: the chain goes on in another pass
        return requeue_after

    def _decide(
        self, key: RolloutKey, snapshot: RolloutSnapshot, held_status: JsonObject | None, round_number: int
    ) -> tuple[RolloutSnapshot, Plan]:
        """One round's decision, from the snapshot with the status this pass holds in place of the stored one; the
        snapshot it was decided from, and the plan."""
        stored = self.parsed.parsed(snapshot.rollout)
        if held_status is None:
            snapshot = replace(snapshot, parsed=stored)
        else:
            virtual = {**snapshot.rollout, "status": held_status}
            snapshot = replace(snapshot, rollout=virtual, parsed=_with_status(stored, virtual, held_status))
        if tracing():
            status = snapshot.rollout.get("status") or {}
            trace("round" if round_number else "pass", rollout=f"{key.namespace}/{key.name}",
                  step=status.get("currentStepIndex"), phase=status.get("phase"))
        # A bug in the decision raises here: the runner says which Rollout trips it and tries again later.
        return snapshot, self.decide(snapshot)

    def _observe(self, snapshot: RolloutSnapshot, plan: Plan) -> None:
        """After a pass, from its last round's decision: the Rollout's metrics, and its parse let go if at rest."""
        if plan.is_noop and plan.requeue_after is None and _at_rest(snapshot.rollout):
            # Only a spec change (a new version, parsed anew) or the resync looks again: not worth its memory.
            self.parsed.discard(snapshot.rollout)
        self.metrics.observe_rollout(snapshot.rollout, plan.status or snapshot.rollout.get("status") or {})

    async def _write_held(self, rollout: JsonObject, held: _Held, version: str | None) -> str | None:
        """Write the held status as one patch against the stored status, then announce the held Events; the
        Rollout's version after."""
        if held.status is not None:
            stored = self.cache.get(ROLLOUTS, *_where(rollout)) or rollout
            patch = merge_patch_between(stored.get("status") or {}, held.status)
            held.status = None
            if patch:
                outcome = self._checked(await self.executor.write_status(rollout, patch, version))
                version = outcome.resource_version or version
        if held.events:
            self.executor.announce(rollout, held.events)
            held.events = []
        return version

    @staticmethod
    def _checked(outcome: Outcome) -> Outcome:
        if outcome.error is not None:
            raise PassFailed(outcome.failed_write, outcome.error, transient=outcome.transient)
        return outcome


def _with_status(stored: ParsedRollout, virtual: JsonObject, status: JsonObject) -> ParsedRollout | None:
    """The stored version's parse with the held status in place of the stored one: the spec, and so its
    validation (which reads no status), is the stored version's. None (``decide`` parses ``virtual`` itself) when
    the stored version did not parse or the status does not."""
    if stored.rollout is None:
        return None
    try:
        typed = RolloutStatus.model_validate(status)
    except ValidationError:
        return None
    return ParsedRollout(virtual, stored.rollout.model_copy(update={"status": typed}), stored.issues)


def _version(rollout: JsonObject) -> str | None:
    version = (rollout.get("metadata") or {}).get("resourceVersion")
    return str(version) if version else None


def _where(rollout: JsonObject) -> tuple[str, str]:
    metadata = rollout.get("metadata") or {}
    return str(metadata.get("namespace") or ""), str(metadata.get("name") or "")


def _status(cache: ObjectCache, key: RolloutKey, decided_from: JsonObject) -> JsonObject:
    """The Rollout's status as stored (after this pass's writes: what the cache holds)."""
    stored = cache.get(ROLLOUTS, key.namespace, key.name) or decided_from
    status = stored.get("status")
    return status if isinstance(status, dict) else {}


def _at_rest(rollout: JsonObject) -> bool:
    """Whether the Rollout is settled: Healthy, as its stored status says (Argo's phase)."""
    return (rollout.get("status") or {}).get("phase") == HEALTHY
