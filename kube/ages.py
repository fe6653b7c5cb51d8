"""Ages as ``kubectl get`` shows them (``45s``, ``3m12s``, ``5h``, ``2d3h``), computed from a ``now``.

The cut-offs follow apimachinery's ``duration.HumanDuration``: more precision for short ages, less for long.
"""

from __future__ import annotations

from datetime import datetime

from kube.timestamps import parse_time


def human_duration(seconds: float) -> str:
    """A duration of ``seconds`` in kubectl's short form; clock skew under 2 s reads as ``0s``."""
    whole = int(seconds)
    if whole < -1:
        return "<invalid>"
    if whole < 0:
        return "0s"
    if whole < 120:
        return f"{whole}s"
    minutes = whole // 60
    if minutes < 10:
        rest = whole % 60
        return f"{minutes}m{rest}s" if rest else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = whole // 3600
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h{rest}m" if rest else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rest = hours % 24
        return f"{hours // 24}d{rest}h" if rest else f"{hours // 24}d"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = (hours // 24) % 365
        return f"{hours // 24 // 365}y{days}d" if days else f"{hours // 24 // 365}y"
    return f"{hours // 24 // 365}y"


def age(timestamp: object, now: datetime) -> str:
    """How long before ``now`` the timestamp was, or ``<unknown>`` as kubectl shows a missing one."""
    parsed = parse_time(timestamp)
    if parsed is None:
        return "<unknown>"
    return human_duration((now - parsed).total_seconds())
