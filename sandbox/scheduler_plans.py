"""What the simulated scheduler decides: whether a pod fits on the simulated nodes, and how an unschedulable pod
reads; pure functions over plain dicts.

Each simulated node takes `PODS_PER_NODE` pods (110, the kubelet's default `maxPods`); pods that have finished
(Succeeded, Failed) no longer count. A pod beyond the nodes' capacity stays Pending with the condition the real
scheduler writes: `PodScheduled=False`, reason `Unschedulable`, "0/N nodes are available: N Too many pods." It
is scheduled as soon as a slot frees.

The simulated ReplicaSet controller stops creating pods for a set that already has `MAX_UNBOUND_PER_SET` pods
waiting for a slot: the real controller would go on creating them (in batches of 500) until etcd fills; the
sandbox stays answering instead, a Rollout of 10^9 replicas leaves at most that many Pending pods per set.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from sandbox.workload_status import JsonDict, format_timestamp

PODS_PER_NODE: Final = 110
MAX_UNBOUND_PER_SET: Final = 500


def holds_slot(pod: Mapping[str, Any]) -> bool:
    """Whether the pod takes one of its node's slots: every pod that has not finished."""
    return (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed")


def is_bound(pod: Mapping[str, Any]) -> bool:
    """Whether the pod was scheduled already (a node named, or a PodScheduled=True condition reported)."""
    if (pod.get("spec") or {}).get("nodeName"):
        return True
    conditions = (pod.get("status") or {}).get("conditions") or ()
    return any(c.get("type") == "PodScheduled" and c.get("status") == "True" for c in conditions)


def unschedulable_message(nodes: int) -> str:
    """kube-scheduler's message when every node is full (Kubernetes 1.32 wording)."""
    return (f"0/{nodes} nodes are available: {nodes} Too many pods. preemption: 0/{nodes} nodes are available: "
            f"{nodes} No preemption victims found for incoming pod.")


def unschedulable_status(pod: Mapping[str, Any], nodes: int, now: float) -> JsonDict:
    """The status of a pod no node has room for; the transition time is kept while it stays unschedulable."""
    current = (pod.get("status") or {}).get("conditions") or ()
    since = next((c.get("lastTransitionTime") for c in current
                  if c.get("type") == "PodScheduled" and c.get("status") == "False"), None)
    return {
        "phase": "Pending",
        "qosClass": "BestEffort",
        "conditions": [{
            "type": "PodScheduled",
            "status": "False",
            "lastProbeTime": None,
            "lastTransitionTime": since or format_timestamp(now),
            "reason": "Unschedulable",
            "message": unschedulable_message(nodes),
        }],
    }


def is_unschedulable(pod: Mapping[str, Any], nodes: int) -> bool:
    """Whether the pod already reports exactly what `unschedulable_status` would write."""
    status = pod.get("status") or {}
    conditions: list[Mapping[str, Any]] = list(status.get("conditions") or [])
    return (status.get("phase") == "Pending" and len(conditions) == 1
            and conditions[0].get("reason") == "Unschedulable"
            and conditions[0].get("message") == unschedulable_message(nodes))


def pods_to_create(missing: int, unbound: int, burst: int) -> int:
    """How many pods a ReplicaSet pass creates: at most `burst`, and none beyond `MAX_UNBOUND_PER_SET` waiting."""
    return max(0, min(missing, burst, MAX_UNBOUND_PER_SET - unbound))


# Concurrent creations per batch are capped as well: the simulator's HTTP client pools 100 connections, and a
# larger batch only queues inside it.
MAX_BATCH: Final = 64


def slow_start_batches(count: int) -> list[int]:
    """The ReplicaSet controller's slowStartBatch: 1, 2, 4, … creations at a time (here at most `MAX_BATCH`), so
    that a failing API costs one request, not hundreds."""
    batches: list[int] = []
    size = 1
    while count > 0:
        batches.append(min(size, count, MAX_BATCH))
        count -= batches[-1]
        size *= 2
    return batches
