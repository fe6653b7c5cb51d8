"""RespectIgnoreDifferences: keep the live value of every field the Application's ignoreDifferences names.

Argo CD applies the target with those fields taken from the live object, so a field another controller owns (an
HPA's replicas, an injected annotation) is not reverted by a sync. JSON pointers and jq path expressions are
honoured here; ``managedFieldsManagers`` needs the server's field ownership and is left to server-side apply.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from fnmatch import fnmatchcase
from typing import Any

import jq  # type: ignore[import-not-found]  # the jq bindings ship no type hints

from gitops.resources import JsonObject, ResourceKey

_MISSING = object()


def _rule_matches(rule: JsonObject, key: ResourceKey) -> bool:
    return (
        fnmatchcase(key.group, str(rule.get("group") or ""))
        and fnmatchcase(key.kind, str(rule.get("kind") or ""))
        and (not rule.get("name") or rule.get("name") == key.name)
        and (not rule.get("namespace") or rule.get("namespace") == key.namespace)
    )


def _pointer_path(pointer: str) -> list[str | int]:
    parts: list[str | int] = []
    for raw in pointer.split("/")[1:]:
        token = raw.replace("~1", "/").replace("~0", "~")
        parts.append(int(token) if token.isdigit() else token)
    return parts


def _get(obj: Any, path: Sequence[str | int]) -> Any:
    for part in path:
        in_dict = isinstance(obj, dict) and isinstance(part, str) and part in obj
        in_list = isinstance(obj, list) and isinstance(part, int) and 0 <= part < len(obj)
        if in_dict or in_list:
            obj = obj[part]
        else:
            return _MISSING
    return obj


def _set(obj: Any, path: Sequence[str | int], value: Any) -> None:
    for index, part in enumerate(path):
        last = index == len(path) - 1
        if isinstance(obj, dict) and isinstance(part, str):
            if last:
                obj[part] = copy.deepcopy(value)
                return
            obj = obj.setdefault(part, {} if isinstance(path[index + 1], str) else [])
        elif isinstance(obj, list) and isinstance(part, int) and 0 <= part < len(obj):
            if last:
                obj[part] = copy.deepcopy(value)
                return
            obj = obj[part]
        else:
            return


def _delete(obj: Any, path: Sequence[str | int]) -> None:
    parent = _get(obj, path[:-1])
    if isinstance(parent, dict) and path and path[-1] in parent:
        del parent[path[-1]]


def _jq_paths(expression: str, live: JsonObject) -> list[list[str | int]]:
    try:
        found = jq.compile(f"[path({expression})]").input_value(live).first()
    except ValueError:
        # An expression that does not apply to this object ignores nothing, as in Argo CD.
        return []
    return [list(p) for p in found or [] if isinstance(p, list)]


def respect_ignored_fields(target: JsonObject, live: JsonObject | None, rules: Sequence[JsonObject]) -> JsonObject:
    """The target with each ignored field set to its live value (or removed when live lacks it)."""
    if live is None or not rules:
        return target
    key = ResourceKey.of(target)
    paths: list[list[str | int]] = []
    for rule in rules:
        if not _rule_matches(rule, key):
            continue
        paths += [_pointer_path(str(p)) for p in rule.get("jsonPointers") or []]
        for expression in rule.get("jqPathExpressions") or []:
            paths += _jq_paths(str(expression), live)
    if not paths:
        return target
    result = copy.deepcopy(target)
    for path in paths:
        if not path:
            continue
        value = _get(live, path)
        if value is _MISSING:
            _delete(result, path)
        else:
            _set(result, path, value)
    return result
