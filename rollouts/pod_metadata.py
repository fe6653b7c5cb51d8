"""Ephemeral pod metadata: labels and annotations a Rollout puts on the pods of one role (Argo's ephemeralmetadata.go).

Blue-green's ``activeMetadata``/``previewMetadata`` (and canary's ``stableMetadata``/``canaryMetadata``) go into the
pod template of the ReplicaSet that currently plays that role, so every pod it creates carries them, and onto the
pods it already has. The ReplicaSet remembers what was injected in the ``rollout.argoproj.io/ephemeral-metadata``
annotation, so that metadata of a role it no longer plays can be taken off again (and nothing else is touched).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kube.json_data import JsonObject, decoded_json_object
from rollouts.hashing import HASH_LABEL
from rollouts.models import PodMetadata
from rollouts.replicasets import ReplicaSetGroups, annotations_of, labels_of, pod_template_hash_of

EPHEMERAL_METADATA_ANNOTATION = "rollout.argoproj.io/ephemeral-metadata"


def injected_metadata(rs: Mapping[str, Any]) -> PodMetadata | None:
    """What was injected into ``rs``'s pods, from its annotation; None when nothing (or unreadable)."""
    decoded = decoded_json_object(annotations_of(rs).get(EPHEMERAL_METADATA_ANNOTATION))
    if decoded is None:
        return None
    return PodMetadata(
        labels={str(k): str(v) for k, v in (decoded.get("labels") or {}).items()},
        annotations={str(k): str(v) for k, v in (decoded.get("annotations") or {}).items()},
    )


def _encoded(metadata: PodMetadata) -> str:
    body: dict[str, dict[str, str]] = {}
    if metadata.labels:
        body["labels"] = dict(sorted(metadata.labels.items()))
    if metadata.annotations:
        body["annotations"] = dict(sorted(metadata.annotations.items()))
    return json.dumps(body, sort_keys=True, separators=(",", ":"))


def _is_empty(metadata: PodMetadata | None) -> bool:
    return metadata is None or (not metadata.labels and not metadata.annotations)


def _changes(
    current: Mapping[str, Any], previous: Mapping[str, str], desired: Mapping[str, str], protected: frozenset[str]
) -> dict[str, str | None]:
    """Merge-patch entries that take ``current`` from carrying ``previous`` to carrying ``desired``."""
    changes: dict[str, str | None] = {}
    for key in previous:
        if key not in desired and key in current and key not in protected:
            changes[key] = None
    for key, value in desired.items():
        if current.get(key) != value and key not in protected:
            changes[key] = value
    return changes


