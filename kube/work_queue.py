"""A keyed, de-duplicating work queue with scheduled wake-ups, drained by a fixed number of workers.

The semantics of client-go's workqueue, which Argo Rollouts runs on:

- a key waits in the queue at most once, however often it is added;
- a key is never processed by two workers at once: added while in progress, it is marked dirty and queued
  again once its worker is done, so the change that came in meanwhile is seen by a fresh pass;
- ``add_after`` is a timer on the event loop, not a polling loop; of several wake-ups scheduled for one key
  the earliest wins (a later pass schedules its own next one);
- ``backoff`` grows per key on each failure and ``forget`` resets it once a pass succeeds.

Everything runs on one event loop; no method is thread-safe.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Hashable
from typing import Final, Generic, TypeVar

logger = logging.getLogger(__name__)

K = TypeVar("K", bound=Hashable)

# Argo's rate limiter backs off exponentially up to 1000 s; a few minutes keeps a broken rollout retried
# often enough to notice a fix without hammering the API server.
DEFAULT_BACKOFF_BASE: Final = 0.5
DEFAULT_BACKOFF_MAX: Final = 300.0


class WorkQueue(Generic[K]):
    """Keys waiting for a pass, keys being processed, and timers that will add keys later."""

    def __init__(
        self, *, backoff_base: float = DEFAULT_BACKOFF_BASE, backoff_max: float = DEFAULT_BACKOFF_MAX
    ) -> None:
        self._ready: asyncio.Queue[K] = asyncio.Queue()
        self._queued: set[K] = set()
        self._processing: set[K] = set()
        self._dirty: set[K] = set()
        self._timers: dict[K, asyncio.TimerHandle] = {}
        self._failures: dict[K, int] = {}
        self._backoff_base = backoff_base
        self._backoff_max = backoff_max
        self._closed = False

    # -- adding ------------------------------------------------------------------------------------------

    def add(self, key: K) -> None:
        """Queue ``key`` for a pass, unless it is already waiting; if it is in progress, pass it again after."""
        if self._closed or key in self._queued:
            return
        if key in self._processing:
            self._dirty.add(key)
            return
        self._queued.add(key)
        self._ready.put_nowait(key)

    def add_after(self, key: K, delay: float) -> None:
        """Queue ``key`` once ``delay`` seconds have passed; an earlier wake-up already scheduled wins."""
        if self._closed:
            return
        if delay <= 0:
            self.add(key)
            return
        loop = asyncio.get_running_loop()
        when = loop.time() + delay
        scheduled = self._timers.get(key)
        if scheduled is not None:
            if scheduled.when() <= when:
                return
            scheduled.cancel()
        self._timers[key] = loop.call_at(when, self._wake, key)

    def _wake(self, key: K) -> None:
        self._timers.pop(key, None)
        self.add(key)

    # -- failures ----------------------------------------------------------------------------------------

    def backoff(self, key: K) -> float:
        """The delay before retrying ``key`` after one more failure: base, 2×base, 4×base … up to the cap."""
        failures = self._failures.get(key, 0)
        self._failures[key] = failures + 1
        return float(min(self._backoff_base * 2**min(failures, 32), self._backoff_max))

    def forget(self, key: K) -> None:
        """Reset ``key``'s failure count (its last pass succeeded)."""
        self._failures.pop(key, None)

    def discard(self, key: K) -> None:
        """Drop ``key``'s scheduled wake-up and failure count (its object is gone)."""
        timer = self._timers.pop(key, None)
        if timer is not None:
            timer.cancel()
        self._failures.pop(key, None)

    # -- processing --------------------------------------------------------------------------------------

    async def get(self) -> K:
        """The next key to process; the caller must call ``done(key)`` when the pass ends."""
        key = await self._ready.get()
        self._queued.discard(key)
        self._processing.add(key)
        return key

    def done(self, key: K) -> None:
        self._processing.discard(key)
        if key in self._dirty:
            self._dirty.discard(key)
            self.add(key)

    async def serve(self, process: Callable[[K], Awaitable[None]], workers: int, *, name: str = "worker") -> None:
        """Run ``workers`` workers that pass keys to ``process`` until cancelled (tasks named ``<name> <i>``).

        ``process`` is expected to handle its own errors; one that escapes is logged and the worker goes on,
        because a worker that died would silently shrink the controller.
        """
        async with asyncio.TaskGroup() as group:
            for index in range(max(1, workers)):
                group.create_task(self._work(process), name=f"{name} {index}")

    async def _work(self, process: Callable[[K], Awaitable[None]]) -> None:
        while True:
            key = await self.get()
            try:
                await process(key)
            except Exception:
                logger.exception("unhandled error while processing %s", key)
            finally:
                self.done(key)

    def start_workers(self, sync: Callable[[K], Awaitable[None]], count: int, name: str) -> list[asyncio.Task[None]]:
        """``count`` tasks running :meth:`work_retrying` over ``sync``, named ``<name> worker <i>``."""
        return [asyncio.create_task(self.work_retrying(sync), name=f"{name} worker {index}") for index in range(count)]

    async def work_retrying(self, sync: Callable[[K], Awaitable[None]]) -> None:
        """One worker for loops that need no runner (the sandbox's simulators): a key whose ``sync`` raised is
        retried after the queue's backoff, and one that passed has its backoff forgotten."""
        while True:
            key = await self.get()
            try:
                await sync(key)
                self.forget(key)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                logger.warning("sync of %s failed, retrying: %s", key, error)
                self.add_after(key, self.backoff(key))
            finally:
                self.done(key)

    def close(self) -> None:
        """Cancel every scheduled wake-up and accept no more keys."""
        self._closed = True
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()

    # -- introspection -----------------------------------------------------------------------------------

    def __len__(self) -> int:
        """Keys waiting for a worker (not counting those in progress or scheduled for later)."""
        return len(self._queued)

    @property
    def idle(self) -> bool:
        """Nothing waiting and nothing in progress (scheduled wake-ups may still be pending)."""
        return not self._queued and not self._processing

    def scheduled(self, key: K) -> float | None:
        """The loop time of ``key``'s next scheduled wake-up, if any."""
        timer = self._timers.get(key)
        return timer.when() if timer is not None else None


async def cancel_tasks(tasks: list[asyncio.Task[None]]) -> None:
    """Cancel ``tasks`` (workers, watches) and wait until each has ended."""
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task
