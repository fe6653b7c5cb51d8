"""What runs in the background of a sandbox between `start()` and `stop()`: the simulators, Prometheus, the sandbox."""

from __future__ import annotations

import abc
import asyncio
from collections.abc import Iterable
from typing import Any, Self

import httpx

from kube.work_queue import WorkQueue, cancel_tasks
from sandbox.informer import Informer


class Background(abc.ABC):
    """Started and stopped explicitly, or as `async with`; both idempotent."""

    @abc.abstractmethod
    async def start(self) -> None:
        """Return once running."""

    @abc.abstractmethod
    async def stop(self) -> None:
        """Stop whatever runs; calling it again does nothing."""

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()


async def stop_watching(
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
