"""The JSONPath subset CRD ``additionalPrinterColumns`` use: fields, indices, wildcards and equality filters.

A column's path is a simple one (``.status.replicas``, ``.spec.hosts[0]``, ``.status.conditions[?(@.type=="Ready")]
.status``); the API server evaluates it with client-go's JSONPath and shows the first result. This module
evaluates the same forms over plain dicts and refuses the rest with :class:`JsonPathError` naming the path.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any


class JsonPathError(ValueError):
    """A path outside the supported subset, or malformed."""


@dataclass(frozen=True, slots=True)
class _Field:
    name: str


@dataclass(frozen=True, slots=True)
class _Index:
    index: int


@dataclass(frozen=True, slots=True)
class _Wildcard:
    pass


@dataclass(frozen=True, slots=True)
class _Filter:
    path: tuple[str, ...]  # fields below ``@``
    equal: bool  # == or !=
    value: Any


_Step = _Field | _Index | _Wildcard | _Filter

_FIELD = re.compile(r"\.([A-Za-z0-9_\-]+|\*)")
_QUOTED = re.compile(r"\[\s*'([^']*)'\s*\]|\[\s*\"([^\"]*)\"\s*\]")
_INDEX = re.compile(r"\[\s*(-?\d+)\s*\]")
_STAR = re.compile(r"\[\s*\*\s*\]")
_FILTER = re.compile(r"\[\s*\?\(\s*@((?:\.[A-Za-z0-9_\-]+)+)\s*(==|!=)\s*"
                     r"(\"[^\"]*\"|'[^']*'|-?\d+(?:\.\d+)?|true|false)\s*\)\s*\]")


def _literal(text: str) -> Any:
    if text[0] in "\"'":
        return text[1:-1]
    if text in ("true", "false"):
        return text == "true"
    return float(text) if "." in text else int(text)


def parse(path: str) -> tuple[_Step, ...]:
    """The steps of ``path`` (with or without the ``{…}`` template braces kubectl allows)."""
    text = path.strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1].strip()
    if text.startswith("$"):
        text = text[1:]
    steps: list[_Step] = []
    pos = 0
    while pos < len(text):
        for pattern in (_FIELD, _QUOTED, _INDEX, _STAR, _FILTER):
            match = pattern.match(text, pos)
            if match is None:
                continue
            if pattern is _FIELD:
                steps.append(_Wildcard() if match.group(1) == "*" else _Field(match.group(1)))
            elif pattern is _QUOTED:
                steps.append(_Field(match.group(1) if match.group(1) is not None else match.group(2)))
            elif pattern is _INDEX:
                steps.append(_Index(int(match.group(1))))
            elif pattern is _STAR:
                steps.append(_Wildcard())
            else:
                fields = tuple(match.group(1).strip(".").split("."))
                steps.append(_Filter(fields, match.group(2) == "==", _literal(match.group(3))))
            pos = match.end()
            break
        else:
            raise JsonPathError(f"unsupported JSONPath {path!r} at {text[pos:]!r}")
    return tuple(steps)


def _children(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        yield from value.values()
    elif isinstance(value, list):
        yield from value


def _below(value: Any, fields: tuple[str, ...]) -> tuple[bool, Any]:
    for name in fields:
        if not isinstance(value, dict) or name not in value:
            return False, None
        value = value[name]
    return True, value


def _step(values: list[Any], step: _Step) -> list[Any]:
    found: list[Any] = []
    for value in values:
        if isinstance(step, _Field):
            if isinstance(value, dict) and step.name in value:
                found.append(value[step.name])
        elif isinstance(step, _Index):
            if isinstance(value, list) and -len(value) <= step.index < len(value):
                found.append(value[step.index])
        elif isinstance(step, _Wildcard):
            found.extend(_children(value))
        else:
            for item in _children(value):
                present, actual = _below(item, step.path)
                if present and (actual == step.value) == step.equal:
                    found.append(item)
    return found


def evaluate(path: str, obj: Any) -> list[Any]:
    """Every value ``path`` reaches in ``obj``, in document order; [] when it reaches none."""
    values = [obj]
    for step in parse(path):
        values = _step(values, step)
        if not values:
            return []
    return values
