"""``spec.restartAt``: replace every pod created before that moment, a few at a time, without losing availability."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from kube.json_data import JsonObject
from kube.timestamps import parse_time
from rollouts.replicasets import is_being_deleted, name_of, spec_replicas

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
    replicas: int,
    max_unavailable: int,
    min_ready_seconds: int,
    now: datetime,
) -> RestartProgress:
    """Which pods to delete now for ``spec.restartAt`` (Argo's RolloutPodRestarter).

    The pods are counted directly, not through the ReplicaSets' status, which lags behind deletions: a pass right
    after a batch went still sees every ReplicaSet "fully available" there. At most ``restart_budget`` pods go in
    one pass, the stable ReplicaSet's first, then the new one's, then the others' (``replica_sets`` comes in that
    order), so availability never drops below what ``maxUnavailable`` allows.
    """
    moment = parse_time(restart_at)
    if moment is None or restart_at == restarted_at:
        return RestartProgress()
    if moment > now:
        return RestartProgress(wake_at=moment)
    previous = parse_time(restarted_at)
    if previous is not None and previous >= moment:
        return RestartProgress()
    owned = _pods_by_replica_set(replica_sets, pods)
    stale = [pod for pod in owned if _created_before(pod, moment)]
    if not stale:
        return RestartProgress(finished=True)
    budget = restart_budget(
        replicas=replicas,
        spec_total=sum(spec_replicas(rs) for rs in replica_sets),
        available=available_pod_count(owned, min_ready_seconds, now),
        max_unavailable=max_unavailable,
    )
    going = [pod for pod in stale if not is_being_deleted(pod)][: max(budget, 0)]
    return RestartProgress(delete=tuple(going), look_again_in=RESTART_CHECK_SECONDS)


def restart_budget(*, replicas: int, spec_total: int, available: int, max_unavailable: int) -> int:
    """How many pods may be deleted now: the available pods beyond the minimum that must stay available.

    At least one pod may go at a time even when ``maxUnavailable`` is 0 (a restart must be able to move), and the
    minimum is taken against the larger of ``replicas`` and the ReplicaSets' total, which exceeds it at a canary
    weight that does not divide the replicas evenly.
    """
    minimum_available = max(replicas, spec_total) - max(max_unavailable, 1)
    return max(available - minimum_available, 0)


def available_pod_count(pods: Sequence[JsonObject], min_ready_seconds: int, now: datetime) -> int:
    """The pods that serve: Ready for at least ``min_ready_seconds`` and not on their way out."""
    return sum(1 for pod in pods if not is_being_deleted(pod) and is_pod_available(pod, min_ready_seconds, now))


def is_pod_available(pod: Mapping[str, Any], min_ready_seconds: int, now: datetime) -> bool:
    """Kubernetes' pod availability: the Ready condition is True, and has been for ``min_ready_seconds``."""
    conditions = (pod.get("status") or {}).get("conditions") or ()
    ready = next(
        (found for found in conditions if isinstance(found, Mapping) and found.get("type") == "Ready"), None
    )
    if ready is None or ready.get("status") != "True":
        return False
    if min_ready_seconds <= 0:
        return True
    since = parse_time(ready.get("lastTransitionTime"))
    return since is not None and since + timedelta(seconds=min_ready_seconds) <= now


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
