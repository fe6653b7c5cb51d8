"""The Rollout controller assembled: cache, work queue, executor, Events, metrics and the reconciler, with the
lifecycle that starts and stops them.

Start-up mirrors client-go's "wait for caches to sync": every watched kind is listed once into the cache before
any worker runs, so no Rollout is decided from a half-filled cache (a pass that saw the Rollout but not yet its
ReplicaSets would create one that exists). In the controller process that list is the watch stream's own first
list (``kube.informer``), which the stream then watches from; on kopf's watches the controller lists first.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import Final

from analysis.controller.controller import DEFAULT_WORKERS as DEFAULT_ANALYSIS_WORKERS
from kube.client import AsyncKubeClient
from kube.controller_runner import ControllerRunner, Gone, NamespacedWorkerOptions
from kube.controller_startup import CacheFirstController, list_into_cache
from kube.events import SERIES_INTERVAL_SECONDS, EventRecorder
from kube.json_data import JsonObject
from kube.metrics_export import MetricsServer, Probe
from kube.object_meta import object_key
from kube.resources import ROLLOUTS, ResourceKind
from kube.timestamps import Clock, utc_now
from kube.watch_events import DELETED
from kube.work_queue import Urgency
from rollouts.controller.cache import ObjectCache, RolloutKey, watched_kinds
from rollouts.controller.executor import PlanExecutor
from rollouts.controller.metrics import ControllerMetrics
from rollouts.controller.pass_trace import changed_paths, trace, tracing
from rollouts.controller.reconciler import Decide, Reconciler
from rollouts.controller.urgency import event_urgency
from rollouts.experiments.controller import DEFAULT_WORKERS as DEFAULT_EXPERIMENT_WORKERS
from rollouts.plan import Event

logger = logging.getLogger(__name__)


DEFAULT_WORKERS: Final = 10  # Argo's --rollout-threads
DEFAULT_METRICS_PORT: Final = 8090
ADDED_TO_INFORMER: Final = "RolloutAddedToInformer"
DEFAULT_METRICS_ADDRESS: Final = "0.0.0.0"
"""Every interface: in a pod, the kubelet's probes and Prometheus's scrapes come from outside the container."""


@dataclass(frozen=True, kw_only=True)
class ControllerOptions(NamespacedWorkerOptions):
    """How the controller process runs. ``metrics_port`` 0 serves none; ``analysis_workers`` 0 runs no analysis
    controller beside the Rollout controller."""

    workers: int = DEFAULT_WORKERS
    metrics_port: int = DEFAULT_METRICS_PORT
    metrics_address: str = DEFAULT_METRICS_ADDRESS
    analysis_workers: int = DEFAULT_ANALYSIS_WORKERS
    experiment_workers: int = DEFAULT_EXPERIMENT_WORKERS
    """Experiments reconciled concurrently (Argo's --experiment-threads); 0 runs no Experiment controller."""
    promote_on_background_analysis_errors: bool = False
    """Argo's behaviour: a background run whose latest measurements are Errors does not hold full promotion."""


class RolloutController(CacheFirstController[AsyncKubeClient, ControllerOptions]):
    """The Rollout controller: the cache of Rollouts and of what they own or name, the runner, the reconciler and
    its executor, Events and metrics. ``rollouts.controller.handlers`` feeds it the watch events (from the informer
    streams, or kopf's) and starts and stops it; all its methods run on the operator's event loop."""

    def __init__(
        self, client: AsyncKubeClient, decide: Decide, options: ControllerOptions, *, clock: Clock = utc_now
    ) -> None:
        super().__init__(client, options, clock)
        self.cache = ObjectCache()
        self.metrics = ControllerMetrics()
        # Repeats of an Event (a pause's RolloutPaused, step after step) are held while the controller is busy and
        # written once its queue empties (``_reconcile``): a burst of updates costs fewer Event writes.
        self.events = EventRecorder(client, self.metrics, series_interval=SERIES_INTERVAL_SECONDS)
        self.executor = PlanExecutor(client, self.cache, self.events)
        self.reconciler = Reconciler(
            cache=self.cache, executor=self.executor, metrics=self.metrics, decide=decide, clock=clock,
            follow_up=self._follow_up,
        )
        self.runner: ControllerRunner[RolloutKey] = ControllerRunner(
            self.options.runner_options("rollout"),
            self._reconcile,
            self.cache.rollout_keys,
            self.metrics,
        )
        self.metrics_server: MetricsServer | None = None
        # The Rollouts cached when the workers started whose RolloutAddedToInformer is not posted yet (``_reconcile``).
        self._unannounced: set[RolloutKey] = set()

    # -- input -------------------------------------------------------------------------------------------

    def observe(self, kind: ResourceKind, event_type: str | None, obj: JsonObject) -> None:
        """A watch event: update the cache and queue the Rollouts it concerns, as urgently as the change asks."""
        where = object_key(obj)
        previous = self.cache.get(kind, *where) if where is not None else None
        added = kind == ROLLOUTS and event_type != DELETED and previous is None and where is not None
        urgency = event_urgency(kind, event_type, previous, obj)
        keys = self.cache.observe(kind, event_type, obj)
        for key in keys:
            self.runner.add(key, urgency)
        if tracing():
            trace("event", kind=kind.kind, type=event_type or "LIST", object=f"{where[0]}/{where[1]}" if where else "",
                  queued=[f"{key.namespace}/{key.name}" for key in keys], urgency=urgency.name,
                  changed=changed_paths(previous, obj) if keys else [])
        if added and self.runner.started:
            if where is not None:
                self._unannounced.discard(where)  # deleted and created again before its first pass
            self._added_to_informer(obj)

    async def _reconcile(self, key: RolloutKey) -> float | Gone | None:
        """One pass (after the Rollout's RolloutAddedToInformer, if not posted yet); then, when no other key waits,
        the Event repeats held meanwhile are written."""
        if key in self._unannounced:
            self._unannounced.discard(key)
            cached = self.cache.get(ROLLOUTS, key.namespace, key.name)
            if cached is not None:
                self._added_to_informer(cached)
        try:
            return await self.reconciler.reconcile(key)
        finally:
            if not len(self.runner.queue):
                self.events.flush_held()

    def _follow_up(self, key: RolloutKey) -> None:
        """The pass after one whose last round still wrote (``Reconciler.max_rounds``): routine work, passed again
        once the writing pass is done."""
        self.runner.add(key, Urgency.ROUTINE)
        if tracing():
            trace("follow-up", queued=f"{key.namespace}/{key.name}")

    def _added_to_informer(self, rollout: JsonObject) -> None:
        """Argo's RolloutAddedToInformer Event: the leader's cache holds a Rollout it did not hold (every Rollout
        cached when the workers start, just before its first pass; then each new one)."""
        metadata = rollout.get("metadata") or {}
        where = f"{metadata.get('namespace') or 'default'}/{metadata.get('name') or ''}"
        event = Event("Normal", ADDED_TO_INFORMER, f"Rollout resource added to informer: {where}")
        ownership = self.runner.ownership
        if ownership is None:
            self.events.emit(rollout, event)
            return
        # Sharded: only the replica that holds the Rollout's shard says so, and its write is fenced by that shard.
        key = RolloutKey(str(metadata.get("namespace") or "default"), str(metadata.get("name") or ""))
        if ownership.owns(key):
            with ownership.fenced(key):
                self.events.emit(rollout, event)

    # -- lifecycle ---------------------------------------------------------------------------------------

    async def _fill_cache(self) -> None:
        await self.prime_cache()

    def _cache_filled(self) -> None:
        """Serve metrics (if not yet)."""
        self.serve_metrics()

    def _workers_started(self) -> None:
        # Every Rollout cached now gets its RolloutAddedToInformer just before its first pass, not all at once: ten
        # thousand posts started together would hold ten thousand pending requests (~5 KB each, ~50 MB) beside the
        # first pass over them.
        self._unannounced = set(self.cache.rollout_keys())
        self._log_started("rollout", f"{len(self.cache)} objects")

    async def stop(self) -> None:
        """Stop the workers (a pass in flight is cancelled; its writes are idempotent) and everything else."""
        await self.runner.stop()
        await self.events.drain()
        if self.metrics_server is not None:
            await asyncio.get_running_loop().run_in_executor(None, self.metrics_server.close)
            self.metrics_server = None

    def serve_metrics(self, probes: Mapping[str, Probe] | None = None) -> None:
        """Serve /metrics (and ``probes`` at their paths) unless disabled or already served; raises OSError when
        the port is taken."""
        if self.options.metrics_port and self.metrics_server is None:
            self.metrics_server = self.metrics.serve(
                self.options.metrics_port, self.options.metrics_address, probes=probes
            )
            logger.info("serving metrics on %s:%d/metrics", self.options.metrics_address, self.metrics_server.port)

    async def prime_cache(self) -> None:
        """List every watched kind (in the watched namespaces) into the cache."""
        for kind in watched_kinds(self.options.namespaces):
            await list_into_cache(self.client, kind, self.options.namespaces, partial(self.cache.observe, kind, None))
