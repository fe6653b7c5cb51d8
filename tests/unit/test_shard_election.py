"""Per-shard Leases: replicas share the shards, a dead or cut-off replica's shards move to a live one after its
Leases expire, and the fence refuses a shard's writes before another replica can hold that shard.

The Leases live in an in-memory store with the API server's optimistic concurrency; time is the event loop's,
fast-forwarded by looptime, so waiting out a Lease costs nothing and the timings are exact.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kube.errors import Conflict, KubeError
from kube.leader_election import LeaderElectionConfig, LeaderElector, LeaseStore, NotLeader
from kube.shard_election import ShardElection, writing_for

JsonObject = dict[str, Any]

NAMESPACE = "rollouts"
EPOCH = datetime(2025, 1, 1, tzinfo=UTC)
LEASE_DURATION, RENEW_DEADLINE, RETRY_PERIOD = 8.0, 6.0, 2.0


class Leases:
    """Every Lease by name, with resourceVersions: a stale write or a second create is a Conflict."""

    def __init__(self) -> None:
        self.leases: dict[str, JsonObject] = {}
        self.version = 0
        self.written_at: dict[str, float] = {}  # loop time of each Lease's last write

    def _store(self, name: str, body: JsonObject) -> JsonObject:
        self.version += 1
        stored = copy.deepcopy(body)
        stored["metadata"]["resourceVersion"] = str(self.version)
        self.leases[name] = stored
        self.written_at[name] = asyncio.get_running_loop().time()
        return copy.deepcopy(stored)

    def holder(self, name: str) -> str:
        return str((self.leases.get(name) or {}).get("spec", {}).get("holderIdentity") or "")


class ReplicaStore(LeaseStore):
    """One replica's connection to the Leases; ``cut`` makes every request of its fail (a network partition)."""

    def __init__(self, leases: Leases) -> None:
        self.leases = leases
        self.cut = False

    async def _begin(self) -> None:
        await asyncio.sleep(0)  # requests of two replicas interleave, as over HTTP
        if self.cut:
            raise KubeError("connection refused")

    async def get(self, namespace: str, name: str) -> JsonObject | None:
        await self._begin()
        return copy.deepcopy(self.leases.leases.get(name))

    async def create(self, namespace: str, body: JsonObject) -> JsonObject:
        await self._begin()
        name = body["metadata"]["name"]
        if name in self.leases.leases:
            raise Conflict(409, "AlreadyExists", f'leases "{name}" already exists')
        return self.leases._store(name, body)

    async def replace(self, namespace: str, name: str, body: JsonObject) -> JsonObject:
        await self._begin()
        current = self.leases.leases.get(name)
        if current is None or body["metadata"].get("resourceVersion") != current["metadata"]["resourceVersion"]:
            raise Conflict(409, "Conflict", "the object has been modified")
        return self.leases._store(name, body)


class Replica:
    """One replica's election, run as a task; ``gained``/``lost`` record when each shard came and went."""

    def __init__(self, identity: str, leases: Leases, shards: int, lease_duration: float = LEASE_DURATION) -> None:
        loop = asyncio.get_running_loop()
        self.store = ReplicaStore(leases)
        config = LeaderElectionConfig(namespace=NAMESPACE, identity=identity, lease_duration=lease_duration,
                                      renew_deadline=RENEW_DEADLINE, retry_period=RETRY_PERIOD)

        def elector(store: LeaseStore, shard_config: LeaderElectionConfig) -> LeaderElector:
            return LeaderElector(store, shard_config, clock=loop.time,
                                 wall_clock=lambda: EPOCH + timedelta(seconds=loop.time()))

        self.election = ShardElection(shards, self.store, config, elector=elector)
        self.gained: list[tuple[int, float]] = []
        self.lost: list[tuple[int, float]] = []
        self.task = loop.create_task(self.election.run(
            lambda shard: self.gained.append((shard, loop.time())),
            lambda shard: self.lost.append((shard, loop.time())),
        ))

    async def kill(self) -> None:
        """Gone without a word: no release, its Leases expire."""
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


async def until(check: Callable[[], bool], timeout: float = 120.0) -> None:
    """Wait (in loop time) until ``check`` holds; fail after ``timeout`` loop seconds."""
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.05)


def lease(shard: int) -> str:
    return f"rollouts-controller-shard-{shard}"


