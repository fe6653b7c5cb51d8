"""The Services a Rollout points at its ReplicaSets, by writing the pod-template hash into their selectors.

Strategy-neutral: canary (stable/canary Services) and blue-green (active/preview Services) both switch a
Service to a ReplicaSet the same way and check the same things about the Services they name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kube.issues import FieldIssue
from kube.json_data import JsonObject
from rollouts.hashing import HASH_LABEL
from rollouts.replicasets import annotations_of, available_replicas, is_fully_available, pod_template_hash_of

MANAGED_BY_ANNOTATION = "argo-rollouts.argoproj.io/managed-by-rollouts"


def selector_of(service: Mapping[str, Any]) -> dict[str, Any]:
    selector = (service.get("spec") or {}).get("selector")
    return selector if isinstance(selector, dict) else {}


def selected_hash(service: Mapping[str, Any] | None) -> str | None:
    """The pod-template hash a Service selects, or None when it selects no particular revision."""
    if service is None:
        return None
    value = selector_of(service).get(HASH_LABEL)
    return value if isinstance(value, str) and value else None


def managed_by(service: Mapping[str, Any]) -> str | None:
    value = annotations_of(service).get(MANAGED_BY_ANNOTATION)
    return value if isinstance(value, str) and value else None


@dataclass(frozen=True)
class ServiceReference:
    """A Service the spec names, with the camelCase path of the field that names it."""

    path: str
    name: str


def service_reference_issues(
    rollout_name: str,
    template_labels: Mapping[str, str],
    references: Sequence[ServiceReference],
    services: Mapping[str, JsonObject],
) -> list[FieldIssue]:
    """What stops the Rollout from using the Services it names: a missing Service, one another Rollout already
    manages, or a selector that would never match this Rollout's pods (Argo reports these as InvalidSpec)."""
    issues: list[FieldIssue] = []
    for reference in references:
        service = services.get(reference.name)
        if service is None:
            issues.append(FieldIssue(reference.path, f'Service "{reference.name}" not found'))
            continue
        owner = managed_by(service)
        if owner is not None and owner != rollout_name:
            issues.append(
                FieldIssue(
                    reference.path,
                    f'Service "{reference.name}" is managed by Rollout "{owner}" (annotation {MANAGED_BY_ANNOTATION})',
                )
            )
        for key, value in sorted(selector_of(service).items()):
            if key != HASH_LABEL and template_labels.get(key) != value:
                issues.append(
                    FieldIssue(
                        reference.path,
                        f'Service "{reference.name}" selects {key}={value}, which the pod template labels do not have',
                    )
                )
    return issues


@dataclass(frozen=True)
class ServiceSwitch:
    """A Service to point at another ReplicaSet: the merge patch and the Event message that explains it."""

    name: str
    patch: JsonObject
    message: str


def service_switch(
    service: Mapping[str, Any] | None,
    target: Mapping[str, Any] | None,
    *,
    rollout_name: str,
    check_availability: bool = True,
) -> ServiceSwitch | None:
    """The patch that makes ``service`` select ``target``'s pods, or None when there is nothing to do yet.

    A Service is never pointed at a ReplicaSet with no available pod (that would route to nothing). One the
    Rollout does not manage yet (no managed-by annotation) still selects pods of every revision, so it is taken
    over only once the target is fully available, lest it suddenly send all its traffic to a half-started set.
    ``check_availability=False`` skips both checks, for moves back to a ReplicaSet known to be serving (an abort).
    """
    if service is None or target is None:
        return None
    target_hash = pod_template_hash_of(target)
    if target_hash is None:
        return None
    current = selected_hash(service)
    managed = managed_by(service) is not None
    if current == target_hash and managed:
        return None
    if check_availability and current != target_hash:
        if not managed and not is_fully_available(target):
            return None
        if available_replicas(target) <= 0:
            return None
    patch: JsonObject = {"spec": {"selector": {HASH_LABEL: target_hash}}}
    if not managed:
        patch = {"metadata": {"annotations": {MANAGED_BY_ANNOTATION: rollout_name}}, **patch}
    name = str((service.get("metadata") or {}).get("name") or "")
    message = f"Switched selector for service '{name}' from '{current or ''}' to '{target_hash}'"
    return ServiceSwitch(name=name, patch=patch, message=message)
