"""Field sets of ``metadata.managedFields``: the paths of an object's fields and Kubernetes' FieldsV1 format.

A path is a tuple of FieldsV1 path elements, each already in its serialized form:

* ``f:<name>`` — a field of a map (``f:spec``, ``f:replicas``);
* ``k:<json>`` — an item of an associative list, by its key fields (``k:{"name":"app"}``,
  ``k:{"containerPort":80,"protocol":"TCP"}``: keys sorted, compact JSON);
* ``v:<json>`` — an item of a list treated as a set (``v:"kubernetes"``);
* ``i:<n>`` — an item by index (read, never produced here: lists without keys are atomic).

A set of paths holds the leaves (scalars, atomic lists, empty maps) and the associative list items; in FieldsV1 an
item that is both owned and has owned children is marked with ``".": {}``.

How a list or map merges comes from the resource's schema on a real server. Without schemas the emulator decides by
field name (:func:`builtin_field_type`): the associative lists of the built-in kinds with their keys, ``finalizers``
as a set, a workload's label selector as an atomic map, other lists atomic, other maps merged field by field.
Custom resources get the ObjectMeta lists only (:func:`custom_field_type`).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from kube.json_data import json_equal

Path = tuple[str, ...]
Names = tuple[str, ...]  # the field names leading to a value, list keys left out: ("spec", "containers", "ports")

# Metadata the server sets or that identifies the object: never owned (as upstream's field manager strips them).
IGNORED_METADATA = frozenset({
    "name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp", "deletionTimestamp",
    "deletionGracePeriodSeconds", "selfLink", "managedFields",
})
_IGNORED_ROOT = frozenset({"apiVersion", "kind"})


class FieldsError(ValueError):
    """A FieldsV1 document that cannot be read."""


@dataclass(frozen=True, slots=True)
class FieldType:
    """How server-side apply treats a list or map: replaced whole (atomic), a list merged as a set or item by
    item by keys (map), a map merged field by field (granular)."""

    kind: Literal["atomic", "set", "map", "granular"]
    keys: tuple[str, ...] = ()
    defaults: tuple[tuple[str, Any], ...] = ()  # key fields the server defaults (a port's protocol)


ATOMIC = FieldType("atomic")
SET = FieldType("set")
GRANULAR = FieldType("granular")


def _keyed(*keys: str, **defaults: Any) -> FieldType:
    return FieldType("map", keys, tuple(sorted(defaults.items())))


FieldTypeOf = Callable[[Names, Any], FieldType]  # (field names, the list or map there) → how it merges

# ``x-kubernetes-list-type: map`` lists of the built-in kinds with their ``x-kubernetes-list-map-keys``.
_BUILTIN_KEYED: dict[str, FieldType] = {
    "containers": _keyed("name"),
    "initContainers": _keyed("name"),
    "ephemeralContainers": _keyed("name"),
    "env": _keyed("name"),
    "volumes": _keyed("name"),
    "volumeMounts": _keyed("mountPath"),
    "volumeDevices": _keyed("devicePath"),
    "imagePullSecrets": _keyed("name"),
    "conditions": _keyed("type"),
    "hostAliases": _keyed("ip"),
    "readinessGates": _keyed("conditionType"),
    "resourceClaims": _keyed("name"),
    "topologySpreadConstraints": _keyed("topologyKey", "whenUnsatisfiable"),
}
_CONTAINER_PORTS = _keyed("containerPort", "protocol", protocol="TCP")
_SERVICE_PORTS = _keyed("port", "protocol", protocol="TCP")
_METADATA_LISTS: dict[str, FieldType] = {"finalizers": SET, "ownerReferences": _keyed("uid")}


def _checked(field_type: FieldType, items: Any) -> FieldType:
    """The type, or atomic when an item lacks a key or repeats one (upstream would refuse the object)."""
    if field_type.kind == "atomic":
        return field_type
    seen: set[str] = set()
    for item in items:
        if field_type.kind == "set":
            if isinstance(item, (dict, list)):
                return ATOMIC
            element = value_element(item)
        else:
            if not isinstance(item, dict):
                return ATOMIC
            defaults = dict(field_type.defaults)
            if any(key not in item and key not in defaults for key in field_type.keys):
                return ATOMIC
            element = key_element(item, field_type)
        if element in seen:
            return ATOMIC
        seen.add(element)
    return field_type


def _metadata_field_type(names: Names) -> FieldType | None:
    if len(names) == 2 and names[0] == "metadata":
        return _METADATA_LISTS.get(names[1], ATOMIC)
    return None


def builtin_field_type(names: Names, items: Any) -> FieldType:
    """How a list or map of a built-in kind merges, by its name (``ports`` by the kind of port its items are)."""
    if isinstance(items, dict):
        # A workload's LabelSelector is an atomic struct; a Service's selector is a plain map of labels.
        atomic = names == ("spec", "selector") and ("matchLabels" in items or "matchExpressions" in items)
        return ATOMIC if atomic else GRANULAR
    found = _metadata_field_type(names)
    if found is None:
        field = names[-1] if names else ""
        if field == "ports":
            service = any(isinstance(item, dict) and "port" in item and "containerPort" not in item for item in items)
            found = _SERVICE_PORTS if service else _CONTAINER_PORTS
        else:
            found = _BUILTIN_KEYED.get(field, ATOMIC)
    return _checked(found, items)


def custom_field_type(names: Names, items: Any) -> FieldType:
    """How a list or map of a custom resource merges: ObjectMeta's lists as upstream, other lists atomic."""
    if isinstance(items, dict):
        return GRANULAR
    return _checked(_metadata_field_type(names) or ATOMIC, items)


