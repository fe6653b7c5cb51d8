"""Simulated nodes hold 110 pods each (the kubelet's default maxPods); pods beyond stay Pending as kube-scheduler
leaves them (issue #15, item 7: a Rollout of 10^9 replicas made the sandbox create pods until it stopped
answering)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import httpx

from sandbox.emulator import running_emulator
from sandbox.scheduler_plans import MAX_UNBOUND_PER_SET, PODS_PER_NODE
from sandbox.workloads import WorkloadSimulator
from tests.emulator_json_api import JsonApi

T = TypeVar("T")
RS_PATH = "/apis/apps/v1/namespaces/default/replicasets"
PODS_PATH = "/api/v1/namespaces/default/pods"

# The capacity logic is the same for any maxPods: the tests that fill nodes use small ones (a few pods instead of
# hundreds), and the unbounded-replicas test keeps the kubelet's default of 110.
SMALL_NODE_PODS = 4
UNSCHEDULABLE_ON_2 = ("0/2 nodes are available: 2 Too many pods. preemption: 0/2 nodes are available: "
                      "2 No preemption victims found for incoming pod.")


class Cluster(JsonApi):
    async def pods(self) -> list[dict[str, Any]]:
        return (await self.get(PODS_PATH))["items"]  # type: ignore[no-any-return]


@contextlib.asynccontextmanager
async def start_cluster(**options: Any) -> AsyncIterator[Cluster]:
    async with (
        running_emulator() as handle,
        WorkloadSimulator(handle.url, **options),
        httpx.AsyncClient(base_url=handle.url, timeout=30) as client,
    ):
        yield Cluster(client)


async def eventually(
    fetch: Callable[[], Awaitable[T]], predicate: Callable[[T], bool], timeout: float, interval: float = 0.1
) -> T:
    """Poll `fetch` until `predicate` holds; fail with the last value after a generous `timeout`.

    The emulator answers on this test's event loop, so each poll takes time from the simulator under test: a fetch
    that lists hundreds of pods polls at a longer ``interval``."""
    deadline = time.monotonic() + timeout
    while True:
        value = await fetch()
        if predicate(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s; last value: {str(value)[:2000]}")
        await asyncio.sleep(interval)


def replica_set(replicas: int) -> dict[str, Any]:
    labels = {"app": "web"}
    return {
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": "web-6b7f", "namespace": "default", "labels": labels},
        "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels},
                              "spec": {"containers": [{"name": "web", "image": "web:1"}]}}},
    }


def scheduled(pod: dict[str, Any]) -> bool | None:
    """True/False from the pod's PodScheduled condition; None before the scheduler looked."""
    for condition in (pod.get("status") or {}).get("conditions") or ():
        if condition["type"] == "PodScheduled":
            return bool(condition["status"] == "True")
    return None


async def test_pods_beyond_the_nodes_capacity_stay_pending_unschedulable() -> None:
    async with start_cluster(ready_delay=0.0, nodes=2, pods_per_node=SMALL_NODE_PODS) as cluster:
        await cluster.create(RS_PATH, replica_set(replicas=2 * SMALL_NODE_PODS + 3))
        pods = await eventually(cluster.pods, lambda pods: len(pods) == 11 and all(
            scheduled(pod) is not None for pod in pods), timeout=120)
        bound = [pod for pod in pods if scheduled(pod)]
        waiting = [pod for pod in pods if scheduled(pod) is False]
        assert len(bound) == 8 and len(waiting) == 3
        for pod in waiting:
            assert pod["status"]["phase"] == "Pending"
            [condition] = pod["status"]["conditions"]
            assert (condition["reason"], condition["message"]) == ("Unschedulable", UNSCHEDULABLE_ON_2)


async def test_a_freed_slot_schedules_a_waiting_pod() -> None:
    async with start_cluster(ready_delay=0.0, nodes=1, pods_per_node=SMALL_NODE_PODS) as cluster:
        await cluster.create(RS_PATH, replica_set(replicas=SMALL_NODE_PODS + 1))
        pods = await eventually(cluster.pods, lambda pods: sum(scheduled(pod) is False for pod in pods) == 1,
                                timeout=120)
        victim = next(pod for pod in pods if scheduled(pod))
        await cluster.client.delete(f"/api/v1/namespaces/default/pods/{victim['metadata']['name']}")
        # The ReplicaSet replaces the deleted pod, and the one that waited takes the freed slot (or the new one
        # does): one pod waits again, and the node's 4 are scheduled and Running.
        await eventually(cluster.pods, lambda pods: sum(bool(scheduled(pod)) and pod["status"]["phase"] == "Running"
                                                        for pod in pods) == SMALL_NODE_PODS
                         and victim["metadata"]["uid"] not in {pod["metadata"]["uid"] for pod in pods}, timeout=60)


async def test_a_billion_replicas_leave_a_bounded_number_of_pending_pods_and_the_api_answering() -> None:
    async with start_cluster(ready_delay=0.0, nodes=1) as cluster:
        rs = await cluster.create(RS_PATH, replica_set(replicas=10**9))
        limit = PODS_PER_NODE + MAX_UNBOUND_PER_SET
        await eventually(lambda: rs_status(cluster, rs), lambda status: status.get("replicas") == limit,
                         timeout=120)
        # Make the simulated ReplicaSet controller look again (a spec change), and wait until it has: it still
        # creates nothing, since 500 of the set's pods are waiting for a slot.
        name = rs["metadata"]["name"]
        changed = await cluster.patch(f"{RS_PATH}/{name}", {"spec": {"minReadySeconds": 1}})
        await eventually(lambda: rs_status(cluster, rs),
                         lambda status: status.get("observedGeneration") == changed["metadata"]["generation"],
                         timeout=60)
        assert len(await cluster.pods()) == limit
        # The simulated scheduler reports each waiting pod as it reaches it.
        pods = await eventually(cluster.pods, lambda pods: sum(scheduled(pod) is False for pod in pods)
                                == MAX_UNBOUND_PER_SET, timeout=120, interval=0.5)
        assert len(pods) == limit


async def rs_status(cluster: Cluster, rs: dict[str, Any]) -> dict[str, Any]:
    current = await cluster.get(f"{RS_PATH}/{rs['metadata']['name']}")
    return current.get("status") or {}
