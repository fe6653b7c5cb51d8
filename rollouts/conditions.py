"""Rollout status conditions with Argo's types, reasons and messages, and timestamps that only move on change.

``lastTransitionTime`` moves when a condition's status changes, ``lastUpdateTime`` when its status, reason or
message changes (or, for Progressing, whenever progress is made: that is the clock the progress deadline reads).
So a pass that changes nothing rebuilds exactly the conditions it read, and writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from kube.json_data import JsonObject
from kube.timestamps import format_time

INVALID_SPEC = "InvalidSpec"
AVAILABLE = "Available"
PROGRESSING = "Progressing"
REPLICA_FAILURE = "ReplicaFailure"
PAUSED = "Paused"
COMPLETED = "Completed"
HEALTHY = "Healthy"

# Written in this order, whatever order they were read in, so the status is the same from pass to pass.
CONDITION_ORDER = (INVALID_SPEC, AVAILABLE, PROGRESSING, REPLICA_FAILURE, PAUSED, COMPLETED, HEALTHY)

TRUE, FALSE, UNKNOWN = "True", "False", "Unknown"

# Reasons (Argo's utils/conditions).
INVALID_SPEC_REASON = "InvalidSpec"
AVAILABLE_REASON = "AvailableReason"
NEW_RS_CREATED = "NewReplicaSetCreated"
RS_UPDATED = "ReplicaSetUpdated"
RS_NOT_AVAILABLE = "ReplicaSetNotAvailable"
NEW_RS_AVAILABLE = "NewReplicaSetAvailable"
ROLLOUT_PAUSED = "RolloutPaused"
ROLLOUT_RESUMED = "RolloutResumed"
ROLLOUT_ABORTED = "RolloutAborted"
ROLLOUT_RETRY = "RolloutRetry"
TIMED_OUT = "ProgressDeadlineExceeded"
ROLLOUT_COMPLETED = "RolloutCompleted"
ROLLOUT_HEALTHY = "RolloutHealthy"

AVAILABLE_MESSAGE = "Rollout has minimum availability"
NOT_AVAILABLE_MESSAGE = "Rollout does not have minimum availability"
PAUSED_MESSAGE = "Rollout is paused"
RESUMED_MESSAGE = "Rollout is resumed"
RETRY_MESSAGE = "Retrying Rollout after abort"
HEALTHY_MESSAGE = "Rollout is healthy"
NOT_HEALTHY_MESSAGE = "Rollout is not healthy"


def created_message(rs_name: str) -> str:
    return f'Created new replica set "{rs_name}"'


def progressing_message(rs_name: str) -> str:
    return f'ReplicaSet "{rs_name}" is progressing.'


def progressed_message(rs_name: str) -> str:
    return f'ReplicaSet "{rs_name}" has successfully progressed.'


def timed_out_message(rs_name: str) -> str:
    return f'ReplicaSet "{rs_name}" has timed out progressing.'


def aborted_message(revision: int, reason: str | None = None) -> str:
    message = f"Rollout aborted update to revision {revision}"
    return f"{message}: {reason}" if reason else message


def find_condition(conditions: Iterable[Mapping[str, Any]] | None, type_: str) -> JsonObject | None:
    for condition in conditions or ():
        if isinstance(condition, dict) and condition.get("type") == type_:
            return condition
    return None


def conditions_of(status: Mapping[str, Any]) -> list[JsonObject]:
    found = status.get("conditions")
    return [condition for condition in found if isinstance(condition, dict)] if isinstance(found, list) else []


def condition(
    old: Mapping[str, Any] | None,
    type_: str,
    status: str,
    reason: str,
    message: str,
    now: datetime,
    *,
    refresh: bool = False,
) -> JsonObject:
    """The condition as it should now read, keeping the old timestamps wherever nothing they stand for changed."""
    stamp = format_time(now)
    same_status = old is not None and old.get("status") == status
    unchanged = same_status and old is not None and old.get("reason") == reason and old.get("message") == message
    return {
        "type": type_,
        "status": status,
        "reason": reason,
        "message": message,
        "lastTransitionTime": old.get("lastTransitionTime", stamp) if same_status and old is not None else stamp,
        "lastUpdateTime": old.get("lastUpdateTime", stamp) if unchanged and not refresh and old else stamp,
    }


def ordered(conditions: Mapping[str, JsonObject]) -> list[JsonObject]:
    return [conditions[type_] for type_ in CONDITION_ORDER if type_ in conditions]


def replica_failure(replica_sets: Sequence[Mapping[str, Any]]) -> JsonObject | None:
    """A ReplicaFailure condition of the new ReplicaSet (listed first), else of any other, as a Rollout condition."""
    for rs in replica_sets:
        for found in (rs.get("status") or {}).get("conditions") or ():
            if isinstance(found, dict) and found.get("type") == REPLICA_FAILURE:
                moment = found.get("lastTransitionTime")
                converted: JsonObject = {
                    "type": REPLICA_FAILURE,
                    "status": found.get("status", TRUE),
                    "reason": found.get("reason", ""),
                    "message": found.get("message", ""),
                }
                if moment:
                    converted["lastTransitionTime"] = moment
                    converted["lastUpdateTime"] = moment
                return converted
    return None
