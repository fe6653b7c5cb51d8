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

import jsonpatch
import jsonpointer

from kube.merge_patch import apply_merge_patch, json_copy


class PatchError(ValueError):
    """The patch document itself is malformed (answered with 400 BadRequest)."""


class PatchApplyError(ValueError):
    """The patch is well-formed but cannot be applied to this object (answered with 422 Invalid)."""


# --------------------------------------------------------------------------------------------------
# JSON merge patch (RFC 7386)
# --------------------------------------------------------------------------------------------------


def merge_patch(target: Any, patch: Any) -> Any:
    # The project's one RFC 7386 implementation, sharing what the patch leaves alone (see the module docstring).
    return apply_merge_patch(target, patch, share_unchanged=True)


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
# JSON patch (RFC 6902) with JSON pointers (RFC 6901), by the jsonpatch library
# --------------------------------------------------------------------------------------------------


def json_patch(document: Any, operations: Any) -> Any:
    """``document`` after ``operations``: PatchError when the patch is malformed (400), PatchApplyError when it
    cannot apply to this document, a failed ``test`` included (422)."""
    if not isinstance(operations, list):
        raise PatchError("JSON patch must be a list of operations")
    try:
        patch = jsonpatch.JsonPatch(operations)
    except (jsonpatch.InvalidJsonPatch, jsonpointer.JsonPointerException, TypeError) as error:
        raise PatchError(f"malformed JSON patch: {error}") from None
    try:
        return patch.apply(json_copy(document), in_place=True)
    except jsonpatch.JsonPatchTestFailed as error:
        raise PatchApplyError(f"testing value failed: {error}") from None
    except jsonpatch.InvalidJsonPatch as error:
        raise PatchError(f"malformed JSON patch: {error}") from None
    except (jsonpatch.JsonPatchConflict, jsonpointer.JsonPointerException, IndexError, KeyError, TypeError) as error:
        raise PatchApplyError(f"cannot apply the JSON patch: {error}") from None
