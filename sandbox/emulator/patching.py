"""The three patch formats of the Kubernetes API.

* JSON merge patch (RFC 7386),
* strategic merge patch (Kubernetes' own: lists of known fields merge by a key, plus ``$patch`` directives),
* JSON patch (RFC 6902).

None of them mutate their input: stored objects are shared between versions and watch events, so a patch
copies only the branches it changes and leaves the rest shared.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class PatchError(ValueError):
    """The patch document itself is malformed (answered with 400 BadRequest)."""


class PatchApplyError(ValueError):
    """The patch is well-formed but cannot be applied to this object (answered with 422 Invalid)."""


def deep_copy(value: Any) -> Any:
    """Copy JSON-like data; several times faster than ``copy.deepcopy`` for this shape of data."""
    if isinstance(value, dict):
        return {k: deep_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [deep_copy(v) for v in value]
    return value


def json_equal(a: Any, b: Any) -> bool:
    """Equality in JSON's sense: unlike Python's, ``true`` is not ``1``."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, dict) or isinstance(b, dict):
        return (
            isinstance(a, dict) and isinstance(b, dict)
            and a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
        )
    if isinstance(a, list) or isinstance(b, list):
        return (
            isinstance(a, list) and isinstance(b, list)
            and len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
        )
    return bool(a == b)


# --------------------------------------------------------------------------------------------------
# JSON merge patch (RFC 7386)
# --------------------------------------------------------------------------------------------------


