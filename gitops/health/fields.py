"""Reading the status fields health checks look at, with a clear error when a field has the wrong type.

A health check in Argo CD converts the object to its typed Go struct first, so a malformed field makes the check fail
and the resource Unknown; :class:`MalformedObject` is that failure here, naming the field.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, cast


class MalformedObject(ValueError):
    """A field a health check reads does not have the type Kubernetes gives it."""


def section(obj: Mapping[str, Any], *path: str) -> Mapping[str, Any]:
    """The mapping at ``path`` (an empty one when absent)."""
    current: Any = obj
    for depth, key in enumerate(path):
        current = current.get(key) if isinstance(current, Mapping) else None
        if current is None:
            return {}
        if not isinstance(current, Mapping):
            raise MalformedObject(f"{'.'.join(path[: depth + 1])}: expected an object, got {type(current).__name__}")
    return cast(Mapping[str, Any], current)


def integer(obj: Mapping[str, Any], path: str, default: int = 0) -> int:
    """The integer at the dotted ``path`` (``default`` when absent)."""
    *parents, leaf = path.split(".")
    value = section(obj, *parents).get(leaf)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise MalformedObject(f"{path}: expected an integer, got {value!r}")
    return value


def optional_integer(obj: Mapping[str, Any], path: str) -> int | None:
    """The integer at the dotted ``path``, or None when the field is absent (a Go pointer left nil)."""
    *parents, leaf = path.split(".")
    if section(obj, *parents).get(leaf) is None:
        return None
    return integer(obj, path)


def text(obj: Mapping[str, Any], path: str) -> str:
    """The string at the dotted ``path`` (empty when absent)."""
    *parents, leaf = path.split(".")
    value = section(obj, *parents).get(leaf)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise MalformedObject(f"{path}: expected a string, got {value!r}")
    return value


def items(obj: Mapping[str, Any], path: str) -> Iterator[Mapping[str, Any]]:
    """The objects of the list at the dotted ``path`` (none when absent)."""
    *parents, leaf = path.split(".")
    value = section(obj, *parents).get(leaf)
    if value is None:
        return
    if not isinstance(value, list):
        raise MalformedObject(f"{path}: expected a list, got {type(value).__name__}")
    for index, item in enumerate(value):
        if not isinstance(item, Mapping):
            raise MalformedObject(f"{path}[{index}]: expected an object, got {item!r}")
        yield item


def condition(obj: Mapping[str, Any], type_: str, path: str = "status.conditions") -> Mapping[str, Any] | None:
    """The first condition of ``type_`` in the list at ``path``."""
    for found in items(obj, path):
        if found.get("type") == type_:
            return found
    return None


def generation_observed(obj: Mapping[str, Any]) -> bool:
    """Whether the controller has seen the latest spec (metadata.generation <= status.observedGeneration)."""
    return integer(obj, "metadata.generation") <= integer(obj, "status.observedGeneration")
