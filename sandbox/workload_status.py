"""Pod readiness and the status of ReplicaSets and Deployments, as kube-controller-manager computes them.

Pure functions over plain dicts (the JSON bodies the API serves) and `now` as epoch seconds. The rules follow
`pkg/controller/replicaset/replica_set_utils.go` (calculateStatus), `pkg/controller/deployment/sync.go`
(calculateStatus) and `progress.go` (syncRolloutStatus) of Kubernetes, including their quirks: zero counts are
omitted (the Go fields are `omitempty`, except ReplicaSet `replicas`), a condition keeps its
lastTransitionTime while its status is unchanged, and one with the same status and reason is not touched.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final

JsonDict = dict[str, Any]


# --- time ---------------------------------------------------------------------------------------------------


def format_timestamp(epoch: float) -> str:
    """RFC 3339 with whole seconds, the way metav1.Time serializes."""
    return datetime.fromtimestamp(int(epoch), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_timestamp(value: str | None) -> float | None:
    """Epoch seconds of an RFC 3339 timestamp, or None when absent or malformed."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


# --- pods ---------------------------------------------------------------------------------------------------


def pod_condition(pod: Mapping[str, Any], condition_type: str) -> Mapping[str, Any] | None:
    for condition in pod.get("status", {}).get("conditions") or ():
        if condition.get("type") == condition_type:
            return condition  # type: ignore[no-any-return]
    return None


def is_pod_ready(pod: Mapping[str, Any]) -> bool:
    condition = pod_condition(pod, "Ready")
    return condition is not None and condition.get("status") == "True"


def pod_ready_since(pod: Mapping[str, Any]) -> float | None:
    """When the pod last became Ready, or None when it is not Ready."""
    condition = pod_condition(pod, "Ready")
    if condition is None or condition.get("status") != "True":
        return None
    return parse_timestamp(condition.get("lastTransitionTime"))


def is_pod_available(pod: Mapping[str, Any], min_ready_seconds: int, now: float) -> bool:
    """Ready for longer than minReadySeconds (strictly, as podutil.IsPodAvailable compares with Before)."""
    if not is_pod_ready(pod):
        return False
    if min_ready_seconds <= 0:
        return True
    since = pod_ready_since(pod)
    return since is not None and since + min_ready_seconds < now


def is_pod_active(pod: Mapping[str, Any]) -> bool:
    """Counted by its ReplicaSet: not terminating and not finished (controller.FilterActivePods)."""
    if pod.get("metadata", {}).get("deletionTimestamp"):
        return False
    return pod.get("status", {}).get("phase") not in ("Succeeded", "Failed")


def labels_match(required: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in required.items())


# --- ReplicaSet ---------------------------------------------------------------------------------------------


def replica_set_status(rs: Mapping[str, Any], active_pods: Iterable[Mapping[str, Any]], now: float) -> JsonDict:
    """The status the ReplicaSet controller would write for `rs` owning `active_pods`.

    Conditions (ReplicaFailure) are carried over unchanged: the simulator never fails to create pods.
    """
    spec = rs.get("spec", {})
    template_labels = spec.get("template", {}).get("metadata", {}).get("labels") or {}
    min_ready_seconds = int(spec.get("minReadySeconds") or 0)
    replicas = fully_labeled = ready = available = 0
    for pod in active_pods:
        replicas += 1
        if labels_match(template_labels, pod.get("metadata", {}).get("labels") or {}):
            fully_labeled += 1
        if is_pod_ready(pod):
            ready += 1
            if is_pod_available(pod, min_ready_seconds, now):
                available += 1
    status: JsonDict = {"replicas": replicas}
    _put_nonzero(status, "fullyLabeledReplicas", fully_labeled)
    _put_nonzero(status, "readyReplicas", ready)
    _put_nonzero(status, "availableReplicas", available)
    _put_nonzero(status, "observedGeneration", int(rs.get("metadata", {}).get("generation") or 0))
    conditions = rs.get("status", {}).get("conditions")
    if conditions:
        status["conditions"] = copy.deepcopy(conditions)
    return status


