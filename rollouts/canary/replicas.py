"""How many pods the canary and the stable ReplicaSet get, and how the other ReplicaSets are wound down.

Follows Argo's arithmetic (utils/replicaset/canary.go, rollout/canary.go):

* with traffic routing the router sets the traffic split, so the canary only needs enough pods for its weight,
  ``ceil(weight × replicas / 100)``, and the stable keeps all of its pods until the update completes;
* without a router the replica ratio *is* the traffic split: canary and stable counts approximate the weight and
  move one bounded step at a time, within ``maxSurge`` (extra pods) and ``maxUnavailable`` (missing pods).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from kube.json_data import JsonObject
from kube.quantities import resolve_int_or_percent
from rollouts.replicasets import (
    available_replicas,
    has_scale_down_deadline,
    pod_template_hash_of,
    revision_of,
    scale_down_deadline,
    spec_replicas,
)


@dataclass(frozen=True)
class Pods:
    """A ReplicaSet as the arithmetic sees it: the pods it should run, has, and has available."""

    spec: int
    available: int
    created: int = 0


def pods_of(rs: JsonObject | None) -> Pods | None:
    if rs is None:
        return None
    created = (rs.get("status") or {}).get("replicas", 0)
    return Pods(
        spec=spec_replicas(rs),
        available=available_replicas(rs),
        created=created if isinstance(created, int) else 0,
    )


# --- fenceposts ----------------------------------------------------------------------------------


def surge_and_unavailable(max_surge: int | str, max_unavailable: int | str, replicas: int) -> tuple[int, int]:
    """maxSurge (rounded up) and maxUnavailable (rounded down) as pod counts; when both come to 0, one pod may be
    unavailable, since a surge might be impossible (quota) and the update must be able to move."""
    surge = resolve_int_or_percent(max_surge, replicas, round_up=True)
    unavailable = resolve_int_or_percent(max_unavailable, replicas, round_up=False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, min(unavailable, replicas) if replicas > 0 else 0


def weight_to_replicas(replicas: int, weight: int) -> int:
    return math.ceil(weight * replicas / 100)


# --- traffic routed ------------------------------------------------------------------------------


def traffic_routed_counts(
    replicas: int, *, weight: int, canary_replicas: int | None = None, min_pods_per_replica_set: int | None = None
) -> tuple[int, int]:
    """(canary, stable) with a traffic router: the canary gets pods for its weight (or an explicit count from
    setCanaryScale), the stable stays at full size until promotion so an abort can take all traffic back at once."""
    if canary_replicas is not None:
        return max(canary_replicas, 0), replicas
    canary = weight_to_replicas(replicas, weight)
    if canary > 0 and min_pods_per_replica_set is not None:
        canary = max(canary, min_pods_per_replica_set)
    return canary, replicas


# --- basic (no router) ---------------------------------------------------------------------------


def approximate_weighted_counts(replicas: int, weight: int, max_surge: int) -> tuple[int, int]:
    """(canary, stable) pod counts whose ratio is closest to ``weight``.

    The total may be ``replicas`` or, when surging is allowed, one more; for a weight between 1 and 99 each side gets
    at least one pod (when there are at least two pods to share), so a 5 % canary still exists.
    """
    if replicas == 0:
        return 0, 0
    ceil_canary = math.ceil(replicas * weight / 100)
    floor_canary = math.floor(replicas * weight / 100)
    zero_allowed = weight in (0, 100) or (replicas == 1 and max_surge == 0)
    options: list[tuple[int, int]] = []
    if ceil_canary < replicas or zero_allowed:
        options.append((ceil_canary, replicas))
    if not _floor_ceiling_tied(weight, replicas) and (floor_canary != 0 or zero_allowed):
        options.append((floor_canary, replicas))
    if max_surge > 0:
        options.append((ceil_canary, replicas + 1))
        if not _floor_ceiling_tied(weight, replicas + 1) and (floor_canary != 0 or zero_allowed):
            options.append((floor_canary, replicas + 1))
    if not options:
        return 0, replicas
    best = options[0]
    for option in options[1:]:
        # Strictly better only: on a tie the earlier (larger canary, smaller total) option wins, as in Argo.
        if _weight_delta(weight, *option) < _weight_delta(weight, *best):
            best = option
    canary, total = best
    return canary, total - canary


def _floor_ceiling_tied(weight: int, total: int) -> bool:
    # Integer arithmetic: exactly half-way between two pod counts.
    return (total * weight) % 100 == 50


def _weight_delta(weight: int, canary: int, total: int) -> float:
    return abs(canary * 100 / total - weight)


def _replicas_for_scale_down(rs: Pods | None, ignore_availability: bool) -> int:
    """Pods of ``rs`` that count towards availability when deciding how far we may scale down."""
    if rs is None:
        return 0
    if rs.spec < rs.available:
        # Extra available pods are already on their way out; counting them would overshoot maxUnavailable.
        return rs.spec
    return rs.spec if ignore_availability else rs.available


def basic_canary_counts(
    replicas: int,
    *,
    weight: int,
    max_surge: int,
    max_unavailable: int,
    new: Pods | None,
    stable: Pods | None,
    others: Sequence[Pods],
) -> tuple[int, int]:
    """(new, stable) spec.replicas for the next move of a canary without traffic routing (Argo's
    CalculateReplicaCountsForBasicCanary): scale up within maxSurge (stable first), then scale down within
    maxUnavailable, and leave the new and stable ReplicaSets alone while other ReplicaSets still have pods."""
    desired_new, desired_stable = approximate_weighted_counts(replicas, weight, max_surge)
    new_count = new.spec if new is not None else 0
    stable_count = 0
    if stable is not None:
        stable_count = stable.spec
    else:
        # Nothing to weigh against: the new ReplicaSet takes everything.
        desired_new, desired_stable = replicas, 0

    max_total = replicas + max_surge
    current_total = sum(rs.spec for rs in others) + (new.spec if new else 0) + (stable.spec if stable else 0)
    scale_up = max_total - current_total

    if stable is not None and stable.spec < desired_stable and scale_up > 0:
        if stable.spec + scale_up < desired_stable:
            stable_count = stable.spec + scale_up
            scale_up = 0
        else:
            stable_count = desired_stable
            scale_up -= desired_stable - stable.spec

    if new is not None and new.spec < desired_new and scale_up > 0:
        new_count = min(new.spec + scale_up, desired_new)

    if sum(rs.spec for rs in others) > 0:
        # Older ReplicaSets go first; the new and stable ones are only scaled down once those are gone.
        return new_count, stable_count

    min_available = replicas - max_unavailable
    increasing = new is None or desired_new >= new.spec
    scalable = _replicas_for_scale_down(new, not increasing) + _replicas_for_scale_down(stable, increasing)
    if scalable <= min_available:
        return new_count, stable_count

    scale_down = scalable - min_available
    if not increasing:
        # Shrinking the canary (an abort): its availability does not count, the stable's does.
        new_count = _scaled_down(new, desired_new, scale_down, new_count)
        new_count, stable_count = _within_limits(new, stable, new_count, stable_count, max_total, min_available)
    elif stable is not None:
        stable_count = _scaled_down(stable, desired_stable, scale_down, stable_count)
        stable_count, new_count = _within_limits(stable, new, stable_count, new_count, max_total, min_available)
    return new_count, stable_count


def _scaled_down(drain: Pods | None, desired: int, scale_down: int, count: int) -> int:
    if drain is not None and drain.spec > desired:
        return max(desired, drain.spec - scale_down)
    return count


def _within_limits(
    drain: Pods | None, adjust: Pods | None, drain_count: int, adjust_count: int, max_total: int, min_available: int
) -> tuple[int, int]:
    """Keep the pair within maxSurge (``max_total``) without dropping below ``min_available`` available pods:
    the side being drained is cut first; the other side gives up only what keeps availability (Argo's
    adjustReplicaWithinLimits)."""
    over = max(0, adjust_count + drain_count - max_total)
    total_available = min(drain.available, drain_count) if drain is not None else 0
    if adjust is not None:
        adjust_count -= over
        total_available += min(adjust.available, adjust_count)
        lost_available = max(0, adjust.available - adjust_count)
        still_needed = max(0, min_available - total_available)
        adjust_count += min(lost_available, still_needed)
        over = max(0, adjust_count + drain_count - max_total)
        drain_count -= over
    return drain_count, adjust_count


# --- step completion -----------------------------------------------------------------------------


def at_desired_counts(
    *,
    desired_new: int,
    desired_stable: int,
    new: Pods | None,
    stable: Pods | None,
    others: Sequence[Pods],
    traffic_routed: bool,
    check_stable: bool = True,
) -> bool:
    """The new ReplicaSet has exactly its pods, all available; the stable one has exactly its pods, all available
    (unless ``check_stable`` is false: dynamicStableScale) — a lowered weight brings stable pods back, and only
    available ones serve; and, without a router, no other ReplicaSet still serves traffic (Argo's
    AtDesiredReplicaCountsForCanary)."""
    if new is None or new.spec != desired_new or new.available != desired_new:
        return False
    if check_stable and (
        stable is None
        or stable.spec != desired_stable
        or stable.created != desired_stable
        or stable.available != desired_stable
    ):
        return False
    return traffic_routed or sum(rs.available for rs in others) == 0


# --- the other ReplicaSets -----------------------------------------------------------------------


@dataclass(frozen=True)
class OtherTarget:
    """What happens to one ReplicaSet that is neither new nor stable."""

    rs: JsonObject
    replicas: int
    deadline: datetime | None = None
    """Annotate it with this scale-down deadline (``scale-down-deadline``: now + scaleDownDelaySeconds): it keeps its
    pods until then, so a rollback within the delay is instant, and goes once it has passed."""


@dataclass(frozen=True)
class OtherPlan:
    targets: tuple[OtherTarget, ...] = ()
    wake_at: datetime | None = None
    """The earliest scale-down deadline still ahead."""


def other_replica_set_plan(
    others: Sequence[JsonObject],
    *,
    replicas: int,
    max_unavailable: int,
    total_available: int,
    traffic_routed: bool,
    fully_promoted: bool,
    referenced: frozenset[str],
    scale_down_delay_seconds: int,
    scale_down_revision_limit: int | None,
    now: datetime,
    dynamic_stable_scale: bool = False,
) -> OtherPlan:
    """Scale down ReplicaSets that are neither new nor stable (Argo's reconcileOtherReplicaSets).

    Unhealthy pods go first (they serve nothing). Then, newest revision first, as far as maxUnavailable allows:
    without a router every such pod serves traffic, so they shrink as soon as availability allows. With a router,
    the previous stable keeps its pods for scaleDownDelaySeconds after the switch (the mesh needs a moment to
    stop sending it traffic), and a ReplicaSet interrupted mid-update goes at once, unless a Service or the
    recorded weights still point at it (``referenced``, by pod-template hash). With ``dynamic_stable_scale`` the
    previous stable goes at once too: its traffic left it step by step.
    """
    active = [rs for rs in others if spec_replicas(rs) > 0]
    if not active:
        return OtherPlan()
    targets: dict[int, OtherTarget] = {}
    counts = {id(rs): spec_replicas(rs) for rs in active}

    for rs in sorted(active, key=lambda candidate: (_created(candidate), revision_of(candidate))):
        if spec_replicas(rs) > available_replicas(rs):
            counts[id(rs)] = available_replicas(rs)
            targets[id(rs)] = OtherTarget(rs, available_replicas(rs))

    budget = total_available - (replicas - max_unavailable)
    wake_at: datetime | None = None
    if budget > 0:
        annotated = 0
        limit = scale_down_revision_limit if scale_down_revision_limit is not None else math.inf
        for rs in sorted(active, key=lambda candidate: (-revision_of(candidate), _name(candidate))):
            if traffic_routed and _hash(rs) in referenced:
                continue
            if budget <= 0:
                break
            count = counts[id(rs)]
            if count == 0:
                continue
            desired = 0
            deadline: datetime | None = None
            if not traffic_routed:
                desired = count - budget if count > budget else 0
            elif dynamic_stable_scale and (fully_promoted or has_scale_down_deadline(rs)):
                # Its traffic left it step by step: nothing to wait for.
                desired = 0
            elif fully_promoted or has_scale_down_deadline(rs):
                existing = scale_down_deadline(rs)
                if not has_scale_down_deadline(rs):
                    if annotated < limit:
                        annotated += 1
                        desired = count
                        deadline = now + timedelta(seconds=scale_down_delay_seconds)
                        wake_at = _earliest(wake_at, deadline)
                else:
                    annotated += 1
                    if annotated <= limit and existing is not None and existing > now:
                        desired = count
                        wake_at = _earliest(wake_at, existing)
            if desired == count and deadline is None:
                continue
            targets[id(rs)] = OtherTarget(rs, desired, deadline)
            budget -= count - desired
    ordered = [targets[id(rs)] for rs in active if id(rs) in targets]
    return OtherPlan(targets=tuple(ordered), wake_at=wake_at)


def _earliest(current: datetime | None, candidate: datetime) -> datetime:
    return candidate if current is None or candidate < current else current


def _created(rs: JsonObject) -> str:
    return str((rs.get("metadata") or {}).get("creationTimestamp") or "")


def _name(rs: JsonObject) -> str:
    return str((rs.get("metadata") or {}).get("name") or "")


def _hash(rs: JsonObject) -> str:
    return pod_template_hash_of(rs) or ""
