"""Per-shard Leases: every replica of a sharded controller competes for each shard's Lease, holds several when it
must, and acts only on the objects of the shards it holds.

One ``LeaderElector`` per shard (``kube.leader_election``: client-go's semantics, each its own Lease
``<name>-shard-<i>``). Every retry period, and the moment a Lease it saw held by another expires, a replica reads
the Leases of the shards it does not hold and follows ``kube.sharding.plan_shards``: it takes free shards up to its
fair share, hands over a shard another replica asked for, and asks for one from a replica holding two more than
itself. A shard it holds is renewed by its elector's ``hold``; a renewal that fails for the renew deadline loses
that shard only — the others go on.

The fence. Each pass runs in the context of its key's shard (``fenced``); ``check_writes`` — the write guard of
the process's client, called right before each write request goes out — refuses a write whose shard this process
does not hold *now*, measured against the renew deadline exactly as the single-Lease fence is. A shard whose
renewals fail is refused from its renew deadline on, which is at least ``lease_duration - renew_deadline`` before
another replica can take its Lease; a shard handed over is refused before its Lease is released. A write outside
any shard's pass is refused too: every write of a sharded controller is for the object of one shard.

``gained`` and ``lost`` are called on the loop the election runs on — in the controller process a loop of its own
(``kube.side_loop``), from which ``rollouts.controller.shards.ShardLeadership`` hands them to the controllers' loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import dataclasses
import logging
from collections.abc import Callable, Iterable, Iterator
from typing import Generic, NoReturn, TypeVar

from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from kube.controller_runner import NamespacedKey
from kube.leader_election import LeaderElectionConfig, LeaderElector, LeaseStore, NotLeader
from kube.sharding import ShardView, plan_shards, shard_lease_name

logger = logging.getLogger(__name__)

K = TypeVar("K", bound=NamespacedKey)

_writing_for: contextvars.ContextVar[int | None] = contextvars.ContextVar("writing_for_shard", default=None)


@contextlib.contextmanager
def writing_for(shard: int) -> Iterator[None]:
    """The writes made in this context (and in tasks and client calls started from it) are for ``shard``."""
    token = _writing_for.set(shard)
    try:
        yield
    finally:
        _writing_for.reset(token)


class ShardElection:
    """The electors of every shard for one replica: ``run`` takes part, ``holds``/``check_writes`` answer for the
    fence, ``release_all`` gives every held shard up on a clean stop."""

    def __init__(
        self,
        shards: int,
        store: LeaseStore,
        config: LeaderElectionConfig,
        *,
        elector: Callable[[LeaseStore, LeaderElectionConfig], LeaderElector] = LeaderElector,
    ) -> None:
        if shards < 1:
            raise ValueError(f"the number of shards must be at least 1, got {shards}")
        self.shards = shards
        self.config = config
        self.electors = tuple(
            elector(store, dataclasses.replace(config, name=shard_lease_name(config.name, shard)))
            for shard in range(shards)
        )
        self._holding: dict[int, asyncio.Task[NoReturn]] = {}

    @property
    def identity(self) -> str:
        return self.config.identity

    def holds(self, shard: int) -> bool:
        """This replica holds ``shard`` now (its Lease, within the renew deadline). Safe from any thread."""
        return self.electors[shard].is_leader

    def held(self) -> tuple[int, ...]:
        """The shards this replica holds now."""
        return tuple(shard for shard in range(self.shards) if self.holds(shard))

    def check_writes(self) -> None:
        """Raise ``NotLeader`` unless the write being sent is for a shard this replica holds now: the write guard."""
        shard = _writing_for.get()
        if shard is None:
            raise NotLeader(f"{self.identity}: refusing a write that is for no shard (sharded controller)")
        if not self.holds(shard):
            lease = self.electors[shard].config.name
            raise NotLeader(f"{self.identity} does not hold shard {shard} (Lease {lease}): refusing to write")

    async def run(self, gained: Callable[[int], None], lost: Callable[[int], None]) -> NoReturn:
        """Take part in the shards' election for ever: every retry period, one round of ``plan_shards``.

        ``gained(shard)`` once this replica holds a shard, ``lost(shard)`` once it no longer does (the fence
        refuses that shard's writes already), both called on the loop this runs on.
        """
        try:
            while True:
                await self._round(gained, lost)
                # The next round at the next retry period, or as the first Lease another replica holds expires:
                # a dead replica's shard is taken the moment it may be.
                waits = [e.next_try_in() for shard, e in enumerate(self.electors) if shard not in self._holding]
                await asyncio.sleep(min([self.config.retry_period, *waits]))
        finally:
            for task in self._holding.values():
                task.cancel()
            await asyncio.gather(*self._holding.values(), return_exceptions=True)

    async def _round(self, gained: Callable[[int], None], lost: Callable[[int], None]) -> None:
        for shard, task in list(self._holding.items()):
            if task.done():  # its renewals failed for the renew deadline, or another replica holds it
                del self._holding[shard]
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    task.result()
                lost(shard)
        free = [shard for shard in range(self.shards) if shard not in self._holding]
        await asyncio.gather(*(self.electors[shard].refresh() for shard in free))
        views = []
        for shard, elector in enumerate(self.electors):
            seen = elector.observation()
            views.append(ShardView(shard, seen.holder, seen.preferred, seen.unchanged_for))
        plan = plan_shards(views, self.identity, self.config.lease_duration)
        for shard in plan.hand_over:
            await self._hand_over(shard, lost)
        for shard in plan.take:
            if await self.electors[shard].attempt():
                self._hold(shard)
                logger.info("shards: %s holds shard %d (Lease %s)", self.identity, shard,
                            self.electors[shard].config.name)
                gained(shard)
        if plan.request is not None and await self.electors[plan.request].prefer(self.identity):
            logger.info("shards: %s asked %s for shard %d", self.identity, plan.request_from, plan.request)

    def _hold(self, shard: int) -> None:
        self._holding[shard] = asyncio.get_running_loop().create_task(
            self.electors[shard].hold(), name=f"shard {shard} Lease"
        )

    async def _hand_over(self, shard: int, lost: Callable[[int], None]) -> None:
        task = self._holding.pop(shard, None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        # Released after the fence closed (release ends leading first) and the workers were told.
        elector = self.electors[shard]
        await elector.release()
        lost(shard)
        logger.info("shards: %s handed shard %d over to %s", self.identity, shard, elector.observation().preferred)

    async def release_all(self) -> None:
        """Give every held shard up (clean stop), so that the other replicas take them at their next round."""
        for task in self._holding.values():
            task.cancel()
        await asyncio.gather(*self._holding.values(), return_exceptions=True)
        self._holding.clear()
        await asyncio.gather(*(elector.release() for elector in self.electors))


class ShardOwnership(Generic[K]):
    """The ``KeyOwnership`` of one controller's work queue: a key is owned while its shard is held."""

    def __init__(self, election: ShardElection, shard_of: Callable[[K], int]) -> None:
        """``shard_of``: the shard of a key (for a child object, its owning Rollout's)."""
        self.election = election
        self.shard_of = shard_of

    def owns(self, key: K) -> bool:
        return self.election.holds(self.shard_of(key))

    def fenced(self, key: K) -> contextlib.AbstractContextManager[None]:
        return writing_for(self.shard_of(key))

    def in_shard(self, shard: int) -> Callable[[K], bool]:
        """A selector of the keys of ``shard`` (to queue them when it is gained)."""
        return lambda key: self.shard_of(key) == shard


class ShardMetric(Collector):
    """``controller_shard_leader{identity,shard}``: 1 for each shard this replica holds, else 0."""

    def __init__(self, election: ShardElection) -> None:
        self._election = election

    def collect(self) -> Iterable[Metric]:
        family = GaugeMetricFamily(
            "controller_shard_leader", "1 for each shard whose Lease this controller replica holds, else 0",
            labels=["identity", "shard"],
        )
        for shard in range(self._election.shards):
            family.add_metric([self._election.identity, str(shard)], 1.0 if self._election.holds(shard) else 0.0)
        return [family]

    def describe(self) -> Iterable[Metric]:
        return self.collect()
