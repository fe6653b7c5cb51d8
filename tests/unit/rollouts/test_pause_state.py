"""The pause and abort state of an update, as Argo's status describes it (docs: "Pause" and "Abort" of the Rollout
spec; rollout/pause.go): pause conditions with their reason and start, ``controllerPause``, ``abort`` with the moment
it was first noted, and ``promoteFull`` — and the status fields written from it."""

from __future__ import annotations

from typing import Any

import pytest

from kube.timestamps import format_time
from rollouts.models import RolloutStatus
from rollouts.pause_state import (
    BLUE_GREEN_PAUSE,
    CANARY_PAUSE_STEP,
    INCONCLUSIVE_ANALYSIS,
    PauseState,
)
from tests.unit.rollouts.builders import T0, at

STARTED = "2024-05-01T09:00:00Z"


def observed(status: dict[str, Any], *, manual: bool = False) -> PauseState:
    return PauseState.observed(RolloutStatus.model_validate(status), manual=manual)


def written(state: PauseState) -> dict[str, Any]:
    status: dict[str, Any] = {"currentPodHash": "abc"}
    state.write(status)
    return status


def test_a_pause_adds_its_condition_from_now_and_sets_controller_pause() -> None:
    state = PauseState()
    state.pause(CANARY_PAUSE_STEP, T0)
    assert written(state) == {
        "currentPodHash": "abc",
        "pauseConditions": [{"reason": CANARY_PAUSE_STEP, "startTime": format_time(T0)}],
        "controllerPause": True,
    }


def test_a_pause_that_already_holds_keeps_its_start_time() -> None:
    state = observed({"pauseConditions": [{"reason": INCONCLUSIVE_ANALYSIS, "startTime": STARTED}]})
    state.pause(INCONCLUSIVE_ANALYSIS, at(600))
    assert written(state)["pauseConditions"] == [{"reason": INCONCLUSIVE_ANALYSIS, "startTime": STARTED}]
    assert state.controller_pause


def test_resuming_one_pause_keeps_the_controller_pause_while_another_holds() -> None:
    state = PauseState()
    state.pause(CANARY_PAUSE_STEP, T0)
    state.pause(INCONCLUSIVE_ANALYSIS, T0)
    state.resume(CANARY_PAUSE_STEP)
    assert [found.reason for found in state.conditions] == [INCONCLUSIVE_ANALYSIS]
    assert state.controller_pause
    state.resume(INCONCLUSIVE_ANALYSIS)
    assert written(state) == {"currentPodHash": "abc"}


def test_removing_a_pause_leaves_the_controller_pause_until_the_resume_is_acted_upon() -> None:
    state = PauseState()
    state.pause(BLUE_GREEN_PAUSE, T0)
    state.remove(BLUE_GREEN_PAUSE)
    assert written(state) == {"currentPodHash": "abc", "controllerPause": True}
    state.acted_on_resume(False)
    assert state.controller_pause
    state.acted_on_resume(True)
    assert not state.controller_pause


def test_acting_on_a_resume_does_not_touch_a_pause_that_still_holds() -> None:
    state = observed(
        {"pauseConditions": [{"reason": CANARY_PAUSE_STEP, "startTime": STARTED}], "controllerPause": True}
    )
    state.acted_on_resume(True)
    assert state.controller_pause and state.holds(CANARY_PAUSE_STEP)


def test_an_abort_lifts_every_pause_and_keeps_the_moment_it_was_first_noted() -> None:
    """Argo keeps the first abortedAt (rewriting it would make every pass a status change)."""
    state = observed(
        {
            "pauseConditions": [{"reason": CANARY_PAUSE_STEP, "startTime": STARTED}],
            "controllerPause": True,
            "abort": True,
            "abortedAt": STARTED,
        }
    )
    state.abort_update(at(60))
    assert written(state) == {"currentPodHash": "abc", "abort": True, "abortedAt": STARTED}
    fresh = PauseState()
    fresh.abort_update(T0)
    assert fresh.aborted_at == format_time(T0)


@pytest.mark.parametrize(
    ("aborted", "promote_full", "expected"),
    [
        # Aborted: pauses lift, the abort stays with the moment it was noted.
        (True, False, {"abort": True, "abortedAt": STARTED}),
        # `rollouts retry` cleared abort: the pass forgets when it was aborted; the pause is the update's.
        (
            False,
            False,
            {"pauseConditions": [{"reason": CANARY_PAUSE_STEP, "startTime": STARTED}], "controllerPause": True},
        ),
        # A full promotion lifts every pause and is recorded until the update is done.
        (False, True, {"promoteFull": True}),
    ],
)
def test_settling_the_requests_of_a_pass(aborted: bool, promote_full: bool, expected: dict[str, Any]) -> None:
    state = observed(
        {
            "pauseConditions": [{"reason": CANARY_PAUSE_STEP, "startTime": STARTED}],
            "controllerPause": True,
            "abort": aborted,
            "abortedAt": STARTED,
        }
    )
    state.settle(aborted=aborted, promote_full=promote_full, now=at(60))
    assert written(state) == {"currentPodHash": "abc", **expected}


def test_a_finished_update_and_a_new_revision_carry_nothing_over() -> None:
    recorded = {
        "pauseConditions": [{"reason": BLUE_GREEN_PAUSE, "startTime": STARTED}],
        "controllerPause": True,
        "abort": True,
        "abortedAt": STARTED,
        "promoteFull": True,
    }
    finished, restarted = observed(recorded), observed(recorded)
    finished.finish_update()
    restarted.start_over()
    assert written(finished) == written(restarted) == {"currentPodHash": "abc"}


def test_the_observed_state_is_written_back_unchanged_with_unknown_fields_kept() -> None:
    recorded = {
        "pauseConditions": [{"reason": CANARY_PAUSE_STEP, "startTime": STARTED, "note": "kept"}],
        "controllerPause": True,
        "abort": True,
        "abortedAt": STARTED,
        "promoteFull": True,
    }
    assert written(observed(recorded)) == {"currentPodHash": "abc", **recorded}


def test_a_manual_pause_is_read_from_the_spec_and_counts_as_paused() -> None:
    assert observed({}, manual=True).paused_now
    assert not observed({}, manual=True).paused
    assert not observed({}).paused_now
