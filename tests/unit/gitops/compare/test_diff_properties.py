"""Properties of the diff that must hold for every manifest, not just the worked examples."""

from __future__ import annotations

import base64
import json
from typing import Any

from hypothesis import event, given, settings
from hypothesis import strategies as st

from gitops.compare.diff import LAST_APPLIED_ANNOTATION, diff, diff_text
from gitops.resources import JsonObject

KEYS = st.sampled_from(["alpha", "beta", "gamma", "delta", "image", "port", "mode"])
SCALARS = st.one_of(st.integers(-5, 5), st.booleans(), st.text("abcxyz", min_size=1, max_size=4))


def _named_items(children: st.SearchStrategy[Any]) -> st.SearchStrategy[list[dict[str, Any]]]:
    """A list of objects keyed by ``name``, as containers or env are."""
    return st.dictionaries(st.sampled_from(["a", "b", "c"]), children, max_size=3).map(
        lambda bodies: [{"name": name, **body} for name, body in bodies.items()]
    )


SPEC = st.recursive(
    st.dictionaries(KEYS, SCALARS, min_size=1, max_size=3),
    lambda children: st.one_of(
        st.dictionaries(KEYS, st.one_of(SCALARS, children), min_size=1, max_size=3),
        _named_items(children).map(lambda items: {"items": items}),
    ),
    max_leaves=8,
)


def _with_server_fields(node: Any, depth: int = 0) -> Any:
    """``node`` as the API server returns it: every object gains a defaulted field no manifest sets."""
    if isinstance(node, dict):
        result = {key: _with_server_fields(value, depth + 1) for key, value in node.items()}
        result[f"serverDefault{depth}"] = "set-by-apiserver"
        return result
    if isinstance(node, list):
        return [_with_server_fields(item, depth + 1) for item in node]
    return node


def _manifest(spec: dict[str, Any]) -> JsonObject:
    return {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w", "namespace": "n"}, "spec": spec}


@settings(max_examples=150, deadline=None)
@given(SPEC)
def test_server_defaults_never_make_a_diff(spec: dict[str, Any]) -> None:
    """Two-way and three-way: a live object that is the target plus server-set fields is always in sync."""
    target = _manifest(spec)
    live = _manifest(_with_server_fields(spec))
    has_named_list = "items" in json.dumps(spec)
    event("spec has a list of named items" if has_named_list else "spec has only maps and scalars")
    assert live != target  # the guard: every example really adds server fields
    assert diff(target, live).modified is False
    live["metadata"]["annotations"] = {LAST_APPLIED_ANNOTATION: json.dumps(target)}
    assert diff(target, live).modified is False


@settings(max_examples=150, deadline=None)
@given(SPEC, KEYS)
def test_a_changed_target_field_always_makes_a_diff(spec: dict[str, Any], key: str) -> None:
    """Whatever the manifest, changing a top-level spec field the target sets is OutOfSync and predicted."""
    target = _manifest({**spec, key: "changed-in-git"})
    live = _manifest(_with_server_fields({**spec, key: "old-value"}))
    event("key was already in the spec" if key in spec else "key is new to the spec")
    result = diff(target, live)
    assert result.modified is True
    assert result.predicted_live is not None and result.predicted_live["spec"][key] == "changed-in-git"


SECRET_VALUES = st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=24).map(
    lambda text: f"S3cr3t-{text}"
)


@settings(max_examples=150, deadline=None)
@given(SECRET_VALUES, SECRET_VALUES, st.booleans())
def test_secret_values_never_appear_in_the_diff_text(old: str, new: str, as_string_data: bool) -> None:
    """Argo CD masks Secret values: neither the value nor its base64 is ever printed, whatever it is."""
    target: JsonObject = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}}
    if as_string_data:
        target["stringData"] = {"password": new}
    else:
        target["data"] = {"password": base64.b64encode(new.encode()).decode()}
    live: JsonObject = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s", "annotations": {LAST_APPLIED_ANNOTATION: json.dumps({"stringData": {"x": old}})}},
        "data": {"password": base64.b64encode(old.encode()).decode()},
    }
    text = diff_text(diff(target, live))
    event("values differ: a diff is printed" if text else "values equal: nothing printed")
    assert (old != new) == bool(text)  # the guard: a changed value is still shown as changed
    for value in (old, new):
        assert value not in text
        assert base64.b64encode(value.encode()).decode() not in text
