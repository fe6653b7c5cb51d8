"""Ages as ``kubectl get`` shows them (``45s``, ``3m12s``, ``5h``, ``2d3h``), computed from a ``now``.

The cut-offs are apimachinery's ``duration.HumanDuration`` (``kube.durations.human_duration``): more precision for
short ages, less for long.
"""

from __future__ import annotations

from datetime import UTC, datetime

from kube.durations import human_duration


def parse_timestamp(value: object) -> datetime | None:
    """An RFC 3339 timestamp (``2024-01-01T00:00:00Z``, fractions allowed); None when absent or malformed."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def age(timestamp: object, now: datetime) -> str:
    """How long before ``now`` the timestamp was, or ``<unknown>`` as kubectl shows a missing one."""
    parsed = parse_timestamp(timestamp)
    if parsed is None:
        return "<unknown>"
    return human_duration((now - parsed).total_seconds())
