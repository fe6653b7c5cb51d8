"""One pass of the StatefulSet controller, as a pure function (pkg/controller/statefulset, Kubernetes 1.32).

Pods are named `<set>-<ordinal>` for ordinals 0..replicas-1 and labelled with their revision
(`controller-revision-hash: <set>-<hash>`), name and index. Under the default `OrderedReady` policy one pod is
created at a time, in ordinal order, each once the previous is Running and Ready, and surplus pods go from the
highest ordinal down; under `Parallel` all are created or removed at once. A rolling update replaces pods whose
revision is not the update revision from the highest ordinal down to `partition`, one at a time, each once every
pod is Running and Ready; `OnDelete` waits for the user to delete them. `volumeClaimTemplates` become claims
`<template>-<set>-<ordinal>`, created before their pod and kept after it (the default Retain policy).

Not simulated: ControllerRevision objects (so a pod below the partition that is deleted comes back at the update
revision, the only template the set still holds), maxUnavailable, and PVC retention policies other than Retain.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Container, Mapping, Sequence
from typing import Any, Final

from sandbox.controller_plans import ControllerPlan, is_deleting, put_nonzero, template_pod
from sandbox.workload_plans import controller_ref, pod_template_hash
from sandbox.workload_status import (
    JsonDict,
    desired_replicas,
    is_pod_available,
    is_pod_ready,
    next_availability_change,
)

REVISION_LABEL: Final = "controller-revision-hash"
POD_NAME_LABEL: Final = "statefulset.kubernetes.io/pod-name"
POD_INDEX_LABEL: Final = "apps.kubernetes.io/pod-index"


def update_revision(sts: Mapping[str, Any]) -> str:
    """`<set>-<hash of the pod template>`, the name of the ControllerRevision for the current spec."""
    template = (sts.get("spec") or {}).get("template") or {}
    collisions = (sts.get("status") or {}).get("collisionCount")
    return f"{sts['metadata']['name']}-{pod_template_hash(template, collisions)}"


def pod_ordinal(sts_name: str, pod: Mapping[str, Any]) -> int | None:
    """The ordinal in the pod's name `<set>-<n>`, or None for a pod not named like the set's pods."""
    match = re.fullmatch(rf"{re.escape(sts_name)}-(\d+)", str((pod.get("metadata") or {}).get("name", "")))
    return int(match.group(1)) if match else None


def pod_revision(pod: Mapping[str, Any]) -> str:
    return str(((pod.get("metadata") or {}).get("labels") or {}).get(REVISION_LABEL, ""))


def claim_name(template: Mapping[str, Any], sts_name: str, ordinal: int) -> str:
    return f"{(template.get('metadata') or {}).get('name', '')}-{sts_name}-{ordinal}"


def _running_and_ready(pod: Mapping[str, Any]) -> bool:
    return (pod.get("status") or {}).get("phase") == "Running" and is_pod_ready(pod)


def _new_pod(sts: Mapping[str, Any], ordinal: int, revision: str) -> JsonDict:
    name = f"{sts['metadata']['name']}-{ordinal}"
    labels = {REVISION_LABEL: revision, POD_NAME_LABEL: name, POD_INDEX_LABEL: str(ordinal)}
    pod = template_pod(sts, controller_ref(sts, "StatefulSet"), labels=labels, name=name)
    spec = pod["spec"]
    spec["hostname"] = name
    if service := (sts.get("spec") or {}).get("serviceName"):
        spec["subdomain"] = service
    templates = (sts.get("spec") or {}).get("volumeClaimTemplates") or ()
    if templates:
        volumes = [v for v in spec.get("volumes") or () if v.get("name") not in {_template_name(t) for t in templates}]
        for template in templates:
            volumes.append(
                {
                    "name": _template_name(template),
                    "persistentVolumeClaim": {"claimName": claim_name(template, sts["metadata"]["name"], ordinal)},
                }
            )
        spec["volumes"] = volumes
    return pod


def _template_name(template: Mapping[str, Any]) -> str:
    return str((template.get("metadata") or {}).get("name", ""))


def _new_claim(sts: Mapping[str, Any], template: Mapping[str, Any], ordinal: int) -> JsonDict:
    selector_labels = ((sts.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    metadata = template.get("metadata") or {}
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {
            "name": claim_name(template, sts["metadata"]["name"], ordinal),
            "namespace": sts["metadata"].get("namespace"),
            "labels": {**(metadata.get("labels") or {}), **selector_labels},
            **({"annotations": dict(metadata["annotations"])} if metadata.get("annotations") else {}),
        },
        "spec": copy.deepcopy(template.get("spec") or {}),
    }


def plan_statefulset(
    sts: Mapping[str, Any], pods: Sequence[Mapping[str, Any]], claims: Container[str], now: float
) -> ControllerPlan:
    """One pass over the set's pods; `claims` are the names of the claims that exist in its namespace."""
    plan = ControllerPlan()
    name = sts["metadata"]["name"]
    by_ordinal: dict[int, Mapping[str, Any]] = {}
    for pod in pods:
        ordinal = pod_ordinal(name, pod)
        if ordinal is not None:
            by_ordinal[ordinal] = pod
    if not is_deleting(sts):
        _plan_pods(sts, by_ordinal, claims, plan)
    deleted = {id(p) for p in plan.delete}
    live = [p for p in by_ordinal.values() if id(p) not in deleted]
    plan.status = _status(sts, live, plan, now)
    min_ready = int((sts.get("spec") or {}).get("minReadySeconds") or 0)
    if min_ready > 0:
        plan.wake_at(next_availability_change({"spec": {"minReadySeconds": min_ready}}, live, now))
    return plan


