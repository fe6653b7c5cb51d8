"""One reconcile pass of one Rollout: snapshot from the cache → decide → carry out → schedule the next look.

Nothing here decides anything: ``decide`` (``rollouts.reconcile.decide``) is pure, and this module only turns
its Plan into writes, metrics and wake-ups. A pass that finds nothing to do writes nothing. A pass whose writes
succeed is not repeated from here: the watch delivers what was written, and that queues the next pass.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Final

from kube.work_queue import WorkQueue
from rollouts.controller.cache import ObjectCache, RolloutKey
from rollouts.controller.executor import Outcome, PlanExecutor, describe_error
from rollouts.controller.metrics import ControllerMetrics
from rollouts.plan import Plan
from rollouts.snapshot import RolloutSnapshot

logger = logging.getLogger(__name__)

Decide = Callable[[RolloutSnapshot], Plan]
Clock = Callable[[], datetime]

# After a Conflict or NotFound the watch is about to deliver the newer object (and queue the Rollout); this is
# only the backstop in case it does not.
TRANSIENT_RETRY_SECONDS: Final = 1.0
# A timer due "now" (a pause that ends in a millisecond) must not become a busy loop.
MIN_REQUEUE_SECONDS: Final = 0.05


def utc_now() -> datetime:
    return datetime.now(UTC)


class Reconciler:
    """Processes keys handed out by the work queue."""

    def __init__(
        self,
        *,
        cache: ObjectCache,
        queue: WorkQueue[RolloutKey],
        executor: PlanExecutor,
        metrics: ControllerMetrics,
        decide: Decide,
        clock: Clock = utc_now,
    ) -> None:
        self._cache = cache
        self._queue = queue
        self._executor = executor
        self._metrics = metrics
        self._decide = decide
        self._clock = clock

    async def reconcile(self, key: RolloutKey) -> None:
        started = time.perf_counter()
        snapshot = self._cache.snapshot_for(key.namespace, key.name, self._clock())
        if snapshot is None:
            # Deleted: its children go with it (ownerReferences), its series and timers go here.
            self._queue.discard(key)
            self._metrics.forget(key.namespace, key.name)
            return
        try:
            await self._reconcile(key, snapshot)
        finally:
            self._metrics.observe_reconcile(key.namespace, key.name, time.perf_counter() - started)

    async def _reconcile(self, key: RolloutKey, snapshot: RolloutSnapshot) -> None:
        try:
            plan = self._decide(snapshot)
        except Exception:
            # A bug in the decision, not a state of the cluster: say which Rollout trips it and try again
            # later (a fix deployed, or the spec changed), without taking the worker down.
            logger.exception("rollout %s: deciding failed", key)
            self._metrics.count_error(key.namespace, key.name)
            self._queue.add_after(key, self._queue.backoff(key))
            return
        self._metrics.observe_rollout(snapshot.rollout, plan.status or snapshot.rollout.get("status") or {})
        outcome = None if plan.is_noop else await self._executor.execute(snapshot.rollout, plan)
        self._schedule(key, plan, outcome)

    def _schedule(self, key: RolloutKey, plan: Plan, outcome: Outcome | None) -> None:
        if outcome is not None and outcome.error is not None:
            reason = describe_error(outcome.error)
            if outcome.transient:
                logger.info("rollout %s: %s: %s; retrying", key, outcome.failed_write, reason)
                # Soon, but backing off all the same should it keep happening (an object we do not watch).
                delay = max(TRANSIENT_RETRY_SECONDS, self._queue.backoff(key))
            else:
                logger.warning("rollout %s: %s failed: %s", key, outcome.failed_write, reason)
                self._metrics.count_error(key.namespace, key.name)
                delay = self._queue.backoff(key)
            self._queue.add_after(key, delay)
            return
        self._queue.forget(key)
        if plan.requeue_after is not None:
            self._queue.add_after(key, max(plan.requeue_after, MIN_REQUEUE_SECONDS))

