"""The blue-green decisions as tables: preview size, the pause before the switch and its timer, the preview
checkpoint, and how ReplicaSets that no longer serve wait out their scale-down delay."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from rollouts.bluegreen.decisions import (
    auto_promotion_deadline,
    completed_pause,
    needs_controller_pause,
    new_replicas,
    old_replica_set_plan,
    pause_decision,
    scale_up_checkpoint,
)
from rollouts.models import BlueGreenStrategy, PauseCondition
from rollouts.pause_state import BLUE_GREEN_PAUSE, PauseState
from rollouts.replicasets import SCALE_DOWN_DEADLINE_ANNOTATION
from tests.unit.rollouts.builders import T0, at, hash_of, replica_set


def strategy(**fields: Any) -> BlueGreenStrategy:
    return BlueGreenStrategy.model_validate({"activeService": "reviews-active", **fields})


def paused_at(seconds: float = 0) -> list[PauseCondition]:
    return [PauseCondition(reason=BLUE_GREEN_PAUSE, start_time=at(seconds).strftime("%Y-%m-%dT%H:%M:%SZ"))]


MANUAL = {"autoPromotionEnabled": False}
AUTO_30 = {"autoPromotionSeconds": 30}


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, False),  # auto-promotion (the default) with no delay switches as soon as the preview is ready
        (MANUAL, True),
        (AUTO_30, True),
        ({"autoPromotionEnabled": False, "autoPromotionSeconds": 30}, True),
    ],
)
def test_when_the_controller_pauses_before_the_switch(fields: dict[str, Any], expected: bool) -> None:
    assert needs_controller_pause(strategy(**fields)) is expected


# --- preview size ------------------------------------------------------------------------------------

NEW, ACTIVE = "new-hash", "active-hash"


@pytest.mark.parametrize(
    ("fields", "situation", "expected"),
    [
        ({}, {}, 5),
        ({"previewReplicaCount": 1}, {}, 1),
        ({"previewReplicaCount": 1}, {"recorded_hash": "older"}, 1),  # a brand-new update
        ({"previewReplicaCount": 1}, {"scale_up_checkpoint": True}, 5),  # resumed: grow before the switch
        ({"previewReplicaCount": 1}, {"scale_up_checkpoint": True, "paused": True}, 1),
        ({"previewReplicaCount": 1}, {"promote_full": True}, 5),
        ({"previewReplicaCount": 1}, {"active_hash": None}, 5),  # nothing active yet: the first revision
        ({"previewReplicaCount": 1}, {"active_hash": NEW}, 5),  # already the active one
    ],
)
def test_new_replica_set_size(fields: dict[str, Any], situation: dict[str, Any], expected: int) -> None:
    facts: dict[str, Any] = {
        "new_hash": NEW,
        "active_hash": ACTIVE,
        "recorded_hash": NEW,
        "promote_full": False,
        "paused": False,
        "scale_up_checkpoint": False,
        **situation,
    }
    assert new_replicas(strategy(**fields), 5, **facts) == expected


# --- the pause and its timer -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "pauses", "controller_pause", "now", "expected"),
    [
        ({}, [], False, 0, True),  # never pauses
        (MANUAL, [], False, 0, False),  # not paused yet
        (MANUAL, paused_at(), True, 3600, False),  # waits for a person, however long
        (MANUAL, [], True, 0, True),  # `promote` cleared the condition
        (AUTO_30, paused_at(), True, 29, False),
        (AUTO_30, paused_at(), True, 30, True),  # autoPromotionSeconds after the pause started
        (AUTO_30, [], True, 5, True),  # promoted during the countdown
        (AUTO_30, [], False, 0, False),
    ],
)
def test_when_the_pause_is_over(
    fields: dict[str, Any], pauses: list[PauseCondition], controller_pause: bool, now: float, expected: bool
) -> None:
    over = completed_pause(
        strategy(**fields),
        pause=PauseState(conditions=pauses, controller_pause=controller_pause),
        scale_up_checkpoint=False,
        paused_in_this_pass=False,
        now=at(now),
    )
    assert over is expected


def test_a_pause_started_in_this_pass_is_not_over_and_a_passed_checkpoint_always_is() -> None:
    facts: dict[str, Any] = {"pause": PauseState(), "now": T0}
    assert not completed_pause(strategy(), scale_up_checkpoint=False, paused_in_this_pass=True, **facts)
    assert completed_pause(strategy(**MANUAL), scale_up_checkpoint=True, paused_in_this_pass=False, **facts)


def test_the_auto_promotion_deadline_counts_from_the_pause() -> None:
    assert auto_promotion_deadline(strategy(**AUTO_30), paused_at(10)[0]) == at(40)
    assert auto_promotion_deadline(strategy(**MANUAL), paused_at(10)[0]) is None
    never = strategy(autoPromotionEnabled=False, autoPromotionSeconds=30)  # without auto-promotion, a person decides
    assert auto_promotion_deadline(never, paused_at()[0]) is None


READY: dict[str, Any] = {
    "ready": True,
    "halted": False,
    "aborted": False,
    "fast_tracked": False,
    "scale_up_checkpoint": False,
    "pre_promotion_complete": True,
    "pause_conditions": [],
    "controller_pause": False,
}


@pytest.mark.parametrize(
    ("fields", "situation", "expected"),
    [
        (MANUAL, {}, "add"),
        (AUTO_30, {}, "add"),
        ({}, {}, "nothing"),  # auto-promotion without a delay never pauses
        (MANUAL, {"ready": False}, "nothing"),  # the preview is not fully available yet
        (MANUAL, {"halted": True}, "nothing"),
        (MANUAL, {"aborted": True}, "nothing"),
        (MANUAL, {"pre_promotion_complete": False}, "nothing"),  # the analysis comes first
        (MANUAL, {"controller_pause": True}, "nothing"),  # promoted: do not pause again
        (MANUAL, {"pause_conditions": paused_at()}, "nothing"),  # still paused
        (MANUAL, {"fast_tracked": True, "pause_conditions": paused_at()}, "remove"),
        (MANUAL, {"scale_up_checkpoint": True, "pause_conditions": paused_at()}, "remove"),
        (AUTO_30, {"pause_conditions": paused_at(-30), "controller_pause": True}, "remove"),
        (AUTO_30, {"pause_conditions": paused_at(-10), "controller_pause": True}, "wake at 20"),
    ],
)
def test_pause_decisions(fields: dict[str, Any], situation: dict[str, Any], expected: str) -> None:
    facts = {**READY, **situation}
    pause = PauseState(conditions=facts.pop("pause_conditions"), controller_pause=facts.pop("controller_pause"))
    decision = pause_decision(strategy(**fields), now=T0, pause=pause, **facts)
    described = "add" if decision.start else "remove" if decision.over else "nothing"
    if decision.wake_at is not None:
        described = f"wake at {(decision.wake_at - T0).total_seconds():g}"
    assert described == expected


@pytest.mark.parametrize(
    ("fields", "situation", "expected"),
    [
        ({}, {}, False),  # no previewReplicaCount, no checkpoint
        ({"previewReplicaCount": 1}, {}, True),
        ({"previewReplicaCount": 1}, {"previous": True, "new_available": 0}, True),  # one way
        ({"previewReplicaCount": 1}, {"pause_completed": False}, False),
        ({"previewReplicaCount": 1}, {"pre_promotion_complete": False}, False),
        ({"previewReplicaCount": 1}, {"new_available": 0}, False),
    ],
)
def test_scale_up_preview_checkpoint(fields: dict[str, Any], situation: dict[str, Any], expected: bool) -> None:
    facts: dict[str, Any] = {"previous": False, "pre_promotion_complete": True, "pause_completed": True}
    facts["new_available"] = 1
    facts.update(situation)
    assert scale_up_checkpoint(strategy(**fields), **facts) is expected


# --- old ReplicaSets -------------------------------------------------------------------------------------


def old(image: str, revision: int, *, replicas: int = 3, deadline: float | None = None) -> dict[str, Any]:
    annotations = {}
    if deadline is not None:
        annotations[SCALE_DOWN_DEADLINE_ANNOTATION] = at(deadline).strftime("%Y-%m-%dT%H:%M:%SZ")
    return replica_set(image, replicas=replicas, revision=revision, annotations=annotations)


def described(plan: Any) -> list[str]:
    """Each target as ``image→replicas [until <seconds after T0>]``."""
    return [
        f"{target.rs['spec']['template']['spec']['containers'][0]['image']}→{target.replicas}"
        + (f" until {(target.deadline - T0).total_seconds():g}" if target.deadline else "")
        for target in plan.targets
    ]


@pytest.mark.parametrize(
    ("others", "delay", "limit", "now", "expected", "wake"),
    [
        # No deadline yet: annotated, keeps its pods; the controller looks again at the deadline.
        ([old("a:1", 1)], 30, None, 0, ["a:1→3 until 30"], 30),
        # Before the deadline nothing happens; at the deadline it goes.
        ([old("a:1", 1, deadline=30)], 30, None, 10, [], 30),
        ([old("a:1", 1, deadline=30)], 30, None, 30, ["a:1→0"], None),
        # scaleDownDelaySeconds: 0 scales down at once.
        ([old("a:1", 1)], 0, None, 0, ["a:1→0"], None),
        # scaleDownDelayRevisionLimit: only the newest N wait; the rest go at once.
        ([old("a:1", 1), old("a:2", 2)], 30, 1, 0, ["a:2→3 until 30", "a:1→0"], 30),
        ([old("a:1", 1, deadline=60), old("a:2", 2, deadline=60)], 30, 1, 0, ["a:1→0"], 60),
        ([old("a:1", 1), old("a:2", 2)], 30, 0, 0, ["a:2→0", "a:1→0"], None),
        # Already scaled down, or still referenced: left alone.
        ([old("a:1", 1, replicas=0)], 30, None, 0, [], None),
        ([old("ref:1", 1)], 30, None, 0, [], None),
    ],
)
def test_old_replica_sets_wait_out_their_delay(
    others: list[dict[str, Any]], delay: int, limit: int | None, now: float, expected: list[str], wake: float | None
) -> None:
    plan = old_replica_set_plan(
        others,
        referenced=frozenset({hash_of("ref:1")}),
        scale_down_delay_seconds=delay,
        revision_limit=limit,
        now=at(now),
    )
    assert described(plan) == expected
    assert (None if plan.wake_at is None else (plan.wake_at - T0).total_seconds()) == wake


def test_an_unreadable_deadline_counts_as_passed() -> None:
    rs = old("a:1", 1)
    rs["metadata"]["annotations"][SCALE_DOWN_DEADLINE_ANNOTATION] = "soon"
    plan = old_replica_set_plan(
        [rs], referenced=frozenset(), scale_down_delay_seconds=30, revision_limit=None, now=T0 + timedelta(0)
    )
    assert [target.replicas for target in plan.targets] == [0]
