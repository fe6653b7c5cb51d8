"""A keyed, de-duplicating work queue with urgency, scheduled wake-ups, drained by a fixed number of workers.

The semantics of client-go's workqueue, which Argo Rollouts runs on:

- a key waits in the queue at most once, however often it is added;
- a key is never processed by two workers at once: added while in progress, it is marked dirty and queued
  again once its worker is done, so the change that came in meanwhile is seen by a fresh pass;
- ``add_after`` is a timer on the event loop, not a polling loop; of several wake-ups scheduled for one key
  the earliest wins (a later pass schedules its own next one);
- ``backoff`` grows per key on each failure and ``forget`` resets it once a pass succeeds.

And what client-go's lacks: every key is queued with an ``Urgency``, so that an abort or a pause that has ended
is not served after a thousand resyncs queued a moment earlier. A key added again keeps the most urgent of its
pending urgencies (its dirty one too, while it is in progress). Urgent keys go first, oldest first within one
urgency; so that a steady stream of urgent keys cannot starve the others, a waiting key gains one urgency level
for every ``aging_seconds`` it has waited — a resync waits at most ``4 × aging_seconds`` behind fresh aborts.

Workers give the event loop a turn after every pass, so that a pass that needs no I/O (a resync of an object
that needs nothing) cannot hold the loop through a whole queue of them.

Everything runs on one event loop; no method is thread-safe.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable, Hashable
from typing import Final, Generic, TypeVar

logger = logging.getLogger(__name__)

K = TypeVar("K", bound=Hashable)

# Argo's rate limiter backs off exponentially up to 1000 s; a few minutes keeps a broken rollout retried
# often enough to notice a fix without hammering the API server.
DEFAULT_BACKOFF_BASE: Final = 0.5
DEFAULT_BACKOFF_MAX: Final = 300.0
# Long enough that urgency decides the order under the bursts a controller sees (a thousand timers due in the
# same second take it a few seconds), short enough that a resync is never more than a minute late.
DEFAULT_AGING_SECONDS: Final = 10.0


class Urgency(enum.IntEnum):
    """How soon a queued key needs its pass, most urgent first."""

    ABORT = 0
    """Traffic must go back to stable: a failed or errored analysis verdict, ``rollouts abort``."""
    USER_ACTION = 1
    """Someone asked for something: a new spec (image), promote, retry, restart, a new object."""
    TIMER = 2
    """A wake-up the controller scheduled is due: a pause or a scale-down delay has ended."""
    ROUTINE = 3
    """Follow-ups: children's status changes, echoes of the controller's own writes, retries after failures."""
    RESYNC = 4
    """The periodic look at every key, and the catch-up when a controller starts."""


class WorkQueue(Generic[K]):
    """Keys waiting for a pass by urgency, keys being processed, and timers that will add keys later."""

    def __init__(
        self,
        *,
        backoff_base: float = DEFAULT_BACKOFF_BASE,
        backoff_max: float = DEFAULT_BACKOFF_MAX,
        aging_seconds: float = DEFAULT_AGING_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if aging_seconds <= 0:
            raise ValueError(f"aging_seconds must be positive, got {aging_seconds:g}")
        # One FIFO per urgency of (key, ticket, queued since). A key's current entry has the ticket recorded in
        # ``_queued``; one whose urgency was raised leaves a stale entry behind, skipped when met.
        self._levels: tuple[deque[tuple[K, int, float]], ...] = tuple(deque() for _ in Urgency)
        self._queued: dict[K, tuple[Urgency, int]] = {}
        self._available = asyncio.Semaphore(0)  # one token per queued key
        self._tickets = 0
        self._processing: set[K] = set()
        self._dirty: dict[K, Urgency] = {}
        self._timers: dict[K, tuple[asyncio.TimerHandle, Urgency]] = {}
        self._failures: dict[K, int] = {}
        self._backoff_base = backoff_base
        self._backoff_max = backoff_max
        self._aging = aging_seconds
        self._clock = clock
        self._closed = False

    # -- adding ------------------------------------------------------------------------------------------

    def add(self, key: K, urgency: Urgency = Urgency.ROUTINE) -> None:
        """Queue ``key`` for a pass at ``urgency``; already waiting, it keeps the more urgent of the two; in
        progress, it is passed again after, at the most urgent urgency it was added with meanwhile."""
        if self._closed:
            return
        if key in self._processing and key not in self._queued:
            self._dirty[key] = min(urgency, self._dirty.get(key, urgency))
            return
        pending = self._queued.get(key)
        if pending is not None and pending[0] <= urgency:
            return
        self._tickets += 1
        self._queued[key] = (urgency, self._tickets)
        self._levels[urgency].append((key, self._tickets, self._clock()))
        if pending is None:
            self._available.release()

    def add_after(self, key: K, delay: float, urgency: Urgency = Urgency.TIMER) -> None:
        """Queue ``key`` at ``urgency`` once ``delay`` seconds have passed; an earlier wake-up already scheduled
        wins."""
        if self._closed:
            return
        if delay <= 0:
            self.add(key, urgency)
            return
        loop = asyncio.get_running_loop()
        when = loop.time() + delay
        scheduled = self._timers.get(key)
        if scheduled is not None:
            if scheduled[0].when() <= when:
                return
            scheduled[0].cancel()
        self._timers[key] = (loop.call_at(when, self._wake, key), urgency)

    def _wake(self, key: K) -> None:
        timer = self._timers.pop(key, None)
        self.add(key, timer[1] if timer is not None else Urgency.TIMER)

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
            timer[0].cancel()
        self._failures.pop(key, None)

    # -- processing --------------------------------------------------------------------------------------

    async def get(self) -> K:
        """The next key to process (see the module's docstring for the order); the caller must call
        ``done(key)`` when the pass ends."""
        await self._available.acquire()
        key = self._take_next()
        del self._queued[key]
        self._processing.add(key)
        return key

    def _take_next(self) -> K:
        """Pop the head that goes first: the lowest urgency once aged, then the longest waiting."""
        now = self._clock()
        best: tuple[float, float, int] | None = None
        for level, entries in enumerate(self._levels):
            while entries and self._queued.get(entries[0][0]) != (level, entries[0][1]):
                entries.popleft()  # stale: the key was raised to another urgency, or has been handed out
            if entries:
                since = entries[0][2]
                aged = level - math.floor(max(0.0, now - since) / self._aging)
                rank = (float(aged), since, level)
                if best is None or rank < best:
                    best = rank
        assert best is not None, "a token was acquired, so some key is queued"
        return self._levels[best[2]].popleft()[0]

    def done(self, key: K) -> None:
        """End ``key``'s pass; a key added while it ran is queued again now."""
        self._processing.discard(key)
        urgency = self._dirty.pop(key, None)
        if urgency is not None:
            self.add(key, urgency)

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
            # A pass without I/O never suspends, and neither does get() while keys wait: without this turn one
            # worker could hold the loop (watches, probes, timers) through the whole queue.
            await asyncio.sleep(0)

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
                self.add_after(key, self.backoff(key), Urgency.ROUTINE)
            finally:
                self.done(key)
            await asyncio.sleep(0)  # as in _work: a turn for the loop after every pass

    def close(self) -> None:
        """Cancel every scheduled wake-up and accept no more keys."""
        self._closed = True
        for timer, _ in self._timers.values():
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
        return timer[0].when() if timer is not None else None

    def pending_urgency(self, key: K) -> Urgency | None:
        """The urgency ``key`` waits at (or will be queued again at, if added while in progress); None if neither."""
        pending = self._queued.get(key)
        return pending[0] if pending is not None else self._dirty.get(key)


async def cancel_tasks(tasks: list[asyncio.Task[None]]) -> None:
    """Cancel ``tasks`` (workers, watches) and wait until each has ended."""
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task
