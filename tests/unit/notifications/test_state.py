"""The ``notified.notifications.argoproj.io`` annotation in notifications-engine's format (its ``state.go``)."""

from __future__ import annotations

import json

from notifications.state import NOTIFIED_ANNOTATION, annotation_patch, read_state, state_key, with_changes
from notifications.subscriptions import Destination


def test_state_keys_join_once_per_trigger_condition_service_and_recipient() -> None:
    destination = Destination("slack", "ops")
    assert state_key("on-deployed", "[0].abc", destination) == "on-deployed:[0].abc:slack:ops"
    assert state_key("on-deployed", "[0].abc", destination, "sha1") == "sha1:on-deployed:[0].abc:slack:ops"


def test_the_annotation_is_a_json_map_of_keys_to_unix_times() -> None:
    obj = {"metadata": {"annotations": {NOTIFIED_ANNOTATION: '{"a:[0].x:slack:ops":1714557600}'}}}
    assert read_state(obj) == {"a:[0].x:slack:ops": 1714557600}
    assert json.loads(annotation_patch({"k": 5})["metadata"]["annotations"][NOTIFIED_ANNOTATION]) == {"k": 5}


def test_an_unreadable_annotation_counts_as_nothing_sent() -> None:
    assert read_state({"metadata": {"annotations": {NOTIFIED_ANNOTATION: "not json"}}}) == {}
    assert read_state({"metadata": {}}) == {}


def test_an_empty_state_removes_the_annotation() -> None:
    assert annotation_patch({}) == {"metadata": {"annotations": {NOTIFIED_ANNOTATION: None}}}


def test_at_most_one_hundred_keys_are_kept_the_oldest_dropped_first() -> None:
    state = {f"k{number}": 1000 + number for number in range(100)}
    changed = with_changes(state, {"new": 5000}, set())
    assert len(changed) == 100
    assert "k0" not in changed and "k1" in changed and changed["new"] == 5000


def test_forgotten_keys_are_removed() -> None:
    assert with_changes({"a": 1, "b": 2}, {}, {"a"}) == {"b": 2}
