"""One reconcile pass of one Rollout: snapshot from the cache → decide → carry out → schedule the next look.

Nothing here decides anything: ``decide`` (``rollouts.reconcile.decide``) is pure, and this module only turns
its Plan into writes, metrics and wake-ups. A pass that finds nothing to do writes nothing. A pass that wrote asks
for one follow-up pass (``follow_up``), which decides from what it wrote (the cache holds the API server's answers);
the watch's echoes of those writes then ask for nothing (``ObjectCache``), so a pass that writes a VirtualService
and a status is followed by one pass, not one per echo.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from kube.controller_runner import GONE, Gone, PassFailed
from kube.json_data import JsonObject
from rollouts.controller.cache import ObjectCache, RolloutKey
from rollouts.controller.executor import PlanExecutor
from rollouts.controller.metrics import ControllerMetrics
from rollouts.controller.parsed_rollouts import ParsedRollouts
from rollouts.plan import Plan
from rollouts.snapshot import RolloutSnapshot
from rollouts.status import HEALTHY

Decide = Callable[[RolloutSnapshot], Plan]
Clock = Callable[[], datetime]
FollowUp = Callable[[RolloutKey], None]


def utc_now() -> datetime:
    return datetime.now(UTC)


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

    async def reconcile(self, key: RolloutKey) -> float | Gone | None:
        snapshot = self.cache.snapshot_for(key.namespace, key.name, self.clock())
        if snapshot is None:
            return GONE
        snapshot = replace(snapshot, parsed=self.parsed.parsed(snapshot.rollout))
        # A bug in the decision raises here: the runner says which Rollout trips it and tries again later.
        plan = self.decide(snapshot)
        if plan.is_noop and plan.requeue_after is None and _at_rest(snapshot.rollout):
            # Only a spec change (a new version, parsed anew) or the resync looks again: not worth its memory.
            self.parsed.discard(snapshot.rollout)
        self.metrics.observe_rollout(snapshot.rollout, plan.status or snapshot.rollout.get("status") or {})
        if not plan.is_noop:
            outcome = await self.executor.execute(snapshot.rollout, plan)
            if outcome.error is not None:
                raise PassFailed(outcome.failed_write, outcome.error, transient=outcome.transient)
            if outcome.writes and self.follow_up is not None:
                self.follow_up(key)
        return plan.requeue_after


def _at_rest(rollout: JsonObject) -> bool:
    """Whether the Rollout is settled: Healthy, as its stored status says (Argo's phase)."""
    return (rollout.get("status") or {}).get("phase") == HEALTHY
