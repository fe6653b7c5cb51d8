"""``spec.ttlStrategy`` of an AnalysisRun: how long a completed run is kept before it is deleted.

As Argo's isAnalysisRunTtlExceeded: only a completed run with a ``completedAt`` and a TTL strategy is ever deleted.
A Successful run uses ``secondsAfterSuccess``, a Failed one ``secondsAfterFailure``, when set; otherwise (and for
Error and Inconclusive runs) ``secondsAfterCompletion``. The run is deleted once more than that many whole seconds
have passed since ``completedAt``; until then the controller looks again when the time is up.

Pure: ``now`` is a parameter.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from analysis.runner.measurements import is_completed
from kube.timestamps import parse_time


@dataclass(frozen=True)
class TtlVerdict:
    """What the TTL says of a completed run: delete it now, or look again in ``wake_in`` seconds."""

    expired: bool
    wake_in: float


def ttl_seconds(run: Mapping[str, Any]) -> int | None:
    """The TTL that applies to the run's final phase, or None (no strategy, no matching field, not completed)."""
    spec = run.get("spec") or {}
    strategy = spec.get("ttlStrategy")
    phase = (run.get("status") or {}).get("phase")
    if not isinstance(strategy, Mapping) or not is_completed(phase):
        return None
    for applies, field in ((phase == "Successful", "secondsAfterSuccess"), (phase == "Failed", "secondsAfterFailure")):
        if applies and isinstance(strategy.get(field), int):
            return int(strategy[field])
    completion = strategy.get("secondsAfterCompletion")
    return int(completion) if isinstance(completion, int) else None


def ttl_verdict(run: Mapping[str, Any], now: datetime) -> TtlVerdict | None:
    """Whether a completed run's TTL has passed at ``now``; None when no TTL applies to it."""
    seconds = ttl_seconds(run)
    completed_at = parse_time((run.get("status") or {}).get("completedAt"))
    if seconds is None or completed_at is None or (run.get("metadata") or {}).get("deletionTimestamp"):
        return None
    elapsed = int((now - completed_at).total_seconds())
    if elapsed > seconds:
        return TtlVerdict(expired=True, wake_in=0.0)
    # Argo compares whole seconds: the run goes once more than ``seconds`` whole seconds have passed.
    deadline = completed_at + timedelta(seconds=seconds + 1)
    return TtlVerdict(expired=False, wake_in=max((deadline - now).total_seconds(), 0.0))


__all__ = ["TtlVerdict", "ttl_seconds", "ttl_verdict"]