def next_availability_change(
    rs: Mapping[str, Any], active_pods: Iterable[Mapping[str, Any]], now: float
) -> float | None:
    """The earliest moment a Ready pod crosses minReadySeconds and becomes available, if one will."""
    min_ready_seconds = int(rs.get("spec", {}).get("minReadySeconds") or 0)
    if min_ready_seconds <= 0:
        return None
    moments = [
        since + min_ready_seconds
        for pod in active_pods
        if (since := pod_ready_since(pod)) is not None and since + min_ready_seconds >= now
    ]
    return min(moments) if moments else None


# --- Deployment ---------------------------------------------------------------------------------------------


# Deployment defaults the API server fills in; the emulator does not, so they are applied when reading.
DEFAULT_PROGRESS_DEADLINE_SECONDS: Final = 600
DEFAULT_REVISION_HISTORY_LIMIT: Final = 10
DEFAULT_MAX_SURGE: Final = "25%"
DEFAULT_MAX_UNAVAILABLE: Final = "25%"


class DeploymentReason(StrEnum):
    """The reasons the Deployment controller gives its conditions.

    From pkg/controller/deployment/util/deployment_util.go.
    """

    MINIMUM_REPLICAS_AVAILABLE = "MinimumReplicasAvailable"
    MINIMUM_REPLICAS_UNAVAILABLE = "MinimumReplicasUnavailable"
    NEW_RS_CREATED = "NewReplicaSetCreated"
    FOUND_NEW_RS = "FoundNewReplicaSet"
    RS_UPDATED = "ReplicaSetUpdated"
    NEW_RS_AVAILABLE = "NewReplicaSetAvailable"
    TIMED_OUT = "ProgressDeadlineExceeded"
    PAUSED = "DeploymentPaused"
    RESUMED = "DeploymentResumed"


def scaled_value(value: int | str | None, total: int, *, round_up: bool, default: str) -> int:
    """intstr.GetScaledValueFromIntOrPercent, lenient about integers written as strings."""
    if value is None:
        value = default
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if text.endswith("%"):
        scaled = int(text[:-1]) * total / 100
        return math.ceil(scaled) if round_up else math.floor(scaled)
    return int(text)


def desired_replicas(obj: Mapping[str, Any]) -> int:
    """spec.replicas with the API server's default of 1."""
    replicas = obj.get("spec", {}).get("replicas")
    return 1 if replicas is None else int(replicas)


def is_rolling_update(deployment: Mapping[str, Any]) -> bool:
    strategy = deployment.get("spec", {}).get("strategy") or {}
    return bool(strategy.get("type", "RollingUpdate") == "RollingUpdate")


def surge_and_unavailable(deployment: Mapping[str, Any]) -> tuple[int, int]:
    """deploymentutil.ResolveFenceposts: maxSurge rounds up, maxUnavailable down, never both zero."""
    replicas = desired_replicas(deployment)
    rolling = (deployment.get("spec", {}).get("strategy") or {}).get("rollingUpdate") or {}
    surge = scaled_value(rolling.get("maxSurge"), replicas, round_up=True, default=DEFAULT_MAX_SURGE)
    unavailable = scaled_value(rolling.get("maxUnavailable"), replicas, round_up=False, default=DEFAULT_MAX_UNAVAILABLE)
    if surge == 0 and unavailable == 0:
        # Rounding down can make both zero; Kubernetes then allows one unavailable pod rather than none.
        unavailable = 1
    return surge, unavailable


def max_unavailable(deployment: Mapping[str, Any]) -> int:
    replicas = desired_replicas(deployment)
    if not is_rolling_update(deployment) or replicas == 0:
        return 0
    return min(surge_and_unavailable(deployment)[1], replicas)


def max_surge(deployment: Mapping[str, Any]) -> int:
    if not is_rolling_update(deployment):
        return 0
    return surge_and_unavailable(deployment)[0]


def progress_deadline_seconds(deployment: Mapping[str, Any]) -> int | None:
    """None when the deadline is disabled (the API's MaxInt32 sentinel)."""
    value = deployment.get("spec", {}).get("progressDeadlineSeconds")
    if value is None:
        return DEFAULT_PROGRESS_DEADLINE_SECONDS
    return None if int(value) >= 2**31 - 1 else int(value)


