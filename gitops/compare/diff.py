"""The diff of one resource: does the live object match its target, what will it look like after a sync, and the
diff a person reads.

Three ways, as Argo CD:

- **three-way**, when the live object carries ``kubectl.kubernetes.io/last-applied-configuration``: the predicted
  live object is the live one with the target's fields set and the fields removed from the target since the last apply
  deleted; fields only the server or other writers set are kept, so they never count;
- **two-way**, without it: every field the target sets must match live; what only live has (server defaults) does
  not count, except list items the target does not have;
- **server-side apply** (``server_side=True``): the target's fields are set, fields other managers own are kept, and
  fields the ``argocd-controller`` manager owns in managedFields that the target no longer sets are removed.

Lists of objects that all have a ``name`` are merged by name (containers, env, volumes: Kubernetes' merge key);
other lists of objects of the same length item by item; any other list is replaced by the target's.
Resource is Modified when the predicted live object differs from the live one, both normalised and with the ignored
fields removed.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from gitops.compare.ignore import IgnoreRule, apply_ignore_rules
from gitops.compare.json_tree import copy_tree
from gitops.compare.managed_fields import delete_path, has_path, manager_paths
from gitops.compare.normalize import IGNORE_STATUS_CRD, normalize
from gitops.resources import JsonObject, group_of
from kube.json_data import decoded_json_object

LAST_APPLIED_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration"
ARGOCD_MANAGER = "argocd-controller"
SECRET_MASK = "+" * 8
_MISSING = object()


@dataclass(frozen=True)
class DiffResult:
    """The outcome of diffing one resource.

    ``normalized_live`` and ``predicted_live`` are normalised and stripped of ignored fields (None when that side
    does not exist / the object is to be deleted); ``errors`` are ignore rules that could not be applied.
    """

    modified: bool
    normalized_live: JsonObject | None
    predicted_live: JsonObject | None
    errors: tuple[str, ...] = ()


def last_applied(live: JsonObject) -> JsonObject | None:
    """The object ``kubectl apply`` last wrote, from live's annotation; None when absent or not a JSON object."""
    annotations = (live.get("metadata") or {}).get("annotations") or {}
    return decoded_json_object(annotations.get(LAST_APPLIED_ANNOTATION) if isinstance(annotations, Mapping) else None)


def _empty(value: Any) -> bool:
    return value is None or value == {} or value == []


def _by_name(items: Sequence[Any]) -> dict[Any, Any] | None:
    if not all(isinstance(item, dict) and "name" in item for item in items):
        return None
    return {item["name"]: item for item in items}


def merge(live: Any, target: Any, applied: Any = _MISSING, *, keep_extra_items: bool) -> Any:
    """``live`` with ``target`` applied; fields in ``applied`` (last-applied) but no longer in target are removed.

    The result shares the subtrees the target does not touch with ``live``. ``keep_extra_items`` keeps live list
    items the target does not name (unless last-applied had them).
    """
    if isinstance(target, dict) and isinstance(live, dict):
        result = dict(live)
        previous = applied if isinstance(applied, dict) else {}
        for key, value in target.items():
            if value is None:
                result.pop(key, None)
            elif key not in live and _empty(value):
                continue
            else:
                result[key] = merge(
                    live.get(key, _MISSING), value, previous.get(key, _MISSING), keep_extra_items=keep_extra_items
                )
        for key in previous:
            if key not in target:
                result.pop(key, None)
        return result
    if isinstance(target, list) and isinstance(live, list):
        return _merge_lists(live, target, applied, keep_extra_items=keep_extra_items)
    return copy_tree(target)


def _merge_lists(live: list[Any], target: list[Any], applied: Any, *, keep_extra_items: bool) -> list[Any]:
    target_names = _by_name(target)
    live_names = _by_name(live)
    if target_names is not None and live_names is not None and len(target_names) == len(target):
        previous = _by_name(applied) if isinstance(applied, list) else None
        previous = previous or {}
        merged = [
            merge(live_names.get(name, _MISSING), item, previous.get(name, _MISSING), keep_extra_items=keep_extra_items)
            for name, item in target_names.items()
        ]
        extras = [
            item
            for name, item in live_names.items()
            if name not in target_names and keep_extra_items and name not in previous
        ]
        return merged + extras
    if len(live) == len(target) and all(isinstance(item, dict) for item in [*live, *target]):
        previous_items = applied if isinstance(applied, list) and len(applied) == len(target) else None
        return [
            merge(
                live_item,
                target_item,
                previous_items[index] if previous_items else _MISSING,
                keep_extra_items=keep_extra_items,
            )
            for index, (live_item, target_item) in enumerate(zip(live, target, strict=True))
        ]
    return copy_tree(target)


