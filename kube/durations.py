"""Argo-style durations: ``30``, ``"30"``, ``"5m"``, ``"1h30m"``, ``"1.5s"``, ``"250ms"``."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, StrictInt

_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")


class DurationError(ValueError):
    """A value that is not a duration Argo would accept."""


def parse_duration(value: str | int | float) -> float:
    """Seconds in an Argo duration; a bare number (or a string of digits) is seconds."""
    if isinstance(value, bool):
        raise DurationError(f"invalid duration {value!r}: expected seconds or a string like '5m' or '1h30m'")
    if isinstance(value, int | float):
        if value < 0:
            raise DurationError(f"invalid duration {value!r}: must not be negative")
        return float(value)
    text = value.strip()
    if re.fullmatch(r"\d+", text):
        return float(text)
    if not text:
        raise DurationError("invalid duration '': expected seconds or a string like '5m' or '1h30m'")
    position, total = 0, 0.0
    for match in _PART.finditer(text):
        if match.start() != position:
            break
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        position = match.end()
    if position != len(text):
        raise DurationError(
            f"invalid duration {value!r}: expected seconds or a string like '30s', '5m' or '1h30m'"
        )
    return total


def _check_duration(value: str | int) -> str | int:
    parse_duration(value)
    return value


# StrictInt: in lax mode pydantic would turn `true` into 1 before _check_duration could reject it.
Duration = Annotated[str | StrictInt, AfterValidator(_check_duration)]
"""A duration kept exactly as written (so manifests round-trip), validated on parse; read it with
:func:`parse_duration`."""
