"""The analysis controller assembled: cache, work queue, reconciler, Events and metrics, with the lifecycle that
starts and stops them.

As the Rollout controller does, it lists every AnalysisRun once into the cache before any worker runs, and the
watch (kopf) keeps the cache current. Jobs are not listed: kopf's own initial listing of Jobs reaches
``observe_job`` like any event, so a Job that finished while the controller was down still wakes its run.

Runs are measured concurrently by ``workers`` workers (Argo's ``--analysis-threads``, 30); a run is never in two
workers at once. A slow provider holds only its own run's worker: requests are async with a total deadline and a
bulkhead per endpoint (``analysis.providers.outbound``), conditions are evaluated beside the loop, and stopping
cancels the passes in flight, which closes their requests.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Final

from prometheus_client import CollectorRegistry

from analysis.controller.cache import RunCache
from analysis.controller.metrics import AnalysisMetrics
from analysis.controller.reconciler import RunReconciler
from analysis.providers.base import provider_for
from analysis.runner.measure_io import DEFAULT_MEASUREMENT_TIMEOUT, ProviderFactory
from kube.client import AsyncKubeClient
from kube.controller_runner import ControllerRunner, NamespacedWorkerOptions
from kube.controller_startup import CacheFirstController, list_into_cache
from kube.events import EventRecorder
from kube.json_data import JsonObject
from kube.object_meta import ObjectKey
from kube.resources import ANALYSIS_RUNS
from kube.timestamps import Clock, utc_now

logger = logging.getLogger(__name__)


DEFAULT_WORKERS: Final = 30  # Argo's --analysis-threads


@dataclass(frozen=True, kw_only=True)
class AnalysisOptions(NamespacedWorkerOptions):
    """How the analysis controller runs."""

    workers: int = DEFAULT_WORKERS
    measurement_timeout: float = DEFAULT_MEASUREMENT_TIMEOUT


class AnalysisController(CacheFirstController[AsyncKubeClient, AnalysisOptions]):
    """The AnalysisRun controller, whose reconciler measures; fed the events of runs and Jobs, started and stopped
    by ``analysis.controller.handlers``. Its methods run on the operator's event loop."""

    def __init__(
        self,
        client: AsyncKubeClient,
        options: AnalysisOptions | None = None,
        *,
        registry: CollectorRegistry | None = None,
        clock: Clock = utc_now,
        providers: ProviderFactory = provider_for,
    ) -> None:
        super().__init__(client, options if options is not None else AnalysisOptions(), clock)
        self.cache = RunCache()
        self.metrics = AnalysisMetrics(registry)
        self.events = EventRecorder(client)
        self.reconciler = RunReconciler(
            cache=self.cache,
            client=client,
            events=self.events,
            metrics=self.metrics,
            clock=clock,
            providers=providers,
            measurement_timeout=self.options.measurement_timeout,
        )
        self.runner: ControllerRunner[ObjectKey] = ControllerRunner(
            self.options.runner_options("analysis run"),
            self.reconciler.reconcile,
            self.cache.run_keys,
            self.metrics,
        )

    # -- input -------------------------------------------------------------------------------------------

    def observe_run(self, event_type: str | None, run: JsonObject) -> None:
        """A watch event of an AnalysisRun: update the cache and the metrics, and queue the run."""
        key = self.cache.observe_run(event_type, run)
        if key is None:
            return
        cached = self.cache.get(key)
        if cached is not None:
            self.metrics.observe_run(cached)
        self.runner.add(key)

    def observe_job(self, event_type: str | None, job: JsonObject) -> None:
        """A watch event of a Job: wake the run it belongs to when the Job has just finished."""
        key = self.cache.observe_job(event_type, job)
        if key is not None:
            self.runner.add(key)

    # -- lifecycle ---------------------------------------------------------------------------------------

    async def _fill_cache(self) -> None:
        """List every AnalysisRun (in the watched namespaces) into the cache."""
        await list_into_cache(
            self.client, ANALYSIS_RUNS, self.options.namespaces, lambda run: self.observe_run(None, run)
        )

    def _workers_started(self) -> None:
        self._log_started("analysis", f"{len(self.cache)} runs")

    async def stop(self) -> None:
        """Stop the workers (a pass in flight is cancelled; the next start measures again) and the timers."""
        await self.runner.stop()
        await self.events.drain()
