"""How every controller starts: its cache filled first (client-go's "wait for caches to sync"), then its workers —
at once, or once the process is elected leader.

``list_into_cache`` is the start-up list of one watched kind; ``CacheFirstController`` is the start-up order the
controllers share, with hooks for what each one fills and does around its workers' start.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, Final

from kube.client import AsyncKubeClient
from kube.controller_runner import ControllerRunner
from kube.errors import ApiError, NotFound
from kube.json_data import JsonObject
from kube.resources import ResourceKind

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


class CacheFirstController(ABC):
    """A controller whose workers start only once its cache is synced, so that no pass decides from a half-filled
    cache (a pass that saw a Rollout but not yet its ReplicaSets would create one that exists).

    With ``leader_election`` the workers wait for ``start_workers``, called once this process is elected leader
    (or holds a shard); the cache is filled and kept warm meanwhile, so that a standby taking over starts from a
    synced cache.
    """

    runner: ControllerRunner[Any]

    def __init__(self, *, leader_election: bool) -> None:
        self.cache_synced = asyncio.Event()  # set once start() has filled the cache
        self._workers_wait_for_election = leader_election

    async def start(self) -> None:
        """Fill the cache, then start the workers unless they wait for leadership. Idempotent."""
        if self.cache_synced.is_set():
            return
        await self._fill_cache()
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
        """Fill the cache the passes read (and start what serves beside it) before any worker runs."""

    def _before_workers(self) -> None:  # noqa: B027 — a hook most controllers do not need
        """What must run before the first pass (nothing by default)."""

    def _workers_started(self) -> None:  # noqa: B027 — a hook most controllers do not need
        """What follows the workers' start (nothing by default)."""
