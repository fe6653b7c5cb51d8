"""The part every controller shares: a keyed work queue drained by workers, the periodic resync, retries with
backoff, the reconcile-error count, and stop.

A controller supplies a *reconcile* callable, one pass over one key, which returns when to look at the key again
(``None``: only when a watch event queues it; ``GONE``: the object is gone, forget its timers and series). A pass
that raises is retried with backoff; the runner tells apart what will pass on its own from what will not:

- a Conflict or NotFound (or a ``PassFailed`` marked transient): the watch is about to deliver the newer object,
  so the key is retried soon, not counted as an error;
- any other API error: logged as a warning, counted in the controller's reconcile-error metric, retried with
  backoff;
- anything else is a bug in the controller: logged with its traceback, counted, retried with backoff (a fix
  deployed or the object changed may cure it), and the worker goes on.

Every finished pass is counted in ``passes``, which another thread (a test) can wait on to know that the
controller has looked at a key since a given moment — the observable that replaces "sleep, then check that
nothing happened".
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Final, Generic, Protocol, Self, TypeVar

from kube.errors import Conflict, KubeError, NotFound
from kube.work_queue import DEFAULT_BACKOFF_BASE, DEFAULT_BACKOFF_MAX, Urgency, WorkQueue

logger = logging.getLogger(__name__)

# Argo's resync period for every controller.
DEFAULT_RESYNC_SECONDS: Final = 15 * 60.0
# After a Conflict or NotFound the watch is about to deliver the newer object (and queue the key); this is only
# the backstop in case it does not.
TRANSIENT_RETRY_SECONDS: Final = 1.0
# A timer due "now" (a pause that ends in a millisecond) must not become a busy loop.
MIN_REQUEUE_SECONDS: Final = 0.05

__all__ = [
    "DEFAULT_BACKOFF_BASE",
    "DEFAULT_BACKOFF_MAX",
    "DEFAULT_RESYNC_SECONDS",
    "GONE",
    "MIN_REQUEUE_SECONDS",
    "TRANSIENT_RETRY_SECONDS",
    "ControllerRunner",
    "Gone",
    "KeyOwnership",
    "PassCounter",
    "PassFailed",
    "PassMetrics",
    "Reconcile",
    "RunnerOptions",
    "Urgency",
    "WorkerOptions",
]


class Gone(enum.Enum):
    """What a pass returns when its object no longer exists."""

    GONE = "gone"


GONE: Final = Gone.GONE


class NamespacedKey(Protocol):
    """A work-queue key naming one object (``ObjectKey``, ``RolloutKey``)."""

    def __hash__(self) -> int: ...

    @property
    def namespace(self) -> str: ...

    @property
    def name(self) -> str: ...


K = TypeVar("K", bound=NamespacedKey)
K_contra = TypeVar("K_contra", bound=NamespacedKey, contravariant=True)

Reconcile = Callable[[K], Awaitable[float | Gone | None]]


class KeyOwnership(Protocol[K_contra]):
    """Which keys this process may act on (a sharded controller's replica: those of the shards it holds), and the
    context a pass over one of them runs in, where the write fence checks that it still holds the key's shard."""

    def owns(self, key: K_contra) -> bool: ...

    def fenced(self, key: K_contra) -> contextlib.AbstractContextManager[None]: ...


class PassMetrics(Protocol):
    """The per-object series a controller keeps about its passes."""

    def observe_reconcile(self, namespace: str, name: str, seconds: float) -> None: ...

    def count_error(self, namespace: str, name: str) -> None: ...

    def forget(self, namespace: str, name: str) -> None: ...


class PassFailed(Exception):
    """A pass that could not finish: ``doing`` says what it was doing, ``transient`` whether it will pass on its own
    (the runner retries a transient failure soon and does not count it as an error)."""

    def __init__(self, doing: str, cause: BaseException, *, transient: bool) -> None:
        super().__init__(f"{doing}: {cause}")
        self.doing = doing
        self.cause = cause
        self.transient = transient


@dataclass(frozen=True)
class RunnerOptions:
    """How many workers drain the queue, how often every key is looked at again, and the retry backoff."""

    name: str
    workers: int
    resync_seconds: float = DEFAULT_RESYNC_SECONDS
    backoff_base: float = DEFAULT_BACKOFF_BASE
    backoff_max: float = DEFAULT_BACKOFF_MAX


@dataclass(frozen=True, kw_only=True)
class WorkerOptions:
    """The options every controller has, the base of each controller's own: how its runner's workers run and when
    they start. Each controller gives ``workers`` its own default (Argo's ``--rollout-threads``, …)."""

    workers: int
    """Objects reconciled concurrently; one object is never in two passes at once."""
    resync_seconds: float = DEFAULT_RESYNC_SECONDS
    """Every known object is queued again this often, behind all other work (level-triggered: a pass that finds
    everything as it should be writes nothing); 0 never."""
    leader_election: bool = False
    """The workers wait for ``start_workers`` (called once this process is elected leader, or holds a shard); the
    cache is filled and kept warm meanwhile, so that a standby taking over starts from a synced cache."""

    def runner_options(self, name: str) -> RunnerOptions:
        """The options of the runner of the controller named ``name`` in its logs and its workers' task names."""
        return RunnerOptions(name, self.workers, self.resync_seconds)


@dataclass(frozen=True, kw_only=True)
class NamespacedWorkerOptions(WorkerOptions):
    """The options of a controller that can be kept to some namespaces: the Rollout, AnalysisRun and Experiment
    controllers."""

    namespaces: tuple[str, ...] = ()
    """The namespaces whose objects the controller watches and reconciles; empty means every namespace."""

    @classmethod
    def beside(cls, other: NamespacedWorkerOptions, *, workers: int) -> Self:
        """The options of a controller run in the process of ``other``'s: its namespaces, resync period and leader
        election, with ``workers`` of its own and its other options at their defaults."""
        return cls(
            namespaces=other.namespaces,
            workers=workers,
            resync_seconds=other.resync_seconds,
            leader_election=other.leader_election,
        )


class PassCounter:
    """Counts passes as they start and finish; safe to read and wait on from another thread.

    ``mark()`` returns the number of passes started so far; ``wait_for_pass(key, mark)`` returns once a pass of
    ``key`` that started after that mark has finished — proof the controller looked at the state that held at the
    time of the mark.
    """

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._started = 0
        self._finished = 0
        self._errors = 0
        self._latest_finished: dict[object, int] = {}

    def begin(self) -> int:
        with self._changed:
            self._started += 1
            return self._started

    def end(self, key: object, number: int, *, failed: bool) -> None:
        with self._changed:
            self._finished += 1
            self._errors += failed
            self._latest_finished[key] = max(number, self._latest_finished.get(key, 0))
            self._changed.notify_all()

    def mark(self) -> int:
        """How many passes have started so far."""
        with self._changed:
            return self._started

    @property
    def finished(self) -> int:
        """How many passes have finished, failed ones included."""
        with self._changed:
            return self._finished

    @property
    def errors(self) -> int:
        """How many passes failed with anything but a transient error."""
        with self._changed:
            return self._errors

    def looked_since(self, key: object, mark: int) -> bool:
        """Whether a pass of ``key`` that started after ``mark`` has finished."""
        with self._changed:
            return self._latest_finished.get(key, 0) > mark

    def wait_for_pass(self, key: object, mark: int, timeout: float) -> bool:
        """Block until a pass of ``key`` started after ``mark`` has finished; False when ``timeout`` ran out."""
        with self._changed:
            return self._changed.wait_for(lambda: self._latest_finished.get(key, 0) > mark, timeout)


class ControllerRunner(Generic[K]):
    """Owns a controller's work queue, workers and resync timer; all methods but the counter's run on one loop."""

    def __init__(
        self,
        options: RunnerOptions,
        reconcile: Reconcile[K],
        keys: Callable[[], Iterable[K]],
        metrics: PassMetrics,
    ) -> None:
        self.options = options
        self.queue: WorkQueue[K] = WorkQueue(backoff_base=options.backoff_base, backoff_max=options.backoff_max)
        self.passes = PassCounter()
        self._reconcile = reconcile
        self._keys = keys
        self._metrics = metrics
        self._workers: asyncio.Task[None] | None = None
        self._resync_timer: asyncio.TimerHandle | None = None
        self._stopped = False
        self.ownership: KeyOwnership[K] | None = None
        """None: every key is this process's. Otherwise only the keys it owns are queued and passed over, each
        pass in the ownership's fenced context (set before ``start``)."""

    @property
    def started(self) -> bool:
        return self._workers is not None

    @property
    def stopped(self) -> bool:
        """``stop`` was called: the runner starts no more (a leadership won during shutdown must not start writing)."""
        return self._stopped

    @property
    def idle(self) -> bool:
        """Nothing queued and nothing in progress (wake-ups may still be scheduled)."""
        return self.queue.idle

    def add(self, key: K, urgency: Urgency = Urgency.ROUTINE) -> None:
        """Queue ``key`` for a pass at ``urgency`` (what the watch event that concerns it asks for), unless another
        process owns it."""
        if self.ownership is None or self.ownership.owns(key):
            self.queue.add(key, urgency)

    def resync(self, only: Callable[[K], bool] | None = None, urgency: Urgency = Urgency.RESYNC) -> None:
        """Queue every known key this process owns (``only`` those it selects), as the periodic resync does
        (level-triggered: a no-op pass if all is well), behind whatever more urgent work is waiting."""
        for key in self._keys():
            if only is None or only(key):
                self.add(key, urgency)

    def let_go(self, only: Callable[[K], bool]) -> None:
        """Drop the wake-ups and the series of the known keys ``only`` selects, as a replica does with the keys of a
        shard it no longer holds (their queued passes are dropped at their turn: no longer owned)."""
        for key in self._keys():
            if only(key):
                self.queue.discard(key)
                self._metrics.forget(key.namespace, key.name)

    def start(self) -> None:
        """Queue every key, start the workers and the resync timer. Idempotent; nothing once stopped (a leadership
        won during shutdown must not start writing)."""
        if self._workers is not None or self._stopped:
            return
        self.resync()
        self._workers = asyncio.get_running_loop().create_task(
            self.queue.serve(self.process, self.options.workers, name=f"{self.options.name} worker"),
            name=f"{self.options.name} workers",
        )
        self._schedule_resync()

    async def stop(self) -> None:
        """Accept no more keys, cancel the timers and the workers (a pass in flight is cancelled: every pass is
        idempotent, so the next start simply does it again)."""
        self._stopped = True
        self.queue.close()
        if self._resync_timer is not None:
            self._resync_timer.cancel()
            self._resync_timer = None
        workers, self._workers = self._workers, None
        if workers is not None:
            workers.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await workers

    async def process(self, key: K) -> None:
        """One pass over ``key``, its outcome turned into the next wake-up; what the workers call."""
        if self.ownership is not None and not self.ownership.owns(key):
            # Its shard went to another process since it was queued: that one acts on it now, timers included.
            self.queue.discard(key)
            return
        number = self.passes.begin()
        started = time.perf_counter()
        failed = False
        try:
            try:
                if self.ownership is None:
                    outcome = await self._reconcile(key)
                else:
                    with self.ownership.fenced(key):
                        outcome = await self._reconcile(key)
            except Exception as error:  # a worker must survive any pass
                if self.ownership is not None and not self.ownership.owns(key):
                    # Lost mid-pass: the fence refused the write; the new owner does it over.
                    logger.info("%s %s: shard lost during the pass (%s); left to its new owner",
                                self.options.name, key, error)
                    self.queue.discard(key)
                    return
                failed = self._retry(key, error)
            else:
                if outcome is GONE:
                    # Its children go with it (ownerReferences); its series and timers go here.
                    self.queue.discard(key)
                    self._metrics.forget(key.namespace, key.name)
                    return
                self.queue.forget(key)
                if outcome is not None:
                    # The pass's own "look again at T": a pause or a delay that ends then.
                    self.queue.add_after(key, max(outcome, MIN_REQUEUE_SECONDS), Urgency.TIMER)
            self._metrics.observe_reconcile(key.namespace, key.name, time.perf_counter() - started)
        finally:
            self.passes.end(key, number, failed=failed)

    def _retry(self, key: K, error: Exception) -> bool:
        """Log ``error``, count it unless transient, and schedule the retry; True when it counted as an error."""
        cause: BaseException = error.cause if isinstance(error, PassFailed) else error
        doing = f"{error.doing}: " if isinstance(error, PassFailed) else ""
        transient = error.transient if isinstance(error, PassFailed) else isinstance(error, Conflict | NotFound)
        what = f"{self.options.name} {key}"
        if transient:
            logger.info("%s: %s%s; retrying", what, doing, cause)
            # Soon, but backing off all the same should it keep happening (an object nobody watches).
            self.queue.add_after(key, max(TRANSIENT_RETRY_SECONDS, self.queue.backoff(key)), Urgency.ROUTINE)
            return False
        if isinstance(cause, KubeError):
            logger.warning("%s: %sfailed: %s", what, doing, cause)
        else:
            logger.error("%s: %sfailed", what, doing, exc_info=cause)
        self._metrics.count_error(key.namespace, key.name)
        self.queue.add_after(key, self.queue.backoff(key), Urgency.ROUTINE)
        return True

    def _schedule_resync(self) -> None:
        if self.options.resync_seconds > 0:
            self._resync_timer = asyncio.get_running_loop().call_later(
                self.options.resync_seconds, self._resync_due
            )

    def _resync_due(self) -> None:
        self.resync()
        self._schedule_resync()