def merge_patch(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return deep_copy(patch)
    result: dict[str, Any] = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


# --------------------------------------------------------------------------------------------------
# Strategic merge patch
# --------------------------------------------------------------------------------------------------

# Merge keys of list fields in the built-in kinds (``x-kubernetes-patch-merge-key`` in their OpenAPI).
# Keyed by field name rather than by full path: the names are unambiguous enough among built-in kinds,
# and strategic merge patch is refused for custom resources, whose field names could collide.
# Several keys mean "the first one the patch element carries"; ``name`` is the fallback everywhere.
MERGE_KEYS: dict[str, tuple[str, ...]] = {
    "containers": ("name",),
    "initContainers": ("name",),
    "ephemeralContainers": ("name",),
    "env": ("name",),
    "volumes": ("name",),
    "volumeMounts": ("mountPath",),
    "volumeDevices": ("devicePath",),
    "imagePullSecrets": ("name",),
    "ports": ("containerPort", "port", "name"),  # container ports vs service ports
    "conditions": ("type",),
    "ownerReferences": ("uid",),
    "hostAliases": ("ip",),
    "topologySpreadConstraints": ("topologyKey",),
    "readinessGates": ("conditionType",),
    "resourceClaims": ("name",),
    "taints": ("key",),
    "addresses": ("type",),
}

# Lists of scalars that merge as sets instead of being replaced.
PRIMITIVE_MERGE_LISTS: frozenset[str] = frozenset({"finalizers"})

_DIRECTIVE = "$patch"
_RETAIN_KEYS = "$retainKeys"
_SET_ORDER = "$setElementOrder/"
_DELETE_PRIMITIVES = "$deleteFromPrimitiveList/"


def strategic_merge_patch(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        raise PatchError("strategic merge patch must be a JSON object")
    return _smp_map(target if isinstance(target, dict) else {}, patch)


def _smp_map(target: dict[str, Any], patch: dict[str, Any]) -> Any:
    directive = patch.get(_DIRECTIVE)
    if directive == "delete":
        return None
    if directive == "replace":
        return _strip_directives({k: v for k, v in patch.items() if k != _DIRECTIVE})
    if directive not in (None, "merge"):
        raise PatchError(f"unknown patch directive {directive!r}")

    result = dict(target)
    orders: dict[str, list[Any]] = {}
    retain: list[str] | None = None
    for key, value in patch.items():
        if key == _DIRECTIVE:
            continue
        if key == _RETAIN_KEYS:
            if not isinstance(value, list):
                raise PatchError("$retainKeys must be a list")
            retain = [str(v) for v in value]
            continue
        if key.startswith(_SET_ORDER):
            if not isinstance(value, list):
                raise PatchError(f"{key} must be a list")
            orders[key[len(_SET_ORDER):]] = value
            continue
        if key.startswith(_DELETE_PRIMITIVES):
            field = key[len(_DELETE_PRIMITIVES):]
            if not isinstance(value, list):
                raise PatchError(f"{key} must be a list")
            current = result.get(field)
            if isinstance(current, list):
                result[field] = [item for item in current if item not in value]
            continue
        if value is None:
            result.pop(key, None)
            continue
        merged = _smp_value(key, result.get(key), value)
        if merged is None:
            result.pop(key, None)
        else:
            result[key] = merged

    for field, order in orders.items():
        if isinstance(result.get(field), list):
            result[field] = _apply_order(field, result[field], order)
    if retain is not None:
        keep = set(retain) | {k for k in patch if not k.startswith("$")}
        result = {k: v for k, v in result.items() if k in keep}
    return result


def _smp_value(field: str, current: Any, value: Any) -> Any:
    if isinstance(value, dict):
        return _smp_map(current if isinstance(current, dict) else {}, value)
    if isinstance(value, list):
        return _smp_list(field, current if isinstance(current, list) else [], value)
    return value


def _smp_list(field: str, current: list[Any], patch: list[Any]) -> list[Any]:
    if any(isinstance(item, dict) and item.get(_DIRECTIVE) == "replace" for item in patch):
        kept = [item for item in patch if not (isinstance(item, dict) and _DIRECTIVE in item)]
        return [_strip_directives(item) for item in kept]

    if field in PRIMITIVE_MERGE_LISTS and all(not isinstance(item, (dict, list)) for item in patch):
        merged = list(current)
        for item in patch:
            if item not in merged:
                merged.append(item)
        return merged

    keys = MERGE_KEYS.get(field)
    if keys is None or not all(isinstance(item, dict) for item in patch):
        return [_strip_directives(item) for item in patch]

    result = list(current)
    for item in patch:
        key = _merge_key_of(item, keys)
        if key is None:
            raise PatchError(f"map in list {field!r} is missing its merge key ({' or '.join(keys)})")
        index = next(
            (i for i, old in enumerate(result) if isinstance(old, dict) and old.get(key) == item[key]),
            None,
        )
        directive = item.get(_DIRECTIVE)
        if directive == "delete":
            if index is not None:
                del result[index]
            continue
        if index is None:
            result.append(_strip_directives(item))
        else:
            result[index] = _smp_map(result[index], item)
    return result


def _merge_key_of(item: Mapping[str, Any], keys: tuple[str, ...]) -> str | None:
    for key in (*keys, "name"):
        if key in item:
            return key
    return None


def _apply_order(field: str, items: list[Any], order: list[Any]) -> list[Any]:
    keys = MERGE_KEYS.get(field)

    def identity(item: Any) -> Any:
        if isinstance(item, dict) and keys is not None:
            key = _merge_key_of(item, keys)
            return item.get(key) if key else None
        return item

    wanted = [identity(entry) for entry in order]
    positions = {repr(ident): i for i, ident in enumerate(wanted)}
    ordered = sorted(
        (item for item in items if repr(identity(item)) in positions),
        key=lambda item: positions[repr(identity(item))],
    )
    rest = [item for item in items if repr(identity(item)) not in positions]
    return ordered + rest


def _strip_directives(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: _strip_directives(v)
            for k, v in value.items()
            if not (k in (_DIRECTIVE, _RETAIN_KEYS) or k.startswith((_SET_ORDER, _DELETE_PRIMITIVES)))
        }
    if isinstance(value, list):
        return [_strip_directives(v) for v in value]
    return value


# --------------------------------------------------------------------------------------------------
# JSON patch (RFC 6902) with JSON pointers (RFC 6901)
# --------------------------------------------------------------------------------------------------


def _parse_pointer(pointer: Any) -> list[str]:
    if not isinstance(pointer, str):
        raise PatchError(f"JSON pointer must be a string, got {pointer!r}")
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise PatchError(f"JSON pointer must start with '/': {pointer!r}")
    return [token.replace("~1", "/").replace("~0", "~") for token in pointer[1:].split("/")]


def _index(container: list[Any], token: str, pointer: str, *, allow_end: bool) -> int:
    if token == "-" and allow_end:
        return len(container)
    if not token.isdigit() or (len(token) > 1 and token.startswith("0")):
        raise PatchApplyError(f"invalid array index {token!r} in {pointer!r}")
    index = int(token)
    limit = len(container) if allow_end else len(container) - 1
    if index > limit:
        raise PatchApplyError(f"array index {index} out of range in {pointer!r}")
    return index


def _parent(doc: Any, tokens: list[str], pointer: str) -> Any:
    current = doc
    for token in tokens[:-1]:
        if isinstance(current, dict):
            if token not in current:
                raise PatchApplyError(f"path {pointer!r} does not exist: missing {token!r}")
            current = current[token]
        elif isinstance(current, list):
            current = current[_index(current, token, pointer, allow_end=False)]
        else:
            raise PatchApplyError(f"path {pointer!r} does not exist: {token!r} is not a container")
    return current


def _get(doc: Any, pointer: str) -> Any:
    tokens = _parse_pointer(pointer)
    if not tokens:
        return doc
    parent = _parent(doc, tokens, pointer)
    last = tokens[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise PatchApplyError(f"path {pointer!r} does not exist")
        return parent[last]
    if isinstance(parent, list):
        return parent[_index(parent, last, pointer, allow_end=False)]
    raise PatchApplyError(f"path {pointer!r} does not exist")


def _add(doc: Any, pointer: str, value: Any) -> Any:
    tokens = _parse_pointer(pointer)
    if not tokens:
        return value
    parent = _parent(doc, tokens, pointer)
    last = tokens[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        parent.insert(_index(parent, last, pointer, allow_end=True), value)
    else:
        raise PatchApplyError(f"cannot add at {pointer!r}: parent is not a container")
    return doc


def _remove(doc: Any, pointer: str) -> tuple[Any, Any]:
    tokens = _parse_pointer(pointer)
    if not tokens:
        raise PatchApplyError("cannot remove the whole document")
    parent = _parent(doc, tokens, pointer)
    last = tokens[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise PatchApplyError(f"cannot remove {pointer!r}: path does not exist")
        return doc, parent.pop(last)
    if isinstance(parent, list):
        return doc, parent.pop(_index(parent, last, pointer, allow_end=False))
    raise PatchApplyError(f"cannot remove {pointer!r}: path does not exist")


def json_patch(document: Any, operations: Any) -> Any:
    if not isinstance(operations, list):
        raise PatchError("JSON patch must be a list of operations")
    doc = deep_copy(document)
    for number, op in enumerate(operations):
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise PatchError(f"operation #{number} must be an object with 'op' and 'path'")
        kind, path = op["op"], op["path"]
        if kind in ("add", "replace", "test") and "value" not in op:
            raise PatchError(f"operation #{number} ({kind}) is missing 'value'")
        if kind in ("move", "copy") and "from" not in op:
            raise PatchError(f"operation #{number} ({kind}) is missing 'from'")
        if kind == "add":
            doc = _add(doc, path, deep_copy(op["value"]))
        elif kind == "remove":
            doc, _ = _remove(doc, path)
        elif kind == "replace":
            _get(doc, path)  # the target must exist
            if _parse_pointer(path):
                doc, _ = _remove(doc, path)
            doc = _add(doc, path, deep_copy(op["value"]))
        elif kind == "move":
            source = op["from"]
            if path != source and path.startswith(source + "/"):
                raise PatchApplyError(f"cannot move {source!r} into its own child {path!r}")
            doc, value = _remove(doc, source)
            doc = _add(doc, path, value)
        elif kind == "copy":
            doc = _add(doc, path, deep_copy(_get(doc, op["from"])))
        elif kind == "test":
            try:
                actual = _get(doc, path)
            except PatchApplyError as exc:
                raise PatchApplyError(f"testing value {path} failed: {exc}") from None
            if not json_equal(actual, op["value"]):
                raise PatchApplyError(
                    f"testing value {path} failed: expected {op['value']!r}, found {actual!r}")
        else:
            raise PatchError(f"operation #{number} has an unknown op {kind!r}")
    return doc
