"""The harness itself: a controller that throws once and then recovers must still fail the test that saw it, and a
controller that dies at start-up must fail the start."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest

from rollouts.controller.controller import ControllerOptions
from rollouts.plan import Plan
from rollouts.snapshot import RolloutSnapshot
from tests.rollout_harness import ControllerThread, RolloutCluster, load_decide, reviews_objects

REVIEWS = "reviews"


class FailsOnce:
    """The real decision core, except that its first pass raises (a bug the next pass does not hit)."""

    def __init__(self, decide: Callable[[RolloutSnapshot], Plan]) -> None:
        self._decide = decide
        self._lock = threading.Lock()
        self.raised = False

    def __call__(self, snapshot: RolloutSnapshot) -> Plan:
        with self._lock:
            first, self.raised = not self.raised, True
        if first:
            raise RuntimeError("a bug that strikes once")
        return self._decide(snapshot)


@pytest.fixture(scope="module")
def flaky_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RolloutCluster]:
    running = RolloutCluster(tmp_path_factory.mktemp("flaky"), ready_delay=0.05)
    running.start(FailsOnce(load_decide()))
    try:
        yield running
    finally:
        running.stop()


@pytest.mark.controller_errors  # it inspects the failure itself instead of letting the harness fail it
def test_a_controller_that_raises_once_and_recovers_is_reported(flaky_cluster: RolloutCluster) -> None:
    mark = flaky_cluster.health_mark()
    namespace = flaky_cluster.new_namespace()
    flaky_cluster.apply_all(namespace, reviews_objects())
    flaky_cluster.wait_for_phase(namespace, REVIEWS, "Healthy")  # it recovered: the retry reached Healthy

    problems = flaky_cluster.problems_since(mark)
    assert any("a bug that strikes once" in problem for problem in problems), problems
    assert any("reconcile pass(es) failed" in problem for problem in problems), problems


def test_a_controller_that_dies_at_start_up_fails_the_start(
    flaky_cluster: RolloutCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    thread = ControllerThread(flaky_cluster.kubeconfig, ControllerOptions(metrics_port=0), load_decide())

    async def dies(**_: object) -> None:
        raise RuntimeError("cannot list the Rollouts")

    monkeypatch.setattr(thread.operator, "run", dies)
    with pytest.raises(RuntimeError, match="died at start-up"):
        thread.start(timeout=30)
