"""Ages as ``kubectl get`` shows them (``45s``, ``3m12s``, ``5h``, ``2d3h``), computed from a ``now``.

The cut-offs follow apimachinery's ``duration.HumanDuration``: more precision for short ages, less for long.
"""

from __future__ import annotations

from datetime import datetime

from kube.timestamps import parse_time

_MINUTE, _HOUR, _DAY, _YEAR = 60, 3600, 86400, 365 * 86400
# HumanDuration's tiers: below this many seconds, show whole units of this size, then (when not zero) the part
# left over in the finer unit.
_TIERS: tuple[tuple[int, tuple[int, str], tuple[int, str] | None], ...] = (
    (2 * _MINUTE, (1, "s"), None),
    (10 * _MINUTE, (_MINUTE, "m"), (1, "s")),
    (3 * _HOUR, (_MINUTE, "m"), None),
    (8 * _HOUR, (_HOUR, "h"), (_MINUTE, "m")),
    (2 * _DAY, (_HOUR, "h"), None),
    (8 * _DAY, (_DAY, "d"), (_HOUR, "h")),
    (2 * _YEAR, (_DAY, "d"), None),
    (8 * _YEAR, (_YEAR, "y"), (_DAY, "d")),
)


def human_duration(seconds: float) -> str:
    """A duration of ``seconds`` in kubectl's short form; clock skew under 2 s reads as ``0s``."""
    whole = int(seconds)
    if whole < -1:
        return "<invalid>"
    if whole < 0:
        return "0s"
    for below, (unit, suffix), finer in _TIERS:
        if whole < below:
            text = f"{whole // unit}{suffix}"
            if finer is not None and (rest := (whole // finer[0]) % (unit // finer[0])):
                text += f"{rest}{finer[1]}"
            return text
    return f"{whole // _YEAR}y"


def age(timestamp: object, now: datetime) -> str:
    """How long before ``now`` the timestamp was, or ``<unknown>`` as kubectl shows a missing one."""
    parsed = parse_time(timestamp)
    if parsed is None:
        return "<unknown>"
    return human_duration((now - parsed).total_seconds())
