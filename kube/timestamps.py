"""RFC 3339 timestamps as Kubernetes writes them (metav1.Time): UTC, whole seconds, a trailing ``Z``.

One module for every controller, so that a time one writes into a status and another reads back parses the same
way everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeAlias

Clock: TypeAlias = Callable[[], datetime]
"""Where a controller reads the time: ``utc_now``, or a test's own clock."""


def utc_now() -> datetime:
    """The current time, in UTC."""
    return datetime.now(UTC)



def format_time(moment: datetime) -> str:
    """``2024-05-01T10:00:00Z``, as metav1.Time serialises (sub-second parts are dropped, as the API drops them)."""
    return as_utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: Any) -> datetime | None:
    """The moment an RFC 3339 string names, or None when the value is missing or not a timestamp."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return required_time(value)
    except ValueError:
        return None


def required_time(text: str) -> datetime:
    """The moment of an RFC 3339 string that must be one (a time this code wrote); ValueError when it is not."""
    return as_utc(datetime.fromisoformat(text.replace("Z", "+00:00")))


def as_utc(moment: datetime) -> datetime:
    """The moment in UTC; a naive datetime is taken to be UTC already (the controllers' clocks are)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def later(moment: datetime, seconds: float) -> datetime:
    return as_utc(moment) + timedelta(seconds=seconds)


def seconds_between(earlier: datetime, later: datetime) -> float:
    return (as_utc(later) - as_utc(earlier)).total_seconds()


def seconds_until(moment: datetime, now: datetime) -> float:
    """Seconds from ``now`` until ``moment``, never negative (a moment already past is due at once)."""
    return max(0.0, seconds_between(now, moment))
