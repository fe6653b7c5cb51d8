"""Durations, the one parser of them: Go's ``time.ParseDuration`` (``"5m"``, ``"1h30m"``, ``"-1.5h"``, ``"300ms"``,
``"5us"`` = ``"5µs"`` = ``"5μs"``), read exactly in nanoseconds as Go does; and Argo's fields, which also take a bare
number of seconds (``30``, ``"30"``) and no negative value.

Go's ``time.Duration`` is an int64 count of nanoseconds, so nothing longer than 2562047h47m16.854775807s exists
there: Go refuses such a string, and Argo cannot hold such a number of seconds. Both are refused here, whatever
the form, so a pause or an initial delay never overflows when the controller adds it to a time.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction
from typing import Annotated

from pydantic import AfterValidator, StrictInt

# Go's grammar: an optional sign, then numbers each with one of Go's units, or a bare 0.
_GO_DURATION = re.compile(r"[-+]?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+|[-+]?0")
_GO_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_NANOSECONDS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "μs": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60 * 1_000_000_000,
    "h": 3600 * 1_000_000_000,
}
MAX_NANOSECONDS = 2**63 - 1
"""The longest Go duration, 2562047h47m16.854775807s."""
MAX_SECONDS = MAX_NANOSECONDS / 1e9
_TOO_LONG = "longer than Go's largest duration, 2562047h47m16.854775807s"


class DurationError(ValueError):
    """A value that is not a duration Argo would accept."""


def parse_go_duration(text: str) -> float:
    """Seconds in a Go duration string (a sign is allowed; a unit is required except for ``0``)."""
    body = text.strip()
    if not _GO_DURATION.fullmatch(body):
        raise DurationError(f"invalid duration {text!r}: expected a Go duration such as '30s', '5m' or '1h30m'")
    negative = body.startswith("-")
    # Exact arithmetic, as Go's integer nanoseconds: a float would let 2562047h47m16.854775808s through.
    nanoseconds = sum(
        (Fraction(number) * _NANOSECONDS[unit] for number, unit in _GO_PART.findall(body)), Fraction(0)
    )
    # Go allows one more nanosecond on the negative side (the int64 minimum).
    if math.floor(nanoseconds) > MAX_NANOSECONDS + (1 if negative else 0):
        raise DurationError(f"invalid duration {text!r}: {_TOO_LONG}")
    seconds = float(nanoseconds / 1_000_000_000)
    return -seconds if negative else seconds


def parse_duration(value: str | int | float) -> float:
    """Seconds in an Argo duration; a bare number (or a string of digits) is seconds."""
    if isinstance(value, bool):
        raise DurationError(f"invalid duration {value!r}: expected seconds or a string like '5m' or '1h30m'")
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise DurationError(f"invalid duration {value!r}: expected a finite number of seconds")
        if value < 0:
            raise DurationError(f"invalid duration {value!r}: must not be negative")
        return _seconds_within_range(value, value)
    text = value.strip()
    if re.fullmatch(r"\d+", text):
        return _seconds_within_range(int(text), value)
    if not text:
        raise DurationError("invalid duration '': expected seconds or a string like '5m' or '1h30m'")
    if text.startswith(("-", "+")):
        raise DurationError(f"invalid duration {value!r}: must not be negative or signed")
    try:
        return parse_go_duration(text)
    except DurationError as error:
        if _TOO_LONG in str(error):
            raise
        raise DurationError(
            f"invalid duration {value!r}: expected seconds or a string like '30s', '5m' or '1h30m'"
        ) from None


def _seconds_within_range(seconds: int | float, value: str | int | float) -> float:
    # Argo multiplies bare seconds by time.Second; beyond int64 nanoseconds that wraps around in Go.
    if seconds * 1_000_000_000 > MAX_NANOSECONDS:
        raise DurationError(f"invalid duration {value!r}: {_TOO_LONG}")
    return float(seconds)


def _check_duration(value: str | int) -> str | int:
    parse_duration(value)
    return value


# StrictInt: in lax mode pydantic would turn `true` into 1 before _check_duration could reject it.
Duration = Annotated[str | StrictInt, AfterValidator(_check_duration)]
"""A duration kept exactly as written (so manifests round-trip), validated on parse; read it with
:func:`parse_duration`."""