def _status_int(obj: Mapping[str, Any] | None, field: str) -> int:
    if obj is None:
        return 0
    return int((obj.get("status") or {}).get(field) or 0)


def _spec_replicas(rs: Mapping[str, Any]) -> int:
    return int(rs.get("spec", {}).get("replicas") or 0)


def condition_of(status: Mapping[str, Any], condition_type: str) -> JsonDict | None:
    for condition in status.get("conditions") or ():
        if condition.get("type") == condition_type:
            return condition  # type: ignore[no-any-return]
    return None


def new_condition(condition_type: str, status: str, reason: str, message: str, now: float) -> JsonDict:
    stamp = format_timestamp(now)
    return {
        "type": condition_type,
        "status": status,
        "lastUpdateTime": stamp,
        "lastTransitionTime": stamp,
        "reason": reason,
        "message": message,
    }


def set_condition(status: JsonDict, condition: JsonDict) -> None:
    """deploymentutil.SetDeploymentCondition: same status and reason → untouched; else moved to the end."""
    current = condition_of(status, condition["type"])
    if current is not None and current.get("status") == condition["status"]:
        if current.get("reason") == condition["reason"]:
            return
        condition = {**condition, "lastTransitionTime": current.get("lastTransitionTime")}
    remove_condition(status, condition["type"])
    status.setdefault("conditions", []).append(condition)


def remove_condition(status: JsonDict, condition_type: str) -> None:
    conditions = [c for c in status.get("conditions") or () if c.get("type") != condition_type]
    if conditions:
        status["conditions"] = conditions
    else:
        status.pop("conditions", None)


def deployment_base_status(
    deployment: Mapping[str, Any],
    all_rs: Sequence[Mapping[str, Any]],
    new_rs: Mapping[str, Any] | None,
    now: float,
) -> JsonDict:
    """calculateStatus of the Deployment controller: ReplicaSet counts and the Available condition."""
    available = sum(_status_int(rs, "availableReplicas") for rs in all_rs)
    total = sum(_spec_replicas(rs) for rs in all_rs)
    current = deployment.get("status") or {}
    status: JsonDict = {}
    _put_nonzero(status, "observedGeneration", int(deployment.get("metadata", {}).get("generation") or 0))
    _put_nonzero(status, "replicas", sum(_status_int(rs, "replicas") for rs in all_rs))
    _put_nonzero(status, "updatedReplicas", _status_int(new_rs, "replicas"))
    _put_nonzero(status, "readyReplicas", sum(_status_int(rs, "readyReplicas") for rs in all_rs))
    _put_nonzero(status, "availableReplicas", available)
    _put_nonzero(status, "unavailableReplicas", max(0, total - available))
    if current.get("collisionCount") is not None:
        status["collisionCount"] = current["collisionCount"]
    if current.get("conditions"):
        status["conditions"] = copy.deepcopy(current["conditions"])
    if available >= desired_replicas(deployment) - max_unavailable(deployment):
        condition = new_condition(
            "Available",
            "True",
            DeploymentReason.MINIMUM_REPLICAS_AVAILABLE,
            "Deployment has minimum availability.",
            now,
        )
    else:
        condition = new_condition(
            "Available",
            "False",
            DeploymentReason.MINIMUM_REPLICAS_UNAVAILABLE,
            "Deployment does not have minimum availability.",
            now,
        )
    set_condition(status, condition)
    return status


def is_deployment_complete(deployment: Mapping[str, Any], status: Mapping[str, Any]) -> bool:
    """deploymentutil.DeploymentComplete: every desired replica updated, available, and nothing else left."""
    replicas = desired_replicas(deployment)
    return (
        int(status.get("updatedReplicas") or 0) == replicas
        and int(status.get("replicas") or 0) == replicas
        and int(status.get("availableReplicas") or 0) == replicas
        and int(status.get("observedGeneration") or 0) >= int(deployment.get("metadata", {}).get("generation") or 0)
    )


