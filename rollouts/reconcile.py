"""One reconcile pass of a Rollout: from an observed snapshot and ``now`` to a Plan.

``decide`` is the only entry point. It validates the spec and the Services it names, then runs the strategy's pass:
``rollouts.canary.reconcile`` or ``rollouts.bluegreen.reconcile``. What both strategies share (the effects, the
ReplicaSet bookkeeping, the conditions) is in ``rollouts.rollout_pass``. Every decision reads the observed status,
so the next pass picks up exactly where this one stopped, whatever happened in between.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from kube.issues import FieldIssue, summarize
from kube.timestamps import as_utc
from rollouts import conditions as cond
from rollouts.bluegreen.reconcile import plan_blue_green
from rollouts.bluegreen.reconcile import service_references as blue_green_services
from rollouts.canary.reconcile import CanaryPass
from rollouts.gating.runs import analysis_issues
from rollouts.kinds import ROLLOUT_KIND
from rollouts.models import CanaryStrategy, Rollout
from rollouts.parsed import parse_rollout
from rollouts.plan import Event, Plan
from rollouts.rollout_pass import (
    finish_plan,
    set_observed_generation,
    status_of,
)
from rollouts.services import ServiceReference, service_reference_issues
from rollouts.snapshot import RolloutSnapshot
from rollouts.status import DEGRADED
from rollouts.traffic.registry import ROUTERS
from rollouts.traffic.router import TrafficRouter
from rollouts.workload_ref import complete_plan, resolve_workload

# A missing Service may be fixed without touching the Rollout, and Services are not necessarily watched: look
# again after a while.
REFERENCE_RETRY_SECONDS = 20.0


def decide(snapshot: RolloutSnapshot, *, routers: Mapping[str, TrafficRouter] = ROUTERS) -> Plan:
    """The writes, status, Events and next look-again time for one reconcile of ``snapshot.rollout``."""
    manifest = snapshot.rollout
    parsed = snapshot.parsed
    if parsed is None or parsed.manifest is not manifest:
        parsed = parse_rollout(manifest)
    if parsed.issues or parsed.rollout is None:
        # The stable version keeps serving: an invalid spec changes nothing but the status.
        return _invalid_spec_plan(snapshot, parsed.issues)
    if (manifest.get("spec") or {}).get("workloadRef") is not None:
        return _decide_for_workload(snapshot, routers)
    return _decide_valid(snapshot, parsed.rollout, routers)


def _decide_for_workload(snapshot: RolloutSnapshot, routers: Mapping[str, TrafficRouter]) -> Plan:
    """A Rollout whose template is a Deployment's: the pass runs on the template it references
    (``rollouts.workload_ref``), then the Deployment is scaled down as ``scaleDown`` says."""
    resolved = resolve_workload(snapshot.rollout, snapshot.workload)
    if isinstance(resolved, FieldIssue):
        # No timer: the controller watches Deployments and looks again when this one appears or changes.
        return _invalid_spec_plan(snapshot, [resolved])
    as_if_templated = {**resolved.manifest, "spec": dict(resolved.manifest["spec"])}
    del as_if_templated["spec"]["workloadRef"]
    # The referenced template must make a valid Rollout (its labels matching the selector, for one).
    issues = ROLLOUT_KIND.check(as_if_templated)
    if issues:
        return _invalid_spec_plan(snapshot, issues)
    resolved_snapshot = replace(snapshot, rollout=resolved.manifest, parsed=None)
    plan = _decide_valid(resolved_snapshot, Rollout.from_dict(resolved.manifest), routers)
    return complete_plan(plan, snapshot.rollout, resolved)


def _decide_valid(snapshot: RolloutSnapshot, rollout: Rollout, routers: Mapping[str, TrafficRouter]) -> Plan:
    """The strategy's pass over a Rollout whose spec is valid and holds its pod template."""
    manifest = snapshot.rollout
    # Every analysis must be runnable before anything moves (Argo: InvalidSpec "AnalysisTemplate 'x' not found").
    # No timer: the controller watches the templates and looks again when one appears or changes.
    issues = analysis_issues(manifest, snapshot.analysis_templates, snapshot.cluster_analysis_templates)
    if issues:
        return _invalid_spec_plan(snapshot, issues)
    blue_green = rollout.spec.strategy.blue_green
    if blue_green is not None:
        issues = service_reference_issues(
            rollout.name, rollout.spec.template_labels, blue_green_services(blue_green), snapshot.services
        )
        if issues:
            return _invalid_spec_plan(snapshot, issues, retry_in=REFERENCE_RETRY_SECONDS)
        return plan_blue_green(snapshot, rollout)
    canary = rollout.spec.strategy.canary
    assert canary is not None  # validation guarantees exactly one strategy
    reference_issues = service_reference_issues(
        rollout.name,
        rollout.spec.template_labels,
        _service_references(canary),
        snapshot.services,
    )
    if reference_issues:
        return _invalid_spec_plan(snapshot, reference_issues, retry_in=REFERENCE_RETRY_SECONDS)
    return CanaryPass(snapshot, rollout, canary, routers).plan()


def _service_references(canary: CanaryStrategy) -> list[ServiceReference]:
    path = "spec.strategy.canary"
    named = [("canaryService", canary.canary_service), ("stableService", canary.stable_service)]
    ping_pong = canary.ping_pong
    if ping_pong is not None:
        named += [("pingPong.pingService", ping_pong.ping_service), ("pingPong.pongService", ping_pong.pong_service)]
    return [ServiceReference(f"{path}.{field_name}", name) for field_name, name in named if name]


# --- plans that change nothing but the status ----------------------------------------------------


def _invalid_spec_plan(
    snapshot: RolloutSnapshot, issues: Sequence[FieldIssue], *, retry_in: float | None = None
) -> Plan:
    """InvalidSpec: the condition, phase Degraded, and no other write."""
    old_status = status_of(snapshot.rollout)
    now = as_utc(snapshot.now)
    message = summarize(issues)
    by_type = {found["type"]: found for found in cond.conditions_of(old_status)}
    previous = by_type.get(cond.INVALID_SPEC)
    by_type[cond.INVALID_SPEC] = cond.condition(
        previous, cond.INVALID_SPEC, cond.TRUE, cond.INVALID_SPEC_REASON, message, now
    )
    status = dict(old_status)
    status["conditions"] = cond.ordered(by_type)
    status["phase"], status["message"] = DEGRADED, f"{cond.INVALID_SPEC}: {message}"
    set_observed_generation(status, snapshot.rollout)
    events: tuple[Event, ...] = ()
    if previous is None or previous.get("message") != message:
        events = (Event("Warning", cond.INVALID_SPEC_REASON, message),)
    return finish_plan(old_status, status, writes=(), events=events, requeue_after=retry_in)


__all__ = ["decide"]
