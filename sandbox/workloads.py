"""The sandbox's workload simulator: the ReplicaSet and Deployment controllers and the kubelet, over HTTP.

It talks to the API the way kube-controller-manager does: one list+watch per resource type (pods, ReplicaSets,
Deployments), caches indexed by owner, deduplicating work queues fed by watch events, and writes only what
differs from what it observed. Time-based transitions — a pod becoming Ready after its image's delay, a pod
becoming available after minReadySeconds, a Deployment's progress deadline — are timers on the event loop.

The decisions themselves are pure functions in `sandbox.workload_plans` and `sandbox.workload_status`.
"""

from __future__ import annotations

import asyncio
import ipaddress
import itertools
import logging
import random
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

import httpx

from kube.reverse_index import add_member, discard_member
from kube.work_queue import WorkQueue
from sandbox.api_refusals import raise_for_status
from sandbox.informer import Informer, ObjectKey, object_key
from sandbox.kubelet_plans import is_simulated, kubelet_step, pod_outcome
from sandbox.scheduler_plans import (
    PODS_PER_NODE,
    holds_slot,
    is_bound,
    is_unschedulable,
    pods_to_create,
    slow_start_batches,
    unschedulable_status,
)
from sandbox.simulator import Simulator, Work
from sandbox.workload_plans import (
    controller_uid,
    plan_deployment,
    pod_for_replica_set,
    pod_images,
    pod_name,
    pod_ready_delay,
    pods_to_delete,
)
from sandbox.workload_status import (
    JsonDict,
    desired_replicas,
    is_pod_active,
    next_availability_change,
    replica_set_status,
    status_patch,
)

logger = logging.getLogger(__name__)

MERGE_PATCH: Final = {"Content-Type": "application/merge-patch+json"}
POD_NETWORK: Final = ipaddress.IPv4Network("10.244.0.0/16")
# The ReplicaSet controller's cap on pod creations or deletions in one pass (burstReplicas).
BURST_REPLICAS: Final = 500
NAME_ATTEMPTS: Final = 5

_PODS: Final = "/api/v1/pods"
_REPLICA_SETS: Final = "/apis/apps/v1/replicasets"
_DEPLOYMENTS: Final = "/apis/apps/v1/deployments"


def _object_path(collection: str, namespace: str, name: str = "") -> str:
    """/api/v1/pods + ns → /api/v1/namespaces/ns/pods[/name]."""
    prefix, plural = collection.rsplit("/", 1)
    path = f"{prefix}/namespaces/{namespace}/{plural}"
    return f"{path}/{name}" if name else path