def _is_progressing(deployment: Mapping[str, Any], status: Mapping[str, Any]) -> bool:
    old = deployment.get("status") or {}

    def count(s: Mapping[str, Any], field: str) -> int:
        return int(s.get(field) or 0)

    old_old = count(old, "replicas") - count(old, "updatedReplicas")
    new_old = count(status, "replicas") - count(status, "updatedReplicas")
    return (
        count(status, "updatedReplicas") > count(old, "updatedReplicas")
        or new_old < old_old
        or count(status, "readyReplicas") > count(old, "readyReplicas")
        or count(status, "availableReplicas") > count(old, "availableReplicas")
    )


def _has_timed_out(deployment: Mapping[str, Any], status: Mapping[str, Any], now: float) -> bool:
    deadline = progress_deadline_seconds(deployment)
    condition = condition_of(status, "Progressing")
    if deadline is None or condition is None:
        return False
    if condition.get("reason") == DeploymentReason.NEW_RS_AVAILABLE:
        return False
    if condition.get("reason") == DeploymentReason.TIMED_OUT:
        return True
    updated = parse_timestamp(condition.get("lastUpdateTime"))
    return updated is not None and updated + deadline < now


def set_progressing_condition(
    status: JsonDict, deployment: Mapping[str, Any], new_rs: Mapping[str, Any] | None, now: float
) -> None:
    """The rest of syncRolloutStatus after calculateStatus: the Progressing condition's estimate of progress, set in
    `status` (the base status, see `deployment_base_status`)."""
    if progress_deadline_seconds(deployment) is None:
        remove_condition(status, "Progressing")
        return
    name = deployment.get("metadata", {}).get("name", "")
    subject = f'ReplicaSet "{new_rs["metadata"]["name"]}"' if new_rs else f'Deployment "{name}"'
    current = condition_of(deployment.get("status") or {}, "Progressing")
    is_complete_rollout = (
        int(status.get("replicas") or 0) == int(status.get("updatedReplicas") or 0)
        and current is not None
        and current.get("reason") == DeploymentReason.NEW_RS_AVAILABLE
    )
    if is_complete_rollout:
        return
    if is_deployment_complete(deployment, status):
        set_condition(
            status,
            new_condition(
                "Progressing",
                "True",
                DeploymentReason.NEW_RS_AVAILABLE,
                f"{subject} has successfully progressed.",
                now,
            ),
        )
    elif _is_progressing(deployment, status):
        # Progress refreshes lastUpdateTime even with the same reason, which set_condition would skip.
        condition = new_condition("Progressing", "True", DeploymentReason.RS_UPDATED, f"{subject} is progressing.", now)
        if current is not None:
            if current.get("status") == "True":
                condition["lastTransitionTime"] = current.get("lastTransitionTime")
            remove_condition(status, "Progressing")
        set_condition(status, condition)
    elif _has_timed_out(deployment, status, now):
        set_condition(
            status,
            new_condition(
                "Progressing", "False", DeploymentReason.TIMED_OUT, f"{subject} has timed out progressing.", now
            ),
        )


def progress_recheck_at(deployment: Mapping[str, Any], status: Mapping[str, Any]) -> float | None:
    """When the progress deadline of an unfinished rollout would pass (requeueStuckDeployment), if ever."""
    deadline = progress_deadline_seconds(deployment)
    condition = condition_of(status, "Progressing")
    if deadline is None or condition is None or is_deployment_complete(deployment, status):
        return None
    settled = (DeploymentReason.TIMED_OUT, DeploymentReason.NEW_RS_AVAILABLE, DeploymentReason.PAUSED)
    if condition.get("reason") in settled:
        return None
    updated = parse_timestamp(condition.get("lastUpdateTime"))
    # One second past the deadline: the comparison is strict and the timestamps are whole seconds.
    return None if updated is None else updated + deadline + 1


# --- writing status -----------------------------------------------------------------------------------------


def status_patch(current: Mapping[str, Any] | None, desired: Mapping[str, Any]) -> JsonDict | None:
    """A JSON merge patch turning `current` into `desired` at the top level of status, or None when equal.

    Fields that `desired` omits are removed (null), as the controllers' full status updates would.
    """
    current = current or {}
    patch: JsonDict = {key: value for key, value in desired.items() if current.get(key) != value}
    patch.update({key: None for key in current if key not in desired})
    return patch or None


def _put_nonzero(status: JsonDict, field: str, value: int) -> None:
    if value:
        status[field] = value
