"""Durations, the one parser of them: Go's ``time.ParseDuration`` (``"5m"``, ``"1h30m"``, ``"-1.5h"``, ``"300ms"``,
``"5us"`` = ``"5µs"`` = ``"5μs"``), read by durationpy; and Argo's fields, which also take a bare number of
seconds (``30``, ``"30"``) and no negative value. Also the one printer of them, as kubectl prints ages."""

from __future__ import annotations

import re
from typing import Annotated

import durationpy
from pydantic import AfterValidator, StrictInt

# Go's grammar: an optional sign, then numbers each with one of Go's units (durationpy also takes days and weeks,
# which Go refuses), or a bare 0.
_GO_DURATION = re.compile(r"[-+]?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+|[-+]?0")


class DurationError(ValueError):
    """A value that is not a duration Argo would accept."""


def parse_go_duration(text: str) -> float:
    """Seconds in a Go duration string (a sign is allowed; a unit is required except for ``0``)."""
    body = text.strip()
    if not _GO_DURATION.fullmatch(body):
        raise DurationError(f"invalid duration {text!r}: expected a Go duration such as '30s', '5m' or '1h30m'")
    try:
        return float(durationpy.from_str(body).total_seconds())
    except (durationpy.DurationError, ValueError, OverflowError):
        raise DurationError(
            f"invalid duration {text!r}: expected a Go duration such as '30s', '5m' or '1h30m'"
        ) from None


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
    if text.startswith(("-", "+")):
        raise DurationError(f"invalid duration {value!r}: must not be negative or signed")
    try:
        return parse_go_duration(text)
    except DurationError:
        raise DurationError(
            f"invalid duration {value!r}: expected seconds or a string like '30s', '5m' or '1h30m'"
        ) from None


def _check_duration(value: str | int) -> str | int:
    parse_duration(value)
    return value


# StrictInt: in lax mode pydantic would turn `true` into 1 before _check_duration could reject it.
Duration = Annotated[str | StrictInt, AfterValidator(_check_duration)]
"""A duration kept exactly as written (so manifests round-trip), validated on parse; read it with
:func:`parse_duration`."""

