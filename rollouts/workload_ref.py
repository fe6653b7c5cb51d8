"""``spec.workloadRef``: a Rollout that runs the pod template of a Deployment (Argo's migration path).

The Rollout carries no template; each pass takes the Deployment's ``spec.template`` (and its ``spec.selector`` when the
Rollout names none) as if the Rollout held them, so a change to the Deployment's template is a new revision of the
Rollout, with its steps. Nothing of the Deployment is ever written into the Rollout's spec.

``scaleDown`` says what happens to the Deployment's own pods (Argo's ``workloadRef.scaleDown``):

* ``never`` (the default): the Deployment is left alone;
* ``onsuccess``: it is scaled to 0 once the Rollout is Healthy;
* ``progressively``: while the Rollout comes up, it keeps ``replicas − the Rollout's ready pods`` (so the two together
  serve as many pods as the Rollout wants; scaled back up if Rollout pods stop being ready), and 0 once the Rollout is
  Healthy.

Pure: the decision core calls ``resolve_workload`` before the strategy's pass and ``complete_plan`` after it.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from kube.issues import FieldIssue
from kube.json_data import JsonObject
from kube.resources import DEPLOYMENTS
from rollouts.plan import Patch, Plan
from rollouts.rollout_pass import finish_plan, status_of
from rollouts.status import HEALTHY

PATH = "spec.workloadRef"


@dataclass(frozen=True)
class ResolvedWorkload:
    """The Rollout manifest as if it held the Deployment's pod template, and the Deployment it came from."""

    manifest: JsonObject
    deployment: JsonObject


def resolve_workload(manifest: Mapping[str, Any], deployment: JsonObject | None) -> ResolvedWorkload | FieldIssue:
    """The manifest with the Deployment's template (and selector, unless the Rollout has one); the issue when the
    Deployment does not exist or has no template."""
    spec = manifest.get("spec") or {}
    name = str((spec.get("workloadRef") or {}).get("name") or "")
    if deployment is None:
        return FieldIssue(f"{PATH}.name", f"Deployment '{name}' not found")
    deployment_spec = deployment.get("spec") or {}
    template = deployment_spec.get("template")
    if not isinstance(template, dict) or not template:
        return FieldIssue(f"{PATH}.name", f"Deployment '{name}' has no spec.template")
    resolved: JsonObject = copy.deepcopy(dict(manifest))
    resolved_spec = resolved["spec"] = dict(resolved.get("spec") or {})
    resolved_spec["template"] = copy.deepcopy(template)
    if not resolved_spec.get("selector") and isinstance(deployment_spec.get("selector"), dict):
        resolved_spec["selector"] = copy.deepcopy(deployment_spec["selector"])
    return ResolvedWorkload(manifest=resolved, deployment=deployment)


def deployment_replicas(scale_down: str | None, *, replicas: int, status: Mapping[str, Any]) -> int | None:
    """How many pods the Deployment should keep, from the Rollout's new status; None when it is left alone."""
    if scale_down in (None, "never"):
        return None
    if status.get("phase") == HEALTHY:
        return 0
    if scale_down == "progressively":
        ready = int(status.get("readyReplicas") or 0)
        return max(0, replicas - ready)
    return None


def complete_plan(plan: Plan, original: Mapping[str, Any], resolved: ResolvedWorkload) -> Plan:
    """The pass's plan, plus what following the workload adds: ``status.workloadObservedGeneration`` (the
    Deployment's generation the pass used) and the Deployment's scale-down."""
    status = dict(plan.status)
    generation = (resolved.deployment.get("metadata") or {}).get("generation")
    if generation is not None:
        status["workloadObservedGeneration"] = str(generation)
    writes = list(plan.writes)
    spec = resolved.manifest.get("spec") or {}
    reference = spec.get("workloadRef") or {}
    replicas = spec.get("replicas")
    wanted = deployment_replicas(
        reference.get("scaleDown"), replicas=1 if replicas is None else int(replicas), status=status
    )
    current = (resolved.deployment.get("spec") or {}).get("replicas", 1)
    if wanted is not None and wanted != current:
        metadata = resolved.deployment.get("metadata") or {}
        writes.append(
            Patch(
                kind=DEPLOYMENTS,
                namespace=str(metadata.get("namespace") or ""),
                name=str(metadata.get("name") or ""),
                patch={"spec": {"replicas": wanted}},
            )
        )
    finished = finish_plan(
        status_of(original), status, writes=writes, events=plan.events, requeue_after=plan.requeue_after
    )
    return replace(plan, writes=finished.writes, status=finished.status, status_patch=finished.status_patch)


__all__ = [
    "ResolvedWorkload",
    "complete_plan",
    "deployment_replicas",
    "resolve_workload",
]
