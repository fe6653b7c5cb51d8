"""Issue #13: the controller process lists each watched kind once at start-up, and its caches are synced only once
every kind is listed.

client-go's reflector lists a kind and then watches from the list's resourceVersion, and a controller's workers
wait for its informers' caches to sync. Here the watch streams' first lists (``kube.informer``) are what fill the
Rollout, analysis and Experiment controllers' caches: one list request per kind for the whole process, however
many controllers observe the kind (before, each controller listed its kinds and then every stream listed them
again: two lists, and two copies of the cluster alive at once).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import kopf
import pytest
from kubernetes import client as k8s

from kube.client import AsyncKubeClient
from kube.http_connection import async_http_client
from kube.informer import Informers
from kube.resources import JOBS, SERVICES
from rollouts.controller.cache import WATCHED_KINDS
from rollouts.controller.controller import ControllerOptions, RolloutController
from rollouts.controller.handlers import register_handlers
from rollouts.controller.run import RolloutOperator, build_operator
from rollouts.plan import Plan
from sandbox.cluster import SandboxThread
from sandbox.emulator import ApiEmulator, EmulatorThread
from sandbox.emulator.faults import FaultInjector, FaultPolicy
from tests.waiting import until, wait_until

ROOT = Path(__file__).resolve().parents[3]
# Generous: only a start-up that never finishes fails a test; the usual wait is a second or two.
WAIT_SECONDS = 60.0


def wait_for(condition: Callable[[], bool], what: str) -> None:
    wait_until(condition, what, timeout=WAIT_SECONDS, poll=0.05)


class OperatorThread:
    """The controller process's operator on a thread of its own, until ``stop``."""

    def __init__(self, operator: RolloutOperator) -> None:
        self.operator = operator
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(operator.run(stop_flag=self._stop)),
                                        name="controller-start-up", daemon=True)

    def __enter__(self) -> OperatorThread:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(30)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxThread]:
    with SandboxThread(crd_dirs=[ROOT / "crds"], simulate_workloads=False) as running:
        yield running


def service(name: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": "default"},
            "spec": {"selector": {"app": name}, "ports": [{"port": 80}]}}


def test_each_watched_kind_is_listed_once_for_every_controller_that_observes_it(
    sandbox: SandboxThread, tmp_path: Path
) -> None:
    for name in ("web-canary", "web-stable"):
        sandbox.emulator.create_object("", "v1", "services", service(name), "default")
    kubeconfig = sandbox.sandbox.write_kubeconfig(tmp_path / "kubeconfig")
    # The Rollout, analysis and Experiment controllers: ReplicaSets, AnalysisRuns and Experiments are observed by
    # two of them each.
    operator = build_operator(str(kubeconfig), None, ControllerOptions(metrics_port=0))
    assert operator.analysis is not None and operator.experiments is not None
    controllers = (operator.controller, operator.analysis, operator.experiments)
    start = len(sandbox.emulator.requests)  # after the process's own check that Rollouts can be listed
    with OperatorThread(operator):
        wait_for(lambda: all(c.cache_synced.is_set() for c in controllers), "every controller's cache synced")
        lists = [(record.resource, record.namespace) for record in list(sandbox.emulator.requests)[start:]
                 if record.verb == "list" and record.code < 400]
        assert operator.controller.cache.get(SERVICES, "default", "web-canary") is not None
    watched = {kind.plural for kind in (*WATCHED_KINDS, JOBS)}
    assert sorted(resource for resource, _ in lists if resource in watched) == sorted(watched)
    assert {namespace for _, namespace in lists} == {None}  # every namespace, in one request


async def test_the_cache_is_not_synced_until_every_watched_kind_is_listed() -> None:
    with EmulatorThread(emulator=ApiEmulator(bookmark_interval=0.3)) as emulator:
        emulator.emulator.create_object("", "v1", "services", service("web-stable"), "default")
        # Every list of Services fails (500) until the policy is lifted; the stream retries it.
        emulator.emulator.faults = FaultInjector(FaultPolicy(rate=1.0, kinds=("error",), verbs=frozenset({"list"}),
                                                             resources=frozenset({"services"})))
        http = async_http_client(k8s.Configuration(host=emulator.url), timeout=10.0, connect_timeout=5.0)
        informers = Informers(http, ("default",))
        # Standing by (leader election): the cache fills, no worker starts, so nothing needs a client.
        controller = RolloutController(cast(AsyncKubeClient, object()), lambda snapshot: Plan(),
                                       ControllerOptions(namespaces=("default",), metrics_port=0,
                                                         leader_election=True))
        register_handlers(kopf.OperatorRegistry(), controller, informers=informers)
        await informers.start()
        starting = asyncio.create_task(controller.start())
        try:
            others = [kind for kind in WATCHED_KINDS if kind.namespaced and kind != SERVICES]
            await asyncio.wait_for(asyncio.gather(*(informers.listed(kind) for kind in others)), WAIT_SECONDS)
            await _until(lambda: _failed_lists(emulator, "services") >= 2, "the Services' list tried twice")
            assert not controller.cache_synced.is_set()
            assert not starting.done()

            emulator.emulator.faults = FaultInjector()
            await asyncio.wait_for(starting, WAIT_SECONDS)
            assert controller.cache_synced.is_set()
            assert controller.cache.get(SERVICES, "default", "web-stable") is not None
            assert not controller.runner.started  # its workers wait for the Lease
        finally:
            starting.cancel()
            await informers.stop()
            await http.aclose()


def _failed_lists(emulator: EmulatorThread, resource: str) -> int:
    return sum(1 for record in list(emulator.emulator.requests)
               if record.verb == "list" and record.resource == resource and record.code >= 500)


async def _until(condition: Callable[[], bool], what: str) -> None:
    await until(condition, what, timeout=WAIT_SECONDS, poll=0.02)

