"""One pass of the DaemonSet controller, as a pure function (pkg/controller/daemon, Kubernetes 1.32).

One pod per eligible node (a node whose labels match the template's nodeSelector), bound to it by a required
node affinity on `metadata.name` and, since the sandbox has no scheduler, `spec.nodeName`. Pods are labelled with
`controller-revision-hash` and `pod-template-generation`. A rolling update (the default strategy, maxUnavailable 1,
maxSurge 0) deletes old pods node by node while the number of unavailable pods allows; `OnDelete` waits for the
user. Failed pods are deleted and replaced.

Not simulated: maxSurge, taints and tolerations, ControllerRevision objects.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any, Final

from sandbox.controller_plans import ControllerPlan, creation_order, is_deleting, put_nonzero, template_pod
from sandbox.workload_plans import controller_ref, pod_template_hash
from sandbox.workload_status import JsonDict, is_pod_available, is_pod_ready, next_availability_change, scaled_value

REVISION_LABEL: Final = "controller-revision-hash"
TEMPLATE_GENERATION_LABEL: Final = "pod-template-generation"


def daemonset_hash(ds: Mapping[str, Any]) -> str:
    template = (ds.get("spec") or {}).get("template") or {}
    return pod_template_hash(template, (ds.get("status") or {}).get("collisionCount"))


def eligible_nodes(ds: Mapping[str, Any], nodes: Sequence[Mapping[str, Any]]) -> list[str]:
    """The names of the nodes whose labels satisfy the pod template's nodeSelector."""
    selector = (((ds.get("spec") or {}).get("template") or {}).get("spec") or {}).get("nodeSelector") or {}
    names = []
    for node in nodes:
        labels = (node.get("metadata") or {}).get("labels") or {}
        if all(labels.get(k) == v for k, v in selector.items()):
            names.append(str(node["metadata"]["name"]))
    return sorted(names)


def pod_node(pod: Mapping[str, Any]) -> str:
    return str((pod.get("spec") or {}).get("nodeName") or "")


def _new_pod(ds: Mapping[str, Any], node: str, revision: str) -> JsonDict:
    generation = str((ds.get("metadata") or {}).get("generation") or 1)
    labels = {REVISION_LABEL: revision, TEMPLATE_GENERATION_LABEL: generation}
    pod = template_pod(ds, controller_ref(ds, "DaemonSet"), labels=labels)
    spec = pod["spec"]
    spec["nodeName"] = node
    affinity = copy.deepcopy(spec.get("affinity") or {})
    affinity["nodeAffinity"] = {
        "requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node]}]}]
        }
    }
    spec["affinity"] = affinity
    return pod


def plan_daemonset(
    ds: Mapping[str, Any], pods: Sequence[Mapping[str, Any]], nodes: Sequence[Mapping[str, Any]], now: float
) -> ControllerPlan:
    """One pass over the DaemonSet's pods and the cluster's nodes."""
    plan = ControllerPlan()
    spec = ds.get("spec") or {}
    revision = daemonset_hash(ds)
    wanted = eligible_nodes(ds, nodes)
    min_ready = int(spec.get("minReadySeconds") or 0)
    by_node: dict[str, list[Mapping[str, Any]]] = {}
    for pod in creation_order(pods):
        if not is_deleting(pod):
            by_node.setdefault(pod_node(pod), []).append(pod)
    if not is_deleting(ds):
        for node, node_pods in by_node.items():
            failed = [p for p in node_pods if (p.get("status") or {}).get("phase") == "Failed"]
            plan.delete.extend(failed)
            alive = [p for p in node_pods if p not in failed]
            if node not in wanted:
                plan.delete.extend(alive)  # misscheduled: not (or no longer) an eligible node
            elif len(alive) > 1:
                plan.delete.extend(alive[1:])  # keep the oldest
        for node in wanted:
            if not [p for p in by_node.get(node, ()) if p not in plan.delete]:
                plan.create.append(_new_pod(ds, node, revision))
        strategy = spec.get("updateStrategy") or {}
        if strategy.get("type", "RollingUpdate") == "RollingUpdate" and not plan.create:
            limit = scaled_value(
                (strategy.get("rollingUpdate") or {}).get("maxUnavailable"),
                len(wanted),
                round_up=True,
                default="1",
            )
            current = [by_node[n][0] for n in wanted if by_node.get(n)]
            unavailable = sum(1 for p in current if not is_pod_available(p, min_ready, now))
            old = [p for p in current if _revision(p) != revision and p not in plan.delete]
            # Unavailable old pods first: replacing them costs no availability.
            old.sort(key=lambda p: is_pod_available(p, min_ready, now))
            budget = max(0, max(limit, 1) - unavailable)
            for pod in old:
                if not is_pod_available(pod, min_ready, now):
                    plan.delete.append(pod)
                elif budget > 0:
                    plan.delete.append(pod)
                    budget -= 1

    scheduled = [by_node[n][0] for n in wanted if by_node.get(n)]
    misscheduled = sum(1 for node in by_node if node not in wanted and by_node[node])
    status: JsonDict = {
        "currentNumberScheduled": len(scheduled),
        "numberMisscheduled": misscheduled,
        "desiredNumberScheduled": len(wanted),
        "numberReady": sum(1 for p in scheduled if is_pod_ready(p)),
    }
    put_nonzero(status, "observedGeneration", int((ds.get("metadata") or {}).get("generation") or 0))
    put_nonzero(status, "updatedNumberScheduled", sum(1 for p in scheduled if _revision(p) == revision))
    available = sum(1 for p in scheduled if is_pod_available(p, min_ready, now))
    put_nonzero(status, "numberAvailable", available)
    put_nonzero(status, "numberUnavailable", len(wanted) - available)
    current_status = ds.get("status") or {}
    if current_status.get("collisionCount") is not None:
        status["collisionCount"] = current_status["collisionCount"]
    if current_status.get("conditions"):
        status["conditions"] = copy.deepcopy(current_status["conditions"])
    plan.status = status
    if min_ready > 0:
        plan.wake_at(next_availability_change({"spec": {"minReadySeconds": min_ready}}, scheduled, now))
    return plan


def _revision(pod: Mapping[str, Any]) -> str:
    return str(((pod.get("metadata") or {}).get("labels") or {}).get(REVISION_LABEL, ""))