def key_element(item: Mapping[str, Any], field_type: FieldType) -> str:
    """``k:{...}``: the path element of an associative list item (compact JSON, keys sorted)."""
    defaults = dict(field_type.defaults)
    fields = tuple(sorted((name, item.get(name, defaults.get(name))) for name in field_type.keys))
    if all(isinstance(value, (str, int, float)) or value is None for _, value in fields):
        # Typed, so that true and 1 (equal in Python) are told apart.
        return _key_text(tuple((name, type(value).__name__, value) for name, value in fields))
    return "k:" + json.dumps(dict(fields), separators=(",", ":"))


@functools.lru_cache(maxsize=8192)
def _key_text(fields: tuple[tuple[str, str, Any], ...]) -> str:
    # Every write compares the items of every keyed list by key; the same few keys recur, so they are cached.
    return "k:" + json.dumps({name: value for name, _, value in fields}, separators=(",", ":"))


def value_element(value: Any) -> str:
    """``v:<json>``: the path element of a set item."""
    if isinstance(value, (str, int, float)) or value is None:
        return _value_text(type(value).__name__, value)
    return "v:" + json.dumps(value, separators=(",", ":"))


@functools.lru_cache(maxsize=8192)
def _value_text(_kind: str, value: Any) -> str:
    return "v:" + json.dumps(value, separators=(",", ":"))


# --------------------------------------------------------------------------------------------------
# Paths of an object's fields
# --------------------------------------------------------------------------------------------------


def tracked_fields(obj: Mapping[str, Any], *, scope: Literal["main", "status", "all"] = "all") -> dict[str, Any]:
    """The part of an object whose fields are owned: no apiVersion/kind, no server-set metadata.

    ``scope`` "main" leaves status out (a resource with a status subresource ignores it on the main resource),
    "status" keeps only status (writes through /status).
    """
    result: dict[str, Any] = {}
    for key, value in obj.items():
        if key in _IGNORED_ROOT:
            continue
        if scope == "main" and key == "status":
            continue
        if scope == "status" and key != "status":
            continue
        if key == "metadata" and isinstance(value, dict):
            value = {k: v for k, v in value.items() if k not in IGNORED_METADATA}
            if not value:
                continue
        result[key] = value
    return result


def field_set(obj: Mapping[str, Any], field_type: FieldTypeOf) -> set[Path]:
    """Every path a (tracked) object sets: its leaves and its associative list items."""
    out: set[Path] = set()
    for key, value in obj.items():
        _collect(value, (f"f:{key}",), (key,), field_type, out)
    return out


def _collect(value: Any, path: Path, names: Names, field_type: FieldTypeOf, out: set[Path]) -> None:
    if isinstance(value, dict):
        if not value or field_type(names, value).kind == "atomic":
            out.add(path)  # an empty map is a value of its own
            return
        for key, child in value.items():
            _collect(child, (*path, f"f:{key}"), (*names, key), field_type, out)
        return
    if isinstance(value, list):
        kind = field_type(names, value)
        if kind.kind == "atomic" or not value:
            out.add(path)
        elif kind.kind == "set":
            out.update((*path, value_element(item)) for item in value)
        else:
            for item in value:
                item_path = (*path, key_element(item, kind))
                out.add(item_path)
                for key, child in item.items():
                    _collect(child, (*item_path, f"f:{key}"), (*names, key), field_type, out)
        return
    out.add(path)


@dataclass(frozen=True, slots=True)
class Comparison:
    """What a write did to an object's fields: paths it set to a new value (or added), and paths it removed."""

    changed: frozenset[Path]
    removed: frozenset[Path]


def compare(old: Mapping[str, Any], new: Mapping[str, Any], field_type: FieldTypeOf) -> Comparison:
    """The paths that differ between two tracked objects. Unchanged branches shared by both are skipped cheaply."""
    changed: set[Path] = set()
    removed: set[Path] = set()
    _compare_maps(old, new, (), (), field_type, changed, removed)
    return Comparison(frozenset(changed), frozenset(removed))


_CompareChild = Callable[[Any, Any, Path, Names, FieldTypeOf, set[Path], set[Path]], None]
_CollectChild = Callable[[Any, Path, Names, FieldTypeOf, set[Path]], None]


