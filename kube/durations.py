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


def human_duration(seconds: float) -> str:
    """A duration as kubectl prints ages (apimachinery's ``duration.HumanDuration``): ``25s``, ``3m20s``, ``15m``,
    ``3h59m``, ``20h``, ``7d``, ``2y``; more precision for short ones, less for long."""
    whole = int(seconds)
    if whole < -1:
        return "<invalid>"
    if whole < 0:
        return "0s"  # up to a second of clock skew reads as "just now"
    if whole < 120:
        return f"{whole}s"
    minutes = whole // 60
    if minutes < 10:
        return f"{minutes}m{whole % 60}s" if whole % 60 else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = whole // 3600
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return f"{hours // 24}d{hours % 24}h" if hours % 24 else f"{hours // 24}d"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = (hours // 24) % 365
        return f"{hours // 24 // 365}y{days}d" if days else f"{hours // 24 // 365}y"
    return f"{hours // 24 // 365}y"
