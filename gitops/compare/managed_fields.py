"""Server-side apply's field ownership: which fields of an object a field manager owns (``managedFields``, FieldsV1).

FieldsV1 is a trie of steps: ``f:<name>`` a map field, ``k:<json>`` a list item picked by its key fields,
``v:<json>`` a set item picked by value, ``i:<n>`` a list item by index, and ``.`` the node itself. Each leaf of the
trie is one owned path, returned here as a tuple of :data:`Step` and resolved against plain dicts.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from typing import Any

from gitops.resources import JsonObject

# ("f", name) | ("k", ((key, value), ...)) | ("v", value) | ("i", index)
Step = tuple[str, Any]
FieldPath = tuple[Step, ...]


def _parse_step(raw: str) -> Step | None:
    prefix, _, rest = raw.partition(":")
    if prefix == "f":
        return ("f", rest)
    if prefix == "i" and rest.lstrip("-").isdigit():
        return ("i", int(rest))
    if prefix in ("k", "v"):
        try:
            value = json.loads(rest)
        except ValueError:
            return None
        if prefix == "k":
            if not isinstance(value, dict):
                return None
            return ("k", tuple(sorted((str(key), json.dumps(item, sort_keys=True)) for key, item in value.items())))
        return ("v", json.dumps(value, sort_keys=True))
    return None


def owned_paths(fields_v1: Mapping[str, Any], prefix: FieldPath = ()) -> list[FieldPath]:
    """The owned paths of a FieldsV1 trie: every leaf, and every list item marked ``.`` (owned as a whole)."""
    paths: list[FieldPath] = []
    for raw, child in fields_v1.items():
        if raw == ".":
            continue
        step = _parse_step(str(raw))
        if step is None:
            continue
        path = (*prefix, step)
        children = [key for key in child if key != "."] if isinstance(child, Mapping) else []
        if not children:
            paths.append(path)
            continue
        # A list item whose "." is owned belongs to the manager as a whole, besides the fields listed under it.
        if step[0] != "f" and isinstance(child, Mapping) and "." in child:
            paths.append(path)
        if isinstance(child, Mapping):
            paths.extend(owned_paths(child, path))
    return paths


def manager_paths(obj: JsonObject, managers: Collection[str], *, operation: str | None = None) -> list[FieldPath]:
    """Every path owned by one of ``managers`` (and, when given, through ``operation``: Apply or Update)."""
    entries = (obj.get("metadata") or {}).get("managedFields") or []
    paths: list[FieldPath] = []
    for entry in entries:
        if not isinstance(entry, Mapping) or entry.get("manager") not in managers:
            continue
        if operation is not None and entry.get("operation") != operation:
            continue
        fields = entry.get("fieldsV1")
        if isinstance(fields, Mapping):
            paths.extend(owned_paths(fields))
    return paths


def _matches(item: Any, step: Step) -> bool:
    kind, selector = step
    if kind == "k":
        return isinstance(item, Mapping) and all(
            key in item and json.dumps(item[key], sort_keys=True) == encoded for key, encoded in selector
        )
    if kind == "v":
        return bool(json.dumps(item, sort_keys=True) == selector)
    return False


def _child_slot(container: Any, step: Step) -> tuple[Any, Any] | None:
    """``(container, key or index)`` of the child ``step`` names, or None when it is absent."""
    kind, selector = step
    if kind == "f":
        return (container, selector) if isinstance(container, dict) and selector in container else None
    if not isinstance(container, list):
        return None
    if kind == "i":
        return (container, selector) if 0 <= selector < len(container) else None
    for index, item in enumerate(container):
        if _matches(item, step):
            return (container, index)
    return None


def _slots(obj: Any, path: FieldPath) -> list[tuple[Any, Any]] | None:
    """``(container, key or index)`` of every step of ``path`` in ``obj``, or None when ``obj`` lacks it."""
    slots: list[tuple[Any, Any]] = []
    current = obj
    for step in path:
        slot = _child_slot(current, step)
        if slot is None:
            return None
        slots.append(slot)
        container, key = slot
        current = container[key]
    return slots


def has_path(obj: Any, path: FieldPath) -> bool:
    """Whether ``obj`` has a value at ``path``."""
    return _slots(obj, path) is not None


def delete_path(obj: Any, path: FieldPath) -> bool:
    """Remove the value at ``path`` from ``obj`` in place; whether there was one."""
    slots = _slots(obj, path)
    if not slots:
        return False
    container, key = slots[-1]
    del container[key]
    return True

