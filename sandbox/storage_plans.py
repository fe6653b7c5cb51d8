"""Dynamic provisioning and binding of PersistentVolumeClaims, as pure functions (the PV controller's view).

A claim names a StorageClass (`spec.storageClassName`; unset means the class annotated as the default, as the
DefaultStorageClass admission plugin would have filled in). With a known class whose binding mode is
`Immediate`, the sandbox's provisioner creates a PersistentVolume `pvc-<claim uid>` of the requested size once the
claim is `bind_delay` seconds old, and the claim becomes Bound to it (`spec.volumeName`, the bind annotations,
`status.capacity`). `WaitForFirstConsumer` waits, in addition, for a pod that mounts the claim. A claim whose class
does not exist, or with `storageClassName: ""` (static binding, not simulated), stays Pending. A volume whose claim
is gone is deleted (reclaim policy Delete) or Released (Retain).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from sandbox.controller_plans import ControllerPlan, is_deleting
from sandbox.workload_status import JsonDict, parse_timestamp

DEFAULT_CLASS_ANNOTATION: Final = "storageclass.kubernetes.io/is-default-class"
PROVISIONER: Final = "sandbox.rollouts/hostpath"
DEFAULT_STORAGE_CLASS_NAME: Final = "standard"
VOLUME_ROOT: Final = "/var/lib/sandbox/volumes"


def default_storage_class() -> JsonDict:
    """The StorageClass the sandbox installs at start: `standard`, the default, binding at once."""
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": DEFAULT_STORAGE_CLASS_NAME, "annotations": {DEFAULT_CLASS_ANNOTATION: "true"}},
        "provisioner": PROVISIONER,
        "reclaimPolicy": "Delete",
        "volumeBindingMode": "Immediate",
        "allowVolumeExpansion": True,
    }


def claim_class(claim: Mapping[str, Any], classes: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The StorageClass that provisions the claim, or None (unknown class, no default, or static binding)."""
    name = (claim.get("spec") or {}).get("storageClassName")
    if name == "":
        return None
    for storage_class in classes:
        metadata = storage_class.get("metadata") or {}
        if name is None and (metadata.get("annotations") or {}).get(DEFAULT_CLASS_ANNOTATION) == "true":
            return storage_class
        if name is not None and metadata.get("name") == name:
            return storage_class
    return None


def volume_name(claim: Mapping[str, Any]) -> str:
    return f"pvc-{claim['metadata']['uid']}"


def plan_claim(
    claim: Mapping[str, Any],
    classes: Sequence[Mapping[str, Any]],
    volume: Mapping[str, Any] | None,
    *,
    consumed: bool,
    now: float,
    bind_delay: float,
) -> ControllerPlan:
    """Provision and bind `claim`; `volume` is the PV named for it if it exists, `consumed` whether a pod mounts it."""
    plan = ControllerPlan()
    status = claim.get("status") or {}
    if status.get("phase") == "Bound" or is_deleting(claim):
        return plan
    storage_class = claim_class(claim, classes)
    pending: JsonDict = {"phase": "Pending"}
    if storage_class is None:
        plan.status = pending
        return plan
    waits_for_consumer = storage_class.get("volumeBindingMode") == "WaitForFirstConsumer"
    created = parse_timestamp((claim.get("metadata") or {}).get("creationTimestamp")) or now
    if waits_for_consumer and not consumed:
        plan.status = pending
        return plan
    if now < created + bind_delay:
        plan.status = pending
        plan.wake_at(created + bind_delay)
        return plan
    spec = claim.get("spec") or {}
    size = str(((spec.get("resources") or {}).get("requests") or {}).get("storage") or "1Gi")
    access_modes = list(spec.get("accessModes") or ["ReadWriteOnce"])
    class_name = str(storage_class["metadata"]["name"])
    provisioner = str(storage_class.get("provisioner") or PROVISIONER)
    name = volume_name(claim)
    if volume is None:
        plan.create.append(
            {
                "apiVersion": "v1",
                "kind": "PersistentVolume",
                "metadata": {"name": name, "annotations": {"pv.kubernetes.io/provisioned-by": provisioner}},
                "spec": {
                    "capacity": {"storage": size},
                    "accessModes": access_modes,
                    "persistentVolumeReclaimPolicy": storage_class.get("reclaimPolicy") or "Delete",
                    "storageClassName": class_name,
                    "volumeMode": spec.get("volumeMode") or "Filesystem",
                    "hostPath": {"path": f"{VOLUME_ROOT}/{name}", "type": "DirectoryOrCreate"},
                    "claimRef": {
                        "apiVersion": "v1",
                        "kind": "PersistentVolumeClaim",
                        "name": claim["metadata"]["name"],
                        "namespace": claim["metadata"].get("namespace"),
                        "uid": claim["metadata"]["uid"],
                    },
                },
            }
        )
    plan.patch = {
        "metadata": {
            "annotations": {
                "pv.kubernetes.io/bind-completed": "yes",
                "pv.kubernetes.io/bound-by-controller": "yes",
                "volume.beta.kubernetes.io/storage-provisioner": provisioner,
                "volume.kubernetes.io/storage-provisioner": provisioner,
            }
        },
        "spec": {"volumeName": name},
    }
    plan.status = {"phase": "Bound", "accessModes": access_modes, "capacity": {"storage": size}}
    return plan


def plan_volume(volume: Mapping[str, Any], claim: Mapping[str, Any] | None) -> ControllerPlan:
    """The PV's phase: Bound to its live claim; once the claim is gone, deleted (Delete) or Released (Retain)."""
    plan = ControllerPlan()
    spec = volume.get("spec") or {}
    ref = spec.get("claimRef")
    if ref is None:
        plan.status = {"phase": "Available"}
        return plan
    if claim is not None and (claim.get("metadata") or {}).get("uid") == ref.get("uid"):
        plan.status = {"phase": "Bound"}
        return plan
    if (spec.get("persistentVolumeReclaimPolicy") or "Delete") == "Delete":
        plan.delete_self = True
    else:
        plan.status = {"phase": "Released"}
    return plan
