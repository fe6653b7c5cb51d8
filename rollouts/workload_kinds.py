"""The kinds a Rollout's ``spec.workloadRef`` may name, and where each keeps its pod template (Argo's templateref.go).

Argo follows a Deployment or a ReplicaSet (group ``apps``: ``spec.template``, ``spec.selector``) and a PodTemplate
(core ``v1``: ``template``, no selector, so the Rollout names its own). Only a Deployment is scaled down by
``scaleDown``: Argo's scale-down updates a Deployment of the referenced name, which a ReplicaSet or a PodTemplate
is not, so another mode than ``never`` with those is refused instead of failing on every pass.

Pure: a function of the reference.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from kube.issues import FieldIssue
from kube.resources import DEPLOYMENTS, POD_TEMPLATES, REPLICASETS, ResourceKind
from rollouts.models import WorkloadRef

PATH: Final = "spec.workloadRef"
DEPLOYMENT: Final = DEPLOYMENTS.kind
REPLICA_SET: Final = REPLICASETS.kind
POD_TEMPLATE: Final = POD_TEMPLATES.kind


@dataclass(frozen=True)
class WorkloadKind:
    """Where a kind of workload keeps the pod template (and the selector) a Rollout takes."""

    resource: ResourceKind
    template_path: tuple[str, ...]
    selector_path: tuple[str, ...] | None


FOLLOWED: Final = {
    followed.resource.kind: followed
    for followed in (
        WorkloadKind(DEPLOYMENTS, ("spec", "template"), ("spec", "selector")),
        WorkloadKind(REPLICASETS, ("spec", "template"), ("spec", "selector")),
        WorkloadKind(POD_TEMPLATES, ("template",), None),
    )
}


def workload_reference_issues(reference: WorkloadRef) -> list[FieldIssue]:
    """What is wrong with a workloadRef's kind, apiVersion and scaleDown (each issue naming its field)."""
    kind = reference.kind
    if not kind:
        return []
    followed = FOLLOWED.get(kind)
    if followed is None:
        return [FieldIssue(f"{PATH}.kind", f"{kind} is not supported (Deployment, ReplicaSet or PodTemplate)")]
    issues: list[FieldIssue] = []
    group, _, version = (reference.api_version or "").rpartition("/")
    if reference.api_version and (group != followed.resource.group or not version):
        wanted = followed.resource.api_version
        issues.append(FieldIssue(f"{PATH}.apiVersion", f"must be {wanted} for a {kind}, got {reference.api_version}"))
    if kind != DEPLOYMENT and reference.scale_down not in (None, "never"):
        issues.append(
            FieldIssue(
                f"{PATH}.scaleDown",
                f"only a Deployment is scaled down; with a {kind} leave it out or set never (scale the {kind} "
                "down yourself once the Rollout is Healthy)",
            )
        )
    return issues


__all__ = ["DEPLOYMENT", "FOLLOWED", "POD_TEMPLATE", "REPLICA_SET", "WorkloadKind", "workload_reference_issues"]
