"""How every controller starts: its cache filled first (client-go's "wait for caches to sync"), then its workers —
at once, or once the process is elected leader.

``CacheFirstController`` is the start-up order the controllers share, with hooks for what each one fills and does
around its workers' start. In the controller process the cache fills from the watch streams' first lists
(``kube.informer``; ``fill_from``), one list per kind for every controller that observes it; a controller on kopf's
watches lists its kinds itself first (``list_into_cache``, the start-up list of one watched kind).
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from typing import Any, Final, Generic, TypeVar

from kube.client import AsyncKubeClient
from kube.controller_runner import ControllerRunner, WorkerOptions
from kube.errors import ApiError, NotFound
from kube.json_data import JsonObject
from kube.resources import ResourceKind
from kube.timestamps import Clock

ClientT = TypeVar("ClientT")
OptionsT = TypeVar("OptionsT", bound=WorkerOptions)

logger = logging.getLogger(__name__)

# Objects indexed into a cache between two turns of the event loop at start-up (a few milliseconds' work).
PRIME_SLICE: Final = 200


async def list_into_cache(
    client: AsyncKubeClient,
    kind: ResourceKind,
    namespaces: tuple[str, ...],
    observe: Callable[[JsonObject], object],
) -> None:
    """List ``kind`` in each of ``namespaces`` (every namespace when empty; once, and only when watching every
    namespace, for a cluster-scoped kind) and hand each object to ``observe``.

    A kind the cluster does not serve (its CRD not installed) is skipped with a warning: its watch starts when the
    CRD appears. A namespace that cannot be listed is skipped with a warning; the others are still listed.
    """
    scopes: tuple[str | None, ...] = (namespaces or (None,)) if kind.namespaced else (None,)
    for namespace in scopes:
        try:
            objects = await client.list(kind, namespace)
        except NotFound:
            logger.warning("%s (%s) are not served by this cluster; skipping", kind.plural, kind.api_version)
            return
        except ApiError as error:
            logger.warning("cannot list %s in %s: %s", kind.plural, namespace or "all namespaces", error)
            continue
        for index, obj in enumerate(objects, 1):
            observe(obj)
            if index % PRIME_SLICE == 0:
                # A turn for the loop: ten thousand objects indexed in one go would hold the watches, the probes
                # and (standing by) the Lease's reads for seconds.
                await asyncio.sleep(0)


class CacheFirstController(ABC, Generic[ClientT, OptionsT]):
    """A controller whose workers start only once its cache is synced, so that no pass decides from a half-filled
    cache (a pass that saw a Rollout but not yet its ReplicaSets would create one that exists).

    With ``leader_election`` the workers wait for ``start_workers``, called once this process is elected leader
    (or holds a shard); the cache is filled and kept warm meanwhile, so that a standby taking over starts from a
    synced cache.

    Every controller holds the client it reads and writes through, its options and the clock its passes read.
    """

    runner: ControllerRunner[Any]

    def __init__(self, client: ClientT, options: OptionsT, clock: Clock) -> None:
        self.client = client
        self.options = options
        self.clock = clock
        self.cache_synced = asyncio.Event()  # set once start() has filled the cache
        self._workers_wait_for_election = options.leader_election
        self._listed: tuple[Callable[[], Awaitable[object]], ...] = ()

    def fill_from(self, *listed: Callable[[], Awaitable[object]]) -> None:
        """Have the cache filled by watch streams that list before they watch (``kube.informer.Informers.listed``
        of each kind the passes read): ``start`` waits for each of ``listed`` instead of listing for itself (its
        ``_fill_cache`` is not called). Only before ``start``."""
        self._listed = listed

    async def start(self) -> None:
        """Fill the cache, then start the workers unless they wait for leadership. Idempotent."""
        if self.cache_synced.is_set():
            return
        if self._listed:
            for listed in self._listed:
                await listed()
        else:
            await self._fill_cache()
        self._cache_filled()
        self.cache_synced.set()
        if not self._workers_wait_for_election:
            self.start_workers()

    def start_workers(self) -> None:
        """Start the workers and the resync timer, which queue every key. Idempotent; nothing once stopped (a
        leadership won during shutdown must not start writing)."""
        if self.runner.started or self.runner.stopped:
            return
        self._before_workers()
        self.runner.start()
        self._workers_started()

    @abstractmethod
    async def _fill_cache(self) -> None:
        """List what the passes read into the cache (when no watch stream fills it: ``fill_from``)."""

    def _cache_filled(self) -> None:
        """What starts once the cache is filled, before it counts as synced (nothing by default)."""

    def _before_workers(self) -> None:
        """What must run before the first pass (nothing by default)."""

    def _workers_started(self) -> None:
        """What follows the workers' start (nothing by default)."""

    def _log_started(self, name: str, cached: str) -> None:
        """Log that the workers of the controller ``name`` started, with what its cache holds (``cached``: "12
        objects")."""
        logger.info(
            "%s controller started: %d workers, %s cached, resync every %gs",
            name, self.options.workers, cached, self.options.resync_seconds,
        )
