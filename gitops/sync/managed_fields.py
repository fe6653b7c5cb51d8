"""The fields a live object's ``metadata.managedFields`` gives to named managers (Argo CD's ``ignoreDifferences``
``managedFieldsManagers``), as paths that can be looked up in the live object and in a target (pure).

A ``FieldsV1`` set is a tree: ``f:<name>`` a map field, ``k:<json>`` the list item whose fields equal that JSON
(a container by ``name``, a port by ``containerPort`` and ``protocol``), ``.`` the node itself. Each leaf is one
owned field. Set members (``v:<value>``, e.g. one finalizer) name no path of their own and are not followed.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from gitops.resources import JsonObject


@dataclass(frozen=True)
class KeyedItem:
    """The item of a list whose fields have these values (``k:{"name":"web"}``)."""

    fields: tuple[tuple[str, Any], ...]

    def matches(self, item: Any) -> bool:
        """Whether a list item is this one."""
        return isinstance(item, dict) and all(item.get(name) == value for name, value in self.fields)


FieldPath = tuple[str | KeyedItem, ...]


def _collect(node: Any, prefix: FieldPath, found: list[FieldPath]) -> None:
    children = {key: child for key, child in node.items() if key != "."} if isinstance(node, dict) else {}
    if not children:
        if prefix:
            found.append(prefix)
        return
    for key, child in children.items():
        kind, _, text = key.partition(":")
        if kind == "f":
            _collect(child, (*prefix, text), found)
        elif kind == "k":
            try:
                fields = json.loads(text)
            except ValueError:
                continue
            if isinstance(fields, dict):
                item = KeyedItem(tuple(sorted(fields.items(), key=lambda pair: pair[0])))
                _collect(child, (*prefix, item), found)


def owned_paths(live: JsonObject, managers: Collection[str]) -> list[FieldPath]:
    """The leaf fields of ``live`` that any of ``managers`` owns, in the order its managedFields list them."""
    found: list[FieldPath] = []
    for entry in (live.get("metadata") or {}).get("managedFields") or []:
        if not isinstance(entry, dict) or entry.get("manager") not in managers:
            continue
        if entry.get("fieldsType", "FieldsV1") == "FieldsV1":
            _collect(entry.get("fieldsV1") or {}, (), found)
    return found


def resolve(obj: Any, path: Sequence[str | KeyedItem]) -> list[str | int] | None:
    """The concrete path (map keys and list indexes) of ``path`` in ``obj``, or None when ``obj`` lacks the field."""
    concrete: list[str | int] = []
    for part in path:
        if isinstance(part, KeyedItem):
            if not isinstance(obj, list):
                return None
            index = next((i for i, item in enumerate(obj) if part.matches(item)), None)
            if index is None:
                return None
            concrete.append(index)
            obj = obj[index]
        else:
            if not isinstance(obj, dict) or part not in obj:
                return None
            concrete.append(part)
            obj = obj[part]
    return concrete