@pytest.mark.looptime
async def test_a_replica_alone_holds_every_shard_and_writes_only_for_them() -> None:
    a = Replica("a", Leases(), 3)
    await until(lambda: a.election.held() == (0, 1, 2))
    assert sorted(shard for shard, _ in a.gained) == [0, 1, 2]
    with writing_for(1):
        a.election.check_writes()  # passes: held
    with pytest.raises(NotLeader, match="for no shard"):
        a.election.check_writes()
    await a.kill()


@pytest.mark.looptime
async def test_a_second_replica_gets_half_of_the_shards_from_the_first() -> None:
    leases = Leases()
    a = Replica("a", leases, 4)
    await until(lambda: len(a.election.held()) == 4)
    b = Replica("b", leases, 4)
    await until(lambda: len(b.election.held()) == 2)
    assert len(a.election.held()) == 2
    assert set(a.election.held()).isdisjoint(b.election.held())
    # Each handed-over shard: a let it go before b took it.
    for shard, taken in b.gained:
        assert any(lost == shard and at <= taken for lost, at in a.lost), (shard, a.lost)
    await a.kill()
    await b.kill()


@pytest.mark.looptime
async def test_a_dead_replicas_shards_move_to_the_live_one_within_the_lease_duration() -> None:
    # A lease duration that is no multiple of the retry period: its expiry falls between two regular rounds.
    lease_duration = 7.0
    leases = Leases()
    a = Replica("a", leases, 2, lease_duration)
    await until(lambda: len(a.election.held()) == 2)
    b = Replica("b", leases, 2, lease_duration)
    await until(lambda: len(b.election.held()) == 1 and len(a.election.held()) == 1)
    (orphan,) = a.election.held()
    await asyncio.sleep(RETRY_PERIOD / 2)  # a's renewals and b's rounds out of step
    await a.kill()
    killed = asyncio.get_running_loop().time()
    last_renewal = leases.written_at[lease(orphan)]
    await until(lambda: b.election.held() == (0, 1))
    taken = max(at for shard, at in b.gained if shard == orphan)
    # The Lease expires a lease duration after b saw a's last renewal (at most a retry period after it was
    # written), and b takes it at that moment, not at its next regular round.
    assert taken - last_renewal <= lease_duration + RETRY_PERIOD + 0.1
    assert taken - killed <= lease_duration + RETRY_PERIOD
    assert leases.holder(lease(orphan)) == "b"
    await b.kill()


@pytest.mark.looptime
async def test_a_cut_off_replica_stops_writing_for_its_shard_before_another_can_take_it() -> None:
    leases = Leases()
    a = Replica("a", leases, 2)
    await until(lambda: len(a.election.held()) == 2)
    b = Replica("b", leases, 2)
    await until(lambda: len(b.election.held()) == 1 and len(a.election.held()) == 1)
    (shard,) = a.election.held()
    loop = asyncio.get_running_loop()
    fence_closed: list[float] = []

    async def watch_fence() -> None:
        while a.election.holds(shard):
            await asyncio.sleep(0.01)
        fence_closed.append(loop.time())

    watcher = loop.create_task(watch_fence())
    a.store.cut = True  # a keeps running but can no longer renew
    await until(lambda: shard in b.election.held())
    taken = max(at for s, at in b.gained if s == shard)
    await watcher
    assert fence_closed[0] <= taken - (LEASE_DURATION - RENEW_DEADLINE)
    with writing_for(shard), pytest.raises(NotLeader, match=f"does not hold shard {shard}"):
        a.election.check_writes()
    assert any(s == shard for s, _ in a.lost)
    await a.kill()
    await b.kill()


@pytest.mark.looptime
async def test_a_clean_stop_releases_every_shard_for_the_others_to_take_at_once() -> None:
    leases = Leases()
    a = Replica("a", leases, 2)
    await until(lambda: len(a.election.held()) == 2)
    b = Replica("b", leases, 2)
    await until(lambda: len(b.election.held()) == 1)
    await a.kill()
    await a.election.release_all()
    stopped = asyncio.get_running_loop().time()
    await until(lambda: b.election.held() == (0, 1))
    # Released Leases are free at b's next round, long before they would have expired.
    assert max(at for _, at in b.gained) - stopped <= RETRY_PERIOD
    await b.kill()
