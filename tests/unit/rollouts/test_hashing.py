"""Pod-template and step hashes: deterministic, sensitive to every change, blind to the hash label itself."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rollouts.hashing import (
    HASH_LABEL,
    SAFE_ALPHABET,
    collision_escaping_count,
    fnv32a,
    pod_template_hash,
    safe_encode,
    steps_hash,
)
from tests.unit.rollouts.builders import template


@pytest.mark.parametrize(
    ("data", "expected"),
    [(b"", 0x811C9DC5), (b"a", 0xE40C292C), (b"foobar", 0xBF9CF968), (b"hello", 0x4F9F2CAB)],
)
def test_fnv32a_matches_the_published_test_vectors(data: bytes, expected: int) -> None:
    assert fnv32a(data) == expected


def test_safe_encoding_maps_each_character_into_the_kubernetes_alphabet() -> None:
    """Worked by hand from apimachinery's alphabet "bcdfghjklmnpqrstvwxz2456789": '0' is code 48, 48 mod 27 = 21,
    the 22nd letter is '4'; '6' is 54, 54 mod 27 = 0, 'b'."""
    assert safe_encode("0123456789") == "456789bcdf"
    assert safe_encode("4294967295") == "86f8fbc6f9"


def test_the_same_template_always_hashes_the_same_and_key_order_does_not_matter() -> None:
    reordered = {"spec": template()["spec"], "metadata": template()["metadata"]}
    assert pod_template_hash(template()) == pod_template_hash(reordered)


def test_any_change_to_the_template_gives_a_new_hash() -> None:
    assert pod_template_hash(template("reviews:v1")) != pod_template_hash(template("reviews:v2"))


def test_the_hash_label_is_not_part_of_its_own_hash() -> None:
    labelled = template()
    labelled["metadata"]["labels"][HASH_LABEL] = "abc"
    assert pod_template_hash(labelled) == pod_template_hash(template())


def test_a_collision_count_moves_the_hash() -> None:
    assert (
        len({pod_template_hash(template(), None), pod_template_hash(template(), 0), pod_template_hash(template(), 1)})
        == 3
    )


def test_step_hash_changes_with_the_steps() -> None:
    assert steps_hash([{"setWeight": 10}]) == steps_hash([{"setWeight": 10}])
    assert steps_hash([{"setWeight": 10}]) != steps_hash([{"setWeight": 20}])
    assert steps_hash(None) == steps_hash([])


@given(st.recursive(st.text(max_size=5) | st.integers(), lambda inner: st.dictionaries(st.text(max_size=5), inner)))
def test_hashes_are_short_safe_names(value: object) -> None:
    pod_hash = pod_template_hash({"spec": value})
    assert 1 <= len(pod_hash) <= 10
    assert set(pod_hash) <= set(SAFE_ALPHABET)


COLLIDING_TEMPLATE = {
    "metadata": {"labels": {"app": "web"}},
    "spec": {"containers": [{"name": "web", "image": "web:1"}]},
}


def test_no_collision_keeps_the_observed_count() -> None:
    assert collision_escaping_count(COLLIDING_TEMPLATE, None, "web", {"web-other"}) is None
    assert collision_escaping_count(COLLIDING_TEMPLATE, 3, "web", set()) == 3


def test_a_name_held_by_a_foreign_replica_set_bumps_the_count_to_one_then_onwards() -> None:
    """Argo's createDesiredReplicaSet: on AlreadyExists with a ReplicaSet it does not own, collisionCount goes from
    nil to 1 (and on from there), which changes the hash and so the name."""
    taken = {f"web-{pod_template_hash(COLLIDING_TEMPLATE)}"}
    assert collision_escaping_count(COLLIDING_TEMPLATE, None, "web", taken) == 1
    taken.add(f"web-{pod_template_hash(COLLIDING_TEMPLATE, 1)}")
    assert collision_escaping_count(COLLIDING_TEMPLATE, None, "web", taken) == 2
