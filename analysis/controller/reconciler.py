"""One pass over one AnalysisRun: measure what is due → write the status → post the Events → look again.

The decisions are the runner's (``reconcile_run``); this module only carries its outcome out. The status is one
merge patch of ``/status`` carrying the resourceVersion the pass measured from: if someone changed the run
meanwhile (``spec.terminate``, above all), the write is refused with a Conflict instead of overwriting a status
computed without their change, and the next pass — the watch brings the newer run — decides again. A pass that
finds nothing due writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from analysis.controller.cache import RunCache
from analysis.controller.metrics import AnalysisMetrics
from analysis.providers.base import provider_for
from analysis.providers.job import metrics_awaiting
from analysis.runner.measure_io import DEFAULT_MEASUREMENT_TIMEOUT, ProviderFactory, RunOutcome, reconcile_run
from analysis.runner.ttl import ttl_verdict
from kube.client import AsyncKubeClient
from kube.controller_runner import GONE, Gone, PassFailed
from kube.errors import Conflict, NotFound
from kube.events import EventRecorder
from kube.json_data import JsonObject
from kube.object_meta import ObjectKey
from kube.resources import ANALYSIS_RUNS
from kube.timestamps import Clock, utc_now


@dataclass(frozen=True, kw_only=True)
class RunReconciler:
    """One pass over one run key, as ``kube.controller_runner`` calls it: it returns when to look again, and raises
    when the pass failed (the runner retries with backoff and counts what is not transient)."""

    cache: RunCache
    client: AsyncKubeClient
    events: EventRecorder
    metrics: AnalysisMetrics
    clock: Clock = utc_now
    providers: ProviderFactory = provider_for
    measurement_timeout: float = DEFAULT_MEASUREMENT_TIMEOUT

    async def reconcile(self, key: ObjectKey) -> float | Gone | None:
        run = self.cache.get(key)
        if run is None:
            return GONE
        verdict = ttl_verdict(run, self.clock())
        if verdict is not None and verdict.expired:
            return await self._delete_expired(key)
        finished_jobs = self.cache.take_finished_jobs(key)
        try:
            outcome = await reconcile_run(
                run,
                kube=self.client,
                now=self.clock,
                providers=self.providers,
                measurement_timeout=self.measurement_timeout,
                resume_now=metrics_awaiting(run, finished_jobs),
            )
        except Exception as error:
            # The API server failing while a Secret is read, or a bug in the runner: either way the run is left
            # as it was, and the pass is tried again later.
            raise self._failed(key, finished_jobs, "measuring", error) from error
        if outcome.status_patch is not None:
            try:
                run = await self._write_status(run, outcome)
            except Exception as error:  # the measurements are lost; the next pass takes them again
                raise self._failed(key, finished_jobs, "writing the status", error) from error
        for event in outcome.events:
            self.events.emit(run, event)
        # A completed run with a ttlStrategy is looked at again when it is due for deletion.
        verdict = ttl_verdict(run, self.clock())
        if verdict is not None:
            return verdict.wake_in if outcome.requeue_after is None else min(outcome.requeue_after, verdict.wake_in)
        return outcome.requeue_after

    async def _delete_expired(self, key: ObjectKey) -> Gone:
        """Delete a completed run whose ttlStrategy has passed (Argo's maybeGarbageCollectAnalysisRun)."""
        try:
            await self.client.delete(ANALYSIS_RUNS, key.namespace, key.name)
        except NotFound:
            pass  # someone else deleted it first
        except Exception as error:
            raise PassFailed("deleting the run past its ttlStrategy", error, transient=False) from error
        return GONE

    async def _write_status(self, run: JsonObject, outcome: RunOutcome) -> JsonObject:
        metadata = run.get("metadata") or {}
        namespace, name = str(metadata.get("namespace") or ""), str(metadata.get("name") or "")
        body: JsonObject = {"status": outcome.status_patch}
        if metadata.get("resourceVersion"):
            body["metadata"] = {"resourceVersion": metadata["resourceVersion"]}
        updated = await self.client.patch(ANALYSIS_RUNS, namespace, name, body, subresource="status")
        self.cache.record_write(updated)
        self.metrics.observe_run(updated)
        return updated

    def _failed(self, key: ObjectKey, finished_jobs: frozenset[str], doing: str, error: Exception) -> PassFailed:
        # What the pass could not use is still news for the next one.
        self.cache.remember_finished_jobs(key, finished_jobs)
        return PassFailed(doing, error, transient=isinstance(error, Conflict | NotFound))
