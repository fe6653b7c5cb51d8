"""High availability of the controller process: of its replicas one leads and acts, the others stand by warm.

Every replica runs kopf with all its watches and fills its caches, so a standby that takes over starts from a
synced cache instead of listing the cluster first. Only the replica holding the leader-election Lease
(``kube.leader_election``) runs workers — the Rollout and analysis controllers' workers start when it wins —
and every write request the process makes goes through the elector's fence, which refuses it the moment the
Lease's renew deadline has passed. A standby's only writes are its tries at the Lease.

Winning queues every Rollout and every AnalysisRun: the cluster is the only record of what the last leader did
(status fields, deterministic names), so a level-triggered pass over everything resumes its work where it was.

Losing the Lease ends the process with an error, as client-go's and Argo's controllers do: its workers stop at
once (the fence already refuses their writes), and a restarted process rejoins as a standby with nothing left of
the state it had as leader. A clean stop (SIGTERM) stops the workers first, waits for the Events in flight, and
then releases the Lease, so that a standby takes over at its next try rather than after the Lease expires.

The election itself (tries, renewals, the release) runs on a loop of its own (``kube.side_loop``) when one is
given, as the controller process does: a start-up over ten thousand Rollouts, or a resync, keeps the main loop busy
for seconds, and a renewal queued behind that work would miss the renew deadline and end the process for nothing.
The fence needs no loop: it is checked on the thread that sends each write.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from typing import Any, ClassVar, NoReturn, Protocol, TypedDict, TypeVar, Unpack

from kube.client import AsyncKubeClient
from kube.health import event_loop_probe, readiness_probe
from kube.leader_election import LeaderElector
from kube.metrics_export import Probe
from kube.side_loop import SideLoop

T = TypeVar("T")

logger = logging.getLogger(__name__)


class WorkerPool(Protocol):
    """What a controller offers the election: a cache that becomes synced, and workers to start."""

    @property
    def cache_synced(self) -> asyncio.Event: ...

    def start_workers(self) -> None: ...


class ElectionPartOptions(TypedDict, total=False):
    """How a replica takes part in an election, whatever it elects (``ElectionPart``'s keyword options)."""

    election_loop: SideLoop | None
    """Where the elector runs (its Lease client's requests included); None runs it on the caller's loop, beside the
    workers."""
    on_synced: Callable[[], None] | None
    """Called once every cache is synced, before standing."""


class ElectionPart(ABC):
    """What a replica's part in an election holds whatever it elects (the one leader, or the holders of shards): the
    controllers whose workers it starts, the loop the election runs on and the Lease client, and kopf run beside."""

    election_name: ClassVar[str]

    def __init__(
        self,
        controllers: Sequence[WorkerPool],
        lease_client: AsyncKubeClient,
        **options: Unpack[ElectionPartOptions],
    ) -> None:
        self._controllers = tuple(controllers)
        self._lease_client = lease_client
        self._election_loop = options.get("election_loop")
        self._on_synced = options.get("on_synced")

    async def _elect(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run one of the elector's coroutines where the election runs."""
        if self._election_loop is None:
            return await coroutine
        return await self._election_loop.run(coroutine)

    async def run(self, operator: Coroutine[Any, Any, None], stop: Callable[[], Awaitable[None]]) -> None:
        """Run ``operator`` (kopf) while taking part in the election; raises what ended the election
        (``LeadershipLost`` when the Lease is lost).

        ``stop`` stops the controllers when kopf's own clean-up does not get to run (kopf is cancelled then).
        """
        if self._election_loop is not None:
            self._election_loop.start()
        kopf_task = await run_beside_election(self._take_part(), operator, stop, election_name=self.election_name)
        # kopf stopped (a signal, the stop flag, or a failure): its clean-up stopped the workers and waited for
        # their Events, so nothing more is written and what this replica holds can go to another one at once.
        await self._elect(self._release())
        kopf_task.result()

    async def _caches_synced(self) -> None:
        """Wait for every controller's cache: a replica takes part only once it can act at once."""
        for controller in self._controllers:
            await controller.cache_synced.wait()
        if self._on_synced is not None:
            self._on_synced()

    def _start_workers(self) -> None:
        for controller in self._controllers:
            controller.start_workers()

    @abstractmethod
    async def _take_part(self) -> NoReturn:
        """Stand, and hold what is won until it is lost (which raises)."""

    @abstractmethod
    async def _release(self) -> None:
        """Give up what is held (on the election's loop)."""

    @abstractmethod
    def probes(self) -> Mapping[str, Probe]: ...

    def close(self) -> None:
        if self._election_loop is not None:
            self._election_loop.close()
        self._lease_client.close()


class Leadership(ElectionPart):
    """The elector and the controllers whose workers only the leader runs."""

    election_name = "leader election"

    def __init__(
        self,
        elector: LeaderElector,
        controllers: Sequence[WorkerPool],
        lease_client: AsyncKubeClient,
        **options: Unpack[ElectionPartOptions],
    ) -> None:
        super().__init__(controllers, lease_client, **options)
        self.elector = elector

    async def _take_part(self) -> NoReturn:
        await self._caches_synced()
        await self._elect(self.elector.acquire())
        self._start_workers()
        await self._elect(self.elector.hold())

    async def _release(self) -> None:
        await self.elector.release()

    def probes(self) -> Mapping[str, Probe]:
        return process_probes(self._controllers, lambda: "leader" if self.elector.is_leader else "standby")


def process_probes(controllers: Sequence[WorkerPool], role: Callable[[], str] = lambda: "leader") -> dict[str, Probe]:
    """``/healthz``: the event loop answers. ``/readyz``: every controller's cache is synced — a standby too, since
    it can take over at any moment (and a rolling update waits for the new replica to be ready before stopping
    an old one, which a standby-is-unready rule would deadlock)."""
    return {
        "/healthz": event_loop_probe(asyncio.get_running_loop()),
        "/readyz": readiness_probe(lambda: all(c.cache_synced.is_set() for c in controllers), role),
    }


async def run_beside_election(
    election: Coroutine[Any, Any, None],
    operator: Coroutine[Any, Any, None],
    stop: Callable[[], Awaitable[None]],
    *,
    election_name: str,
) -> asyncio.Task[None]:
    """Run ``operator`` (kopf) beside ``election``, which never returns while it holds: when the election ends
    (leadership lost, or the election broke) stop acting at once and raise what ended it. When kopf ends first, the
    election is cancelled and kopf's finished task returned, for the caller to give up what it holds before it
    raises whatever ended kopf (``result()``).

    The election's task is created before kopf starts, so that kopf's shutdown does not take it for one of its own.
    """
    elect = asyncio.create_task(election, name=election_name)
    kopf_task = asyncio.create_task(operator, name="kopf operator")
    try:
        await asyncio.wait({elect, kopf_task}, return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:
        for task in (kopf_task, elect):
            task.cancel()
        await asyncio.gather(kopf_task, elect, return_exceptions=True)
        raise
    if not kopf_task.done():
        # Without kopf's graceful clean-up, which would give the workers and their Events time that is no longer
        # ours. The fence refuses their writes already; this ends the attempts.
        kopf_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await kopf_task
        await stop()
        elect.result()  # LeadershipLost, or whatever broke the election: the election never just returns
    elect.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await elect
    return kopf_task
