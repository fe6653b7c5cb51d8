"""``{{args.NAME}}`` placeholders in a metric: finding them and substituting argument values.

Argo resolves arguments by serialising the whole metric to JSON and running a template engine over the
text, so a placeholder counts wherever a string is — queries, URLs, headers, conditions, a Job's container
args, even map keys — and *every* ``{{…}}`` is a placeholder: one that names no argument (``{{foo}}``) or is
never closed makes the run fail. This module walks the metric's plain-data form instead of its JSON text,
with the same outcome.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

OPEN = "{{"
CLOSE = "}}"
ARGS_PREFIX = "args."

Location = tuple[str | int, ...]
"""Where a string sits inside a metric: keys and list indexes from the metric's root."""


@dataclass(frozen=True)
class Placeholder:
    """One ``{{…}}`` in a string, as written."""

    text: str
    """The whole placeholder including the braces, e.g. ``{{ args.namespace }}``."""
    start: int
    end: int

    @property
    def expression(self) -> str:
        """What stands between the braces, without surrounding whitespace (Argo trims it too)."""
        return self.text[len(OPEN) : -len(CLOSE)].strip()

    @property
    def argument(self) -> str | None:
        """The argument name for ``{{args.NAME}}``; None for any other placeholder."""
        expression = self.expression
        return expression.removeprefix(ARGS_PREFIX) if expression.startswith(ARGS_PREFIX) else None


@dataclass(frozen=True)
class PlaceholderScan:
    """The placeholders of one string, and whether a ``{{`` was left unclosed after them."""

    placeholders: tuple[Placeholder, ...]
    unclosed_at: int | None = None


def scan_placeholders(text: str) -> PlaceholderScan:
    """The ``{{…}}`` placeholders in a string, left to right, the way Argo's template engine cuts them:
    a placeholder runs from ``{{`` to the next ``}}``, and nothing nests."""
    found: list[Placeholder] = []
    position = 0
    while (start := text.find(OPEN, position)) != -1:
        end = text.find(CLOSE, start + len(OPEN))
        if end == -1:
            return PlaceholderScan(tuple(found), unclosed_at=start)
        end += len(CLOSE)
        found.append(Placeholder(text[start:end], start, end))
        position = end
    return PlaceholderScan(tuple(found))


def has_placeholder(text: str) -> bool:
    """True when a string holds a ``{{``, so its final value is only known once arguments are substituted."""
    return OPEN in text


@dataclass(frozen=True)
class StringSite:
    """A string inside a metric and where it is; ``is_key`` when it is a map key rather than a value."""

    location: Location
    text: str
    is_key: bool = False


def metric_strings(metric: Mapping[str, Any]) -> Iterator[StringSite]:
    """Every string inside a metric's plain-data form, map keys included, depth first in document order.

    A key's location is that of the map entry it names, so a problem in a key points at the entry.
    """
    yield from _strings(metric, ())


def _strings(node: Any, location: Location) -> Iterator[StringSite]:
    if isinstance(node, str):
        yield StringSite(location, node)
    elif isinstance(node, Mapping):
        for key, value in node.items():
            if isinstance(key, str):
                yield StringSite((*location, key), key, is_key=True)
            yield from _strings(value, (*location, str(key)))
    elif isinstance(node, list | tuple):
        for index, item in enumerate(node):
            yield from _strings(item, (*location, index))


@dataclass(frozen=True)
class ArgumentReference:
    """A ``{{args.NAME}}`` found in a metric."""

    name: str
    location: Location
    placeholder: str


def argument_references(metric: Mapping[str, Any]) -> list[ArgumentReference]:
    """Every ``{{args.NAME}}`` in a metric (plain data, camelCase keys), in document order."""
    return [
        ArgumentReference(placeholder.argument, site.location, placeholder.text)
        for site in metric_strings(metric)
        for placeholder in scan_placeholders(site.text).placeholders
        if placeholder.argument is not None
    ]


def referenced_arguments(metric: Mapping[str, Any]) -> set[str]:
    """The names of the arguments a metric uses."""
    return {reference.name for reference in argument_references(metric)}


class ArgumentResolutionError(ValueError):
    """A metric whose placeholders cannot all be substituted; ``unresolved`` lists them as written."""

    def __init__(self, unresolved: list[str]) -> None:
        self.unresolved = unresolved
        super().__init__("failed to resolve " + ", ".join(unresolved))


def resolve_arguments(metric: Mapping[str, Any], values: Mapping[str, str]) -> dict[str, Any]:
    """A copy of a metric (plain data) with each ``{{args.NAME}}`` replaced by ``values[NAME]``.

    Substitution is one pass: a value that itself contains ``{{…}}`` is inserted as it is. Raises
    :class:`ArgumentResolutionError` naming every placeholder that is not a supplied argument, and any
    ``{{`` left unclosed, because Argo fails the run for those rather than measure with a half-resolved
    query.
    """
    unresolved: list[str] = []
    resolved = _resolve_mapping(metric, values, unresolved)
    if unresolved:
        raise ArgumentResolutionError(list(dict.fromkeys(unresolved)))
    return resolved


def _resolve_mapping(
    node: Mapping[Any, Any], values: Mapping[str, str], unresolved: list[str]
) -> dict[Any, Any]:
    return {
        (_resolve_text(key, values, unresolved) if isinstance(key, str) else key): _resolve(
            value, values, unresolved
        )
        for key, value in node.items()
    }


def _resolve(node: Any, values: Mapping[str, str], unresolved: list[str]) -> Any:
    if isinstance(node, str):
        return _resolve_text(node, values, unresolved)
    if isinstance(node, Mapping):
        return _resolve_mapping(node, values, unresolved)
    if isinstance(node, list | tuple):
        return [_resolve(item, values, unresolved) for item in node]
    return node


def _resolve_text(text: str, values: Mapping[str, str], unresolved: list[str]) -> str:
    scan = scan_placeholders(text)
    parts: list[str] = []
    position = 0
    for placeholder in scan.placeholders:
        parts.append(text[position : placeholder.start])
        name = placeholder.argument
        if name is not None and name in values:
            parts.append(values[name])
        else:
            unresolved.append(placeholder.text)
            parts.append(placeholder.text)
        position = placeholder.end
    if scan.unclosed_at is not None:
        unresolved.append(f"unclosed {OPEN!r} in {text[scan.unclosed_at :][:40]!r}")
    parts.append(text[position:])
    return "".join(parts)
