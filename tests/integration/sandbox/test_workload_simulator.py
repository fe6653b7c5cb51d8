"""The workload simulator against the API emulator over HTTP: ReplicaSets, Deployments and pods come alive."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import httpx
import pytest

from sandbox.emulator import ApiEmulator, running_emulator
from sandbox.workload_plans import NAME_ALPHABET
from sandbox.workloads import WorkloadSimulator
from tests.emulator_json_api import JsonApi

T = TypeVar("T")
RS_PATH = "/apis/apps/v1/namespaces/default/replicasets"
DEPLOY_PATH = "/apis/apps/v1/namespaces/default/deployments"
PODS_PATH = "/api/v1/namespaces/default/pods"


def replica_set(name: str = "web-6b7f", replicas: int = 3, image: str = "web:1", **spec: Any) -> dict[str, Any]:
    labels = {"app": "web", "rollouts-pod-template-hash": name.rsplit("-", 1)[-1]}
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": name, "namespace": "default", "labels": labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "web", "image": image}]},
            },
            **spec,
        },
    }


def deployment(name: str = "web", replicas: int = 3, image: str = "web:1") -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "web", "image": image}]},
            },
        },
    }


async def eventually(fetch: Callable[[], Awaitable[T]], predicate: Callable[[T], bool], timeout: float = 5.0) -> T:
    """Poll `fetch` until `predicate` holds on its result; fail with the last result after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = await fetch()
        if predicate(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s; last value: {value!r}")
        await asyncio.sleep(0.02)


class Cluster(JsonApi):
    """An emulator, a simulator on it, and an HTTP client."""

    def __init__(self, url: str, emulator: ApiEmulator, simulator: WorkloadSimulator, client: httpx.AsyncClient):
        super().__init__(client)
        self.url, self.emulator, self.simulator = url, emulator, simulator

    async def pods(self, selector: str = "") -> list[dict[str, Any]]:
        params = {"labelSelector": selector} if selector else {}
        response = await self.client.get(PODS_PATH, params=params)
        response.raise_for_status()
        return response.json()["items"]  # type: ignore[no-any-return]

    def status_writes(self, since: int = 0) -> list[str]:
        return [
            f"{r.resource}/{r.name}"
            for r in self.emulator.requests[since:]
            if r.subresource == "status" and r.verb in ("patch", "update")
        ]


@contextlib.asynccontextmanager
async def start_cluster(emulator: ApiEmulator | None = None, **options: Any) -> AsyncIterator[Cluster]:
    async with (
        running_emulator(emulator=emulator) as handle,
        WorkloadSimulator(handle.url, **options) as simulator,
        httpx.AsyncClient(base_url=handle.url) as client,
    ):
        yield Cluster(handle.url, handle.emulator, simulator, client)


@pytest.fixture
async def cluster() -> AsyncIterator[Cluster]:
    delays = {"web:broken": None, "web:fast": 0, "web:slow": 30}
    async with start_cluster(ready_delay=0.3, ready_delay_by_image=delays) as value:
        yield value


def ready(pod: dict[str, Any]) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in pod.get("status", {}).get("conditions", []))


async def test_replica_set_gets_owned_labelled_pods_that_turn_ready(cluster: Cluster) -> None:
    started = time.monotonic()
    created = await cluster.create(RS_PATH, replica_set())
    pods = await eventually(cluster.pods, lambda pods: len(pods) == 3)
    for pod in pods:
        assert re.fullmatch(rf"web-6b7f-[{NAME_ALPHABET}]{{5}}", pod["metadata"]["name"])
        assert pod["metadata"]["labels"] == {"app": "web", "rollouts-pod-template-hash": "6b7f"}
        (owner,) = pod["metadata"]["ownerReferences"]
        assert (owner["kind"], owner["name"], owner["uid"], owner["controller"]) == (
            "ReplicaSet",
            "web-6b7f",
            created["metadata"]["uid"],
            True,
        )
        assert pod["spec"]["containers"] == [{"name": "web", "image": "web:1"}]
    pods = await eventually(cluster.pods, lambda pods: all(ready(p) for p in pods))
    assert time.monotonic() - started >= 0.3  # the ready delay counts from creation
    assert {p["status"]["phase"] for p in pods} == {"Running"}
    assert all(p["status"]["containerStatuses"][0]["ready"] for p in pods)
    assert len({p["status"]["podIP"] for p in pods}) == 3
    rs = await eventually(
        lambda: cluster.get(f"{RS_PATH}/web-6b7f"), lambda rs: rs["status"].get("availableReplicas") == 3
    )
    assert rs["status"] == {
        "replicas": 3,
        "fullyLabeledReplicas": 3,
        "readyReplicas": 3,
        "availableReplicas": 3,
        "observedGeneration": 1,
    }


