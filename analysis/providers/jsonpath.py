"""The kubectl-style JSONPath subset that ``web`` metrics use to pick their value out of a response.

Argo hands ``jsonPath`` to client-go's jsonpath package. What analysis templates write is a small part of it,
implemented here: one ``{…}`` expression made of the root (``$``, or a leading ``.``), fields (``.name``,
``['name']``, ``["name"]``), indices (``[0]``, ``[-1]``), slices (``[1:3]``), and wildcards (``[*]``, ``.*``).
A missing field or an index out of range is an error, as in client-go without ``allowMissingKeys``. Filters
(``[?(…)]``), recursive descent (``..``) and text around the braces are refused with a message saying so.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

from kube.json_data import json_type_name

DEFAULT_JSON_PATH: Final = "{$}"
_FIELD: Final = re.compile(r"[^.\[\]{}()*'\"\s]+")
_INDEX: Final = re.compile(r"\[\s*(-?\d+)\s*\]")
_SLICE: Final = re.compile(r"\[\s*(-?\d+)?\s*:\s*(-?\d+)?\s*(?::\s*(-?\d+)?\s*)?\]")
_QUOTED: Final = re.compile(r"""\[\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")\s*\]""")
_WILDCARD: Final = re.compile(r"\[\s*\*\s*\]|\.\*")


class JsonPathError(ValueError):
    """A JSONPath that is not valid, uses an unsupported feature, or finds nothing in the document."""


@dataclass(frozen=True)
class _Step:
    kind: str  # "field", "index", "slice", "wildcard"
    name: str = ""
    index: int = 0
    start: int | None = None
    stop: int | None = None
    stride: int | None = None

    def describe(self) -> str:
        if self.kind == "field":
            return f".{self.name}"
        if self.kind == "index":
            return f"[{self.index}]"
        if self.kind == "slice":
            parts = ["" if part is None else str(part) for part in (self.start, self.stop)]
            return f"[{':'.join(parts)}]"
        return "[*]"


@dataclass(frozen=True)
class JsonPath:
    """A compiled path; :meth:`find` returns every match, :meth:`first` what a web metric's value is."""

    text: str
    steps: tuple[_Step, ...]

    @property
    def is_root(self) -> bool:
        """Whether the path selects the whole document (``{$}``), which is then allowed not to be JSON."""
        return not self.steps

    def find(self, document: Any) -> list[Any]:
        nodes = [document]
        for position, step in enumerate(self.steps):
            where = "$" + "".join(s.describe() for s in self.steps[:position])
            nodes = [found for node in nodes for found in _apply(step, node, where)]
        return nodes

    def first(self, document: Any) -> Any:
        """The first match — with a wildcard, the first of several, which is what Argo keeps too."""
        found = self.find(document)
        if not found:
            raise JsonPathError(f"{self.text} matched nothing")
        return found[0]


def _apply(step: _Step, node: Any, where: str) -> Iterator[Any]:
    if step.kind == "field":
        if not isinstance(node, dict):
            raise JsonPathError(f"{where} is {_kind(node)}, so it has no field {step.name!r}")
        if step.name not in node:
            raise JsonPathError(f"{step.name} is not found in {where}")
        yield node[step.name]
    elif step.kind == "wildcard":
        if isinstance(node, dict):
            yield from node.values()
        elif isinstance(node, list):
            yield from node
        else:
            raise JsonPathError(f"{where} is {_kind(node)}; [*] needs an array or an object")
    else:
        if not isinstance(node, list):
            raise JsonPathError(f"{where} is {_kind(node)}, not an array")
        if step.kind == "index":
            if not -len(node) <= step.index < len(node):
                raise JsonPathError(f"array index {step.index} is out of bounds in {where} (length {len(node)})")
            yield node[step.index]
        else:
            if step.stride == 0:
                raise JsonPathError("a slice step must not be 0")
            yield from node[step.start : step.stop : step.stride]


# How a message names each JSON type ("… is a string, not an array").
_TYPE_PHRASES: Final = {"null": "null", "boolean": "a boolean", "integer": "a number", "number": "a number",
                        "string": "a string", "array": "an array", "object": "an object"}


def _kind(node: Any) -> str:
    return _TYPE_PHRASES.get(json_type_name(node), "an object")


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def compile_json_path(template: str | None) -> JsonPath:
    """Parse ``{$.data.items[0].value}``-style templates; an empty one means ``{$}``."""
    text = (template or "").strip() or DEFAULT_JSON_PATH
    if not (text.startswith("{") and text.endswith("}")) or text.count("{") != 1 or text.count("}") != 1:
        raise JsonPathError(f"jsonPath {text!r} must be a single {{…}} expression, such as {{$.data.value}}")
    body = text[1:-1].strip()
    if "..." in body or ".." in body:
        raise JsonPathError(f"jsonPath {text!r}: recursive descent (..) is not supported")
    if "[?" in body:
        raise JsonPathError(f"jsonPath {text!r}: filter expressions ([?(…)]) are not supported")
    if body.startswith("$"):
        body = body[1:]
    if body == ".":
        body = ""
    steps: list[_Step] = []
    position = 0
    while position < len(body):
        rest = body[position:]
        if match := _WILDCARD.match(rest):
            steps.append(_Step("wildcard"))
        elif rest.startswith(".") and (match := _FIELD.match(rest, 1)):
            steps.append(_Step("field", name=match.group(0)))
        elif match := _QUOTED.match(rest):
            quoted = match.group(1) if match.group(1) is not None else match.group(2)
            steps.append(_Step("field", name=_unescape(quoted)))
        elif match := _INDEX.match(rest):
            steps.append(_Step("index", index=int(match.group(1))))
        elif match := _SLICE.match(rest):
            start, stop, stride = (None if part is None else int(part) for part in match.groups())
            steps.append(_Step("slice", start=start, stop=stop, stride=stride))
        else:
            raise JsonPathError(
                f"jsonPath {text!r}: cannot read {rest!r}; supported are .field, ['field'], [index], [start:end] "
                "and [*]"
            )
        position += match.end()
    return JsonPath(text=text, steps=tuple(steps))
