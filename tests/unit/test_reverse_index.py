"""The reverse indexes every cache keeps: members filed under keys, never an empty set left behind."""

from kube.reverse_index import add_member, discard_member, move_member, replace_edges


def test_the_last_member_taken_out_drops_its_key() -> None:
    index: dict[str, set[str]] = {}
    add_member(index, "owner", "a")
    add_member(index, "owner", "b")
    discard_member(index, "owner", "a")
    assert index == {"owner": {"b"}}
    discard_member(index, "owner", "b")
    assert index == {}


def test_discarding_what_is_not_filed_changes_nothing() -> None:
    index = {"owner": {"a"}}
    discard_member(index, "other", "a")
    discard_member(index, "owner", "z")
    assert index == {"owner": {"a"}}


def test_a_moved_member_leaves_the_keys_it_left_and_joins_the_new_ones() -> None:
    index = {"x": {"m"}, "y": {"m", "n"}}
    move_member(index, "m", {"x", "y"}, {"y", "z"})
    assert index == {"y": {"m", "n"}, "z": {"m"}}


def test_replacing_edges_keeps_both_directions_in_step() -> None:
    forward: dict[str, frozenset[str]] = {}
    backward: dict[str, set[str]] = {}
    replace_edges(forward, backward, "rollout", frozenset({"svc", "vs"}))
    replace_edges(forward, backward, "other", frozenset({"svc"}))
    replace_edges(forward, backward, "rollout", frozenset({"vs", "dr"}))
    assert forward == {"rollout": frozenset({"vs", "dr"}), "other": frozenset({"svc"})}
    assert backward == {"svc": {"other"}, "vs": {"rollout"}, "dr": {"rollout"}}


def test_a_source_with_no_targets_left_is_forgotten_in_both_directions() -> None:
    forward = {"app": frozenset({"cm"})}
    backward = {"cm": {"app"}}
    replace_edges(forward, backward, "app", frozenset())
    assert forward == {}
    assert backward == {}
