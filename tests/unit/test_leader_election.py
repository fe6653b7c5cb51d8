"""Leader election through a Lease, with client-go's semantics: acquire, renew, take over on expiry, lose a race on
a Conflict, give up at the renew deadline, release on a clean stop, count the transitions.

The Lease lives in an in-memory store with the API server's optimistic concurrency; time is the event loop's,
fast-forwarded by looptime, so a 15 s wait costs nothing.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from kube.client import KubeClient, load_api_client
from kube.errors import Conflict, Unreachable
from kube.leader_election import (
    LeaderElectionConfig,
    LeaderElector,
    LeaderMetric,
    LeadershipLost,
    NotLeader,
    format_micro_time,
)
from kube.resources import LEASES
from sandbox.cluster import write_kubeconfig
from tests.recording_api import recording_api

JsonObject = dict[str, Any]

NAMESPACE = "rollouts"
NAME = "rollouts-controller"
EPOCH = datetime(2025, 1, 1, tzinfo=UTC)


class FakeLeases:
    """One Lease with resourceVersions: a stale write or a second create is a Conflict, as the API server says.

    Every request yields to the loop first, so that two candidates' requests interleave as they would over HTTP.
    """

    def __init__(self) -> None:
        self.lease: JsonObject | None = None
        self.version = 0
        self.requests: list[str] = []
        self.failure: Exception | None = None
        self.hang = False

    async def _begin(self, verb: str) -> None:
        self.requests.append(verb)
        await asyncio.sleep(0)
        if self.hang:
            await asyncio.Event().wait()
        if self.failure is not None:
            raise self.failure

    async def get(self, namespace: str, name: str) -> JsonObject | None:
        await self._begin("get")
        return copy.deepcopy(self.lease)

    async def create(self, namespace: str, body: JsonObject) -> JsonObject:
        await self._begin("create")
        if self.lease is not None:
            raise Conflict(409, "AlreadyExists", f'leases "{NAME}" already exists')
        return self._store(body)

    async def replace(self, namespace: str, name: str, body: JsonObject) -> JsonObject:
        await self._begin("update")
        assert self.lease is not None
        if body["metadata"].get("resourceVersion") != self.lease["metadata"]["resourceVersion"]:
            raise Conflict(409, "Conflict", "the object has been modified")
        return self._store(body)

    def _store(self, body: JsonObject) -> JsonObject:
        self.version += 1
        self.lease = copy.deepcopy(body)
        self.lease["metadata"]["resourceVersion"] = str(self.version)
        return copy.deepcopy(self.lease)

    @property
    def spec(self) -> JsonObject:
        assert self.lease is not None
        return dict(self.lease["spec"])

    def overwrite(self, **spec: Any) -> None:
        """Someone else edits the Lease (kubectl, another installation)."""
        assert self.lease is not None
        self._store({**self.lease, "spec": {**self.lease["spec"], **spec}})


def elector(
    leases: FakeLeases, identity: str, *, clock: Callable[[], float] | None = None, **timing: float
) -> LeaderElector:
    loop = asyncio.get_running_loop()
    config = LeaderElectionConfig(namespace=NAMESPACE, identity=identity, **timing)
    return LeaderElector(
        leases,
        config,
        clock=clock or loop.time,
        wall_clock=lambda: EPOCH + timedelta(seconds=loop.time()),
    )


async def finishes_within(coroutine: Any, seconds: float) -> bool:
    try:
        async with asyncio.timeout(seconds):
            await coroutine
    except TimeoutError:
        return False
    return True


@pytest.mark.looptime
async def test_the_first_candidate_creates_the_lease_and_leads() -> None:
    leases = FakeLeases()
    a = elector(leases, "a")
    await a.acquire()
    assert a.is_leader
    assert leases.requests == ["get", "create"]
    assert leases.spec == {
        "holderIdentity": "a",
        "leaseDurationSeconds": 8,
        "acquireTime": format_micro_time(EPOCH),
        "renewTime": format_micro_time(EPOCH),
        "leaseTransitions": 0,
    }


@pytest.mark.looptime
async def test_the_leader_renews_every_retry_period_without_reading_first() -> None:
    leases = FakeLeases()
    a = elector(leases, "a")
    await a.acquire()
    leases.requests.clear()
    holding = asyncio.create_task(a.hold())
    await asyncio.sleep(9)
    assert leases.requests == ["update"] * 4  # at 2, 4, 6 and 8 s
    assert leases.spec["renewTime"] == format_micro_time(EPOCH + timedelta(seconds=8))
    assert leases.spec["acquireTime"] == format_micro_time(EPOCH)
    assert leases.spec["leaseTransitions"] == 0
    assert a.is_leader
    holding.cancel()


@pytest.mark.looptime
async def test_a_standby_does_not_take_a_lease_that_is_renewed() -> None:
    leases = FakeLeases()
    a, b = elector(leases, "a"), elector(leases, "b")
    await a.acquire()
    holding = asyncio.create_task(a.hold())
    assert not await finishes_within(b.acquire(), 60)
    assert a.is_leader and not b.is_leader
    assert leases.spec["holderIdentity"] == "a"
    holding.cancel()


@pytest.mark.looptime
async def test_a_standby_takes_over_once_the_lease_has_not_changed_for_its_duration() -> None:
    leases = FakeLeases()
    a, b = elector(leases, "a"), elector(leases, "b")
    await a.acquire()
    holding = asyncio.create_task(a.hold())
    await asyncio.sleep(5)  # a renewed at 2 and 4 s
    holding.cancel()  # a dies: no more renewals
    standby = asyncio.create_task(b.acquire())
    await asyncio.sleep(0)
    started = asyncio.get_running_loop().time()
    await standby
    # b first saw a's last record at 5 s, and took over the moment it expired on b's clock, not a retry later.
    assert asyncio.get_running_loop().time() - started == pytest.approx(8, abs=0.05)
    assert b.is_leader
    assert leases.spec["holderIdentity"] == "b"
    assert leases.spec["leaseTransitions"] == 1
    assert leases.spec["acquireTime"] == leases.spec["renewTime"]


@pytest.mark.looptime
async def test_expiry_is_measured_on_the_standbys_clock_not_from_the_recorded_renew_time() -> None:
    # A record dated long ago (another machine's clock, far behind) is not taken as expired: the standby waits a
    # whole lease duration from when it first saw the record, as client-go does.
    leases = FakeLeases()
    leases._store({
        "metadata": {"name": NAME, "namespace": NAMESPACE},
        "spec": {"holderIdentity": "a", "leaseDurationSeconds": 8, "leaseTransitions": 3,
                 "renewTime": format_micro_time(EPOCH - timedelta(days=1))},
    })
    b = elector(leases, "b")
    assert not await finishes_within(b.acquire(), 7.9)
    assert await finishes_within(b.acquire(), 8.1 + 2)
    assert leases.spec["holderIdentity"] == "b"
    assert leases.spec["leaseTransitions"] == 4


@pytest.mark.looptime
async def test_the_holders_lease_duration_counts_not_the_standbys() -> None:
    leases = FakeLeases()
    a = elector(leases, "a", lease_duration=20, renew_deadline=15)
    await a.acquire()
    b = elector(leases, "b")  # 8 s by default
    assert not await finishes_within(b.acquire(), 19)
    assert b.is_leader is False
    assert await finishes_within(b.acquire(), 3)


@pytest.mark.looptime
async def test_of_two_candidates_racing_for_an_expired_lease_the_conflict_loser_stays_standby() -> None:
    leases = FakeLeases()
    a, b, c = elector(leases, "a"), elector(leases, "b"), elector(leases, "c")
    await a.acquire()
    # b and c both watch a's Lease expire, then both read it and both write it: one write is stale.
    results = await asyncio.gather(b._attempt(timeout=6), c._attempt(timeout=6))
    assert results == [False, False]  # still valid
    await asyncio.sleep(8.5)
    results = await asyncio.gather(b._attempt(timeout=6), c._attempt(timeout=6))
    assert sorted(results) == [False, True]
    winner, loser = (b, c) if results[0] else (c, b)
    assert winner.is_leader and not loser.is_leader
    assert leases.spec["holderIdentity"] == winner.config.identity
    assert leases.spec["leaseTransitions"] == 1
    assert leases.requests.count("update") == 2


@pytest.mark.looptime
async def test_of_two_candidates_creating_the_lease_one_wins() -> None:
    leases = FakeLeases()
    a, b = elector(leases, "a"), elector(leases, "b")
    results = await asyncio.gather(a._attempt(timeout=6), b._attempt(timeout=6))
    assert sorted(results) == [False, True]
    assert leases.requests.count("create") == 2
    assert leases.spec["leaseTransitions"] == 0


@pytest.mark.looptime
async def test_the_leader_gives_up_when_renewals_fail_for_the_renew_deadline() -> None:
    leases = FakeLeases()
    a = elector(leases, "a")
    loop = asyncio.get_running_loop()
    await a.acquire()  # sent at 0: leading until 6
    leases.failure = Unreachable("the API server is away")
    with pytest.raises(LeadershipLost, match="could not renew Lease rollouts/rollouts-controller within the 6s renew"):
        await a.hold()
    assert loop.time() == pytest.approx(6)
    assert not a.is_leader
    # Tries at 2 and 4 s failed; none was sent at the deadline itself.
    assert leases.requests[2:] == ["update", "update"]


@pytest.mark.looptime
async def test_a_hung_renewal_costs_no_more_than_the_renew_deadline() -> None:
    leases = FakeLeases()
    a = elector(leases, "a")
    await a.acquire()
    leases.hang = True
    with pytest.raises(LeadershipLost):
        await a.hold()
    assert asyncio.get_running_loop().time() == pytest.approx(6)


@pytest.mark.looptime
async def test_the_fence_closes_at_the_renew_deadline_even_before_the_renewal_loop_notices() -> None:
    leases = FakeLeases()
    a = elector(leases, "a")
    await a.acquire()
    a.check_leading()  # passes: leading
    await asyncio.sleep(5.99)
    a.check_leading()
    await asyncio.sleep(0.02)
    with pytest.raises(NotLeader, match="not the leader"):
        a.check_leading()


@pytest.mark.looptime
async def test_a_leader_frozen_past_its_deadline_stops_without_sending_a_renewal() -> None:
    # A paused process (SIGSTOP, a long GC, a suspended VM) wakes after a standby may have taken over: it must not
    # renew — a renewal would succeed if nobody took over, and the fence has been refusing writes meanwhile.
    leases = FakeLeases()
    frozen = 0.0
    loop = asyncio.get_running_loop()
    a = elector(leases, "a", clock=lambda: loop.time() + frozen)
    await a.acquire()
    holding = asyncio.create_task(a.hold())
    await asyncio.sleep(1)
    frozen = 30.0  # the process slept through 30 s
    sent = len(leases.requests)
    with pytest.raises(LeadershipLost):
        await holding
    assert len(leases.requests) == sent


@pytest.mark.looptime
async def test_a_leader_that_finds_another_holder_stops_at_its_next_renewal() -> None:
    leases = FakeLeases()
    a = elector(leases, "a")
    await a.acquire()
    holding = asyncio.create_task(a.hold())
    await asyncio.sleep(1)
    leases.overwrite(holderIdentity="intruder", renewTime=format_micro_time(EPOCH))
    with pytest.raises(LeadershipLost, match="held by intruder"):
        await holding
    assert asyncio.get_running_loop().time() == pytest.approx(2)  # not at the 6 s deadline
    assert not a.is_leader


@pytest.mark.looptime
async def test_a_leader_renews_over_an_edit_that_left_it_the_holder() -> None:
    leases = FakeLeases()
    a = elector(leases, "a")
    await a.acquire()
    holding = asyncio.create_task(a.hold())
    await asyncio.sleep(1)
    assert leases.lease is not None
    leases.lease["metadata"]["labels"] = {"edited": "yes"}
    leases.overwrite()  # a new resourceVersion, same holder: the fast path's write is a Conflict
    await asyncio.sleep(2)
    assert a.is_leader
    assert leases.spec["renewTime"] == format_micro_time(EPOCH + timedelta(seconds=2))
    assert leases.lease["metadata"]["labels"] == {"edited": "yes"}
    holding.cancel()


@pytest.mark.looptime
async def test_release_hands_the_lease_to_a_standby_at_its_next_try() -> None:
    leases = FakeLeases()
    a, b = elector(leases, "a"), elector(leases, "b")
    await a.acquire()
    holding = asyncio.create_task(a.hold())
    standby = asyncio.create_task(b.acquire())
    await asyncio.sleep(3)
    holding.cancel()
    assert await a.release()
    assert not a.is_leader
    assert leases.spec["holderIdentity"] == ""
    assert leases.spec["leaseDurationSeconds"] == 1
    released_at = asyncio.get_running_loop().time()
    await standby
    assert asyncio.get_running_loop().time() - released_at <= 2  # one retry period, not the 8 s lease
    assert leases.spec["holderIdentity"] == "b"
    assert leases.spec["leaseTransitions"] == 1


@pytest.mark.looptime
async def test_a_standby_has_nothing_to_release() -> None:
    leases = FakeLeases()
    a, b = elector(leases, "a"), elector(leases, "b")
    await a.acquire()
    sent = len(leases.requests)
    assert not await b.release()
    assert len(leases.requests) == sent


@pytest.mark.looptime
async def test_a_release_that_lost_a_race_leaves_the_new_holder_alone() -> None:
    leases = FakeLeases()
    a = elector(leases, "a")
    await a.acquire()
    leases.overwrite(holderIdentity="b")
    assert not await a.release()
    assert leases.spec["holderIdentity"] == "b"


@pytest.mark.looptime
async def test_a_release_that_met_our_own_renewal_landing_first_is_written_again() -> None:
    """The renewal on its way when leading ended lands before the release (a new resourceVersion, still ours): the
    release reads the Lease again and clears the holder, so a standby takes over at once, not after the lease."""
    leases = FakeLeases()
    a = elector(leases, "a")
    await a.acquire()
    leases.overwrite(renewTime=format_micro_time(EPOCH + timedelta(seconds=1)))  # the late renewal, holder "a"
    assert await a.release()
    assert leases.spec["holderIdentity"] == ""


@pytest.mark.looptime
async def test_transitions_count_every_change_of_hands() -> None:
    leases = FakeLeases()
    a, b = elector(leases, "a"), elector(leases, "b")
    await a.acquire()
    await a.release()
    await b.acquire()
    assert leases.spec["leaseTransitions"] == 1
    await b.release()
    await a.acquire()
    assert leases.spec["leaseTransitions"] == 2
    holding = asyncio.create_task(a.hold())
    await asyncio.sleep(5)  # renewals are not transitions
    assert leases.spec["leaseTransitions"] == 2
    holding.cancel()


@pytest.mark.looptime
async def test_the_leader_metric_follows_the_deadline() -> None:
    leases = FakeLeases()
    a = elector(leases, "a")
    registry = CollectorRegistry()
    registry.register(LeaderMetric(a))
    assert registry.get_sample_value("controller_leader", {"identity": "a"}) == 0
    await a.acquire()
    assert registry.get_sample_value("controller_leader", {"identity": "a"}) == 1
    await asyncio.sleep(6)  # never renewed
    assert registry.get_sample_value("controller_leader", {"identity": "a"}) == 0


@pytest.mark.parametrize(
    ("timing", "message"),
    [
        ({"lease_duration": 6, "renew_deadline": 6}, "renew deadline 6s, lease duration 6s"),
        ({"renew_deadline": 2, "retry_period": 2}, "retry period 2s, renew deadline 2s"),
        ({"retry_period": 0}, "0 < retry period"),
    ],
)
def test_timings_that_cannot_work_are_refused(timing: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        LeaderElectionConfig(namespace=NAMESPACE, identity="a", **timing)


def test_the_identity_is_the_pod_name_in_a_pod(monkeypatch: pytest.MonkeyPatch) -> None:
    from kube.leader_election import default_identity, default_namespace

    monkeypatch.setenv("POD_NAME", "rollouts-controller-7d9f-abcde")
    monkeypatch.setenv("POD_NAMESPACE", "rollouts")
    assert default_identity() == "rollouts-controller-7d9f-abcde"
    assert default_namespace() == "rollouts"
    monkeypatch.delenv("POD_NAME")
    monkeypatch.delenv("POD_NAMESPACE")
    assert default_identity().endswith(f"_{__import__('os').getpid()}")
    assert default_namespace() == "default"


# -- the fence on the client ---------------------------------------------------------------------------------------


def test_a_write_the_fence_refuses_is_never_sent_and_reads_go_on(tmp_path: Path) -> None:
    leading = True

    def fence() -> None:
        if not leading:
            raise NotLeader("not the leader: refusing to write")

    with recording_api() as (url, seen):
        kubeconfig = tmp_path / "kubeconfig"
        write_kubeconfig(kubeconfig, url)
        client = KubeClient(load_api_client(str(kubeconfig)), write_guard=fence)
        try:
            client.patch(LEASES, "ns", "x", {"spec": {}})
            leading = False
            for write in (
                lambda: client.patch(LEASES, "ns", "x", {"spec": {}}),
                lambda: client.create(LEASES, "ns", {"metadata": {"name": "y"}}),
                lambda: client.replace(LEASES, "ns", "x", {"metadata": {"name": "x"}}),
                lambda: client.delete(LEASES, "ns", "x"),
            ):
                with pytest.raises(NotLeader):
                    write()
            client.get(LEASES, "ns", "x")
        finally:
            client.close()
    path = "/apis/coordination.k8s.io/v1/namespaces/ns/leases"
    assert [f"{request.method} {request.path}" for request in seen] == [f"PATCH {path}/x", f"GET {path}/x"]