def diff(
    target: JsonObject | None,
    live: JsonObject | None,
    *,
    server_side: bool = False,
    manager: str = ARGOCD_MANAGER,
    ignore: Sequence[IgnoreRule] = (),
    ignore_status: str = IGNORE_STATUS_CRD,
) -> DiffResult:
    """Diff one resource: three-way with last-applied, two-way without, or the server-side apply merge."""
    applied = last_applied(live) if live is not None and not server_side else None
    sides = [
        normalize(target, ignore_status=ignore_status) if target is not None else None,
        normalize(live, ignore_status=ignore_status) if live is not None else None,
        normalize(applied, ignore_status=ignore_status) if applied is not None else None,
    ]
    outcome = apply_ignore_rules(sides, ignore, live=live)
    norm_target, norm_live, norm_applied = outcome.objects
    errors = tuple(outcome.errors)
    if norm_target is None or norm_live is None:
        return DiffResult(True, norm_live, norm_target, errors)
    if server_side:
        # merge() shares the subtrees the target leaves alone with live; deleting from them must not touch live.
        predicted = copy_tree(merge(norm_live, norm_target, keep_extra_items=True))
        # Fields we applied before and the target no longer sets are removed by the next apply.
        for path in manager_paths(live or {}, {manager}, operation="Apply"):
            if not has_path(norm_target, path):
                delete_path(predicted, path)
    elif norm_applied is not None:
        predicted = merge(norm_live, norm_target, norm_applied, keep_extra_items=True)
    else:
        predicted = merge(norm_live, norm_target, keep_extra_items=False)
    return DiffResult(predicted != norm_live, norm_live, predicted, errors)


def _is_secret(obj: JsonObject | None) -> bool:
    return obj is not None and obj.get("kind") == "Secret" and group_of(str(obj.get("apiVersion", ""))) == ""


def mask_secrets(live: JsonObject | None, predicted: JsonObject | None) -> tuple[JsonObject | None, JsonObject | None]:
    """Copies with every Secret ``data``/``stringData`` value replaced by ``+`` signs.

    Equal values get the same mask and different values masks of different lengths, so a changed key still shows
    in the diff without its value; the last-applied annotation (which holds the values too) is dropped.
    """
    if not (_is_secret(live) or _is_secret(predicted)):
        return live, predicted
    masks: dict[str, str] = {}
    masked: list[JsonObject | None] = []
    for obj in (live, predicted):
        if obj is None:
            masked.append(None)
            continue
        copied = copy_tree(obj)
        annotations = (copied.get("metadata") or {}).get("annotations")
        if isinstance(annotations, dict):
            annotations.pop(LAST_APPLIED_ANNOTATION, None)
        for field in ("data", "stringData"):
            values = copied.get(field)
            if isinstance(values, dict):
                for key, value in values.items():
                    values[key] = masks.setdefault(str(value), "+" * (len(SECRET_MASK) + len(masks)))
        masked.append(copied)
    return masked[0], masked[1]


def _without_last_applied(obj: JsonObject | None) -> JsonObject | None:
    """``obj`` without the last-applied annotation (a copy of the path to it; the rest is shared, not changed)."""
    if obj is None or not isinstance(obj.get("metadata"), dict):
        return obj
    metadata: JsonObject = obj["metadata"]
    annotations = metadata.get("annotations")
    if not isinstance(annotations, dict) or LAST_APPLIED_ANNOTATION not in annotations:
        return obj
    kept = {key: value for key, value in annotations.items() if key != LAST_APPLIED_ANNOTATION}
    new_metadata = {key: value for key, value in metadata.items() if key != "annotations"}
    if kept:
        new_metadata["annotations"] = kept
    return {**obj, "metadata": new_metadata}


def _yaml_lines(obj: JsonObject | None) -> list[str]:
    if obj is None:
        return []
    return yaml.safe_dump(obj, sort_keys=True, default_flow_style=False).splitlines(keepends=True)


def diff_text(result: DiffResult, *, label: str = "") -> str:
    """A unified diff (YAML) from the live object to the predicted one, Secret values masked; "" when unmodified."""
    if not result.modified:
        return ""
    live, predicted = mask_secrets(result.normalized_live, result.predicted_live)
    live, predicted = _without_last_applied(live), _without_last_applied(predicted)
    prefix = f"{label} " if label else ""
    lines = difflib.unified_diff(
        _yaml_lines(live), _yaml_lines(predicted), fromfile=f"{prefix}(live)", tofile=f"{prefix}(target)"
    )
    return "".join(lines)
