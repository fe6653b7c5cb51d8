"""The shape every manifest, live object and patch has in this code base: a JSON object as Python's ``json``
module reads it. One alias, so that a reader (and mypy) knows a dict is a Kubernetes document, not a record."""

from __future__ import annotations

import json
from typing import Any, TypeAlias

JsonObject: TypeAlias = dict[str, Any]


def json_type_name(value: Any) -> str:
    """The JSON Schema type of a decoded JSON value: ``null``, ``boolean``, ``integer``, ``number``, ``string``,
    ``array`` or ``object`` (a bool is not an integer, as JSON Schema and the API server see it)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def as_json_object(value: Any) -> JsonObject:
    """``value`` when it is a JSON object, else an empty one: for reading optional sections of objects that may be
    malformed (a display must show what it can rather than fail)."""
    return value if isinstance(value, dict) else {}


def decoded_json_object(text: Any) -> JsonObject | None:
    """The JSON object the string ``text`` holds (an annotation's, say); None when ``text`` is not a string, not
    JSON, or JSON of something other than an object."""
    if not isinstance(text, str):
        return None
    try:
        decoded = json.loads(text)
    except ValueError:
        return None
    return decoded if isinstance(decoded, dict) else None


def json_equal(a: Any, b: Any) -> bool:
    """Equality in JSON's sense: unlike Python's, ``true`` is not ``1``."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, dict) or isinstance(b, dict):
        return (
            isinstance(a, dict) and isinstance(b, dict)
            and a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
        )
    if isinstance(a, list) or isinstance(b, list):
        return (
            isinstance(a, list) and isinstance(b, list)
            and len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
        )
    return bool(a == b)


def as_int(value: Any, default: int = 0) -> int:
    """``value`` as an integer (``3``, ``"3"``), or ``default`` when it is missing or not one."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def object_at(value: Any, *keys: str) -> JsonObject:
    """The JSON object at ``keys`` inside ``value``, or an empty one when any step is missing or not an object.

    For code that reads an object before it is validated (indexes, metrics, references): a manifest such as
    ``spec: [1, 2]`` must read as "nothing there", not raise.
    """
    for key in keys:
        if not isinstance(value, dict):
            return {}
        value = value.get(key)
    return value if isinstance(value, dict) else {}
