"""``ignoreDifferences``: fields of matching resources left out of the comparison.

Rules come from an Application's ``spec.ignoreDifferences`` and from the system-level argocd-cm keys
(``resource.customizations.ignoreDifferences.<group>_<kind>`` and ``.all``, or the ``resource.customizations`` YAML).
A rule matches by group and kind (``*`` matches any) and, when set, name and namespace. Its fields are removed from
both sides before they are compared: ``jsonPointers`` (RFC 6901), ``jqPathExpressions`` (run as ``del(<expr>)`` with
the jq library) and ``managedFieldsManagers`` (every field those managers own in the live object's managedFields).
A pointer or jq expression that does not compile or fails is reported, never raised.

The RespectIgnoreDifferences=true sync option (the target applied with the ignored fields' live values) is
:func:`gitops.sync.ignore_differences.respect_ignored_fields`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import jq
import yaml

from gitops.compare.json_tree import copy_tree
from gitops.compare.managed_fields import FieldPath, delete_path, manager_paths
from gitops.resources import JsonObject, ResourceKey

IGNORE_KEY_PREFIX = "resource.customizations.ignoreDifferences."
CUSTOMIZATIONS_KEY = "resource.customizations"
SECRET_ERROR_WITHHELD = "the expression failed on a Secret (jq's message is withheld: it may quote secret data)"


@dataclass(frozen=True)
class IgnoreRule:
    """One ignoreDifferences entry."""

    group: str = ""
    kind: str = "*"
    name: str = ""
    namespace: str = ""
    json_pointers: tuple[str, ...] = ()
    jq_path_expressions: tuple[str, ...] = ()
    managed_fields_managers: tuple[str, ...] = ()

    def matches(self, key: ResourceKey) -> bool:
        """Whether this rule applies to the resource ``key``."""
        return (
            self.group in ("*", key.group)
            and self.kind in ("*", key.kind)
            and (not self.name or self.name == key.name)
            and (not self.namespace or self.namespace == key.namespace)
        )


@dataclass
class IgnoreOutcome:
    """Both sides with the ignored fields removed, and every rule problem met on the way."""

    objects: list[JsonObject | None]
    errors: list[str] = field(default_factory=list)


def _strings(entry: Mapping[str, Any], name: str, where: str) -> tuple[str, ...]:
    value = entry.get(name) or []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(f"{where}.{name}: expected a list of strings")
    return tuple(value)


def rule_from_dict(
    entry: Mapping[str, Any], where: str, *, group: str | None = None, kind: str | None = None
) -> IgnoreRule:
    """An IgnoreRule from one ignoreDifferences entry; ValueError naming ``where`` and the field when malformed."""
    if not isinstance(entry, Mapping):
        raise ValueError(f"{where}: expected an object")
    rule_kind = kind if kind is not None else entry.get("kind")
    if not isinstance(rule_kind, str) or not rule_kind:
        raise ValueError(f"{where}.kind: required")
    return IgnoreRule(
        group=group if group is not None else str(entry.get("group") or ""),
        kind=rule_kind,
        name=str(entry.get("name") or ""),
        namespace=str(entry.get("namespace") or ""),
        json_pointers=_strings(entry, "jsonPointers", where),
        jq_path_expressions=_strings(entry, "jqPathExpressions", where),
        managed_fields_managers=_strings(entry, "managedFieldsManagers", where),
    )


def rules_from_app(app: JsonObject) -> list[IgnoreRule]:
    """The rules of an Application's ``spec.ignoreDifferences``."""
    entries = (app.get("spec") or {}).get("ignoreDifferences") or []
    if not isinstance(entries, list):
        raise ValueError("spec.ignoreDifferences: expected a list")
    return [rule_from_dict(entry, f"spec.ignoreDifferences[{index}]") for index, entry in enumerate(entries)]


def _split_group_kind(text: str) -> tuple[str, str]:
    group, sep, kind = text.rpartition("_")
    return (group, kind) if sep else ("", text)


