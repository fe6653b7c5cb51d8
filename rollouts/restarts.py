"""``spec.restartAt``: replace every pod created before that moment, a few at a time, without losing availability."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kube.json_data import JsonObject
from kube.timestamps import parse_time
from rollouts.replicasets import available_replicas, is_being_deleted, name_of, spec_replicas

# Pods are not necessarily watched: look again after this long to go on with the next batch.
RESTART_CHECK_SECONDS = 30.0


@dataclass(frozen=True)
class RestartProgress:
    """What the restart does in this pass."""

    delete: tuple[JsonObject, ...] = ()
    finished: bool = False
    """Every pod is younger than restartAt: record ``status.restartedAt``."""
    wake_at: datetime | None = None
    look_again_in: float | None = None


def restart_progress(
    *,
    restart_at: str | None,
    restarted_at: str | None,
    replica_sets: Sequence[JsonObject],
    pods: Sequence[JsonObject],
    batch_size: int,
    now: datetime,
) -> RestartProgress:
    """Which pods to delete now for ``spec.restartAt`` (Argo's RolloutPodRestarter).

    Pods go only while every ReplicaSet has all its pods available and none is still terminating, at most
    ``batch_size`` (max(maxUnavailable, 1)) at a time, the stable ReplicaSet's first, so each batch is replaced before
    the next one goes. ``replica_sets`` comes in priority order (stable, new, then the rest).
    """
    moment = parse_time(restart_at)
    if moment is None or restart_at == restarted_at:
        return RestartProgress()
    if moment > now:
        return RestartProgress(wake_at=moment)
    previous = parse_time(restarted_at)
    if previous is not None and previous >= moment:
        return RestartProgress()
    if any(available_replicas(rs) != spec_replicas(rs) for rs in replica_sets):
        return RestartProgress()
    owned = _pods_by_replica_set(replica_sets, pods)
    if any(is_being_deleted(pod) for pod in owned):
        return RestartProgress(look_again_in=RESTART_CHECK_SECONDS)
    stale = [pod for pod in owned if _created_before(pod, moment)]
    if not stale:
        return RestartProgress(finished=True)
    return RestartProgress(delete=tuple(stale[: max(batch_size, 1)]), look_again_in=RESTART_CHECK_SECONDS)


def _pods_by_replica_set(replica_sets: Sequence[JsonObject], pods: Sequence[JsonObject]) -> list[JsonObject]:
    """The pods each ReplicaSet controls, in the ReplicaSets' order, each ReplicaSet's pods by name."""
    ordered: list[JsonObject] = []
    for rs in replica_sets:
        uid = (rs.get("metadata") or {}).get("uid")
        name = name_of(rs)
        mine = [pod for pod in pods if _controlled_by(pod, name, uid)]
        ordered += sorted(mine, key=name_of)
    return ordered


def _controlled_by(pod: Mapping[str, Any], rs_name: str, rs_uid: Any) -> bool:
    for reference in (pod.get("metadata") or {}).get("ownerReferences") or ():
        if not isinstance(reference, dict) or not reference.get("controller"):
            continue
        if reference.get("kind") != "ReplicaSet" or reference.get("name") != rs_name:
            continue
        return rs_uid is None or reference.get("uid") in (None, rs_uid)
    return False


def _created_before(pod: Mapping[str, Any], moment: datetime) -> bool:
    created = parse_time((pod.get("metadata") or {}).get("creationTimestamp"))
    # A pod without a creation time cannot be shown to be fresh: replace it.
    return created is None or created < moment
