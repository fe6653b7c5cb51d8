"""The vocabulary every part of the sync engine shares: how a manifest or live object is named, and its health.

Manifests and live objects are plain dicts (``JsonObject``) everywhere in the engine; these two frozen types are the
only structure laid over them, so the comparison, the health checks, the sync planner and the controller agree on
what "the same resource" and "its health" mean without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass

from kube.json_data import JsonObject as JsonObject  # re-exported: code written against this module keeps working


def group_of(api_version: str) -> str:
    """The API group of an apiVersion: ``apps/v1`` → ``apps``, ``v1`` → the core group ``""``."""
    return api_version.rpartition("/")[0]


# Kinds Kubernetes serves cluster-wide; the caller passes API discovery instead when it has it.
CLUSTER_SCOPED_KINDS = frozenset(
    {
        ("", "Namespace"),
        ("", "Node"),
        ("", "PersistentVolume"),
        ("", "ComponentStatus"),
        ("rbac.authorization.k8s.io", "ClusterRole"),
        ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
        ("apiextensions.k8s.io", "CustomResourceDefinition"),
        ("apiregistration.k8s.io", "APIService"),
        ("storage.k8s.io", "StorageClass"),
        ("storage.k8s.io", "CSIDriver"),
        ("storage.k8s.io", "CSINode"),
        ("storage.k8s.io", "VolumeAttachment"),
        ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"),
        ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"),
        ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"),
        ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding"),
        ("scheduling.k8s.io", "PriorityClass"),
        ("networking.k8s.io", "IngressClass"),
        ("node.k8s.io", "RuntimeClass"),
        ("policy", "PodSecurityPolicy"),
        ("certificates.k8s.io", "CertificateSigningRequest"),
        ("flowcontrol.apiserver.k8s.io", "FlowSchema"),
        ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration"),
        ("argoproj.io", "ClusterAnalysisTemplate"),
    }
)


def namespaced_by_default(group: str, kind: str) -> bool:
    """Whether a kind is namespaced, from the built-in list of cluster-scoped kinds (custom kinds: namespaced)."""
    return (group, kind) not in CLUSTER_SCOPED_KINDS


@dataclass(frozen=True, order=True)
class ResourceKey:
    """A resource's identity as Argo CD pairs targets with live objects: group, kind, namespace and name.

    The version is left out on purpose: ``apps/v1`` and ``apps/v1beta1`` name the same object.
    """

    group: str
    kind: str
    namespace: str
    name: str

    @classmethod
    def of(cls, obj: JsonObject) -> ResourceKey:
        """The key of a manifest or live object (an empty namespace for cluster-scoped or not-yet-placed ones)."""
        metadata = obj.get("metadata") or {}
        return cls(
            group=group_of(str(obj.get("apiVersion", ""))),
            kind=str(obj.get("kind", "")),
            namespace=str(metadata.get("namespace") or ""),
            name=str(metadata.get("name") or ""),
        )

    @property
    def group_kind(self) -> str:
        """``Kind`` for the core group, ``group/Kind`` otherwise (Argo CD's spelling in messages)."""
        return f"{self.group}/{self.kind}" if self.group else self.kind

    def __str__(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.group_kind} {where}{self.name}"


@dataclass(frozen=True)
class Health:
    """A health assessment: Argo CD's status word (Healthy, Progressing, Degraded, Suspended, Missing, Unknown)."""

    status: str
    message: str = ""

    def to_dict(self) -> JsonObject:
        """The ``{status, message}`` shape Argo CD writes into Application status."""
        return {"status": self.status, "message": self.message} if self.message else {"status": self.status}
