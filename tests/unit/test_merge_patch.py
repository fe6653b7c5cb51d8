"""RFC 7386 merge patches, against the RFC's own test cases (its Appendix A), and the two ways of copying."""

from __future__ import annotations

from typing import Any

import pytest

from kube.merge_patch import apply_merge_patch, combine_merge_patches, json_copy, merge_patch_changes

# RFC 7386, Appendix A: (original, patch, result).
RFC_7386_EXAMPLES: list[tuple[Any, Any, Any]] = [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    (["a", "b"], ["c", "d"], ["c", "d"]),
    ({"a": "b"}, ["c"], ["c"]),
    ({"a": "foo"}, None, None),
    ({"a": "foo"}, "bar", "bar"),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
]


@pytest.mark.parametrize(("original", "patch", "result"), RFC_7386_EXAMPLES)
@pytest.mark.parametrize("share_unchanged", [False, True])
def test_the_rfc_examples(original: Any, patch: Any, result: Any, share_unchanged: bool) -> None:
    assert apply_merge_patch(original, patch, share_unchanged=share_unchanged) == result


def test_a_copy_shares_nothing_with_its_inputs() -> None:
    original = {"spec": {"template": {"labels": {"app": "a"}}}, "status": {"phase": "x"}}
    patched = apply_merge_patch(original, {"status": {"phase": "y"}})
    patched["spec"]["template"]["labels"]["app"] = "changed"
    assert original["spec"]["template"]["labels"]["app"] == "a"


def test_sharing_copies_only_the_branches_the_patch_touches() -> None:
    original = {"spec": {"template": {"labels": {"app": "a"}}}, "status": {"phase": "x"}}
    patched = apply_merge_patch(original, {"status": {"phase": "y"}}, share_unchanged=True)
    assert patched["spec"] is original["spec"]
    assert original["status"] == {"phase": "x"}


def test_combined_patches_apply_as_the_two_in_turn() -> None:
    original = {"metadata": {"annotations": {"a": "1", "b": "2"}}, "spec": {"replicas": 3}}
    first = {"metadata": {"annotations": {"a": "10", "c": "3"}}, "spec": {"replicas": 5}}
    second = {"metadata": {"annotations": {"c": None}}, "spec": {"replicas": 0}}
    combined = combine_merge_patches(first, second)
    assert apply_merge_patch(original, combined) == apply_merge_patch(apply_merge_patch(original, first), second)
    assert combined == {"metadata": {"annotations": {"a": "10", "c": None}}, "spec": {"replicas": 0}}


@pytest.mark.parametrize(
    ("target", "patch"),
    [
        ({"a": 1}, {"a": 1}),
        ({"a": 1}, {"b": None}),
        ({"a": {"b": [1, 2]}, "c": 3}, {"a": {"b": [1, 2]}}),
        ({"a": {"b": 1}}, {"a": {}}),
        ({}, {}),
    ],
)
def test_a_patch_that_leaves_the_target_as_it_is_changes_nothing(target: Any, patch: Any) -> None:
    assert apply_merge_patch(target, patch) == target  # the RFC's own answer, computed the long way
    assert not merge_patch_changes(target, patch)


@pytest.mark.parametrize(
    ("target", "patch"),
    [
        ({"a": 1}, {"a": 2}),
        ({"a": 1}, {"a": None}),
        ({"a": [1, 2]}, {"a": [1]}),
        ({}, {"a": {}}),
        ({"a": 1}, {"a": {"b": None}}),
        ({"a": {"b": 1}}, {"a": {"c": 1}}),
        ({"a": {"b": 1}}, ["replaced"]),
    ],
)
def test_a_patch_that_alters_the_target_changes_it(target: Any, patch: Any) -> None:
    assert apply_merge_patch(target, patch) != target
    assert merge_patch_changes(target, patch)


def test_json_copy_copies_nested_containers() -> None:
    original = {"a": [{"b": 1}], "c": {"d": [2]}}
    copied = json_copy(original)
    assert copied == original
    copied["a"][0]["b"] = 5
    copied["c"]["d"].append(3)
    assert original == {"a": [{"b": 1}], "c": {"d": [2]}}
