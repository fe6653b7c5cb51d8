"""Whether a canary's background analysis lets the update be fully promoted while its measurements only err.

Argo Rollouts reads only a background run's verdict: until the run is Failed or Error the steps go on, and once
they are done the update is promoted and the run terminated "Successful". With Prometheus unreachable every
measurement is an Error, the verdict waits for ``consecutiveErrorLimit``, and the new version gets all the traffic
on no evidence at all. Here, by default, the update is not fully promoted while the latest completed measurement
of any metric that counts (not a dry run) is an Error: the last step does not complete, the Rollout says why, and
either a measurement succeeds again or the run reaches its error limit, ends in Error and aborts the update.
The controller flag ``--promote-on-background-analysis-errors`` restores Argo's behaviour
(``RolloutSnapshot.background_errors_hold_promotion`` false).

Pure: plain dicts in, a message or None out.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from analysis.models import AnalysisPhase
from analysis.runner.rules import is_dry_run
from rollouts.plan import Plan
from rollouts.snapshot import RolloutSnapshot


def latest_completed(measurements: Sequence[Any]) -> Mapping[str, Any] | None:
    """The newest measurement that has finished (a Job's measurement in flight has no verdict yet)."""
    for measurement in reversed(measurements):
        if isinstance(measurement, Mapping) and measurement.get("finishedAt"):
            return measurement
    return None


def background_promotion_hold(entry: Mapping[str, Any] | None, runs: Sequence[Mapping[str, Any]]) -> str | None:
    """Why the background run the status ``entry`` names forbids full promotion now, or None.

    It does while the run is still measuring (a finished run's verdict speaks for itself: Successful promotes,
    Failed or Error aborts) and the latest completed measurement of some metric that is not a dry run is an Error.
    """
    name = entry.get("name") if isinstance(entry, Mapping) else None
    run = next((run for run in runs if (run.get("metadata") or {}).get("name") == name), None) if name else None
    if run is None:
        return None
    status = run.get("status") or {}
    if status.get("phase") not in (None, "", AnalysisPhase.PENDING.value, AnalysisPhase.RUNNING.value):
        return None
    spec = run.get("spec") or {}
    for result in status.get("metricResults") or ():
        if not isinstance(result, Mapping) or is_dry_run(spec, str(result.get("name", ""))):
            continue
        latest = latest_completed(result.get("measurements") or ())
        if latest is not None and latest.get("phase") == AnalysisPhase.ERROR.value:
            detail = f" ({latest['message']})" if latest.get("message") else ""
            return (
                f"waiting for background analysis: AnalysisRun {name}: the latest measurement of metric "
                f'"{result.get("name")}" is an Error{detail}; not promoting without evidence'
            )
    return None


def promoting_on_background_errors(decide: Callable[[RolloutSnapshot], Plan]) -> Callable[[RolloutSnapshot], Plan]:
    """``decide`` with Argo's behaviour: a background run's erring measurements do not hold promotion."""

    def decide_as_argo(snapshot: RolloutSnapshot) -> Plan:
        return decide(replace(snapshot, background_errors_hold_promotion=False))

    return decide_as_argo


__all__ = ["background_promotion_hold", "latest_completed", "promoting_on_background_errors"]
