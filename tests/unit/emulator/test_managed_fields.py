"""FieldsV1 encoding and the field paths of objects (sandbox/emulator/managed_fields.py).

Expected documents are written out by hand from Kubernetes' format: ``f:`` fields, ``k:{...}`` list items keyed by
their merge keys (a port by containerPort and its defaulted protocol), ``v:`` set items, and ``".": {}`` on an item
that is owned and has owned fields.
"""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.emulator.managed_fields import (
    FieldsError,
    builtin_field_type,
    compare,
    custom_field_type,
    decode,
    encode,
    field_set,
    path_string,
    tracked_fields,
)

# The Deployment of Kubernetes' "Deployments" concept page (nginx-deployment), as an applied configuration.
NGINX_DEPLOYMENT: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "nginx-deployment", "labels": {"app": "nginx"}},
    "spec": {
        "replicas": 3,
        "selector": {"matchLabels": {"app": "nginx"}},
        "template": {
            "metadata": {"labels": {"app": "nginx"}},
            "spec": {"containers": [{"name": "nginx", "image": "nginx:1.14.2", "ports": [{"containerPort": 80}]}]},
        },
    },
}

NGINX_FIELDS_V1 = {
    "f:metadata": {"f:labels": {"f:app": {}}},
    "f:spec": {
        "f:replicas": {},
        "f:selector": {},  # a LabelSelector is atomic: owned as a whole
        "f:template": {
            "f:metadata": {"f:labels": {"f:app": {}}},
            "f:spec": {"f:containers": {'k:{"name":"nginx"}': {
                ".": {},
                "f:image": {},
                "f:name": {},
                "f:ports": {'k:{"containerPort":80,"protocol":"TCP"}': {".": {}, "f:containerPort": {}}},
            }}},
        },
    },
}


def test_applied_deployment_encodes_as_kubernetes_fields_v1() -> None:
    paths = field_set(tracked_fields(NGINX_DEPLOYMENT), builtin_field_type)
    assert encode(paths) == NGINX_FIELDS_V1


def test_fields_v1_decodes_back_to_the_same_paths() -> None:
    paths = field_set(tracked_fields(NGINX_DEPLOYMENT), builtin_field_type)
    assert decode(NGINX_FIELDS_V1) == paths


def test_encoding_puts_dot_first_then_elements_sorted() -> None:
    document = encode({("f:b",), ("f:a", "k:{\"name\":\"x\"}"), ("f:a", "k:{\"name\":\"x\"}", "f:v")})
    assert list(document) == ["f:a", "f:b"]
    assert list(document["f:a"]['k:{"name":"x"}']) == [".", "f:v"]


def test_server_set_metadata_and_type_fields_are_not_tracked() -> None:
    obj = {"apiVersion": "v1", "kind": "ConfigMap",
           "metadata": {"name": "a", "namespace": "default", "uid": "u", "resourceVersion": "5",
                        "creationTimestamp": "t", "generation": 1, "managedFields": [], "labels": {"x": "1"}},
           "data": {"k": "v"}}
    assert field_set(tracked_fields(obj), builtin_field_type) == {
        ("f:metadata", "f:labels", "f:x"), ("f:data", "f:k")}


@pytest.mark.parametrize(("scope", "expected"), [
    ("main", {("f:spec", "f:size")}),
    ("status", {("f:status", "f:ready")}),
    ("all", {("f:spec", "f:size"), ("f:status", "f:ready")}),
])
def test_scope_selects_spec_or_status(scope: Any, expected: set[tuple[str, ...]]) -> None:
    obj = {"spec": {"size": 1}, "status": {"ready": 1}}
    assert field_set(tracked_fields(obj, scope=scope), custom_field_type) == expected


def test_finalizers_are_a_set_of_values() -> None:
    obj = {"metadata": {"finalizers": ["a.example/x", "b"]}}
    assert encode(field_set(obj, builtin_field_type)) == {
        "f:metadata": {"f:finalizers": {'v:"a.example/x"': {}, 'v:"b"': {}}}}


def test_lists_without_keys_are_atomic() -> None:
    obj = {"spec": {"template": {"spec": {"containers": [{"name": "c", "args": ["a", "b"]}]}}}}
    paths = field_set(obj, builtin_field_type)
    assert ("f:spec", "f:template", "f:spec", "f:containers", 'k:{"name":"c"}', "f:args") in paths


def test_custom_resource_lists_are_atomic() -> None:
    obj = {"spec": {"steps": [{"setWeight": 20}, {"pause": {}}]}}
    assert field_set(obj, custom_field_type) == {("f:spec", "f:steps")}


def test_list_whose_items_lack_their_key_is_atomic() -> None:
    obj = {"spec": {"containers": [{"image": "x"}]}}
    assert field_set(obj, builtin_field_type) == {("f:spec", "f:containers")}


def test_service_ports_key_on_port_and_protocol() -> None:
    obj = {"spec": {"ports": [{"port": 80, "targetPort": 8080, "protocol": "UDP"}]}}
    assert encode(field_set(obj, builtin_field_type)) == {"f:spec": {"f:ports": {
        'k:{"port":80,"protocol":"UDP"}': {".": {}, "f:port": {}, "f:protocol": {}, "f:targetPort": {}}}}}


def test_service_selector_is_a_plain_map() -> None:
    obj = {"spec": {"selector": {"app": "web"}}}
    assert field_set(obj, builtin_field_type) == {("f:spec", "f:selector", "f:app")}


@pytest.mark.parametrize(("path", "text"), [
    (("f:spec", "f:replicas"), ".spec.replicas"),
    (("f:spec", "f:containers", 'k:{"name":"app"}', "f:image"), '.spec.containers[name="app"].image'),
    (("f:spec", "f:ports", 'k:{"containerPort":80,"protocol":"TCP"}'), '.spec.ports[containerPort=80,protocol="TCP"]'),
    (("f:metadata", "f:finalizers", 'v:"x"'), '.metadata.finalizers[="x"]'),
])
def test_path_string_names_fields_as_api_errors_do(path: tuple[str, ...], text: str) -> None:
    assert path_string(path) == text


@pytest.mark.parametrize("document", [[], {"f:a": 1}, {"x:a": {}}])
def test_malformed_fields_v1_is_refused(document: Any) -> None:
    with pytest.raises(FieldsError):
        decode(document)


def test_compare_reports_changed_added_and_removed_leaves() -> None:
    old = {"data": {"same": "1", "edited": "a", "gone": "x"}}
    new = {"data": {"same": "1", "edited": "b", "added": "y"}}
    result = compare(old, new, builtin_field_type)
    assert result.changed == {("f:data", "f:edited"), ("f:data", "f:added")}
    assert result.removed == {("f:data", "f:gone")}


def test_compare_matches_list_items_by_key_not_position() -> None:
    old = {"spec": {"containers": [{"name": "a", "image": "1"}, {"name": "b", "image": "1"}]}}
    new = {"spec": {"containers": [{"name": "b", "image": "2"}, {"name": "a", "image": "1"}]}}
    result = compare(old, new, builtin_field_type)
    assert result.changed == {("f:spec", "f:containers", 'k:{"name":"b"}', "f:image")}
    assert result.removed == frozenset()


def test_compare_of_a_new_item_includes_the_item_itself() -> None:
    old = {"spec": {"containers": [{"name": "a"}]}}
    new = {"spec": {"containers": [{"name": "a"}, {"name": "b"}]}}
    item = ("f:spec", "f:containers", 'k:{"name":"b"}')
    assert compare(old, new, builtin_field_type).changed == {item, (*item, "f:name")}
