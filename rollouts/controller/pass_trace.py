"""The Rollout controller's pass trace: why each pass was queued and what it wrote, as DEBUG lines of one logger.

Off unless the ``rollouts.controller.trace`` logger is enabled for DEBUG (``rollouts controller --verbose``); then
every watch event says which Rollouts it queued and what it changed, every pass says where it began and every write
what it was, so that ``bench.pass_trace`` can account for each pass of an update (the trigger that queued it,
whether it wrote) from the controller's log alone. Each line is ``<verb> key=value ...`` with no spaces in values.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any, Final

from kube.json_data import JsonObject

logger: Final = logging.getLogger("rollouts.controller.trace")
# Changes nobody decides on: every write moves the resourceVersion, and managedFields follow the writer.
_BOOKKEEPING: Final = frozenset({"resourceVersion", "managedFields"})


def tracing() -> bool:
    """The trace is on: callers build its lines only then."""
    return logger.isEnabledFor(logging.DEBUG)


def trace(verb: str, **fields: object) -> None:
    """One trace line: the verb, then ``key=value`` per field (spaces in values replaced, so a line splits)."""
    logger.debug("%s %s", verb, " ".join(f"{key}={_value(value)}" for key, value in fields.items()))


def changed_paths(previous: JsonObject | None, current: JsonObject, depth: int = 3) -> list[str]:
    """The dotted paths (down to ``depth`` levels) where ``current`` differs from ``previous``, bookkeeping apart;
    ``["+"]`` for an object not cached before."""
    if previous is None:
        return ["+"]
    return list(_diff(_without_bookkeeping(previous), _without_bookkeeping(current), "", depth))


def _without_bookkeeping(obj: JsonObject) -> JsonObject:
    metadata = obj.get("metadata")
    if not isinstance(metadata, Mapping):
        return obj
    return {**obj, "metadata": {key: value for key, value in metadata.items() if key not in _BOOKKEEPING}}


def _diff(before: object, after: object, prefix: str, depth: int) -> Iterable[str]:
    if before == after:
        return
    if depth == 0 or not isinstance(before, Mapping) or not isinstance(after, Mapping):
        yield prefix or "."
        return
    for key in sorted(set(before) | set(after), key=str):
        yield from _diff(before.get(key), after.get(key), f"{prefix}.{key}" if prefix else str(key), depth - 1)


def _value(value: Any) -> str:
    if isinstance(value, list | tuple | set | frozenset):
        return ",".join(sorted(_value(item) for item in value)) or "-"
    return str(value).replace(" ", "_") if value is not None and value != "" else "-"