def rules_from_config(data: Mapping[str, str]) -> list[IgnoreRule]:
    """System-level rules from an argocd-cm ConfigMap's ``data``; ValueError naming the key when one is malformed."""
    rules: list[IgnoreRule] = []
    block = data.get(CUSTOMIZATIONS_KEY)
    if block:
        parsed = _yaml(block, CUSTOMIZATIONS_KEY)
        if not isinstance(parsed, Mapping):
            raise ValueError(f"{CUSTOMIZATIONS_KEY}: expected a mapping of group/kind to customizations")
        for group_kind, customization in parsed.items():
            raw = customization.get("ignoreDifferences") if isinstance(customization, Mapping) else None
            if raw is None:
                continue
            group, _, kind = str(group_kind).rpartition("/")
            where = f"{CUSTOMIZATIONS_KEY}[{group_kind}].ignoreDifferences"
            entry = _yaml(raw, where) if isinstance(raw, str) else raw
            rules.append(rule_from_dict(entry or {}, where, group=group, kind=kind))
    for key in sorted(data):
        if not key.startswith(IGNORE_KEY_PREFIX):
            continue
        suffix = key[len(IGNORE_KEY_PREFIX) :]
        group, kind = ("*", "*") if suffix == "all" else _split_group_kind(suffix)
        rules.append(rule_from_dict(_yaml(data[key], key) or {}, key, group=group, kind=kind))
    return rules


def _yaml(text: str, where: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ValueError(f"{where}: not valid YAML: {error}") from None


def matching_rules(rules: Iterable[IgnoreRule], key: ResourceKey) -> list[IgnoreRule]:
    """The rules that apply to ``key``."""
    return [rule for rule in rules if rule.matches(key)]


def parse_json_pointer(pointer: str) -> list[str]:
    """The reference tokens of an RFC 6901 pointer (``~1`` → ``/``, ``~0`` → ``~``); ValueError when malformed."""
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise ValueError(f"JSON pointer {pointer!r} must start with '/'")
    return [token.replace("~1", "/").replace("~0", "~") for token in pointer[1:].split("/")]


def remove_pointer(obj: Any, tokens: Sequence[str]) -> None:
    """Delete the value a pointer names from ``obj`` in place (nothing when absent)."""
    if not tokens:
        return
    current = obj
    for token in tokens[:-1]:
        current = _step(current, token)
        if current is None:
            return
    last = tokens[-1]
    if isinstance(current, dict):
        current.pop(last, None)
    elif isinstance(current, list) and last.isdigit() and int(last) < len(current):
        del current[int(last)]


def _step(current: Any, token: str) -> Any:
    if isinstance(current, dict):
        return current.get(token)
    if isinstance(current, list) and token.isdigit() and int(token) < len(current):
        return current[int(token)]
    return None


@lru_cache(maxsize=512)
def _compiled_jq(expression: str) -> Any:
    return jq.compile(f"del({expression})")


def apply_ignore_rules(
    objects: Sequence[JsonObject | None], rules: Sequence[IgnoreRule], *, live: JsonObject | None = None
) -> IgnoreOutcome:
    """``objects`` (target, live, last-applied…) with every field the ``rules`` ignore removed, in new dicts.

    Managed-fields rules read ownership from ``live`` (the objects given may already be normalised without it).
    """
    outcome = IgnoreOutcome(objects=list(objects))
    if not rules:
        return outcome
    owned: list[FieldPath] = []
    managers = {manager for rule in rules for manager in rule.managed_fields_managers}
    if managers and live is not None:
        owned = manager_paths(live, managers)
    pointers: list[list[str]] = []
    for rule in rules:
        for pointer in rule.json_pointers:
            try:
                pointers.append(parse_json_pointer(pointer))
            except ValueError as error:
                outcome.errors.append(f"ignoreDifferences jsonPointers: {error}")
    programs: list[tuple[str, Any]] = []
    for expression in (expression for rule in rules for expression in rule.jq_path_expressions):
        try:
            programs.append((expression, _compiled_jq(expression)))
        except ValueError as error:
            outcome.errors.append(f"ignoreDifferences jqPathExpressions {expression!r}: {_first_line(error)}")
    for index, obj in enumerate(outcome.objects):
        if obj is None:
            continue
        result = copy_tree(obj)
        for tokens in pointers:
            remove_pointer(result, tokens)
        for path in owned:
            delete_path(result, path)
        for expression, program in programs:
            try:
                transformed = program.input_value(result).first()
            except ValueError as error:
                # jq quotes the values it failed on ("string (\"aHVudGVy\") cannot be parsed..."): never a Secret's.
                reason = SECRET_ERROR_WITHHELD if _is_secret(obj) else _first_line(error)
                _report(outcome, f"ignoreDifferences jqPathExpressions {expression!r}: {reason}")
                continue
            if isinstance(transformed, dict):
                result = transformed
            else:
                _report(outcome, f"ignoreDifferences jqPathExpressions {expression!r}: did not leave an object")
        outcome.objects[index] = result
    return outcome


def _is_secret(obj: JsonObject) -> bool:
    return obj.get("kind") == "Secret" and "/" not in str(obj.get("apiVersion", ""))


def _report(outcome: IgnoreOutcome, message: str) -> None:
    if message not in outcome.errors:
        outcome.errors.append(message)


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
