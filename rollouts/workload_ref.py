"""``spec.workloadRef``: a Rollout that runs the pod template of a Deployment or a ReplicaSet (Argo's migration path).

The Rollout carries no template; each pass takes the workload's ``spec.template`` (and its ``spec.selector`` when the
Rollout names none) as if the Rollout held them, so a change to the workload's template is a new revision of the
Rollout, with its steps. Nothing of the workload is ever written into the Rollout's spec. Which kinds are followed:
``rollouts.workload_kinds``.

``scaleDown`` says what happens to a Deployment's own pods (Argo's ``workloadRef.scaleDown``):

* ``never`` (the default): the Deployment is left alone;
* ``onsuccess``: it is scaled to 0 once the Rollout is Healthy, and never scaled up again by the Rollout (Argo's
  only write in this mode is that 0): an update aborted or rolled back later leaves it at 0, the Rollout's stable
  pods serving;
* ``progressively``: it keeps ``replicas − the Rollout's ready pods`` (so the two together serve as many pods as the
  Rollout wants), and 0 once the Rollout is Healthy. This is Argo's "if the Rollout fails the Deployment will be
  scaled back up": when Rollout pods stop being ready — a crashing update, pods lost — the Deployment is raised by
  as many; an abort or rollback that keeps the stable's pods ready raises nothing.

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
from rollouts.workload_kinds import DEPLOYMENT, FOLLOWED

PATH = "spec.workloadRef"


@dataclass(frozen=True)
class ResolvedWorkload:
    """The Rollout manifest as if it held the workload's pod template, and the workload it came from."""

    manifest: JsonObject
    deployment: JsonObject


def resolve_workload(manifest: Mapping[str, Any], deployment: JsonObject | None) -> ResolvedWorkload | FieldIssue:
    """The manifest with the workload's template (and selector, unless the Rollout has one); the issue when the
    workload (``deployment``, of the kind the reference names) does not exist or has no template."""
    spec = manifest.get("spec") or {}
    reference = spec.get("workloadRef") or {}
    name = str(reference.get("name") or "")
    kind = str(reference.get("kind") or DEPLOYMENT)
    if deployment is None:
        return FieldIssue(f"{PATH}.name", f"{kind} '{name}' not found")
    paths = FOLLOWED.get(kind, FOLLOWED[DEPLOYMENT])
    template = _at(deployment, paths.template_path)
    if not isinstance(template, dict) or not template:
        return FieldIssue(f"{PATH}.name", f"{kind} '{name}' has no {'.'.join(paths.template_path)}")
    resolved: JsonObject = copy.deepcopy(dict(manifest))
    resolved_spec = resolved["spec"] = dict(resolved.get("spec") or {})
    resolved_spec["template"] = copy.deepcopy(template)
    selector = _at(deployment, paths.selector_path) if paths.selector_path else None
    if not resolved_spec.get("selector") and isinstance(selector, dict):
        resolved_spec["selector"] = copy.deepcopy(selector)
    if not resolved_spec.get("selector") and paths.selector_path is None:
        return FieldIssue("spec.selector", f"is required with a workloadRef to a {kind} (it has no selector)")
    return ResolvedWorkload(manifest=resolved, deployment=deployment)


def _at(obj: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    found: Any = obj
    for key in path:
        found = found.get(key) if isinstance(found, Mapping) else None
    return found


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
    # Only a Deployment is scaled (validation refuses scaleDown for other kinds).
    scale_down = reference.get("scaleDown") if reference.get("kind", DEPLOYMENT) == DEPLOYMENT else None
    wanted = deployment_replicas(scale_down, replicas=1 if replicas is None else int(replicas), status=status)
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
