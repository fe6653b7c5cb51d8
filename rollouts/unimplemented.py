"""Argo Rollout fields this controller does not carry out (yet): refused, never silently accepted.

A manifest that uses one gets a lint error naming the field, and the controller sets ``InvalidSpec`` with the same
message and changes nothing (both run ``validate_rollout``). Fields refused elsewhere, with their own rules, are not
repeated here: traffic routers other than Istio, NGINX and the Gateway API (``rollouts.traffic.registry``),
a ``workloadRef`` to a kind Argo does not follow (``rollouts.workload_kinds``), an experiment template ``weight``
with a router that cannot route it (``rollouts.traffic.registry``).

Pure: a function of the parsed Rollout (unknown keys are kept by the models, as ``model_extra``).
"""

from __future__ import annotations

from kube.issues import FieldIssue
from rollouts.models import CanaryStrategy, Rollout

CANARY = "spec.strategy.canary"
NOT_YET = "is not supported yet"


def unimplemented_field_issues(rollout: Rollout) -> list[FieldIssue]:
    """One issue per Argo field in the manifest that this controller would otherwise ignore."""
    canary = rollout.spec.strategy.canary
    return _canary_issues(canary) if canary is not None else []


def _canary_issues(canary: CanaryStrategy) -> list[FieldIssue]:
    issues: list[FieldIssue] = []
    for index, step in enumerate(canary.steps):
        if "replicaProgressThreshold" in (step.model_extra or {}):
            issues.append(
                FieldIssue(
                    f"{CANARY}.steps[{index}].replicaProgressThreshold",
                    f"{NOT_YET}: a step waits for all the pods it wants",
                )
            )
    routing = canary.traffic_routing
    # Argo: maxTrafficWeight is for NGINX and traffic-router plugins; here only the NGINX router honours it.
    if routing is not None and routing.max_traffic_weight is not None and routing.nginx is None:
        issues.append(
            FieldIssue(
                f"{CANARY}.trafficRouting.maxTrafficWeight",
                f"{NOT_YET} with this router (only with nginx): weights are percentages",
            )
        )
    return issues


__all__ = ["unimplemented_field_issues"]