class WorkloadSimulator(Simulator):
    """Keeps Pods, ReplicaSets and Deployments moving in an API server that has no controllers of its own.

    `ready_delay` is how long a pod takes from creation to Ready; `ready_delay_by_image` overrides it per
    container image (a pod's slowest image wins); None means the pod never becomes Ready — a broken version.
    Both can be changed while running (`set_ready_delay`). `workers` is the number of concurrent passes per
    controller (never two on one object); `seed` makes pod names reproducible.
    """

    def __init__(
        self,
        api_url: str,
        *,
        headers: Mapping[str, str] | None = None,
        ready_delay: float | None = 0.5,
        ready_delay_by_image: Mapping[str, float | None] | None = None,
        workers: int = 4,
        seed: int | None = None,
        nodes: int = 1,
        pods_per_node: int = PODS_PER_NODE,
    ) -> None:
        super().__init__(api_url, workers=workers, headers=headers)
        self.ready_delay = ready_delay
        self.ready_delay_by_image: dict[str, float | None] = dict(ready_delay_by_image or {})
        self.nodes = max(1, nodes)
        self.capacity = self.nodes * pods_per_node
        self._rng = random.Random(seed)

        # A failed sync is retried quickly: the simulator stands in for kubelets and built-in controllers,
        # which retry within seconds, not minutes.
        self._pods_queue: WorkQueue[ObjectKey] = WorkQueue(backoff_base=0.05, backoff_max=5.0)
        self._rs_queue: WorkQueue[ObjectKey] = WorkQueue(backoff_base=0.05, backoff_max=5.0)
        self._deployment_queue: WorkQueue[ObjectKey] = WorkQueue(backoff_base=0.05, backoff_max=5.0)

        # Indexes that keep every pass proportional to the object it handles, not to the cluster.
        self._pods_by_owner: dict[str, set[ObjectKey]] = {}
        self._rs_by_owner: dict[str, set[ObjectKey]] = {}
        self._rs_by_uid: dict[str, ObjectKey] = {}
        self._deployment_by_uid: dict[str, ObjectKey] = {}
        self._pod_seen_at: dict[str, float] = {}
        self._pod_ips: dict[str, str] = {}
        self._pod_warned: set[str] = set()
        self._next_ip = 0
        # The scheduler's books: pods holding a node slot, and pods waiting for one (oldest first).
        self._bound: set[str] = set()
        self._waiting: dict[str, ObjectKey] = {}

        self._pods: Informer | None = None
        self._replica_sets: Informer | None = None
        self._deployments: Informer | None = None

    # -- lifecycle --

    async def _watch(self, client: httpx.AsyncClient) -> None:
        """List and watch pods, ReplicaSets and Deployments."""
        self._pods = Informer(client, _PODS, self._on_pod, kind="pods")
        self._replica_sets = Informer(client, _REPLICA_SETS, self._on_replica_set, kind="replicasets")
        self._deployments = Informer(client, _DEPLOYMENTS, self._on_deployment, kind="deployments")
        # Owners first, so the first pod events find their ReplicaSets indexed.
        await self._deployments.start()
        await self._replica_sets.start()
        await self._pods.start()

    def _work(self) -> Iterable[Work]:
        return (
            (self._pods_queue, self._sync_pod, "kubelet"),
            (self._rs_queue, self._sync_replica_set, "replicaset"),
            (self._deployment_queue, self._sync_deployment, "deployment"),
        )

    def _parts(self) -> tuple[Iterable[Informer | None], Iterable[WorkQueue[Any]]]:
        return (
            (self._pods, self._replica_sets, self._deployments),
            (self._pods_queue, self._rs_queue, self._deployment_queue),
        )

    def set_ready_delay(self, image: str, delay: float | None) -> None:
        """Change how long pods of `image` take to become Ready (None: never), waiting pods included."""
        self.ready_delay_by_image[image] = delay
        if self._pods is None:
            return
        for pod in self._pods:
            if pod.get("status", {}).get("phase") != "Running" and image in pod_images(pod):
                self._pods_queue.add(object_key(pod))

    # -- event handlers: index, then queue the keys whose state may have changed --

    def _on_pod(self, event_type: str, pod: JsonDict, old: JsonDict | None) -> None:
        self._index_by_owner(self._pods_by_owner, event_type, pod, old, self._queue_replica_set)
        uid = pod.get("metadata", {}).get("uid", "")
        if event_type == "DELETED":
            self._pod_seen_at.pop(uid, None)
            self._pod_ips.pop(uid, None)
            self._pod_warned.discard(uid)
            self._release_slot(uid)
        else:
            self._pods_queue.add(object_key(pod))

    def _on_replica_set(self, event_type: str, rs: JsonDict, old: JsonDict | None) -> None:
        self._index_by_owner(self._rs_by_owner, event_type, rs, old, self._queue_deployment)
        key = object_key(rs)
        uid = rs.get("metadata", {}).get("uid", "")
        if event_type == "DELETED":
            self._rs_by_uid.pop(uid, None)
        else:
            self._rs_by_uid[uid] = key
            self._rs_queue.add(key)

    def _on_deployment(self, event_type: str, deployment: JsonDict, old: JsonDict | None) -> None:
        uid = deployment.get("metadata", {}).get("uid", "")
        if event_type == "DELETED":
            self._deployment_by_uid.pop(uid, None)
            return
        self._deployment_by_uid[uid] = object_key(deployment)
        self._deployment_queue.add(object_key(deployment))

    def _queue_replica_set(self, uid: str) -> None:
        if (key := self._rs_by_uid.get(uid)) is not None:
            self._rs_queue.add(key)

    def _queue_deployment(self, uid: str) -> None:
        if (key := self._deployment_by_uid.get(uid)) is not None:
            self._deployment_queue.add(key)

    def _index_by_owner(self, index: dict[str, set[ObjectKey]], event_type: str, obj: JsonDict,
                        old: JsonDict | None, queue_owner: Callable[[str], None]) -> None:
        """Keep ``index`` (controller uid → the keys of its objects) current for one event of ``obj``, and queue
        the controllers whose objects changed: the one it left, if any, and the one it has."""
        key, owner = object_key(obj), controller_uid(obj)
        old_owner = controller_uid(old) if old is not None else None
        if old_owner and old_owner != owner:
            discard_member(index, old_owner, key)
            queue_owner(old_owner)
        if not owner:
            return
        if event_type == "DELETED":
            discard_member(index, owner, key)
        else:
            add_member(index, owner, key)
        queue_owner(owner)

    # -- kubelet --

    async def _sync_pod(self, key: ObjectKey) -> None:
        """Pending once scheduled, Running after its images' delay, and on as its outcome annotations say."""
        pod = self._pods_informer.get(key)
        if pod is None or pod["metadata"].get("deletionTimestamp") or not is_simulated(pod):
            return
        loop = asyncio.get_running_loop()
        uid = pod["metadata"].get("uid", "")
        if not await self._schedule(key, pod, uid):
            return
        seen_at = self._pod_seen_at.setdefault(uid, loop.time())
        outcome, problems = pod_outcome(pod)
        if problems and uid not in self._pod_warned:
            self._pod_warned.add(uid)
            for problem in problems:
                logger.warning("pod %s/%s: %s", key[0], key[1], problem)
        step = kubelet_step(
            pod,
            elapsed=loop.time() - seen_at,
            now=time.time(),
            ready_delay=pod_ready_delay(pod, self.ready_delay, self.ready_delay_by_image),
            outcome=outcome,
            pod_ip=self._pod_ip(uid),
        )
        if step.status is not None:
            await self._write_status(self._pods_informer, _PODS, pod, step.status)
            if not holds_slot({"status": step.status}):
                self._release_slot(uid)
        if step.wake_at is not None:
            self._pods_queue.add_after(key, seen_at + step.wake_at - loop.time())

    async def _schedule(self, key: ObjectKey, pod: JsonDict, uid: str) -> bool:
        """Whether the pod has a node slot (taking one if free); a pod without one is reported unschedulable."""
        if uid in self._bound or not holds_slot(pod):
            return True
        if is_bound(pod) or len(self._bound) < self.capacity:
            self._bound.add(uid)
            self._waiting.pop(uid, None)
            return True
        self._waiting[uid] = key
        if not is_unschedulable(pod, self.nodes):
            await self._write_status(self._pods_informer, _PODS, pod,
                                     unschedulable_status(pod, self.nodes, time.time()))
        return False

    def _release_slot(self, uid: str) -> None:
        """Free the pod's slot (it finished or is gone) and let the oldest waiting pod try for it."""
        self._waiting.pop(uid, None)
        if uid in self._bound:
            self._bound.discard(uid)
            free = self.capacity - len(self._bound)
            for key in itertools.islice(self._waiting.values(), max(0, free)):
                self._pods_queue.add(key)

    def _pod_ip(self, uid: str) -> str:
        """A pod IP, not reused soon: a mesh simulator may still be keyed by a deleted pod's address."""
        if uid not in self._pod_ips:
            # Neither the network address, nor the gateway (.1), nor the broadcast address.
            hosts = POD_NETWORK.num_addresses - 3
            self._pod_ips[uid] = str(POD_NETWORK.network_address + 2 + self._next_ip % hosts)
            self._next_ip += 1
        return self._pod_ips[uid]

    # -- ReplicaSet controller --

    async def _sync_replica_set(self, key: ObjectKey) -> None:
        replica_sets = self._replica_sets_informer
        rs = replica_sets.get(key)
        if rs is None:
            return  # its pods go with it: the API server collects objects whose owner is gone
        if not is_simulated(rs):
            return
        if not rs["metadata"].get("deletionTimestamp"):
            active = self._active_pods(rs)
            surplus = len(active) - desired_replicas(rs)
            if surplus < 0:
                unbound = sum(1 for pod in active if pod["metadata"].get("uid", "") not in self._bound)
                for batch in slow_start_batches(pods_to_create(-surplus, unbound, BURST_REPLICAS)):
                    await asyncio.gather(*(self._create_pod(rs) for _ in range(batch)))
            elif surplus > 0:
                doomed = pods_to_delete(active, min(surplus, BURST_REPLICAS))
                await asyncio.gather(*(self._delete(self._pods_informer, _PODS, pod) for pod in doomed))
        now = time.time()
        active = self._active_pods(rs)
        rs = replica_sets.get(key) or rs
        await self._write_status(replica_sets, _REPLICA_SETS, rs, replica_set_status(rs, active, now))
        wake_at = next_availability_change(rs, active, now)
        if wake_at is not None:
            # A hair past the moment: availability compares strictly with whole-second timestamps.
            self._rs_queue.add_after(key, wake_at - now + 0.01)

    def _active_pods(self, rs: JsonDict) -> list[JsonDict]:
        pods = self._pods_informer
        keys = self._pods_by_owner.get(rs["metadata"].get("uid", ""), ())
        return [pod for key in keys if (pod := pods.get(key)) is not None and is_pod_active(pod)]

    async def _create_pod(self, rs: JsonDict) -> None:
        client = self._http
        namespace = rs["metadata"]["namespace"]
        for _ in range(NAME_ATTEMPTS):
            body = pod_for_replica_set(rs, pod_name(rs["metadata"]["name"], self._rng))
            response = await client.post(_object_path(_PODS, namespace), json=body)
            if response.status_code == 409:
                continue  # the random suffix collided with an existing pod's name
            raise_for_status(response, f"create pod for replicaset {namespace}/{rs['metadata']['name']}")
            self._pods_informer.store(response.json())
            return
        raise RuntimeError(f"no free pod name for replicaset {namespace}/{rs['metadata']['name']}")

    # -- Deployment controller --

    async def _sync_deployment(self, key: ObjectKey) -> None:
        deployments, replica_sets = self._deployments_informer, self._replica_sets_informer
        deployment = deployments.get(key)
        if deployment is None or not is_simulated(deployment):
            return
        namespace = key[0]
        uid = deployment["metadata"].get("uid", "")
        rs_list = [rs for k in self._rs_by_owner.get(uid, ()) if (rs := replica_sets.get(k)) is not None]
        plan = plan_deployment(deployment, rs_list, time.time())
        client = self._http
        if plan.create is not None:
            response = await client.post(_object_path(_REPLICA_SETS, namespace), json=plan.create)
            if response.status_code == 409:
                await self._resolve_name_collision(deployment, plan.create)
                return
            raise_for_status(response, f"create replicaset for deployment {namespace}/{key[1]}")
            replica_sets.store(response.json())
        for name, patch in plan.patches.items():
            response = await client.patch(_object_path(_REPLICA_SETS, namespace, name), json=patch, headers=MERGE_PATCH)
            if response.status_code == 404:
                continue
            raise_for_status(response, f"update replicaset {namespace}/{name}")
            replica_sets.store(response.json())
        for name in plan.deletes:
            if (rs := replica_sets.get((namespace, name))) is not None:
                await self._delete(replica_sets, _REPLICA_SETS, rs)
        if plan.deployment_annotations:
            response = await client.patch(
                _object_path(_DEPLOYMENTS, namespace, key[1]),
                json={"metadata": {"annotations": plan.deployment_annotations}},
                headers=MERGE_PATCH,
            )
            if response.status_code == 404:
                return
            raise_for_status(response, f"annotate deployment {namespace}/{key[1]}")
            deployments.store(response.json())
        current = deployments.get(key) or deployment
        await self._write_status(deployments, _DEPLOYMENTS, current, plan.status)
        if plan.recheck_at is not None:
            self._deployment_queue.add_after(key, plan.recheck_at - time.time())

    async def _resolve_name_collision(self, deployment: JsonDict, wanted: JsonDict) -> None:
        """A ReplicaSet already has the new one's name: ours (the cache lags) or a hash collision."""
        namespace, name = deployment["metadata"]["namespace"], wanted["metadata"]["name"]
        response = await self._http.get(_object_path(_REPLICA_SETS, namespace, name))
        if response.status_code == 200:
            existing = response.json()
            same_template = existing.get("spec", {}).get("template") == wanted["spec"]["template"]
            if controller_uid(existing) == deployment["metadata"].get("uid") and same_template:
                self._replica_sets_informer.store(existing)
                return
        collisions = int((deployment.get("status") or {}).get("collisionCount") or 0) + 1
        await self._write_status(
            self._deployments_informer,
            _DEPLOYMENTS,
            deployment,
            {**(deployment.get("status") or {}), "collisionCount": collisions},
        )

    # -- writes --

    async def _write_status(self, informer: Informer, collection: str, obj: JsonDict, desired: JsonDict) -> None:
        """Merge-patch /status with what differs from the observed status; nothing when nothing differs."""
        patch = status_patch(obj.get("status"), desired)
        if patch is None:
            return
        namespace, name = object_key(obj)
        response = await self._http.patch(
            _object_path(collection, namespace, name) + "/status", json={"status": patch}, headers=MERGE_PATCH
        )
        if response.status_code == 404:
            return  # deleted meanwhile; its DELETED event is on the way
        raise_for_status(response, f"update status of {collection.rsplit('/', 1)[-1]} {namespace}/{name}")
        informer.store(response.json())

    async def _delete(self, informer: Informer, collection: str, obj: JsonDict) -> None:
        namespace, name = object_key(obj)
        response = await self._http.delete(_object_path(collection, namespace, name))
        if response.status_code not in (404, 409):
            raise_for_status(response, f"delete {collection.rsplit('/', 1)[-1]} {namespace}/{name}")
        informer.forget(obj)

    # -- accessors that exist only once started --

    @property
    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            raise RuntimeError("WorkloadSimulator is not started")
        return self._client

    @property
    def _pods_informer(self) -> Informer:
        assert self._pods is not None
        return self._pods

    @property
    def _replica_sets_informer(self) -> Informer:
        assert self._replica_sets is not None
        return self._replica_sets

    @property
    def _deployments_informer(self) -> Informer:
        assert self._deployments is not None
        return self._deployments
