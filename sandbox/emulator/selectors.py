"""Label and field selectors, in the string syntax of the labelSelector/fieldSelector query parameters."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class SelectorError(ValueError):
    """The selector cannot be parsed; the API answers such requests with 400 BadRequest."""


_KEY = r"(?:[A-Za-z0-9](?:[-A-Za-z0-9_./]*[A-Za-z0-9])?)"
_VALUE = r"(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?)?"
_SET_RE = re.compile(rf"^\s*({_KEY})\s+(in|notin)\s*\(([^()]*)\)\s*$")
_CMP_RE = re.compile(rf"^\s*({_KEY})\s*(==|=|!=|>|<)\s*({_VALUE})\s*$")
_EXISTS_RE = re.compile(rf"^\s*(!?)\s*({_KEY})\s*$")
_VALUE_RE = re.compile(rf"^{_VALUE}$")


@dataclass(frozen=True, slots=True)
class Requirement:
    key: str
    operator: str  # one of: =, !=, in, notin, exists, !exists, gt, lt
    values: frozenset[str] = frozenset()

    def matches(self, labels: Mapping[str, str]) -> bool:
        op = self.operator
        if op == "exists":
            return self.key in labels
        if op == "!exists":
            return self.key not in labels
        value = labels.get(self.key)
        if op in ("=", "in"):
            return value is not None and value in self.values
        if op in ("!=", "notin"):
            return value is None or value not in self.values
        # gt/lt compare integers; labels that are absent or not integers never match, as in Kubernetes.
        if value is None:
            return False
        try:
            number = int(value)
        except ValueError:
            return False
        (bound,) = self.values
        return number > int(bound) if op == "gt" else number < int(bound)


@dataclass(frozen=True, slots=True)
class LabelSelector:
    requirements: tuple[Requirement, ...] = ()

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        labels = labels or {}
        return all(req.matches(labels) for req in self.requirements)

    def matches_object(self, obj: Mapping[str, Any]) -> bool:
        if not self.requirements:
            return True
        return self.matches((obj.get("metadata") or {}).get("labels"))


def _split_top_level(text: str) -> list[str]:
    """Split on commas that are not inside the parentheses of ``in (a,b)`` sets."""
    parts: list[str] = []
    depth = 0
    current: list[str] = []
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                raise SelectorError(f"unbalanced parentheses in selector {text!r}")
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    if depth != 0:
        raise SelectorError(f"unbalanced parentheses in selector {text!r}")
    parts.append("".join(current))
    return parts


def parse_label_selector(text: str | None) -> LabelSelector:
    if text is None or not text.strip():
        return LabelSelector()
    requirements: list[Requirement] = []
    for part in _split_top_level(text):
        if not part.strip():
            raise SelectorError(f"unable to parse requirement: empty requirement in {text!r}")
        requirements.append(_parse_requirement(part))
    return LabelSelector(tuple(requirements))


def _parse_requirement(part: str) -> Requirement:
    if match := _SET_RE.match(part):
        key, op, raw_values = match.groups()
        values = [v.strip() for v in raw_values.split(",")]
        if any(not _VALUE_RE.match(v) for v in values):
            raise SelectorError(f"unable to parse requirement: invalid value in {part!r}")
        return Requirement(key, op, frozenset(values))
    if match := _CMP_RE.match(part):
        key, op, value = match.groups()
        if op in (">", "<"):
            if not re.fullmatch(r"-?\d+", value):
                raise SelectorError(f"unable to parse requirement: {value!r} is not an integer")
            return Requirement(key, "gt" if op == ">" else "lt", frozenset({value}))
        return Requirement(key, "!=" if op == "!=" else "=", frozenset({value}))
    if match := _EXISTS_RE.match(part):
        negated, key = match.groups()
        return Requirement(key, "!exists" if negated else "exists")
    raise SelectorError(f"unable to parse requirement: {part.strip()!r}")


def format_label_selector(selector: Mapping[str, Any] | None) -> str:
    """Render a ``metav1.LabelSelector`` (matchLabels/matchExpressions) in the string syntax."""
    if not selector:
        return ""
    parts = [f"{key}={value}" for key, value in sorted((selector.get("matchLabels") or {}).items())]
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key", ""), expr.get("operator", ""), sorted(expr.get("values") or [])
        if op == "In":
            parts.append(f"{key} in ({','.join(values)})")
        elif op == "NotIn":
            parts.append(f"{key} notin ({','.join(values)})")
        elif op == "Exists":
            parts.append(key)
        elif op == "DoesNotExist":
            parts.append(f"!{key}")
    return ",".join(parts)


@dataclass(frozen=True, slots=True)
class FieldRequirement:
    path: tuple[str, ...]
    negated: bool
    value: str

    def matches(self, obj: Mapping[str, Any]) -> bool:
        current: Any = obj
        for step in self.path:
            current = current.get(step) if isinstance(current, Mapping) else None
        # Absent fields compare as the empty string, as Kubernetes' field sets do.
        actual = "" if current is None else _field_text(current)
        return (actual != self.value) if self.negated else (actual == self.value)


def _field_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclass(frozen=True, slots=True)
class FieldSelector:
    requirements: tuple[FieldRequirement, ...] = ()

    def matches(self, obj: Mapping[str, Any]) -> bool:
        return all(req.matches(obj) for req in self.requirements)

    def exact(self, field: str) -> str | None:
        """The value an equality requirement pins ``field`` to, letting callers skip a scan."""
        path = tuple(field.split("."))
        for req in self.requirements:
            if req.path == path and not req.negated:
                return req.value
        return None


def _split_escaped(text: str, separator: str) -> list[str]:
    """Split on ``separator`` unless backslash-escaped; escapes stay in place for the next split."""
    parts: list[str] = []
    current: list[str] = []
    escaped = False
    for char in text:
        if escaped:
            current.append("\\" + char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == separator:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    if escaped:
        raise SelectorError(f"invalid field selector {text!r}: dangling escape")
    parts.append("".join(current))
    return parts


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def parse_field_selector(text: str | None) -> FieldSelector:
    if text is None or not text.strip():
        return FieldSelector()
    requirements: list[FieldRequirement] = []
    for part in _split_escaped(text, ","):
        part = part.strip()
        match = re.match(r"^([^=!\s]+)\s*(==|!=|=)\s*(.*)$", part)
        if match is None:
            raise SelectorError(f"invalid selector: {part!r}; can't understand {part!r}")
        field, op, value = match.groups()
        requirements.append(FieldRequirement(tuple(field.split(".")), op == "!=", _unescape(value.strip())))
    return FieldSelector(tuple(requirements))

