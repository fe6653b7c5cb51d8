"""Invariants of field ownership over generated Deployments-like objects (hypothesis).

* FieldsV1 encoding loses nothing: decoding an encoded field set gives the set back;
* an applied configuration's values are in the result, and applying it again changes nothing;
* after two managers apply disjoint label sets, each owns exactly its own labels.
"""

from __future__ import annotations

from typing import Any

from hypothesis import event, given, settings
from hypothesis import strategies as st

from sandbox.emulator.managed_fields import builtin_field_type, decode, encode, field_set, tracked_fields
from sandbox.emulator.server_side_apply import apply, read_entries

NOW = "2026-01-01T00:00:00Z"
names = st.text(alphabet="abcdefghij-", min_size=1, max_size=6)
values = st.one_of(st.text(max_size=4), st.integers(-3, 3), st.booleans(), st.none())
containers = st.lists(
    st.fixed_dictionaries({"name": names, "image": st.text(max_size=4)},
                          optional={"args": st.lists(st.text(max_size=3), max_size=2),
                                    "ports": st.lists(st.fixed_dictionaries({"containerPort": st.integers(1, 5)}),
                                                      max_size=2, unique_by=lambda p: p["containerPort"])}),
    max_size=3, unique_by=lambda c: c["name"])


@st.composite
def deployments(draw: st.DrawFn) -> dict[str, Any]:
    spec: dict[str, Any] = {"replicas": draw(st.integers(0, 5))}
    spec["template"] = {"spec": {"containers": draw(containers)},
                        "metadata": {"annotations": draw(st.dictionaries(names, st.text(max_size=3), max_size=3))}}
    spec["extra"] = draw(st.dictionaries(names, values, max_size=3))
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "labels": draw(st.dictionaries(names, st.text(max_size=3), max_size=3))},
            "spec": spec}


def _apply(live: dict[str, Any] | None, config: dict[str, Any], manager: str) -> dict[str, Any]:
    return apply(live, config, manager=manager, api_version="apps/v1", now=NOW, field_type=builtin_field_type,
                 scope="main")


def _contains(big: Any, small: Any) -> bool:
    if isinstance(small, dict):
        return isinstance(big, dict) and all(k in big and _contains(big[k], v) for k, v in small.items())
    return bool(big == small)


@settings(max_examples=100, deadline=None)
@given(deployments())
def test_fields_v1_round_trip(obj: dict[str, Any]) -> None:
    paths = field_set(tracked_fields(obj), builtin_field_type)
    event("keyed items" if any(element.startswith("k:") for path in paths for element in path) else "no items")
    assert decode(encode(paths)) == paths


@settings(max_examples=100, deadline=None)
@given(deployments(), deployments())
def test_apply_result_holds_the_configuration_and_reapplying_is_a_no_op(first: dict[str, Any],
                                                                        second: dict[str, Any]) -> None:
    live = _apply(None, first, "alice")
    result = _apply(live, second, "alice")
    event("first configuration partly replaced" if not _contains(result, tracked_fields(first)) else "first kept")
    assert _contains(result, tracked_fields(second))
    assert _apply(result, second, "alice") == result


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(names, st.text(max_size=3), min_size=1, max_size=4),
       st.dictionaries(names, st.text(max_size=3), min_size=1, max_size=4))
def test_disjoint_label_appliers_each_own_their_labels(alice_labels: dict[str, str],
                                                        bob_labels: dict[str, str]) -> None:
    alice_labels = {f"a{key}": value for key, value in alice_labels.items()}
    bob_labels = {f"b{key}": value for key, value in bob_labels.items()}
    event("some values equal" if set(alice_labels.values()) & set(bob_labels.values()) else "all values differ")
    config = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}}
    live = _apply(None, {**config, "metadata": {"name": "web", "labels": alice_labels}}, "alice")
    result = _apply(live, {**config, "metadata": {"name": "web", "labels": bob_labels}}, "bob")
    owned = {entry.manager: entry.fields for entry in read_entries(result)}
    assert owned["alice"] == {("f:metadata", "f:labels", f"f:{key}") for key in alice_labels}
    assert owned["bob"] == {("f:metadata", "f:labels", f"f:{key}") for key in bob_labels}
    assert result["metadata"]["labels"] == {**alice_labels, **bob_labels}
