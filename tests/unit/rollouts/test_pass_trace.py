"""The controller's pass trace: what a watch event changed, as the trace reports it."""

from __future__ import annotations

import logging

import pytest

from rollouts.controller.pass_trace import changed_paths, trace, tracing

BEFORE = {"metadata": {"name": "r", "resourceVersion": "5"}, "status": {"phase": "Paused", "canary": {"weights": {
    "canary": {"weight": 20}}}}}


def test_changed_paths_name_what_changed_to_the_depth_asked_and_leave_out_bookkeeping() -> None:
    after = {"metadata": {"name": "r", "resourceVersion": "6"}, "status": {"phase": "Progressing", "canary": {
        "weights": {"canary": {"weight": 50}}}}}
    assert changed_paths(BEFORE, after) == ["status.canary.weights", "status.phase"]
    assert changed_paths(BEFORE, after, depth=1) == ["status"]


def test_a_version_only_change_changes_nothing_and_a_new_object_is_marked() -> None:
    assert changed_paths(BEFORE, {**BEFORE, "metadata": {"name": "r", "resourceVersion": "9"}}) == []
    assert changed_paths(None, BEFORE) == ["+"]


def test_trace_lines_are_key_value_pairs_without_spaces_in_values(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="rollouts.controller.trace"):
        assert tracing()
        trace("events", rollout="shop/reviews", reasons=["RolloutPaused", "RolloutStepCompleted"], note="a b")
    assert caplog.messages == ["events rollout=shop/reviews reasons=RolloutPaused,RolloutStepCompleted note=a_b"]
