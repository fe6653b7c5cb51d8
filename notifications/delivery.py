"""Delivery off the reconcile path: a bounded queue drained by a few worker tasks of its own, each failed attempt
retried after an exponential backoff, a notification given up after ``max_attempts`` (its controller's next pass
offers it again, since nothing recorded it as sent).

A slow or failing destination holds only the worker sending to it; the controllers never wait for a delivery, and
a full queue refuses an offer instead of blocking (the next pass offers it again).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Final

from notifications.services.errors import DeliveryError

logger = logging.getLogger(__name__)

DEFAULT_CAPACITY: Final = 1000
DEFAULT_WORKERS: Final = 4
DEFAULT_MAX_ATTEMPTS: Final = 5


class Permanent(Exception):
    """A delivery that no retry can fix (a template that does not render); given up at once."""


@dataclass
class DeliveryJob:
    """One notification to deliver: ``send`` delivers it, ``sent`` records it afterwards (its state key)."""

    identity: Hashable
    description: str
    send: Callable[[], Awaitable[None]]
    sent: Callable[[], Awaitable[None]]
    attempt: int = 0


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    backoff_base: float = 1.0
    backoff_max: float = 30.0

    def delay(self, attempt: int) -> float:
        """Seconds before attempt ``attempt + 1``: base × 2^(attempt − 1), at most ``backoff_max``."""
        return float(min(self.backoff_max, self.backoff_base * 2 ** max(0, attempt - 1)))


class DeliveryQueue:
    """The bounded queue and its workers; all methods run on one event loop."""

    def __init__(
        self, *, capacity: int = DEFAULT_CAPACITY, workers: int = DEFAULT_WORKERS, retry: RetryPolicy | None = None
    ) -> None:
        self._queue: asyncio.Queue[DeliveryJob] = asyncio.Queue(maxsize=capacity)
        self._workers_wanted = workers
        self._workers: list[asyncio.Task[None]] = []
        self._timers: set[asyncio.TimerHandle] = set()
        self.retry = retry or RetryPolicy()
        self.pending: set[Hashable] = set()
        """Identities offered and not yet delivered or given up: a pass does not offer them again."""
        self.delivered = 0
        self.failed_attempts = 0
        self.given_up = 0

    def offer(self, job: DeliveryJob) -> bool:
        """Queue ``job`` unless it is pending already or the queue is full; True when queued."""
        if job.identity in self.pending:
            return False
        try:
            self._queue.put_nowait(job)
        except asyncio.QueueFull:
            logger.warning("notification queue full; %s will be offered again on the next pass", job.description)
            return False
        self.pending.add(job.identity)
        return True

    @property
    def running_workers(self) -> int:
        """Delivery tasks still running (each must outlive any delivery)."""
        return sum(not worker.done() for worker in self._workers)

    def start(self) -> None:
        if self._workers:
            return
        loop = asyncio.get_running_loop()
        self._workers = [
            loop.create_task(self._work(), name=f"notification delivery {number}")
            for number in range(self._workers_wanted)
        ]

    async def stop(self) -> None:
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        workers, self._workers = self._workers, []
        for worker in workers:
            worker.cancel()
        for worker in workers:
            with contextlib.suppress(asyncio.CancelledError):
                await worker
        self.pending.clear()

    async def _work(self) -> None:
        while True:
            job = await self._queue.get()
            try:
                await self._attempt(job)
            finally:
                self._queue.task_done()

    async def _attempt(self, job: DeliveryJob) -> None:
        job.attempt += 1
        try:
            await job.send()
        except Permanent as error:
            self.given_up += 1
            self.pending.discard(job.identity)
            logger.warning("notification %s not sent: %s", job.description, error)
            return
        except DeliveryError as error:
            self.failed_attempts += 1
            if job.attempt >= self.retry.max_attempts:
                self.given_up += 1
                self.pending.discard(job.identity)
                logger.warning("notification %s not sent after %d attempts: %s", job.description, job.attempt, error)
                return
            delay = self.retry.delay(job.attempt)
            logger.info("notification %s: attempt %d failed (%s); retrying in %gs", job.description, job.attempt,
                        error, delay)
            self._later(delay, job)
            return
        except Exception as error:  # a worker must outlive any delivery; the message may hold a secret: not shown
            self.given_up += 1
            self.pending.discard(job.identity)
            logger.warning("notification %s not sent: %s", job.description, type(error).__name__)
            return
        self.delivered += 1
        try:
            await job.sent()
        except Exception as error:  # delivered, not recorded: the next pass offers it again (at least once)
            logger.warning("notification %s delivered but not recorded (%s: %s); the next pass offers it again",
                           job.description, type(error).__name__, error)
        finally:
            self.pending.discard(job.identity)

    def _later(self, delay: float, job: DeliveryJob) -> None:
        def requeue() -> None:
            self._timers.discard(timer)
            try:
                self._queue.put_nowait(job)
            except asyncio.QueueFull:
                self.pending.discard(job.identity)

        timer = asyncio.get_running_loop().call_later(delay, requeue)
        self._timers.add(timer)
