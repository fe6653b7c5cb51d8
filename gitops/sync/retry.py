"""Retrying a failed sync operation: Argo CD's backoff and the operation state around it.

A failed (or errored) operation whose retry limit is not reached goes back to Running with ``finishedAt`` set and
the message ``"<message>. Retrying attempt #N at 3:04PM."``; it is restarted once ``duration × factor^(N-1)`` (capped
by ``maxDuration``) has passed since ``finishedAt``, with its previous results cleared. A negative limit retries
forever. Once retries run out the message gains ``" (retried N times)."``.
"""

from __future__ import annotations

import copy
from datetime import datetime, timedelta

from gitops.models import DEFAULT_BACKOFF_DURATION, DEFAULT_BACKOFF_FACTOR, DEFAULT_BACKOFF_MAX_DURATION, OperationPhase
from gitops.resources import JsonObject
from kube.durations import parse_duration
from kube.timestamps import format_time, required_time

_FAILED_PHASES = {OperationPhase.FAILED.value, OperationPhase.ERROR.value}


def backoff_seconds(retry: JsonObject, retry_count: int) -> float:
    """Seconds before retry number ``retry_count + 1``: ``duration × factor^retry_count``, at most ``maxDuration``."""
    backoff = retry.get("backoff") or {}
    duration = parse_duration(backoff.get("duration", DEFAULT_BACKOFF_DURATION))
    factor = float(backoff.get("factor", DEFAULT_BACKOFF_FACTOR))
    max_duration = parse_duration(backoff.get("maxDuration", DEFAULT_BACKOFF_MAX_DURATION))
    wait = duration * factor**retry_count
    return min(wait, max_duration) if max_duration > 0 else wait


def _kitchen(moment: datetime) -> str:
    # Go's time.Kitchen layout, "3:04PM".
    return f"{(moment.hour % 12) or 12}:{moment.minute:02d}{'AM' if moment.hour < 12 else 'PM'}"


def schedule_retry(operation_state: JsonObject, now: datetime) -> JsonObject:
    """After an operation failed: the state that retries it later, or the final failure noting the retries made."""
    state = copy.deepcopy(operation_state)
    if state.get("phase") not in _FAILED_PHASES:
        return state
    retry = (state.get("operation") or {}).get("retry") or {}
    limit = int(retry.get("limit", 0) or 0)
    count = int(state.get("retryCount", 0) or 0)
    if limit < 0 or count < limit:
        due = now + timedelta(seconds=backoff_seconds(retry, count))
        state["phase"] = OperationPhase.RUNNING.value
        state["retryCount"] = count + 1
        state["finishedAt"] = format_time(now)
        state["message"] = f"{state.get('message', '')}. Retrying attempt #{count + 1} at {_kitchen(due)}."
    elif count > 0:
        state["message"] = f"{state.get('message', '')} (retried {count} times)."
    return state


def retry_due_at(operation_state: JsonObject) -> datetime | None:
    """When a Running operation waiting to retry may restart (None when it is not waiting)."""
    finished = operation_state.get("finishedAt")
    if not finished or operation_state.get("phase") != OperationPhase.RUNNING.value:
        return None
    retry = (operation_state.get("operation") or {}).get("retry") or {}
    count = max(int(operation_state.get("retryCount", 0) or 0) - 1, 0)
    return required_time(str(finished)) + timedelta(seconds=backoff_seconds(retry, count))


def restart_for_retry(operation_state: JsonObject, revision: str) -> JsonObject:
    """The retried operation: no completion time, no previous results (the plan starts over)."""
    state = copy.deepcopy(operation_state)
    state.pop("finishedAt", None)
    state["syncResult"] = {"revision": revision, "resources": []}
    state["message"] = ""
    return state
