"""One pass over one AnalysisRun: measure what is due → write the status → post the Events → look again.

The decisions are the runner's (``reconcile_run``); this module only carries its outcome out. The status is one
merge patch of ``/status`` carrying the resourceVersion the pass measured from: if someone changed the run
meanwhile (``spec.terminate``, above all), the write is refused with a Conflict instead of overwriting a status
computed without their change, and the next pass — the watch brings the newer run — decides again. A pass that
finds nothing due writes nothing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final

from analysis.controller.cache import RunCache
from analysis.controller.metrics import AnalysisMetrics
from analysis.providers.base import provider_for
from analysis.providers.job import metrics_awaiting
from analysis.runner.measure import DEFAULT_MEASUREMENT_TIMEOUT, ProviderFactory, RunOutcome, reconcile_run
from kube.client import AsyncKubeClient
from kube.errors import Conflict, KubeError, NotFound
from kube.events import EventRecorder
from kube.object_meta import ObjectKey
from kube.resources import ANALYSIS_RUNS
from kube.work_queue import WorkQueue

logger = logging.getLogger(__name__)

JsonObject = dict[str, Any]
Clock = Callable[[], datetime]

# After a Conflict or NotFound the watch is about to deliver the newer run (and queue it); this is only the
# backstop in case it does not.
TRANSIENT_RETRY_SECONDS: Final = 1.0
# A measurement due "now" must not become a busy loop.
MIN_REQUEUE_SECONDS: Final = 0.05


def utc_now() -> datetime:
    return datetime.now(UTC)


class RunReconciler:
    """Processes run keys handed out by the work queue."""

    def __init__(
        self,
        *,
        cache: RunCache,
        queue: WorkQueue[ObjectKey],
        client: AsyncKubeClient,
        events: EventRecorder,
        metrics: AnalysisMetrics,
        clock: Clock = utc_now,
        providers: ProviderFactory = provider_for,
        measurement_timeout: float = DEFAULT_MEASUREMENT_TIMEOUT,
    ) -> None:
        self._cache = cache
        self._queue = queue
        self._client = client
        self._events = events
        self._metrics = metrics
        self._clock = clock
        self._providers = providers
        self._measurement_timeout = measurement_timeout

    async def reconcile(self, key: ObjectKey) -> None:
        started = time.perf_counter()
        run = self._cache.get(key)
        if run is None:
            # Deleted: its Jobs go with it (ownerReferences), its series and timers go here.
            self._queue.discard(key)
            self._metrics.forget(key.namespace, key.name)
            return
        try:
            await self._reconcile(key, run)
        finally:
            self._metrics.observe_reconcile(key.namespace, key.name, time.perf_counter() - started)

    async def _reconcile(self, key: ObjectKey, run: JsonObject) -> None:
        finished_jobs = self._cache.take_finished_jobs(key)
        try:
            outcome = await reconcile_run(
                run,
                kube=self._client,
                now=self._clock,
                providers=self._providers,
                measurement_timeout=self._measurement_timeout,
                resume_now=metrics_awaiting(run, finished_jobs),
            )
        except Exception as error:
            # The API server failing while a Secret is read, or a bug in the runner: either way the run is left
            # as it was, and the pass is tried again later without taking the worker down.
            self._fail(key, finished_jobs, "measuring", error)
            return
        if outcome.status_patch is not None:
            try:
                run = await self._write_status(run, outcome)
            except Exception as error:  # the measurements are lost; the next pass takes them again
                self._fail(key, finished_jobs, "writing the status", error)
                return
        for event in outcome.events:
            self._events.emit(run, event)
        self._queue.forget(key)
        if outcome.requeue_after is not None:
            self._queue.add_after(key, max(outcome.requeue_after, MIN_REQUEUE_SECONDS))

    async def _write_status(self, run: JsonObject, outcome: RunOutcome) -> JsonObject:
        metadata = run.get("metadata") or {}
        namespace, name = str(metadata.get("namespace") or ""), str(metadata.get("name") or "")
        body: JsonObject = {"status": outcome.status_patch}
        if metadata.get("resourceVersion"):
            body["metadata"] = {"resourceVersion": metadata["resourceVersion"]}
        updated = await self._client.patch(ANALYSIS_RUNS, namespace, name, body, subresource="status")
        self._cache.record_write(updated)
        self._metrics.observe_run(updated)
        return updated

    def _fail(self, key: ObjectKey, finished_jobs: frozenset[str], doing: str, error: Exception) -> None:
        # What the pass could not use is still news for the next one.
        self._cache.remember_finished_jobs(key, finished_jobs)
        if isinstance(error, Conflict | NotFound):
            logger.info("analysis run %s: %s: %s; retrying", key, doing, error)
            delay = max(TRANSIENT_RETRY_SECONDS, self._queue.backoff(key))
        else:
            if isinstance(error, KubeError):
                logger.warning("analysis run %s: %s failed: %s", key, doing, error)
            else:
                logger.error("analysis run %s: %s failed", key, doing, exc_info=error)
            self._metrics.count_error(key.namespace, key.name)
            delay = self._queue.backoff(key)
        self._queue.add_after(key, delay)
