"""RFC 7386 JSON merge patches: compute the patch between two documents, and apply one."""

from __future__ import annotations

import copy
from typing import Any


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


def apply_merge_patch(target: Any, patch: Any) -> Any:
    """The document ``target`` becomes after ``patch`` (a new object; the inputs are not changed)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = apply_merge_patch(result.get(key), value)
    return result