def _protected_labels(rs: Mapping[str, Any]) -> frozenset[str]:
    """Labels the ReplicaSet's selector needs: ephemeral metadata must never add, change or remove those."""
    selector = ((rs.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    return frozenset({HASH_LABEL, *selector})


def inject_pod_metadata(rs: Mapping[str, Any], metadata: PodMetadata) -> JsonObject:
    """A copy of a ReplicaSet body (about to be created) whose pod template carries ``metadata``."""
    body: JsonObject = copy.deepcopy(dict(rs))
    if _is_empty(metadata):
        return body
    protected = _protected_labels(body)
    spec = body.setdefault("spec", {})
    pod_template = spec["template"] = dict(spec.get("template") or {})
    template_metadata = pod_template["metadata"] = dict(pod_template.get("metadata") or {})
    template_metadata["labels"] = {
        **(template_metadata.get("labels") or {}),
        **{k: v for k, v in metadata.labels.items() if k not in protected},
    }
    if metadata.annotations:
        template_metadata["annotations"] = {**(template_metadata.get("annotations") or {}), **metadata.annotations}
    metadata_of_rs = body["metadata"] = dict(body.get("metadata") or {})
    metadata_of_rs["annotations"] = {
        **(metadata_of_rs.get("annotations") or {}),
        EPHEMERAL_METADATA_ANNOTATION: _encoded(metadata),
    }
    return body


def replica_set_metadata_patch(rs: Mapping[str, Any], desired: PodMetadata | None) -> JsonObject | None:
    """The merge patch that makes ``rs``'s pod template carry ``desired`` (None: no ephemeral metadata at all),
    taking off what it injected before; None when the ReplicaSet already is that way."""
    previous = injected_metadata(rs)
    wanted = None if _is_empty(desired) else desired
    template_metadata = ((rs.get("spec") or {}).get("template") or {}).get("metadata") or {}
    protected = _protected_labels(rs)
    labels = _changes(
        template_metadata.get("labels") or {},
        previous.labels if previous else {},
        wanted.labels if wanted else {},
        protected,
    )
    annotations = _changes(
        template_metadata.get("annotations") or {},
        previous.annotations if previous else {},
        wanted.annotations if wanted else {},
        frozenset(),
    )
    recorded = annotations_of(rs).get(EPHEMERAL_METADATA_ANNOTATION)
    wanted_record = _encoded(wanted) if wanted is not None else None
    if not labels and not annotations and recorded == wanted_record:
        return None
    patch: JsonObject = {}
    template_patch: JsonObject = {}
    if labels:
        template_patch["labels"] = labels
    if annotations:
        template_patch["annotations"] = annotations
    if template_patch:
        patch["spec"] = {"template": {"metadata": template_patch}}
    if recorded != wanted_record:
        patch["metadata"] = {"annotations": {EPHEMERAL_METADATA_ANNOTATION: wanted_record}}
    return patch


def pod_metadata_patches(
    rs: Mapping[str, Any], pods: Sequence[Mapping[str, Any]], desired: PodMetadata | None
) -> list[tuple[str, JsonObject]]:
    """(pod name, merge patch) for the existing pods of ``rs`` whose labels or annotations do not match ``desired``
    yet (their ReplicaSet's template only reaches pods created from now on)."""
    pod_hash = pod_template_hash_of(rs)
    if pod_hash is None:
        return []
    previous = injected_metadata(rs)
    wanted = None if _is_empty(desired) else desired
    protected = _protected_labels(rs)
    patches: list[tuple[str, JsonObject]] = []
    for pod in pods:
        if labels_of(pod).get(HASH_LABEL) != pod_hash or (pod.get("metadata") or {}).get("deletionTimestamp"):
            continue
        labels = _changes(
            labels_of(pod), previous.labels if previous else {}, wanted.labels if wanted else {}, protected
        )
        annotations = _changes(
            annotations_of(pod),
            previous.annotations if previous else {},
            wanted.annotations if wanted else {},
            frozenset(),
        )
        if not labels and not annotations:
            continue
        metadata: JsonObject = {}
        if labels:
            metadata["labels"] = labels
        if annotations:
            metadata["annotations"] = annotations
        patches.append((str((pod.get("metadata") or {}).get("name") or ""), {"metadata": metadata}))
    return sorted(patches, key=lambda item: item[0])


def metadata_by_role(
    groups: ReplicaSetGroups,
    *,
    new_role: PodMetadata | None,
    stable_role: PodMetadata | None,
    fully_rolled_out: bool,
) -> list[tuple[JsonObject, PodMetadata | None]]:
    """Which ephemeral metadata each ReplicaSet's pods should carry (Argo's reconcileEphemeralMetadata).

    ``new_role`` is canary's ``canaryMetadata`` or blue-green's ``previewMetadata``, ``stable_role`` its
    ``stableMetadata`` or ``activeMetadata``. Once the update is fully rolled out (no stable yet, or the stable is
    the new revision) the new ReplicaSet plays the stable role; until then the stable ReplicaSet does. Every other
    ReplicaSet carries none, so metadata moves when the stable changes.
    """
    wanted: list[tuple[JsonObject, PodMetadata | None]] = []
    if groups.new is not None:
        wanted.append((groups.new, stable_role if fully_rolled_out else new_role))
    if not fully_rolled_out and groups.stable_is_distinct and groups.stable is not None:
        wanted.append((groups.stable, stable_role))
    wanted += [(rs, None) for rs in groups.others]
    return wanted


@dataclass(frozen=True)
class MetadataWrites:
    """The merge patches that make pods and ReplicaSets carry the metadata of their role."""

    pod_patches: tuple[tuple[str, JsonObject], ...]
    """(pod name, patch)"""
    replica_set_patches: tuple[tuple[JsonObject, JsonObject], ...]
    """(ReplicaSet as observed, patch)"""


def metadata_writes(
    wanted: Sequence[tuple[JsonObject, PodMetadata | None]], pods: Sequence[Mapping[str, Any]]
) -> MetadataWrites:
    """What to write so that each ReplicaSet of ``wanted`` (from ``metadata_by_role``), and its existing pods,
    carry exactly its metadata; nothing when all of them already do."""
    pod_patches: list[tuple[str, JsonObject]] = []
    rs_patches: list[tuple[JsonObject, JsonObject]] = []
    for rs, metadata in wanted:
        pod_patches += pod_metadata_patches(rs, pods, metadata)
        rs_patch = replica_set_metadata_patch(rs, metadata)
        if rs_patch is not None:
            rs_patches.append((rs, rs_patch))
    return MetadataWrites(tuple(pod_patches), tuple(rs_patches))


__all__ = [
    "EPHEMERAL_METADATA_ANNOTATION",
    "MetadataWrites",
    "inject_pod_metadata",
    "injected_metadata",
    "metadata_by_role",
    "metadata_writes",
    "pod_metadata_patches",
    "replica_set_metadata_patch",
]
