"""The controller process under leader election: workers start only on winning the Lease (and once the caches are
synced), losing it stops everything and fails the run, a clean stop releases the Lease after the operator ended."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest

from kube.client import AsyncKubeClient
from kube.errors import Unreachable
from kube.leader_election import LeaderElectionConfig, LeaderElector, LeadershipLost
from kube.side_loop import SideLoop
from rollouts.controller.leadership import Leadership
from tests.unit.test_leader_election import FakeLeases


class FakeController:
    def __init__(self) -> None:
        self.cache_synced = asyncio.Event()
        self.workers_started = 0

    def start_workers(self) -> None:
        self.workers_started += 1


class FakeLeaseClient:
    closed = False

    def close(self) -> None:
        self.closed = True


class Scenario:
    def __init__(self, leases: FakeLeases) -> None:
        loop = asyncio.get_running_loop()
        self.leases = leases
        self.elector = LeaderElector(
            leases,
            LeaderElectionConfig(namespace="rollouts", identity="me"),
            clock=loop.time,
            wall_clock=lambda: datetime(2025, 1, 1, tzinfo=UTC) + timedelta(seconds=loop.time()),
        )
        self.controllers = [FakeController(), FakeController()]
        self.lease_client = FakeLeaseClient()
        self.leadership = Leadership(self.elector, self.controllers, cast(AsyncKubeClient, self.lease_client))
        self.operator_stop = asyncio.Event()
        self.operator_cancelled = False
        self.stopped = 0

    async def operator(self) -> None:
        try:
            await self.operator_stop.wait()
        except asyncio.CancelledError:
            self.operator_cancelled = True
            raise

    async def stop(self) -> None:
        self.stopped += 1

    def run(self) -> asyncio.Task[None]:
        return asyncio.create_task(self.leadership.run(self.operator(), self.stop))

    @property
    def started(self) -> list[int]:
        return [controller.workers_started for controller in self.controllers]


def held_by_another(leases: FakeLeases) -> None:
    leases._store({"metadata": {"name": "rollouts-controller", "namespace": "rollouts"},
                   "spec": {"holderIdentity": "other", "leaseDurationSeconds": 8}})


@pytest.mark.looptime
async def test_workers_start_only_once_the_caches_are_synced_and_the_lease_is_won() -> None:
    leases = FakeLeases()
    held_by_another(leases)
    scenario = Scenario(leases)
    running = scenario.run()
    await asyncio.sleep(30)
    assert leases.requests == []  # not even a candidate before its caches are synced
    for controller in scenario.controllers:
        controller.cache_synced.set()
    await asyncio.sleep(7)
    assert scenario.started == [0, 0]  # the other's Lease has not expired yet
    probes = scenario.leadership.probes()
    assert probes["/readyz"]() == (True, "ok (standby)")
    await asyncio.sleep(2)
    assert scenario.started == [1, 1]
    assert probes["/readyz"]() == (True, "ok (leader)")
    assert leases.spec["holderIdentity"] == "me"
    running.cancel()


@pytest.mark.looptime
async def test_losing_the_lease_cancels_the_operator_stops_the_controllers_and_fails() -> None:
    leases = FakeLeases()
    scenario = Scenario(leases)
    for controller in scenario.controllers:
        controller.cache_synced.set()
    running = scenario.run()
    await asyncio.sleep(1)
    assert scenario.started == [1, 1]
    leases.failure = Unreachable("the API server is away")
    with pytest.raises(LeadershipLost):
        await running
    assert scenario.operator_cancelled
    assert scenario.stopped == 1
    assert not scenario.elector.is_leader


@pytest.mark.looptime
async def test_a_clean_stop_releases_the_lease_once_the_operator_has_ended() -> None:
    leases = FakeLeases()
    scenario = Scenario(leases)
    for controller in scenario.controllers:
        controller.cache_synced.set()
    running = scenario.run()
    await asyncio.sleep(5)
    assert leases.spec["holderIdentity"] == "me"
    scenario.operator_stop.set()  # kopf stopped on SIGTERM; its clean-up stopped the workers
    await running
    assert leases.spec["holderIdentity"] == ""
    assert scenario.stopped == 0  # kopf's own clean-up did it
    assert not scenario.operator_cancelled


@pytest.mark.looptime
async def test_an_operator_that_fails_fails_the_run_and_a_standby_releases_nothing() -> None:
    leases = FakeLeases()
    held_by_another(leases)
    scenario = Scenario(leases)
    for controller in scenario.controllers:
        controller.cache_synced.set()

    async def broken() -> Any:
        await asyncio.sleep(1)
        raise RuntimeError("kopf could not start")

    with pytest.raises(RuntimeError, match="kopf could not start"):
        await scenario.leadership.run(broken(), scenario.stop)
    assert leases.requests.count("update") == 0
    assert leases.spec["holderIdentity"] == "other"


class SignallingLeases(FakeLeases):
    """Sets ``renewed`` once ``wanted`` more updates of the Lease have been stored (from whichever thread)."""

    def __init__(self) -> None:
        super().__init__()
        self.renewed = threading.Event()
        self.wanted: int | None = None

    async def replace(self, namespace: str, name: str, body: dict[str, Any]) -> dict[str, Any]:
        stored = await super().replace(namespace, name, body)
        if self.wanted is not None:
            self.wanted -= 1
            if self.wanted <= 0:
                self.renewed.set()
        return stored


async def test_on_a_loop_of_its_own_the_lease_is_renewed_while_the_main_loop_is_held() -> None:
    # Issue #13: reconciliation that holds the main loop (thousands of passes at start-up) must not starve the
    # renewals. The main loop is held here by a blocking wait that only the renewals themselves can end.
    leases = SignallingLeases()
    elector = LeaderElector(
        leases, LeaderElectionConfig(namespace="rollouts", identity="me", lease_duration=3.0, renew_deadline=2.0,
                                     retry_period=0.05),
    )
    controller = FakeController()
    controller.cache_synced.set()
    leadership = Leadership(elector, [controller], cast(AsyncKubeClient, FakeLeaseClient()),
                            election_loop=SideLoop("test-election"))
    operator_stop = asyncio.Event()

    async def stop() -> None:
        pass

    running = asyncio.create_task(leadership.run(operator_stop.wait(), stop))
    try:
        for _ in range(3000):
            if controller.workers_started:
                break
            await asyncio.sleep(0.01)
        assert controller.workers_started == 1
        leases.wanted = 3
        assert leases.renewed.wait(timeout=60)  # blocks the main loop: only the election's own loop can get here
        assert elector.is_leader
    finally:
        operator_stop.set()
        await running
        leadership.close()
    assert leases.lease is not None
    assert leases.lease["spec"]["holderIdentity"] == ""  # released on the clean stop, from the election's loop
