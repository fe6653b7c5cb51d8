"""The field labels each resource can be selected by (``fieldSelector``), as kube-apiserver registers them.

Every resource supports ``metadata.name`` and ``metadata.namespace``; built-ins add the fields their registry
strategies expose (``GetAttrs`` and the field label conversion functions of Kubernetes 1.32); custom resources
add their CRD version's ``selectableFields``. A selector on any other field is refused with 400
``field label not supported: <field>``, where an emulator that quietly matched nothing would hide the mistake.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from sandbox.emulator.resources import ResourceSpec, StorageKey
from sandbox.emulator.selectors import FieldSelector

COMMON: Final = frozenset({"metadata.name", "metadata.namespace"})

_EVENT_FIELDS: Final = frozenset({
    "involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
    "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason",
    "reportingComponent", "source", "type",
})

BUILT_IN: Final[Mapping[StorageKey, frozenset[str]]] = {
    ("", "pods"): frozenset({
        "spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
        "spec.hostNetwork", "status.phase", "status.podIP", "status.podIPs", "status.nominatedNodeName",
    }),
    ("", "events"): _EVENT_FIELDS,
    ("events.k8s.io", "events"): _EVENT_FIELDS,
    ("", "secrets"): frozenset({"type"}),
    ("", "namespaces"): frozenset({"status.phase"}),
    ("", "nodes"): frozenset({"spec.unschedulable"}),
    ("", "replicationcontrollers"): frozenset({"status.replicas"}),
    ("apps", "replicasets"): frozenset({"status.replicas"}),
    ("batch", "jobs"): frozenset({"status.successful"}),
    ("certificates.k8s.io", "certificatesigningrequests"): frozenset({"spec.signerName"}),
}


def supported_fields(spec: ResourceSpec) -> frozenset[str]:
    """The field labels a ``fieldSelector`` on ``spec``'s resource may name."""
    if spec.custom:
        return COMMON | frozenset(spec.selectable_fields)
    return COMMON | BUILT_IN.get(spec.storage_key, frozenset())


def unsupported_field(spec: ResourceSpec, selector: FieldSelector) -> str | None:
    """The first field of ``selector`` the resource cannot be selected by, or None when all are supported."""
    supported = supported_fields(spec)
    for requirement in selector.requirements:
        label = ".".join(requirement.path)
        if label not in supported:
            return label
    return None
