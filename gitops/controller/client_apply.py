"""Client-side apply, as ``kubectl apply`` (and Argo CD without ServerSideApply) does it: the manifest is remembered
in the ``kubectl.kubernetes.io/last-applied-configuration`` annotation, and an update is a three-way merge patch —
fields Git removed since the last apply are deleted, fields Git sets are set, and fields only the cluster added
(defaults, other controllers' fields) are left alone. Pure.

The patch is a JSON merge patch (RFC 7386): lists are replaced as a whole, so a container removed from Git goes
away. kubectl sends a strategic merge patch for built-in kinds, which merges some lists by key instead; for the
list of what Git declares the two agree, and the merge patch needs no schema.
"""

from __future__ import annotations

import json
from typing import Any, Final

from gitops.compare.diff import LAST_APPLIED_ANNOTATION, last_applied
from kube.json_data import JsonObject, json_equal

LAST_APPLIED: Final = LAST_APPLIED_ANNOTATION
# Fields of the object the API server owns; a manifest never changes them through apply.
_SERVER_FIELDS: Final = ("status",)
_SERVER_METADATA: Final = (
    "resourceVersion", "uid", "creationTimestamp", "generation", "managedFields", "selfLink", "deletionTimestamp",
)


def last_applied_configuration(target: JsonObject) -> str:
    """The annotation's value for ``target``: the manifest without the annotation itself, as compact JSON."""
    stripped = _without_last_applied(target)
    return json.dumps(stripped, separators=(",", ":"), sort_keys=True)


def with_last_applied(target: JsonObject) -> JsonObject:
    """A copy of ``target`` carrying its own last-applied annotation (the body of a create)."""
    body = json.loads(json.dumps(target))
    metadata = body.setdefault("metadata", {})
    annotations = metadata.get("annotations") or {}
    metadata["annotations"] = {**annotations, LAST_APPLIED: last_applied_configuration(target)}
    return dict(body)


def apply_patch(target: JsonObject, live: JsonObject) -> JsonObject | None:
    """The merge patch that applies ``target`` over ``live`` (annotation included), or ``None`` when the object
    already holds everything ``target`` declares and nothing Git removed since the last apply."""
    desired = with_last_applied(target)
    original = last_applied(live)
    patch = three_way_merge_patch(original, desired, live)
    return patch or None


def three_way_merge_patch(original: JsonObject | None, modified: JsonObject, current: JsonObject) -> JsonObject:
    """A JSON merge patch taking ``current`` to ``modified``: keys in ``original`` (the last applied) but not in
    ``modified`` are deleted, keys of ``modified`` whose value differs in ``current`` are set; keys only
    ``current`` has are kept. Server-owned fields (status, resourceVersion, uid …) are never touched."""
    patch = _merge(original, modified, current, top=True)
    return patch


def _merge(original: Any, modified: JsonObject, current: Any, *, top: bool = False, meta: bool = False) -> JsonObject:
    patch: JsonObject = {}
    original_map = original if isinstance(original, dict) else {}
    current_map = current if isinstance(current, dict) else {}
    for key, value in modified.items():
        if top and key in _SERVER_FIELDS:
            continue
        if meta and key in _SERVER_METADATA:
            continue
        have = current_map.get(key, _MISSING)
        if isinstance(value, dict) and isinstance(have, dict):
            nested = _merge(original_map.get(key), value, have, meta=top and key == "metadata")
            if nested:
                patch[key] = nested
        elif value is None:
            if have is not _MISSING:
                patch[key] = None
        elif not json_equal(value, have):
            patch[key] = value
    for key in original_map:
        if key in modified or (top and key in _SERVER_FIELDS) or (meta and key in _SERVER_METADATA):
            continue
        if key in current_map:
            patch[key] = None
    return patch


class _Missing:
    pass


_MISSING: Final = _Missing()


def _without_last_applied(target: JsonObject) -> JsonObject:
    metadata = dict(target.get("metadata") or {})
    annotations = {k: v for k, v in (metadata.get("annotations") or {}).items() if k != LAST_APPLIED}
    if annotations:
        metadata["annotations"] = annotations
    else:
        metadata.pop("annotations", None)
    return {**target, "metadata": metadata}