async def test_replica_set_reports_pending_pods_before_they_are_ready(cluster: Cluster) -> None:
    await cluster.create(RS_PATH, replica_set(replicas=2, image="web:slow"))
    rs = await eventually(
        lambda: cluster.get(f"{RS_PATH}/web-6b7f"), lambda rs: rs.get("status", {}).get("replicas") == 2
    )
    assert "readyReplicas" not in rs["status"]
    pods = await eventually(cluster.pods, lambda pods: all(p.get("status", {}).get("phase") for p in pods))
    assert {p["status"]["phase"] for p in pods} == {"Pending"}
    assert not any(ready(p) for p in pods)
    waiting = pods[0]["status"]["containerStatuses"][0]["state"]["waiting"]
    assert waiting == {"reason": "ContainerCreating"}


async def test_scaling_down_deletes_surplus_pods_and_updates_status(cluster: Cluster) -> None:
    await cluster.create(RS_PATH, replica_set(replicas=3, image="web:fast"))
    await eventually(cluster.pods, lambda pods: len(pods) == 3 and all(ready(p) for p in pods))
    await cluster.patch(f"{RS_PATH}/web-6b7f", {"spec": {"replicas": 1}})
    await eventually(cluster.pods, lambda pods: len(pods) == 1)
    rs = await eventually(
        lambda: cluster.get(f"{RS_PATH}/web-6b7f"), lambda rs: rs["status"].get("observedGeneration") == 2
    )
    assert rs["status"]["replicas"] == 1
    assert rs["status"]["availableReplicas"] == 1


async def test_deleted_pods_are_replaced(cluster: Cluster) -> None:
    await cluster.create(RS_PATH, replica_set(replicas=2, image="web:fast"))
    pods = await eventually(cluster.pods, lambda pods: len(pods) == 2)
    victim = pods[0]["metadata"]["name"]
    (await cluster.client.delete(f"{PODS_PATH}/{victim}")).raise_for_status()
    pods = await eventually(
        cluster.pods, lambda pods: len(pods) == 2 and victim not in {p["metadata"]["name"] for p in pods}
    )


async def test_min_ready_seconds_holds_back_availability(cluster: Cluster) -> None:
    await cluster.create(RS_PATH, replica_set(replicas=2, image="web:fast", minReadySeconds=2))
    rs = await eventually(
        lambda: cluster.get(f"{RS_PATH}/web-6b7f"), lambda rs: rs.get("status", {}).get("readyReplicas") == 2
    )
    # Ready times are whole seconds, as in Kubernetes: availability follows 1 to 2 seconds later.
    assert "availableReplicas" not in rs["status"]
    await eventually(
        lambda: cluster.get(f"{RS_PATH}/web-6b7f"),
        lambda rs: rs["status"].get("availableReplicas") == 2,
        timeout=3.5,
    )


async def test_image_with_no_ready_delay_never_becomes_ready(cluster: Cluster) -> None:
    await cluster.create(DEPLOY_PATH, deployment(image="web:broken"))
    pods = await eventually(cluster.pods, lambda pods: len(pods) == 3)
    await asyncio.sleep(0.6)  # twice the default delay
    pods = await cluster.pods()
    assert not any(ready(p) for p in pods)
    assert {p["status"]["phase"] for p in pods} == {"Pending"}
    status = (await cluster.get(f"{DEPLOY_PATH}/web"))["status"]
    assert status["replicas"] == 3
    assert "readyReplicas" not in status
    assert status["unavailableReplicas"] == 3
    available = next(c for c in status["conditions"] if c["type"] == "Available")
    assert (available["status"], available["reason"]) == ("False", "MinimumReplicasUnavailable")
    # Fixing the image's behaviour releases the waiting pods.
    cluster.simulator.set_ready_delay("web:broken", 0)
    await eventually(cluster.pods, lambda pods: len(pods) == 3 and all(ready(p) for p in pods))


async def test_deployment_gets_a_replica_set_pods_and_status(cluster: Cluster) -> None:
    created = await cluster.create(DEPLOY_PATH, deployment(image="web:fast"))
    d = await eventually(
        lambda: cluster.get(f"{DEPLOY_PATH}/web"),
        lambda d: any(c.get("reason") == "NewReplicaSetAvailable" for c in d.get("status", {}).get("conditions", [])),
    )
    assert {k: v for k, v in d["status"].items() if k != "conditions"} == {
        "observedGeneration": 1,
        "replicas": 3,
        "updatedReplicas": 3,
        "readyReplicas": 3,
        "availableReplicas": 3,
    }
    assert {c["type"]: c["status"] for c in d["status"]["conditions"]} == {"Available": "True", "Progressing": "True"}
    assert d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "1"
    (rs,) = (await cluster.get(RS_PATH))["items"]
    rs_hash = rs["metadata"]["labels"]["pod-template-hash"]
    assert rs["metadata"]["name"] == f"web-{rs_hash}"
    assert rs["metadata"]["ownerReferences"][0]["uid"] == created["metadata"]["uid"]
    pods = await cluster.pods(f"pod-template-hash={rs_hash}")
    assert len(pods) == 3


