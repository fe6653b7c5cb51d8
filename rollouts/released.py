"""What a Rollout lets go of: the Services and DestinationRule it pointed at its ReplicaSets and no longer names.

A Rollout writes the pod-template hash into the selector of the Services its strategy names, and into the subsets of
the DestinationRule its subset-level routing names, and marks both with the managed-by annotation. Once its spec no
longer names one (a blue-green Rollout turned canary, ``trafficRouting`` removed), Argo takes the hash out again:
a Service left pinned to an old revision selects no pod once that revision is scaled down, and a DestinationRule
left annotated cannot be used by another Rollout. Pure: the controller's cache says which objects are released.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from kube.json_data import JsonObject
from kube.resources import DESTINATION_RULES, SERVICES
from rollouts.hashing import HASH_LABEL
from rollouts.plan import Patch
from rollouts.replicasets import annotations_of, name_of
from rollouts.services import MANAGED_BY_ANNOTATION, selector_of


def released_service_patch(service: Mapping[str, Any], namespace: str) -> Patch | None:
    """The patch that lets a Service select pods of every revision again and forgets which Rollout managed it;
    None when it carries neither."""
    patch: JsonObject = {}
    if HASH_LABEL in selector_of(service):
        patch["spec"] = {"selector": {HASH_LABEL: None}}
    if MANAGED_BY_ANNOTATION in annotations_of(service):
        patch["metadata"] = {"annotations": {MANAGED_BY_ANNOTATION: None}}
    if not patch:
        return None
    return Patch(kind=SERVICES, namespace=namespace, name=name_of(service), patch=patch)


def released_destination_rule_patch(rule: Mapping[str, Any], namespace: str) -> Patch | None:
    """The patch that takes the hash label out of every subset of a DestinationRule and the managed-by annotation
    off it (Argo's cleaning of a rule no Rollout references); None when it carries neither."""
    spec = rule.get("spec")
    subsets = spec.get("subsets") if isinstance(spec, Mapping) else None
    patch: JsonObject = {}
    if isinstance(subsets, list):
        cleaned = [_without_hash_label(subset) for subset in subsets]
        if cleaned != subsets:
            # A merge patch replaces a list whole: the subsets go back as they were, minus the hash label.
            patch["spec"] = {"subsets": cleaned}
    if MANAGED_BY_ANNOTATION in annotations_of(rule):
        patch["metadata"] = {"annotations": {MANAGED_BY_ANNOTATION: None}}
    if not patch:
        return None
    version = (rule.get("metadata") or {}).get("resourceVersion")
    if isinstance(version, str) and version:
        # The subsets list is written whole: fail rather than overwrite a change made since it was read.
        patch.setdefault("metadata", {})["resourceVersion"] = version
    return Patch(kind=DESTINATION_RULES, namespace=namespace, name=name_of(rule), patch=patch)


def _without_hash_label(subset: Any) -> Any:
    labels = subset.get("labels") if isinstance(subset, Mapping) else None
    if not isinstance(labels, Mapping) or HASH_LABEL not in labels:
        return subset
    cleaned = copy.deepcopy(dict(subset))
    cleaned["labels"] = {key: value for key, value in labels.items() if key != HASH_LABEL}
    if not cleaned["labels"]:
        del cleaned["labels"]
    return cleaned


__all__ = [
    "released_destination_rule_patch",
    "released_service_patch",
]
