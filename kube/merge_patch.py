"""RFC 7386 JSON merge patches, the one implementation: compute the patch between two documents, apply one, and
combine two patches of one document into one."""

from __future__ import annotations

import copy
from typing import Any


def json_copy(value: Any) -> Any:
    """A deep copy of JSON-shaped data (dicts, lists, scalars); several times faster than ``copy.deepcopy``."""
    if isinstance(value, dict):
        return {key: json_copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [json_copy(item) for item in value]
    return value


def merge_patch_between(old: Any, new: Any) -> Any:
    """The smallest merge patch that turns ``old`` into ``new`` (None-valued keys delete).

    Returns ``{}`` when they are equal. Lists are replaced whole, as merge patches require.
    """
    if not isinstance(old, dict) or not isinstance(new, dict):
        return copy.deepcopy(new)
    patch: dict[str, Any] = {}
    for key in old.keys() - new.keys():
        patch[key] = None
    for key, value in new.items():
        if key not in old:
            patch[key] = copy.deepcopy(value)
        elif old[key] != value:
            if isinstance(old[key], dict) and isinstance(value, dict):
                patch[key] = merge_patch_between(old[key], value)
            else:
                patch[key] = copy.deepcopy(value)
    return patch


def apply_merge_patch(target: Any, patch: Any, *, share_unchanged: bool = False) -> Any:
    """The document ``target`` becomes after ``patch``; neither input is changed.

    The result is a copy throughout, unless ``share_unchanged``: then only the branches the patch touches are
    copied and the rest is shared with ``target`` (for a store whose objects are never mutated in place, such as
    the sandbox's API server).
    """
    return _merged(target if share_unchanged else json_copy(target), patch)


def _merged(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return json_copy(patch)
    result: dict[str, Any] = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = _merged(result.get(key), value)
    return result


def merge_patch_changes(target: Any, patch: Any) -> bool:
    """Whether applying ``patch`` to ``target`` would change it (without building the result): a write whose
    content equals what is stored need not be sent."""
    if not isinstance(patch, dict):
        return bool(target != patch)
    if not isinstance(target, dict):
        return True  # a patch object replaces a scalar (or creates the key) with an object
    for key, value in patch.items():
        if value is None:
            if key in target:
                return True
        elif key not in target or merge_patch_changes(target[key], value):
            return True
    return False


def combine_merge_patches(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    """Two merge patches of one object as one (``second`` wins where both set a value; its deletions stay
    deletions)."""
    combined: dict[str, Any] = json_copy(first)
    for key, value in second.items():
        if isinstance(value, dict) and isinstance(combined.get(key), dict):
            combined[key] = combine_merge_patches(combined[key], value)
        else:
            combined[key] = json_copy(value)
    return combined
