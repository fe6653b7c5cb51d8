"""Blue-green decisions: how big the preview is, when the controller pauses and resumes, when the active Service
may switch, and how ReplicaSets that no longer serve are wound down (Argo's rollout/bluegreen.go, pause.go and
utils/replicaset).

Pure functions over the strategy and observed facts; ``rollouts.bluegreen.reconcile`` supplies the facts (replica
counts, Service selectors, the clock) and acts on the answers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from kube.json_data import JsonObject
from kube.timestamps import parse_time
from rollouts.canary.replicas import OtherPlan, OtherTarget
from rollouts.models import BlueGreenStrategy, PauseCondition
from rollouts.pause_state import BLUE_GREEN_PAUSE, PauseOutcome, PauseState
from rollouts.replicasets import (
    has_scale_down_deadline,
    name_of,
    pod_template_hash_of,
    revision_of,
    scale_down_deadline,
    spec_replicas,
)


def needs_controller_pause(strategy: BlueGreenStrategy) -> bool:
    """The controller pauses before the switch: always without auto-promotion, for a while with
    ``autoPromotionSeconds`` (Argo's needsBlueGreenControllerPause)."""
    return not strategy.auto_promotion_enabled or strategy.auto_promotion_seconds > 0


def auto_promotion_deadline(strategy: BlueGreenStrategy, pause: PauseCondition | None) -> datetime | None:
    """When an automatic pause ends by itself: its start plus ``autoPromotionSeconds`` (None when it does not)."""
    if pause is None or not strategy.auto_promotion_enabled or strategy.auto_promotion_seconds <= 0:
        return None
    start = parse_time(pause.start_time)
    return None if start is None else start + timedelta(seconds=strategy.auto_promotion_seconds)


def new_replicas(
    strategy: BlueGreenStrategy,
    replicas: int,
    *,
    new_hash: str,
    active_hash: str | None,
    recorded_hash: str | None,
    promote_full: bool,
    paused: bool,
    scale_up_checkpoint: bool,
) -> int:
    """The size of the new ReplicaSet (Argo's NewRSNewReplicas for blue-green).

    ``previewReplicaCount`` holds the preview at that size until the pause is over (``scaleUpPreviewCheckPoint``),
    then it grows to ``replicas`` before the switch. Once the new ReplicaSet is the active one, or there is no
    active one yet, or a full promotion was asked for, it gets every replica.
    """
    preview = strategy.preview_replica_count
    if preview is None or active_hash is None or active_hash == new_hash or promote_full:
        return replicas
    if new_hash != recorded_hash:
        return preview  # a new update: the pause has not even started
    if not paused and scale_up_checkpoint:
        return replicas
    return preview


def is_ready(rs: Mapping[str, Any], desired: int, available: int) -> bool:
    """The new ReplicaSet has exactly its desired pods, all available (Argo's ReadyForPause)."""
    return spec_replicas(rs) == desired and available == desired


def completed_pause(
    strategy: BlueGreenStrategy,
    *,
    pause: PauseState,
    scale_up_checkpoint: bool,
    paused_in_this_pass: bool,
    now: datetime,
) -> bool:
    """Whether the pause before the switch is over (Argo's CompletedBlueGreenPause).

    Over when the controller never needs to pause, when the preview checkpoint was passed, when ``promote`` cleared
    the BlueGreenPause condition (``controllerPause`` with no condition left), or when ``autoPromotionSeconds``
    have passed since the pause started. A pause added in this very pass is not over.
    """
    if paused_in_this_pass:
        return False
    if scale_up_checkpoint or not needs_controller_pause(strategy):
        return True
    condition = pause.condition(BLUE_GREEN_PAUSE)
    if condition is None:
        # Argo's auto-promotion branch would not count a `promote` during the countdown; a promote is a promote.
        return pause.controller_pause
    deadline = auto_promotion_deadline(strategy, condition)
    return deadline is not None and now >= deadline


def pause_decision(
    strategy: BlueGreenStrategy,
    *,
    ready: bool,
    halted: bool,
    aborted: bool,
    fast_tracked: bool,
    scale_up_checkpoint: bool,
    pre_promotion_complete: bool,
    pause: PauseState,
    now: datetime,
) -> PauseOutcome:
    """Pause before the switch, or end the pause (Argo's reconcileBlueGreenPause).

    Nothing happens until the preview is ready, while aborted, or while halted (``spec.paused``, an inconclusive
    analysis). A fast-tracked update (full promotion, fast rollback, nothing active yet, already active), a passed
    preview checkpoint, or auto-promotion without a delay never pause. Otherwise the pause starts once the
    pre-promotion analysis has passed, and ends as :func:`completed_pause` says.
    """
    if aborted or halted or not ready:
        return PauseOutcome()
    condition = pause.condition(BLUE_GREEN_PAUSE)
    present = condition is not None
    if fast_tracked or scale_up_checkpoint or not needs_controller_pause(strategy):
        return PauseOutcome(over=present)
    if not pre_promotion_complete:
        return PauseOutcome()
    if present:
        over = completed_pause(
            strategy, pause=pause, scale_up_checkpoint=scale_up_checkpoint, paused_in_this_pass=False, now=now
        )
        if over:
            return PauseOutcome(over=True)
        return PauseOutcome(wake_at=auto_promotion_deadline(strategy, condition))
    if pause.controller_pause:
        return PauseOutcome()  # `promote` cleared the condition: resumed by a person
    return PauseOutcome(start=True)


def scale_up_checkpoint(
    strategy: BlueGreenStrategy,
    *,
    previous: bool,
    pre_promotion_complete: bool,
    pause_completed: bool,
    new_available: int,
) -> bool:
    """``status.blueGreen.scaleUpPreviewCheckPoint``: a one-way trip wire of ``previewReplicaCount``, set once the
    pause is over, the pre-promotion analysis passed and the preview has its pods; reset by a new revision or the
    promotion (Argo's calculateScaleUpPreviewCheckPoint)."""
    preview = strategy.preview_replica_count
    if preview is None:
        return False
    if previous:
        return True
    if not pre_promotion_complete or not pause_completed:
        return False
    return new_available == preview


def old_replica_set_plan(
    others: Sequence[JsonObject],
    *,
    referenced: frozenset[str],
    scale_down_delay_seconds: int,
    revision_limit: int | None,
    now: datetime,
) -> OtherPlan:
    """Wind down ReplicaSets that are neither new nor stable (Argo's scaleDownOldReplicaSetsForBlueGreen).

    Newest revision first, each that still has pods and that no Service or status field refers to (by pod-template
    hash) is annotated ``scale-down-deadline: now + scaleDownDelaySeconds`` and keeps its pods until then, so a
    rollback within the delay is instant. At most ``scaleDownDelayRevisionLimit`` of them wait at a time; the
    rest go at once, as does each one whose deadline has passed (or cannot be read).
    """
    limit = revision_limit if revision_limit is not None else math.inf
    annotated = 0
    targets: list[OtherTarget] = []
    wake_at: datetime | None = None
    for rs in sorted(others, key=lambda candidate: (-revision_of(candidate), name_of(candidate))):
        if (pod_template_hash_of(rs) or "") in referenced or spec_replicas(rs) == 0:
            continue
        if not has_scale_down_deadline(rs):
            if annotated < limit and scale_down_delay_seconds > 0:
                annotated += 1
                deadline = now + timedelta(seconds=scale_down_delay_seconds)
                targets.append(OtherTarget(rs, spec_replicas(rs), deadline))
                wake_at = deadline if wake_at is None else min(wake_at, deadline)
            else:
                targets.append(OtherTarget(rs, 0))
            continue
        annotated += 1
        existing = scale_down_deadline(rs)
        if annotated <= limit and existing is not None and existing > now:
            wake_at = existing if wake_at is None else min(wake_at, existing)
            continue
        targets.append(OtherTarget(rs, 0))
    return OtherPlan(targets=tuple(targets), wake_at=wake_at)


__all__ = [
    "auto_promotion_deadline",
    "completed_pause",
    "is_ready",
    "needs_controller_pause",
    "new_replicas",
    "old_replica_set_plan",
    "pause_decision",
    "scale_up_checkpoint",
]