def _plan_pods(
    sts: Mapping[str, Any], by_ordinal: Mapping[int, Mapping[str, Any]], claims: Container[str], plan: ControllerPlan
) -> None:
    """Replace failed pods, create missing ones (and their claims), remove surplus ones, then roll one pod to the
    update revision; in order, one at a time, unless podManagementPolicy is Parallel."""
    spec = sts.get("spec") or {}
    name = sts["metadata"]["name"]
    replicas = desired_replicas(sts)
    parallel = spec.get("podManagementPolicy") == "Parallel"
    strategy = spec.get("updateStrategy") or {}
    update_rev = update_revision(sts)
    # Failed pods are deleted and recreated in their slot.
    for _, existing in sorted(by_ordinal.items()):
        if (existing.get("status") or {}).get("phase") == "Failed" and not is_deleting(existing):
            plan.delete.append(existing)
    blocked = bool(plan.delete) and not parallel
    for ordinal in range(replicas):
        if blocked:
            break
        slot = by_ordinal.get(ordinal)
        if slot is None:
            for template in spec.get("volumeClaimTemplates") or ():
                if claim_name(template, name, ordinal) not in claims:
                    plan.create.append(_new_claim(sts, template, ordinal))
            plan.create.append(_new_pod(sts, ordinal, update_rev))
            if not parallel:
                blocked = True
        elif not parallel and (is_deleting(slot) or not _running_and_ready(slot)):
            blocked = True
    condemned = sorted((o for o in by_ordinal if o >= replicas), reverse=True)
    if not blocked:
        for ordinal in condemned:
            pod = by_ordinal[ordinal]
            if not is_deleting(pod):
                plan.delete.append(pod)
            if not parallel:
                break
    all_healthy = all(
        (p := by_ordinal.get(o)) is not None and _running_and_ready(p) and not is_deleting(p)
        for o in range(replicas)
    )
    if not plan.create and not plan.delete and not condemned and all_healthy and strategy.get("type") != "OnDelete":
        # One pod at a time, from the highest ordinal down to the partition.
        partition = int((strategy.get("rollingUpdate") or {}).get("partition") or 0)
        for ordinal in range(replicas - 1, partition - 1, -1):
            pod = by_ordinal[ordinal]
            if pod_revision(pod) != update_rev:
                plan.delete.append(pod)
                break


def _status(sts: Mapping[str, Any], live: Sequence[Mapping[str, Any]], plan: ControllerPlan, now: float) -> JsonDict:
    """The set's status after the plan, from its pods that the plan does not delete (`live`)."""
    replicas = desired_replicas(sts)
    min_ready = int((sts.get("spec") or {}).get("minReadySeconds") or 0)
    update_rev = update_revision(sts)
    current = sts.get("status") or {}
    current_rev = str(current.get("currentRevision") or update_rev)
    status: JsonDict = {}
    put_nonzero(status, "observedGeneration", int(sts["metadata"].get("generation") or 0))
    status["replicas"] = len(live)
    put_nonzero(status, "readyReplicas", sum(1 for p in live if is_pod_ready(p)))
    put_nonzero(status, "currentReplicas", sum(1 for p in live if pod_revision(p) == current_rev))
    put_nonzero(status, "updatedReplicas", sum(1 for p in live if pod_revision(p) == update_rev))
    status["availableReplicas"] = sum(1 for p in live if is_pod_available(p, min_ready, now))
    status["currentRevision"] = current_rev
    status["updateRevision"] = update_rev
    status["collisionCount"] = int(current.get("collisionCount") or 0)
    # completeRollingUpdate: once every replica runs the update revision and is ready, it becomes current.
    if (
        int(status.get("updatedReplicas") or 0) == replicas
        and int(status.get("readyReplicas") or 0) == replicas
        and status["replicas"] == replicas
        and not plan.create
    ):
        status["currentRevision"] = update_rev
        put_nonzero(status, "currentReplicas", int(status.get("updatedReplicas") or 0))
    if current.get("conditions"):
        status["conditions"] = copy.deepcopy(current["conditions"])
    return status