def _compare_keyed(old: Mapping[str, Any], new: Iterable[tuple[str, Any]], place: Callable[[str], tuple[Path, Names]],
                   compare: _CompareChild, collect: _CollectChild, field_type: FieldTypeOf, changed: set[Path],
                   removed: set[Path]) -> None:
    """Children matched by key (``place`` gives a key's path and names): compared where both sides have the key;
    otherwise every path below the child is changed (only in ``new``) or removed (only in ``old``)."""
    seen: set[str] = set()
    for key, value in new:
        seen.add(key)
        child_path, child_names = place(key)
        if key in old:
            compare(old[key], value, child_path, child_names, field_type, changed, removed)
        else:
            collect(value, child_path, child_names, field_type, changed)
    for key, value in old.items():
        if key not in seen:
            collect(value, *place(key), field_type, removed)


def _compare_maps(old: Mapping[str, Any], new: Mapping[str, Any], path: Path, names: Names,
                  field_type: FieldTypeOf, changed: set[Path], removed: set[Path]) -> None:
    _compare_keyed(old, new.items(), lambda key: ((*path, f"f:{key}"), (*names, key)), _compare, _collect,
                   field_type, changed, removed)


def _compare(old: Any, new: Any, path: Path, names: Names, field_type: FieldTypeOf,
             changed: set[Path], removed: set[Path]) -> None:
    if old is new:
        return
    if (isinstance(old, dict) and isinstance(new, dict) and old and new
            and field_type(names, old).kind != "atomic" and field_type(names, new).kind != "atomic"):
        _compare_maps(old, new, path, names, field_type, changed, removed)
        return
    if isinstance(old, list) and isinstance(new, list) and old and new:
        old_type, new_type = field_type(names, old), field_type(names, new)
        if old_type == new_type and old_type.kind == "set":
            old_items = {value_element(item) for item in old}
            new_items = {value_element(item) for item in new}
            changed.update((*path, element) for element in new_items - old_items)
            removed.update((*path, element) for element in old_items - new_items)
            return
        if old_type == new_type and old_type.kind == "map":
            by_key = {key_element(item, old_type): item for item in old}
            _compare_keyed(by_key, ((key_element(item, new_type), item) for item in new),
                           lambda element: ((*path, element), names), _compare_maps, _collect_item, field_type,
                           changed, removed)
            return
    if json_equal(old, new):
        return
    new_paths: set[Path] = set()
    _collect(new, path, names, field_type, new_paths)
    old_paths: set[Path] = set()
    _collect(old, path, names, field_type, old_paths)
    changed.update(new_paths)
    removed.update(old_paths - new_paths)


def _collect_item(item: Mapping[str, Any], item_path: Path, names: Names, field_type: FieldTypeOf,
                  out: set[Path]) -> None:
    out.add(item_path)
    for key, child in item.items():
        _collect(child, (*item_path, f"f:{key}"), (*names, key), field_type, out)


# --------------------------------------------------------------------------------------------------
# FieldsV1
# --------------------------------------------------------------------------------------------------


def encode(paths: Iterable[Path]) -> dict[str, Any]:
    """A set of paths as a FieldsV1 document (``.`` first, then elements in sorted order, as upstream)."""
    members = set(paths)
    tree: dict[str, Any] = {}
    for path in members:
        node = tree
        for element in path:
            node = node.setdefault(element, {})
    return _serialize(tree, (), members)


def _serialize(node: dict[str, Any], prefix: Path, members: set[Path]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if node and prefix in members:
        out["."] = {}
    for element in sorted(node):
        out[element] = _serialize(node[element], (*prefix, element), members)
    return out


def decode(fields: Any) -> set[Path]:
    """The set of paths of a FieldsV1 document; :class:`FieldsError` when it is not one."""
    if not isinstance(fields, dict):
        raise FieldsError("fieldsV1 must be an object")
    out: set[Path] = set()
    _decode_node(fields, (), out)
    return out


def _decode_node(node: dict[str, Any], prefix: Path, out: set[Path]) -> None:
    for element, child in node.items():
        if element == ".":
            if prefix:
                out.add(prefix)
            continue
        if not isinstance(child, dict):
            raise FieldsError(f"fieldsV1 element {element!r} must map to an object")
        if element[:2] not in ("f:", "k:", "v:", "i:"):
            raise FieldsError(f"fieldsV1 element {element!r} has no f:, k:, v: or i: prefix")
        path = (*prefix, element)
        if child:
            _decode_node(child, path, out)
        else:
            out.add(path)


def path_string(path: Path) -> str:
    """A path as API errors name it: ``.spec.replicas``, ``.spec.containers[name="app"].image``."""
    parts: list[str] = []
    for element in path:
        kind, text = element[:2], element[2:]
        if kind == "f:":
            parts.append(f".{text}")
        elif kind == "k:":
            try:
                key = json.loads(text)
            except ValueError:
                key = None
            if isinstance(key, dict):
                rendered = ",".join(f"{name}={json.dumps(value)}" for name, value in key.items())
                parts.append(f"[{rendered}]")
            else:
                parts.append(f"[{text}]")
        elif kind == "v:":
            parts.append(f"[={text}]")
        else:
            parts.append(f"[{text}]")
    return "".join(parts)


def has_prefix(path: Path, prefix: Path) -> bool:
    return len(path) > len(prefix) and path[: len(prefix)] == prefix