async def test_deployment_rolls_to_a_new_template(cluster: Cluster) -> None:
    await cluster.create(DEPLOY_PATH, deployment(image="web:fast"))
    await eventually(
        lambda: cluster.get(f"{DEPLOY_PATH}/web"), lambda d: d.get("status", {}).get("availableReplicas") == 3
    )
    template = deployment(image="web:1")["spec"]["template"]
    await cluster.patch(f"{DEPLOY_PATH}/web", {"spec": {"template": template}})
    d = await eventually(
        lambda: cluster.get(f"{DEPLOY_PATH}/web"),
        lambda d: (
            d["status"].get("observedGeneration") == 2
            and d["status"].get("updatedReplicas") == 3
            and d["status"].get("replicas") == 3
            and d["status"].get("availableReplicas") == 3
        ),
    )
    assert d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
    replica_sets = (await cluster.get(RS_PATH))["items"]
    assert sorted(rs["spec"]["replicas"] for rs in replica_sets) == [0, 3]
    images = {p["spec"]["containers"][0]["image"] for p in await cluster.pods()}
    assert images == {"web:1"}


async def test_nothing_is_written_when_nothing_changed(cluster: Cluster) -> None:
    await cluster.create(DEPLOY_PATH, deployment(image="web:fast"))
    await cluster.create(RS_PATH, replica_set(replicas=2, image="web:fast"))
    await eventually(
        lambda: cluster.get(f"{DEPLOY_PATH}/web"),
        lambda d: any(c.get("reason") == "NewReplicaSetAvailable" for c in d.get("status", {}).get("conditions", [])),
    )
    await eventually(
        lambda: cluster.get(f"{RS_PATH}/web-6b7f"), lambda rs: rs.get("status", {}).get("availableReplicas") == 2
    )
    await asyncio.sleep(0.2)
    writes = cluster.emulator.write_count()
    requests = len(cluster.emulator.requests)
    # Changes the simulator must look at but that change no status: labels on the objects it watches.
    await cluster.patch(f"{RS_PATH}/web-6b7f", {"metadata": {"labels": {"touched": "1"}}})
    await cluster.patch(f"{DEPLOY_PATH}/web", {"metadata": {"labels": {"touched": "1"}}})
    pod = (await cluster.pods("app=web"))[0]
    await cluster.patch(f"{PODS_PATH}/{pod['metadata']['name']}", {"metadata": {"labels": {"touched": "1"}}})
    await asyncio.sleep(0.5)
    assert cluster.status_writes(requests) == []
    assert cluster.emulator.write_count() - writes == 3  # the test's own three patches


async def test_a_watch_that_expired_is_recovered_by_listing_again() -> None:
    # A history of two events per type: a watch that misses three must start over from a list (410 Gone).
    async with start_cluster(ApiEmulator(history_limit=2), ready_delay=0) as cluster:
        await cluster.create(RS_PATH, replica_set(replicas=2))
        pods = await eventually(cluster.pods, lambda pods: len(pods) == 2 and all(ready(p) for p in pods))
        emulator = cluster.emulator
        # No await from here to the end of the block: the simulator cannot reconnect while these happen.
        emulator.close_watches()
        emulator.delete_object("", "v1", "pods", "default", pods[0]["metadata"]["name"])
        emulator.patch_object(
            "", "v1", "pods", "default", pods[1]["metadata"]["name"], {"metadata": {"labels": {"a": "1"}}}
        )
        emulator.patch_object(
            "", "v1", "pods", "default", pods[1]["metadata"]["name"], {"metadata": {"labels": {"b": "1"}}}
        )
        emulator.patch_object("apps", "v1", "replicasets", "default", "web-6b7f", {"spec": {"replicas": 3}})
        emulator.patch_object("apps", "v1", "replicasets", "default", "web-6b7f", {"metadata": {"labels": {"a": "1"}}})
        emulator.patch_object("apps", "v1", "replicasets", "default", "web-6b7f", {"metadata": {"labels": {"b": "1"}}})
        pods_now = await eventually(cluster.pods, lambda pods: len(pods) == 3 and all(ready(p) for p in pods))
        assert pods[0]["metadata"]["name"] not in {p["metadata"]["name"] for p in pods_now}
        await eventually(
            lambda: cluster.get(f"{RS_PATH}/web-6b7f"), lambda rs: rs["status"].get("availableReplicas") == 3
        )
        lists = [r for r in emulator.requests if r.verb == "list" and r.resource in ("pods", "replicasets")]
        assert len(lists) >= 4  # the first list of each type, then the lists after the expired watches


async def test_stop_is_idempotent_and_closes_everything() -> None:
    async with running_emulator() as handle:
        simulator = WorkloadSimulator(handle.url)
        await simulator.start()
        await simulator.start()
        await simulator.stop()
        await simulator.stop()
        # Its watches are gone: nothing of the simulator is still running on the loop.
        names = {task.get_name() for task in asyncio.all_tasks()}
        assert not any(name.startswith(("watch ", "kubelet", "replicaset", "deployment")) for name in names)
