"""How urgent the pass a watch event asks for is, decided from what the event changed (pure).

The work queue serves an abort before a resync (``kube.work_queue.Urgency``); this module says which events are
which, by comparing the object as cached before the event with the object the event brings:

- **ABORT**: an AnalysisRun of a Rollout turned ``Failed`` or ``Error`` (the Rollout must abort and send traffic
  back to stable), or a Rollout's ``status.abort`` turned true (``rollouts abort``).
- **USER_ACTION**: a new Rollout, a Rollout whose spec changed (``metadata.generation``: a new image, pause,
  ``spec.paused: false`` of a promotion, a restart, an undo), or whose status was changed the way only the CLI
  changes it: ``abort`` back to false (``rollouts retry``), ``promoteFull`` set, the pause conditions cleared
  (``rollouts promote``).
- **ROUTINE**: everything else — children's status, the echoes of the controller's own writes, deletions.

The controller records its own writes in the cache before their echoes arrive (``ObjectCache.record_write``), so
an echo usually compares equal; one that overtakes its write's answer is recognised by its content
(``ObjectCache.expect_echo``) and queues nothing, and one the cache cannot recognise is taken for a user action,
which only serves it sooner. Timers and resyncs do not come from events: the runner queues them itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from kube.json_data import JsonObject
from kube.resources import ANALYSIS_RUNS, ROLLOUTS, ResourceKind
from kube.watch_events import DELETED
from kube.work_queue import Urgency

# An AnalysisRun in one of these phases fails the Rollout's analysis: Argo aborts the update.
ABORTING_RUN_PHASES: Final = frozenset({"Failed", "Error"})


def event_urgency(
    kind: ResourceKind, event_type: str | None, previous: JsonObject | None, current: JsonObject
) -> Urgency:
    """The urgency of the passes the watch event (``current``, after ``previous`` as cached) asks for."""
    if event_type == DELETED:
        return Urgency.ROUTINE
    if kind == ANALYSIS_RUNS:
        return _run_urgency(previous, current)
    if kind == ROLLOUTS:
        return _rollout_urgency(previous, current)
    return Urgency.ROUTINE


def _run_urgency(previous: JsonObject | None, current: JsonObject) -> Urgency:
    phase = _status(current).get("phase")
    if phase in ABORTING_RUN_PHASES and (previous is None or _status(previous).get("phase") != phase):
        return Urgency.ABORT
    return Urgency.ROUTINE


def _rollout_urgency(previous: JsonObject | None, current: JsonObject) -> Urgency:
    if previous is None:
        return Urgency.USER_ACTION
    before, after = _status(previous), _status(current)
    if after.get("abort") and not before.get("abort"):
        return Urgency.ABORT
    if _generation(current) != _generation(previous):
        return Urgency.USER_ACTION
    retried = before.get("abort") and not after.get("abort")
    promoted_fully = after.get("promoteFull") and not before.get("promoteFull")
    unpaused = bool(before.get("pauseConditions")) and not after.get("pauseConditions")
    if retried or promoted_fully or unpaused:
        return Urgency.USER_ACTION
    return Urgency.ROUTINE


def _status(obj: JsonObject) -> Mapping[str, Any]:
    status = obj.get("status")
    return status if isinstance(status, Mapping) else {}


def _generation(obj: JsonObject) -> object:
    metadata = obj.get("metadata")
    return metadata.get("generation") if isinstance(metadata, Mapping) else None
