"""What the workload and controller simulators share: an HTTP client to the API server, informers that watch it,
and work queues drained by workers, started once and stopped together."""

from __future__ import annotations

import abc
import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

import httpx

from kube.work_queue import WorkQueue, cancel_tasks
from sandbox.background import Background
from sandbox.informer import Informer, ObjectKey

Work = tuple[WorkQueue[ObjectKey], Callable[[ObjectKey], Awaitable[None]], str]
"""A queue, the sync its workers run over each key, and the name their tasks carry."""


class Simulator(Background):
    """Starts by listing what it watches (errors raised to the caller), then works its queues in the background."""

    def __init__(self, api_url: str, *, workers: int, headers: Mapping[str, str] | None = None) -> None:
        self.api_url = api_url.rstrip("/")
        self._headers = dict(headers or {})  # the emulator's credentials, when it checks them
        self._workers = max(1, workers)
        self._client: httpx.AsyncClient | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._started = False

    @abc.abstractmethod
    async def _watch(self, client: httpx.AsyncClient) -> None:
        """Create and start the informers (each lists once before returning)."""

    @abc.abstractmethod
    def _work(self) -> Iterable[Work]:
        """The queues to drain, once watching has started."""

    @abc.abstractmethod
    def _parts(self) -> tuple[Iterable[Informer | None], Iterable[WorkQueue[Any]]]:
        """The informers and queues to stop, whatever `_watch` got to create."""

    async def start(self) -> None:
        """List every watched type, then reconcile in the background. Idempotent."""
        if self._started:
            return
        self._started = True
        self._client = httpx.AsyncClient(base_url=self.api_url, headers=self._headers, timeout=httpx.Timeout(10.0))
        try:
            await self._watch(self._client)
        except BaseException:
            await self.stop()
            raise
        for queue, sync, name in self._work():
            self._tasks += queue.start_workers(sync, self._workers, name)

    async def stop(self) -> None:
        """Cancel watches, workers and timers and close the HTTP client. Idempotent."""
        if not self._started:
            return
        self._started = False
        tasks, self._tasks = self._tasks, []
        client, self._client = self._client, None
        informers, queues = self._parts()
        await _stop_watching(tasks, informers, queues, client)


async def _stop_watching(
    tasks: list[asyncio.Task[None]],
    informers: Iterable[Informer | None],
    queues: Iterable[WorkQueue[Any]],
    client: httpx.AsyncClient | None,
) -> None:
    """Stop what a simulator runs on: its workers first (so none is left waiting on a closed queue), then its
    watches, its queues and its HTTP client."""
    await cancel_tasks(tasks)
    for informer in informers:
        if informer is not None:
            await informer.stop()
    for queue in queues:
        queue.close()
    if client is not None:
        await client.aclose()
