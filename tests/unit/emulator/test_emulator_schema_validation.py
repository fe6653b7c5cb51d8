"""Structural-schema pruning and validation (pure), on the cases the HTTP conformance tests do not reach.

Expectations follow the Kubernetes documentation on CRD structural schemas, pruning and validation.
"""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.emulator.schema_validation import FieldError, admit, invalid_message


def test_root_api_version_kind_and_metadata_are_never_pruned() -> None:
    schema = {"type": "object", "properties": {"spec": {"type": "object"}}}
    obj = {"apiVersion": "x/v1", "kind": "X", "metadata": {"name": "a", "labels": {"k": "v"}}, "spec": {"a": 1}}
    result = admit(schema, obj)
    assert result.value == {"apiVersion": "x/v1", "kind": "X", "metadata": {"name": "a", "labels": {"k": "v"}},
                            "spec": {}}
    assert result.pruned == ["spec.a"]


def test_embedded_resources_keep_their_type_and_metadata() -> None:
    schema = {"type": "object", "properties": {"spec": {"type": "object", "properties": {"template": {
        "type": "object", "x-kubernetes-embedded-resource": True, "properties": {"spec": {"type": "object"}}}}}}}
    template = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {}, "extra": 1}
    result = admit(schema, {"spec": {"template": template}})
    assert result.value["spec"]["template"] == {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                                                "spec": {}}
    assert result.pruned == ["spec.template.extra"]


def test_preserve_unknown_fields_keeps_unknowns_but_declared_fields_are_still_pruned_inside() -> None:
    schema = {"type": "object", "properties": {"spec": {
        "type": "object", "x-kubernetes-preserve-unknown-fields": True,
        "properties": {"known": {"type": "object", "properties": {"a": {"type": "integer"}}}}}}}
    result = admit(schema, {"spec": {"free": {"x": 1}, "known": {"a": 1, "b": 2}}})
    assert result.value == {"spec": {"free": {"x": 1}, "known": {"a": 1}}}
    assert result.pruned == ["spec.known.b"]


CHECKS: list[tuple[dict[str, Any], Any, str]] = [
    # (schema of spec.v, value, the field error's detail), worded as kube-apiserver's.
    ({"type": "number", "minimum": 0, "exclusiveMinimum": True}, 0,
     "Invalid value: 0: spec.v in body should be greater than 0"),
    ({"type": "number", "maximum": 1, "exclusiveMaximum": True}, 1,
     "Invalid value: 1: spec.v in body should be less than 1"),
    ({"type": "string", "pattern": "^[a-z]+$"}, "A1", "Invalid value: \"A1\": spec.v in body should match '^[a-z]+$'"),
    ({"type": "string", "minLength": 3}, "ab", 'Invalid value: "ab": spec.v in body should be at least 3 chars long'),
    ({"type": "array", "maxItems": 1, "items": {"type": "integer"}}, [1, 2],
     "Too many: 2: must have at most 1 items"),
    ({"type": "array", "minItems": 2, "items": {"type": "integer"}}, [1],
     "Invalid value: [1]: spec.v in body should have at least 2 items"),
    ({"type": "array", "uniqueItems": True, "items": {"type": "integer"}}, [1, 1], "Duplicate value"),
    ({"type": "integer", "multipleOf": 5}, 7, "Invalid value: 7: spec.v in body should be a multiple of 5"),
    ({"type": "boolean"}, "yes", 'Invalid value: "string": spec.v in body must be of type boolean: "string"'),
    ({"type": "array", "items": {"type": "string"}}, {"a": 1},
     'Invalid value: "object": spec.v in body must be of type array: "object"'),
    ({"oneOf": [{"type": "integer", "minimum": 0}, {"type": "integer", "maximum": 10}]}, 5,
     "Invalid value: 5: must validate one and only one schema (oneOf)"),
    ({"type": "integer", "not": {"enum": [13]}}, 13, "Forbidden: must not validate the schema (not)"),
]


@pytest.mark.parametrize(("schema", "value", "detail"), CHECKS)
def test_value_checks(schema: dict[str, Any], value: Any, detail: str) -> None:
    root = {"type": "object", "properties": {"spec": {"type": "object", "properties": {"v": schema}}}}
    assert [(e.field, e.detail) for e in admit(root, {"spec": {"v": value}}).errors] == [("spec.v", detail)]


def test_an_integral_float_is_an_integer_as_json_has_one_number_type() -> None:
    root = {"type": "object", "properties": {"spec": {"type": "object", "properties": {"v": {"type": "integer"}}}}}
    assert admit(root, {"spec": {"v": 3.0}}).errors == []


def test_invalid_message_inlines_one_error_and_brackets_several() -> None:
    one = [FieldError("FieldValueRequired", "spec.a", "Required value")]
    two = [*one, FieldError("FieldValueRequired", "spec.b", "Required value")]
    assert invalid_message("Widget", "x.io", "w", one) == 'Widget.x.io "w" is invalid: spec.a: Required value'
    assert invalid_message("Widget", "x.io", "w", two) == (
        'Widget.x.io "w" is invalid: [spec.a: Required value, spec.b: Required value]')
