"""Issue #13, item 4: the leader keeps its Lease while its initial sync over thousands of Rollouts holds the loop.

The controller process (``build_operator``, as ``rollouts controller`` assembles it, leader election on) starts
over 2,000 Rollouts at rest. Half-way through its initial sync, one pass holds the controller's event loop in a busy
wait, the way a start-up over ten thousand Rollouts or a full garbage collection does — until either the Lease has
been renewed three more times (the election does not need that loop) or the stored Lease has expired (it does).
Both ends are events, not durations, so a slow machine only makes the hold longer. The Lease keeps the default
lease duration and renew deadline (8 s / 6 s: a loaded machine's API answers slowly too) with a short retry period
(0.25 s), so that three renewals take a second where the election runs freely and a starved one shows as an
expired Lease after 8 s.

Proof that the test bites: with the election put back on the controller's own loop (``Leadership`` built with
``election_loop=None``, as before the fix), the hold ends with the Lease expired, no renewal stored meanwhile,
and the controller exits with LeadershipLost before its sync is over — this test fails on all three asserts.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Final

import pytest

from bench.common import NAMESPACE, Harness, weight_steps
from bench.settled import seed_settled_fleet
from kube.leader_election import LeaderElectionConfig
from rollouts.controller.controller import ControllerOptions
from rollouts.controller.run import RolloutOperator, build_operator
from rollouts.plan import Plan
from rollouts.reconcile import decide
from rollouts.snapshot import RolloutSnapshot
from sandbox.recorder import ChangeRecorder, Resource

ROLLOUTS: Final = 2000
LEASES: Final = Resource("coordination.k8s.io", "v1", "leases")
ELECTION: Final = LeaderElectionConfig(namespace="default", identity="under-load", name="startup-load",
                                       lease_duration=8.0, renew_deadline=6.0, retry_period=0.25)
RENEWALS_WANTED: Final = 3
# Generous: only a controller that never finishes its initial sync reaches it.
SYNC_TIMEOUT: Final = 300.0


@dataclass
class LoopHold:
    """A decision function that, at its ``hold_at``-th call, busy-waits on the calling loop until the Lease has
    been stored ``RENEWALS_WANTED`` more times, or until the stored Lease has expired."""

    leases: ChangeRecorder
    hold_at: int
    calls: int = 0
    renewals_while_held: int | None = None
    expired_while_held: bool = False
    held: threading.Event = field(default_factory=threading.Event)

    def decide(self, snapshot: RolloutSnapshot) -> Plan:
        self.calls += 1
        if self.calls == self.hold_at:
            self._hold()
        return decide(snapshot)

    def _hold(self) -> None:
        start = len(self.leases)
        expires_at = time.time() + ELECTION.lease_duration
        renewals = 0
        while renewals < RENEWALS_WANTED:
            changes = self.leases.changes_since(start)
            renewals = len(changes)
            if changes:
                expires_at = changes[-1].at + ELECTION.lease_duration
            if time.time() > expires_at:
                self.expired_while_held = True
                break
        self.renewals_while_held = renewals
        self.held.set()


class OperatorThread:
    """The controller process's operator on a thread of its own, until ``stop``; ``error`` is what ended it."""

    def __init__(self, operator: RolloutOperator) -> None:
        self.operator = operator
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="controller-under-load", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        try:
            asyncio.run(self.operator.run(stop_flag=self._stop))
        except BaseException as error:  # the test reads it
            self.error = error

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)


@pytest.fixture(scope="module")
def settled() -> Iterator[Harness]:
    # 20 simulated nodes hold 2,200 pods: enough, and a tenth of the benchmarks' nodes to create.
    with Harness(nodes=20) as harness:
        # Rollouts without traffic routing: a third of the objects to seed and list, the same passes to run.
        seed_settled_fleet(harness, range(ROLLOUTS), weight_steps("2s"), routed=False)
        yield harness


def test_the_leader_keeps_its_lease_while_its_initial_sync_holds_the_loop(settled: Harness) -> None:
    with ChangeRecorder(settled.emulator, [LEASES]) as leases:
        hold = LoopHold(leases, hold_at=ROLLOUTS // 2)
        options = ControllerOptions(namespaces=(NAMESPACE,), metrics_port=0, analysis_workers=0,
                                    experiment_workers=0)
        operator = build_operator(str(settled.kubeconfig), None, options, decide=hold.decide,
                                  leader_election=ELECTION)
        controller = OperatorThread(operator)
        controller.start()
        try:
            passes = operator.controller.runner.passes
            deadline = time.monotonic() + SYNC_TIMEOUT
            while (controller.alive and passes.finished < ROLLOUTS and not hold.expired_while_held
                   and time.monotonic() < deadline):
                time.sleep(0.1)
            where = (f"{passes.finished} passes, {hold.calls} decisions, alive {controller.alive}, "
                     f"error {controller.error!r}")
            assert hold.held.is_set(), f"the initial sync never reached pass {hold.hold_at}: {where}"
            assert not hold.expired_while_held, "the Lease expired while the initial sync held the loop"
            assert hold.renewals_while_held == RENEWALS_WANTED
            assert passes.finished >= ROLLOUTS, f"the initial sync did not finish: {where}"
            assert controller.alive and operator.leadership is not None and operator.leadership.elector.is_leader
            lease = settled.emulator.get_object(LEASES.group, LEASES.version, LEASES.plural, ELECTION.namespace,
                                                ELECTION.name)
            assert lease["spec"]["holderIdentity"] == ELECTION.identity
        finally:
            controller.stop()

