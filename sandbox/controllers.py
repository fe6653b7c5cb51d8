"""The sandbox's other controllers, over HTTP: StatefulSet, DaemonSet, Job (with TTL-after-finished), CronJob,
PersistentVolumeClaim binding, LoadBalancer Services, Ingresses and HorizontalPodAutoscalers, plus the nodes.

Like `sandbox.workloads` (whose kubelet runs the pods these controllers create), it keeps one list+watch per
resource type, indexes children by their controller's uid, and runs one deduplicating work queue per kind; a pass
observes one object and its children, asks the pure planner of its kind (`sandbox.*_plans`) what to write, and
writes only that. Time-based transitions are "look again at T" timers. Objects annotated
`sandbox.rollouts/simulate: "false"` are left alone.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import httpx

from kube.work_queue import WorkQueue
from sandbox.api_refusals import raise_for_status
from sandbox.autoscaler_plans import plan_hpa, target_reference
from sandbox.controller_plans import ControllerPlan
from sandbox.cronjob_plans import plan_cronjob
from sandbox.daemonset_plans import plan_daemonset
from sandbox.informer import Informer, ObjectKey, object_key
from sandbox.job_plans import plan_job
from sandbox.kubelet_plans import is_simulated
from sandbox.network_plans import load_balancer_address, plan_ingress, plan_service
from sandbox.simulator import Simulator, Work
from sandbox.statefulset_plans import plan_statefulset
from sandbox.storage_plans import plan_claim, plan_volume, volume_name
from sandbox.workload_plans import HOST_IP, NODE_NAME, controller_uid
from sandbox.workload_status import JsonDict, format_timestamp, status_patch

logger = logging.getLogger(__name__)

MERGE_PATCH: Final = {"Content-Type": "application/merge-patch+json"}
KUBELET_VERSION: Final = "v1.32.0"


@dataclass(frozen=True)
class Resource:
    """Where a resource type lives in the API."""

    prefix: str
    plural: str
    namespaced: bool = True

    @property
    def collection(self) -> str:
        return f"{self.prefix}/{self.plural}"

    def path(self, namespace: str, name: str = "") -> str:
        base = f"{self.prefix}/namespaces/{namespace}/{self.plural}" if self.namespaced else self.collection
        return f"{base}/{name}" if name else base


PODS: Final = Resource("/api/v1", "pods")
NODES: Final = Resource("/api/v1", "nodes", namespaced=False)
CLAIMS: Final = Resource("/api/v1", "persistentvolumeclaims")
VOLUMES: Final = Resource("/api/v1", "persistentvolumes", namespaced=False)
SERVICES: Final = Resource("/api/v1", "services")
STATEFULSETS: Final = Resource("/apis/apps/v1", "statefulsets")
DAEMONSETS: Final = Resource("/apis/apps/v1", "daemonsets")
JOBS: Final = Resource("/apis/batch/v1", "jobs")
CRONJOBS: Final = Resource("/apis/batch/v1", "cronjobs")
STORAGE_CLASSES: Final = Resource("/apis/storage.k8s.io/v1", "storageclasses", namespaced=False)
INGRESSES: Final = Resource("/apis/networking.k8s.io/v1", "ingresses")
AUTOSCALERS: Final = Resource("/apis/autoscaling/v2", "horizontalpodautoscalers")

_BY_KIND: Final = {
    "Pod": PODS,
    "PersistentVolumeClaim": CLAIMS,
    "PersistentVolume": VOLUMES,
    "Job": JOBS,
}
_SCALE_TARGETS: Final = {
    "Deployment": Resource("/apis/apps/v1", "deployments"),
    "StatefulSet": STATEFULSETS,
    "ReplicaSet": Resource("/apis/apps/v1", "replicasets"),
}


def node_names(count: int) -> list[str]:
    """The simulated nodes: `sandbox-node`, then `sandbox-node-2`, `sandbox-node-3`, …"""
    return [NODE_NAME if index == 1 else f"{NODE_NAME}-{index}" for index in range(1, max(1, count) + 1)]


def node_object(name: str) -> JsonDict:
    """A Ready Node as a kubelet would register it (its status is written separately: a subresource)."""
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
            },
        },
        "spec": {},
    }


def node_status(index: int, now: float) -> JsonDict:
    """A Ready node's status; the first node has the address the kubelet reports as every pod's hostIP."""
    stamp = format_timestamp(now)
    address = HOST_IP if index == 0 else HOST_IP.rsplit(".", 1)[0] + f".{10 + index}"
    capacity = {"cpu": "4", "memory": "8Gi", "pods": "110", "ephemeral-storage": "100Gi"}
    return {
        "capacity": capacity,
        "allocatable": capacity,
        "addresses": [{"type": "InternalIP", "address": address}],
        "conditions": [
            {
                "type": "Ready",
                "status": "True",
                "lastHeartbeatTime": stamp,
                "lastTransitionTime": stamp,
                "reason": "KubeletReady",
                "message": "kubelet is posting ready status",
            }
        ],
        "nodeInfo": {
            "kubeletVersion": KUBELET_VERSION,
            "kubeProxyVersion": KUBELET_VERSION,
            "operatingSystem": "linux",
            "architecture": "amd64",
            "containerRuntimeVersion": "sandbox://1.0",
        },
    }


@dataclass(frozen=True)
class ControllerDelays:
    """How long the simulated infrastructure takes; tests shorten these."""

    bind: float = 0.5
    """From a claim's creation to its volume being provisioned and bound."""
    load_balancer: float = 0.5
    """From a LoadBalancer Service's or Ingress's creation to its address in status."""
    job_retry_backoff: float = 1.0
    """The first delay before a failed Job pod is replaced, doubling per failure (10 s on a real cluster)."""
    autoscaler_period: float = 15.0
    """How often each HorizontalPodAutoscaler looks at its target (the controller's sync period)."""


