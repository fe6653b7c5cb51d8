"""The values a Helm source renders with, composed as ``helm template`` composes them from Argo CD's arguments
(pure, given a reader of files): value files in order, then ``values`` (or ``valuesObject``, which wins over it),
each merged over the last (maps merged key by key, anything else replaced), then ``parameters`` as ``--set`` (or
``--set-string`` with ``forceString``), last.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import helm_python
import yaml

from gitops.render.errors import RenderError

FIELD = "spec.source.helm"

_UNESCAPED_COMMA = re.compile(r"(?<!\\),")


def merge_values(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``override`` over ``base``: nested maps merged, every other value (lists included) replaced."""
    merged = dict(base)
    for key, value in override.items():
        current = merged.get(key)
        if isinstance(current, Mapping) and isinstance(value, Mapping):
            merged[key] = merge_values(current, value)
        else:
            merged[key] = value
    return merged


def values_document(text: str, label: str) -> dict[str, Any]:
    """A values YAML document as a map (an empty document is an empty map)."""
    try:
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise RenderError(f"{label}: {where}invalid YAML: {error.problem}") from None
    except yaml.YAMLError as error:
        raise RenderError(f"{label}: invalid YAML: {error}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise RenderError(f"{label}: values must be a mapping, got {type(data).__name__}")
    return data


def set_argument(name: str, value: str) -> str:
    """A parameter as Argo CD passes it to ``--set``: commas in the value escaped, unless it is a ``{a,b}`` list."""
    if not (value.startswith("{") and value.endswith("}")):
        value = _UNESCAPED_COMMA.sub(r"\\,", value)
    return f"{name}={value}"


def parameter_values(parameters: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Each parameter as the map ``--set``/``--set-string`` would make of it."""
    parsed: list[dict[str, Any]] = []
    for position, parameter in enumerate(parameters):
        name = str(parameter.get("name") or "")
        if not name:
            raise RenderError(f"{FIELD}.parameters[{position}].name: must not be empty")
        expression = set_argument(name, str(parameter.get("value") or ""))
        try:
            if parameter.get("forceString"):
                parsed.append(helm_python.parse_set_string_values(expression))
            else:
                parsed.append(helm_python.parse_set_string(expression))
        except helm_python.HelmError as error:
            raise RenderError(f"{FIELD}.parameters[{position}] ({name}): {error}") from None
    return parsed


ValueFileReader = Callable[[int, str], str | None]


def compose_values(options: Mapping[str, Any], read_value_file: ValueFileReader) -> dict[str, Any]:
    """The user-supplied values for a render. ``read_value_file(position, name)`` returns the file's text, or
    None when it is missing (then an error, unless ``ignoreMissingValueFiles``)."""
    values: dict[str, Any] = {}
    for position, name in enumerate(options.get("valueFiles") or []):
        text = read_value_file(position, str(name))
        if text is None:
            if options.get("ignoreMissingValueFiles"):
                continue
            raise RenderError(f"{FIELD}.valueFiles[{position}]: {name}: no such file")
        values = merge_values(values, values_document(text, str(name)))
    values_object = options.get("valuesObject")
    if values_object is not None:
        if not isinstance(values_object, Mapping):
            raise RenderError(f"{FIELD}.valuesObject: must be a mapping")
        values = merge_values(values, values_object)
    elif options.get("values"):
        values = merge_values(values, values_document(str(options["values"]), f"{FIELD}.values"))
    for parameter in parameter_values(list(options.get("parameters") or [])):
        values = merge_values(values, parameter)
    return values
