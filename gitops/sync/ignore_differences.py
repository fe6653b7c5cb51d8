"""RespectIgnoreDifferences: keep the live value of every field the Application's ignoreDifferences names.

Argo CD applies the target with those fields taken from the live object, so a field another controller owns (an
HPA's replicas, an injected annotation) is not reverted by a sync. JSON pointers and jq path expressions name
fields; ``managedFieldsManagers`` names every field the live object's ``managedFields`` gives those managers, and
such a field keeps its live value where the target sets it (a field the target leaves out stays out).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import jq

from gitops.patterns import glob_match
from gitops.resources import JsonObject, ResourceKey
from gitops.sync.managed_fields import owned_paths, resolve

_MISSING = object()


def _rule_matches(rule: JsonObject, key: ResourceKey) -> bool:
    return (
        # Argo CD matches group and kind with glob.Match.
        glob_match(str(rule.get("group") or ""), key.group)
        and glob_match(str(rule.get("kind") or ""), key.kind)
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


def _owned_pairs(
    target: JsonObject, live: JsonObject, managers: set[str]
) -> list[tuple[list[str | int], list[str | int]]]:
    """(path in the target, path in live) of each field the managers own that both objects have."""
    pairs = []
    for path in owned_paths(live, managers) if managers else []:
        in_target, in_live = resolve(target, path), resolve(live, path)
        if in_target and in_live:
            pairs.append((in_target, in_live))
    return pairs


def respect_ignored_fields(target: JsonObject, live: JsonObject | None, rules: Sequence[JsonObject]) -> JsonObject:
    """The target with each ignored field set to its live value (a pointer's or jq path's removed when live lacks
    it; a managed field's only where the target sets it)."""
    if live is None or not rules:
        return target
    key = ResourceKey.of(target)
    paths: list[list[str | int]] = []
    managers: set[str] = set()
    for rule in rules:
        if not _rule_matches(rule, key):
            continue
        paths += [_pointer_path(str(p)) for p in rule.get("jsonPointers") or []]
        for expression in rule.get("jqPathExpressions") or []:
            paths += _jq_paths(str(expression), live)
        managers.update(str(m) for m in rule.get("managedFieldsManagers") or [])
    owned = _owned_pairs(target, live, managers)
    if not paths and not owned:
        return target
    result = copy.deepcopy(target)
    for target_path, live_path in owned:
        _set(result, target_path, _get(live, live_path))
    for path in paths:
        if not path:
            continue
        value = _get(live, path)
        if value is _MISSING:
            _delete(result, path)
        else:
            _set(result, path, value)
    return result