Sync = Callable[[ObjectKey], Awaitable[None]]
ObjectSync = Callable[[ObjectKey, JsonDict], Awaitable[None]]
"""A sync of one object, given its key and the object as the cache holds it."""


class ControllerSimulator(Simulator):
    """Plays the controllers of a cluster that `sandbox.workloads` does not: see the module docstring.

    `nodes` is the number of simulated nodes (created at start if missing): a DaemonSet runs a pod on each.
    """

    def __init__(
        self,
        api_url: str,
        *,
        headers: Mapping[str, str] | None = None,
        nodes: int = 1,
        delays: ControllerDelays | None = None,
        workers: int = 2,
    ) -> None:
        if nodes < 1:
            raise ValueError(f"nodes must be at least 1, not {nodes}")
        super().__init__(api_url, workers=workers, headers=headers)
        self.nodes = nodes
        self.delays = delays or ControllerDelays()
        self._informers: dict[str, Informer] = {}
        self._queues: dict[str, WorkQueue[ObjectKey]] = {}
        # uid → (plural, key) of the owners whose children are indexed, and their children by uid.
        self._owners: dict[str, tuple[str, ObjectKey]] = {}
        self._children: dict[str, set[tuple[str, ObjectKey]]] = {}
        self._claim_users: dict[ObjectKey, set[ObjectKey]] = {}
        self._addresses: dict[str, str] = {}
        self._next_address = 0
        self._warned: set[tuple[ObjectKey, str]] = set()

    # -- lifecycle --

    async def _watch(self, client: httpx.AsyncClient) -> None:
        """Register the nodes, then list and watch every type the simulated controllers read."""
        await self._register_nodes()
        watched: list[tuple[Resource, Callable[[str, JsonDict, JsonDict | None], None]]] = [
            (NODES, self._on_node),
            (STORAGE_CLASSES, self._on_storage_class),
            (STATEFULSETS, self._owner_handler(STATEFULSETS)),
            (DAEMONSETS, self._owner_handler(DAEMONSETS)),
            (CRONJOBS, self._owner_handler(CRONJOBS)),
            (JOBS, self._job_event),
            (CLAIMS, self._on_claim),
            (VOLUMES, self._queue_handler(VOLUMES)),
            (SERVICES, self._queue_handler(SERVICES)),
            (INGRESSES, self._queue_handler(INGRESSES)),
            (AUTOSCALERS, self._queue_handler(AUTOSCALERS)),
            (PODS, self._on_pod),
        ]
        for resource, handler in watched:
            self._queues[resource.plural] = WorkQueue(backoff_base=0.05, backoff_max=5.0)
            self._informers[resource.plural] = Informer(client, resource.collection, handler, kind=resource.plural)
        for informer in self._informers.values():
            await informer.start()

    def _work(self) -> Iterable[Work]:
        syncs: dict[Resource, ObjectSync] = {
            STATEFULSETS: self._sync_statefulset,
            DAEMONSETS: self._sync_daemonset,
            JOBS: self._sync_job,
            CRONJOBS: self._sync_cronjob,
            CLAIMS: self._sync_claim,
            VOLUMES: self._sync_volume,
            SERVICES: self._sync_service,
            INGRESSES: self._sync_ingress,
            AUTOSCALERS: self._sync_autoscaler,
        }
        return [(self._queues[resource.plural], self._observing(resource, sync), resource.plural)
                for resource, sync in syncs.items()]

    def _parts(self) -> tuple[Iterable[Informer | None], Iterable[WorkQueue[Any]]]:
        return self._informers.values(), self._queues.values()

    async def _register_nodes(self) -> None:
        client = self._http
        for index, name in enumerate(node_names(self.nodes)):
            response = await client.post(NODES.collection, json=node_object(name))
            if response.status_code == 409:
                continue  # registered by an earlier run against the same API
            raise_for_status(response, f"register node {name}")
            response = await client.patch(
                NODES.path("", name) + "/status",
                json={"status": node_status(index, time.time())},
                headers=MERGE_PATCH,
            )
            raise_for_status(response, f"report status of node {name}")

    # -- event handlers --

    def _queue_handler(self, resource: Resource) -> Callable[[str, JsonDict, JsonDict | None], None]:
        def handle(event_type: str, obj: JsonDict, old: JsonDict | None) -> None:
            if event_type != "DELETED":
                self._queues[resource.plural].add(object_key(obj))

        return handle

    def _owner_handler(self, resource: Resource) -> Callable[[str, JsonDict, JsonDict | None], None]:
        def handle(event_type: str, obj: JsonDict, old: JsonDict | None) -> None:
            uid = (obj.get("metadata") or {}).get("uid", "")
            if event_type == "DELETED":
                self._owners.pop(uid, None)
                return
            self._owners[uid] = (resource.plural, object_key(obj))
            self._queues[resource.plural].add(object_key(obj))

        return handle

    def _job_event(self, event_type: str, job: JsonDict, old: JsonDict | None) -> None:
        self._owner_handler(JOBS)(event_type, job, old)
        self._index_child(JOBS.plural, event_type, job, old)

    def _on_pod(self, event_type: str, pod: JsonDict, old: JsonDict | None) -> None:
        self._index_child(PODS.plural, event_type, pod, old)
        key = object_key(pod)
        for claim in _claims_of(pod):
            claim_key = (key[0], claim)
            users = self._claim_users.setdefault(claim_key, set())
            if event_type == "DELETED":
                users.discard(key)
                if not users:
                    del self._claim_users[claim_key]
            else:
                users.add(key)
            self._queues[CLAIMS.plural].add(claim_key)

    def _on_claim(self, event_type: str, claim: JsonDict, old: JsonDict | None) -> None:
        if event_type != "DELETED":
            self._queues[CLAIMS.plural].add(object_key(claim))
        elif (volume := self._informers[VOLUMES.plural].get(("", volume_name(claim)))) is not None:
            self._queues[VOLUMES.plural].add(object_key(volume))

    def _on_node(self, event_type: str, node: JsonDict, old: JsonDict | None) -> None:
        if DAEMONSETS.plural in self._queues and DAEMONSETS.plural in self._informers:
            for ds in self._informers[DAEMONSETS.plural]:
                self._queues[DAEMONSETS.plural].add(object_key(ds))

    def _on_storage_class(self, event_type: str, storage_class: JsonDict, old: JsonDict | None) -> None:
        if CLAIMS.plural in self._informers:
            for claim in self._informers[CLAIMS.plural]:
                self._queues[CLAIMS.plural].add(object_key(claim))

    def _index_child(self, plural: str, event_type: str, child: JsonDict, old: JsonDict | None) -> None:
        key = object_key(child)
        owner = controller_uid(child)
        old_owner = controller_uid(old) if old is not None else None
        if old_owner and old_owner != owner:
            self._unindex(old_owner, (plural, key))
        if owner:
            if event_type == "DELETED":
                self._unindex(owner, (plural, key))
            else:
                self._children.setdefault(owner, set()).add((plural, key))
            if (found := self._owners.get(owner)) is not None:
                self._queues[found[0]].add(found[1])

    def _unindex(self, owner: str, entry: tuple[str, ObjectKey]) -> None:
        children = self._children.get(owner)
        if children is not None:
            children.discard(entry)
            if not children:
                del self._children[owner]

    def _children_of(self, owner: JsonDict, plural: str) -> list[JsonDict]:
        informer = self._informers[plural]
        uid = (owner.get("metadata") or {}).get("uid", "")
        return [
            child
            for kind, key in self._children.get(uid, ())
            if kind == plural and (child := informer.get(key)) is not None
        ]

    def _observing(self, resource: Resource, sync: ObjectSync) -> Sync:
        """The queue's sync of ``resource``: ``sync`` of the object as cached, unless it is gone or not simulated."""

        async def observe_and_sync(key: ObjectKey) -> None:
            obj = self._informers[resource.plural].get(key)
            if obj is not None and is_simulated(obj):
                await sync(key, obj)

        return observe_and_sync

    # -- one sync per kind: observe, plan (pure), apply --

    async def _sync_job(self, key: ObjectKey, job: JsonDict) -> None:
        pods = self._children_of(job, PODS.plural)
        plan = plan_job(job, pods, time.time(), retry_backoff=self.delays.job_retry_backoff)
        await self._apply(JOBS, job, plan, propagation="Foreground")

    async def _sync_cronjob(self, key: ObjectKey, cronjob: JsonDict) -> None:
        plan = plan_cronjob(cronjob, self._children_of(cronjob, JOBS.plural), time.time())
        await self._apply(CRONJOBS, cronjob, plan, children=JOBS)

    async def _sync_statefulset(self, key: ObjectKey, sts: JsonDict) -> None:
        existing = _ClaimNames(self._informers[CLAIMS.plural], key[0])
        plan = plan_statefulset(sts, self._children_of(sts, PODS.plural), existing, time.time())
        await self._apply(STATEFULSETS, sts, plan)

    async def _sync_daemonset(self, key: ObjectKey, ds: JsonDict) -> None:
        nodes = list(self._informers[NODES.plural])
        plan = plan_daemonset(ds, self._children_of(ds, PODS.plural), nodes, time.time())
        await self._apply(DAEMONSETS, ds, plan)

    async def _sync_claim(self, key: ObjectKey, claim: JsonDict) -> None:
        classes = list(self._informers[STORAGE_CLASSES.plural])
        volume = self._informers[VOLUMES.plural].get(("", volume_name(claim)))
        consumed = bool(self._claim_users.get(key))
        plan = plan_claim(claim, classes, volume, consumed=consumed, now=time.time(), bind_delay=self.delays.bind)
        await self._apply(CLAIMS, claim, plan)

    async def _sync_volume(self, key: ObjectKey, volume: JsonDict) -> None:
        ref = (volume.get("spec") or {}).get("claimRef") or {}
        claim = self._informers[CLAIMS.plural].get((ref.get("namespace") or "", ref.get("name") or ""))
        await self._apply(VOLUMES, volume, plan_volume(volume, claim))

    async def _sync_service(self, key: ObjectKey, service: JsonDict) -> None:
        uid = (service.get("metadata") or {}).get("uid", "")
        if uid not in self._addresses:
            self._addresses[uid] = load_balancer_address(self._next_address)
            self._next_address += 1
        plan = plan_service(service, self._addresses[uid], delay=self.delays.load_balancer, now=time.time())
        await self._apply(SERVICES, service, plan)

    async def _sync_ingress(self, key: ObjectKey, ingress: JsonDict) -> None:
        await self._apply(INGRESSES, ingress, plan_ingress(ingress, delay=self.delays.load_balancer, now=time.time()))

    async def _sync_autoscaler(self, key: ObjectKey, hpa: JsonDict) -> None:
        _, kind, name = target_reference(hpa)
        target: JsonDict | None = None
        resource = _SCALE_TARGETS.get(kind)
        if resource is not None and name:
            response = await self._http.get(resource.path(key[0], name))
            if response.status_code != 404:
                raise_for_status(response, f"get scale target {kind} {key[0]}/{name}")
                target = response.json()
        result = plan_hpa(hpa, target, time.time())
        if result.scale_to is not None and resource is not None:
            response = await self._http.patch(
                resource.path(key[0], name), json={"spec": {"replicas": result.scale_to}}, headers=MERGE_PATCH
            )
            if response.status_code != 404:
                raise_for_status(response, f"scale {kind} {key[0]}/{name}")
        result.plan.wake_at(time.time() + self.delays.autoscaler_period)
        await self._apply(AUTOSCALERS, hpa, result.plan)

    # -- writes --

    async def _apply(
        self,
        resource: Resource,
        obj: JsonDict,
        plan: ControllerPlan,
        *,
        children: Resource = PODS,
        propagation: str = "Background",
    ) -> None:
        """Make the plan's writes in order: creates, deletes, the object's patch, its status, its deletion."""
        client = self._http
        key = object_key(obj)
        for message in plan.warnings:
            if (key, message) not in self._warned:
                self._warned.add((key, message))
                logger.warning("%s %s/%s: %s", resource.plural, key[0], key[1], message)
        for body in plan.create:
            target = _BY_KIND[str(body.get("kind"))]
            namespace = str((body.get("metadata") or {}).get("namespace") or "")
            response = await client.post(target.path(namespace), json=body)
            if response.status_code == 409:
                continue  # already there: the cache lags behind an earlier pass
            raise_for_status(response, f"create {target.plural} for {resource.plural} {key[0]}/{key[1]}")
            if (informer := self._informers.get(target.plural)) is not None:
                informer.store(response.json())
        for victim in plan.delete:
            # A list's items may carry no kind; the controller's children are of one kind each.
            await self._delete(_BY_KIND.get(str(victim.get("kind") or ""), children), victim)
        if plan.patch is not None:
            response = await client.patch(resource.path(*key), json=plan.patch, headers=MERGE_PATCH)
            if response.status_code == 404:
                return
            raise_for_status(response, f"update {resource.plural} {key[0]}/{key[1]}")
            self._informers[resource.plural].store(response.json())
            obj = response.json()
        if plan.status is not None:
            await self._write_status(resource, obj, plan.status)
        if plan.delete_self:
            await self._delete(resource, obj, propagation=propagation)
            return
        if plan.recheck_at is not None:
            self._queues[resource.plural].add_after(key, plan.recheck_at - time.time())

    async def _write_status(self, resource: Resource, obj: JsonDict, desired: JsonDict) -> None:
        patch = status_patch(obj.get("status"), desired)
        if patch is None:
            return
        namespace, name = object_key(obj)
        response = await self._http.patch(
            resource.path(namespace, name) + "/status", json={"status": patch}, headers=MERGE_PATCH
        )
        if response.status_code == 404:
            return  # deleted meanwhile; its DELETED event is on the way
        raise_for_status(response, f"update status of {resource.plural} {namespace}/{name}")
        self._informers[resource.plural].store(response.json())

    async def _delete(self, resource: Resource, obj: Mapping[str, Any], *, propagation: str = "Background") -> None:
        namespace, name = object_key(dict(obj))
        response = await self._http.request(
            "DELETE", resource.path(namespace, name), json={"propagationPolicy": propagation}
        )
        if response.status_code not in (404, 409):
            raise_for_status(response, f"delete {resource.plural} {namespace}/{name}")
        if (informer := self._informers.get(resource.plural)) is not None:
            informer.forget(dict(obj))

    @property
    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            raise RuntimeError("ControllerSimulator is not started")
        return self._client


class _ClaimNames:
    """The names of the claims that exist in one namespace, looked up in the cache on demand."""

    def __init__(self, claims: Informer, namespace: str) -> None:
        self._claims, self._namespace = claims, namespace

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._claims.get((self._namespace, name)) is not None


def _claims_of(pod: JsonDict) -> Iterable[str]:
    for volume in (pod.get("spec") or {}).get("volumes") or ():
        claim = (volume.get("persistentVolumeClaim") or {}).get("claimName")
        if claim:
            yield str(claim)
