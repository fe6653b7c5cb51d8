"""The emulator's patch formats: RFC 7386 merge patch, strategic merge patch, RFC 6902 JSON patch."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kube.json_data import json_equal
from sandbox.emulator.patching import (
    PatchApplyError,
    PatchError,
    json_patch,
    merge_patch,
    strategic_merge_patch,
)
from tests.unit.test_merge_patch import RFC_7386_EXAMPLES


@pytest.mark.parametrize(("target", "patch", "expected"), RFC_7386_EXAMPLES)
def test_merge_patch_follows_rfc7386_vectors(target: Any, patch: Any, expected: Any) -> None:
    assert merge_patch(target, patch) == expected


def test_merge_patch_leaves_its_inputs_untouched() -> None:
    target = {"spec": {"replicas": 1, "template": {"labels": {"a": "b"}}}, "data": [1]}
    patch = {"spec": {"replicas": 2, "template": None}, "data": [2]}
    snapshot_target, snapshot_patch = copy.deepcopy(target), copy.deepcopy(patch)
    result = merge_patch(target, patch)
    assert result == {"spec": {"replicas": 2}, "data": [2]}
    assert target == snapshot_target
    assert patch == snapshot_patch


def _pod_spec(*containers: dict[str, Any]) -> dict[str, Any]:
    return {"spec": {"template": {"spec": {"containers": list(containers)}}}}


def test_strategic_merge_patch_merges_containers_by_name() -> None:
    target = _pod_spec({"name": "app", "image": "app:1", "args": ["a"]}, {"name": "sidecar", "image": "side:1"})
    result = strategic_merge_patch(target, _pod_spec({"name": "app", "image": "app:2"}))
    containers = result["spec"]["template"]["spec"]["containers"]
    assert containers == [{"name": "app", "image": "app:2", "args": ["a"]}, {"name": "sidecar", "image": "side:1"}]


def test_strategic_merge_patch_appends_containers_with_new_names() -> None:
    target = _pod_spec({"name": "app", "image": "app:1"})
    result = strategic_merge_patch(target, _pod_spec({"name": "proxy", "image": "envoy"}))
    assert [c["name"] for c in result["spec"]["template"]["spec"]["containers"]] == ["app", "proxy"]


def test_strategic_merge_patch_merges_env_volumes_and_mounts_by_their_keys() -> None:
    target = {
        "containers": [{
            "name": "app",
            "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
            "volumeMounts": [{"mountPath": "/data", "name": "data", "readOnly": True}],
        }],
        "volumes": [{"name": "data", "emptyDir": {}}],
        "initContainers": [{"name": "init", "image": "busybox"}],
    }
    patch = {
        "containers": [{
            "name": "app",
            "env": [{"name": "B", "value": "3"}, {"name": "C", "value": "4"}],
            "volumeMounts": [{"mountPath": "/data", "readOnly": False}],
        }],
        "volumes": [{"name": "cache", "emptyDir": {"medium": "Memory"}}],
        "initContainers": [{"name": "init", "image": "busybox:2"}],
    }
    result = strategic_merge_patch(target, patch)
    app = result["containers"][0]
    assert app["env"] == [{"name": "A", "value": "1"}, {"name": "B", "value": "3"}, {"name": "C", "value": "4"}]
    assert app["volumeMounts"] == [{"mountPath": "/data", "name": "data", "readOnly": False}]
    assert [v["name"] for v in result["volumes"]] == ["data", "cache"]
    assert result["initContainers"] == [{"name": "init", "image": "busybox:2"}]


def test_strategic_merge_patch_keys_container_ports_and_service_ports() -> None:
    container = {"ports": [{"containerPort": 80, "protocol": "TCP"}, {"containerPort": 9090}]}
    merged = strategic_merge_patch(container, {"ports": [{"containerPort": 9090, "name": "metrics"}]})
    assert merged["ports"] == [{"containerPort": 80, "protocol": "TCP"}, {"containerPort": 9090, "name": "metrics"}]

    service = {"spec": {"ports": [{"port": 80, "targetPort": 8080}, {"port": 443, "targetPort": 8443}]}}
    merged = strategic_merge_patch(service, {"spec": {"ports": [{"port": 443, "targetPort": 9443}]}})
    assert merged["spec"]["ports"] == [{"port": 80, "targetPort": 8080}, {"port": 443, "targetPort": 9443}]


def test_strategic_merge_patch_replaces_lists_without_a_merge_key() -> None:
    target = {"spec": {"tolerations": [{"key": "a"}], "args": ["x", "y"]}}
    result = strategic_merge_patch(target, {"spec": {"tolerations": [{"key": "b"}], "args": ["z"]}})
    assert result == {"spec": {"tolerations": [{"key": "b"}], "args": ["z"]}}


def test_strategic_merge_patch_merges_finalizers_as_a_set() -> None:
    target = {"metadata": {"finalizers": ["a", "b"]}}
    assert strategic_merge_patch(target, {"metadata": {"finalizers": ["b", "c"]}}) == {
        "metadata": {"finalizers": ["a", "b", "c"]}
    }


def test_strategic_merge_patch_delete_directive_removes_list_element() -> None:
    target = _pod_spec({"name": "app", "image": "a"}, {"name": "sidecar", "image": "s"})
    result = strategic_merge_patch(target, _pod_spec({"name": "sidecar", "$patch": "delete"}))
    assert result["spec"]["template"]["spec"]["containers"] == [{"name": "app", "image": "a"}]


def test_strategic_merge_patch_delete_directive_removes_map() -> None:
    target = {"spec": {"strategy": {"rollingUpdate": {"maxSurge": 1}}, "replicas": 2}}
    result = strategic_merge_patch(target, {"spec": {"strategy": {"$patch": "delete"}}})
    assert result == {"spec": {"replicas": 2}}


def test_strategic_merge_patch_replace_directive_replaces_map_and_list() -> None:
    target = {"spec": {"selector": {"matchLabels": {"a": "1", "b": "2"}}}, "containers": [{"name": "x"}]}
    patch = {
        "spec": {"selector": {"$patch": "replace", "matchLabels": {"c": "3"}}},
        "containers": [{"$patch": "replace"}, {"name": "y"}],
    }
    assert strategic_merge_patch(target, patch) == {
        "spec": {"selector": {"matchLabels": {"c": "3"}}},
        "containers": [{"name": "y"}],
    }


def test_strategic_merge_patch_set_element_order_reorders_merged_list() -> None:
    target = {"containers": [{"name": "a"}, {"name": "b"}, {"name": "c"}]}
    patch = {"$setElementOrder/containers": [{"name": "c"}, {"name": "a"}, {"name": "b"}],
             "containers": [{"name": "c", "image": "new"}]}
    result = strategic_merge_patch(target, patch)
    assert result == {"containers": [{"name": "c", "image": "new"}, {"name": "a"}, {"name": "b"}]}


def test_strategic_merge_patch_retain_keys_clears_unlisted_fields() -> None:
    target = {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}}
    patch = {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}
    assert strategic_merge_patch(target, patch) == {"strategy": {"type": "Recreate"}}


def test_strategic_merge_patch_delete_from_primitive_list() -> None:
    target = {"metadata": {"finalizers": ["a", "b", "c"]}}
    patch = {"metadata": {"$deleteFromPrimitiveList/finalizers": ["b"]}}
    assert strategic_merge_patch(target, patch) == {"metadata": {"finalizers": ["a", "c"]}}


def test_strategic_merge_patch_null_deletes_key_and_directives_never_leak() -> None:
    target = {"metadata": {"labels": {"a": "1", "b": "2"}}}
    result = strategic_merge_patch(target, {"metadata": {"labels": {"a": None, "c": "3"}}})
    assert result == {"metadata": {"labels": {"b": "2", "c": "3"}}}
    appended = strategic_merge_patch({}, {"containers": [{"name": "x", "$patch": "merge"}]})
    assert appended == {"containers": [{"name": "x"}]}


def test_strategic_merge_patch_rejects_list_element_without_merge_key() -> None:
    with pytest.raises(PatchError):
        strategic_merge_patch({"containers": [{"name": "a"}]}, {"containers": [{"image": "no-name"}]})


def test_strategic_merge_patch_leaves_target_untouched() -> None:
    target = _pod_spec({"name": "app", "image": "a", "env": [{"name": "X", "value": "1"}]})
    snapshot = copy.deepcopy(target)
    strategic_merge_patch(target, _pod_spec({"name": "app", "env": [{"name": "X", "value": "2"}]}))
    assert target == snapshot


def test_json_patch_supports_all_six_operations() -> None:
    doc = {"a": {"b": 1}, "list": [1, 2, 3], "x": "y"}
    ops = [
        {"op": "add", "path": "/a/c", "value": 2},
        {"op": "add", "path": "/list/1", "value": 9},
        {"op": "add", "path": "/list/-", "value": 4},
        {"op": "remove", "path": "/x"},
        {"op": "replace", "path": "/a/b", "value": 10},
        {"op": "move", "from": "/a/c", "path": "/moved"},
        {"op": "copy", "from": "/list", "path": "/copied"},
        {"op": "test", "path": "/moved", "value": 2},
    ]
    assert json_patch(doc, ops) == {
        "a": {"b": 10},
        "list": [1, 9, 2, 3, 4],
        "moved": 2,
        "copied": [1, 9, 2, 3, 4],
    }
    assert doc == {"a": {"b": 1}, "list": [1, 2, 3], "x": "y"}


def test_json_patch_pointer_escapes() -> None:
    doc = {"metadata": {"annotations": {"example.com/a~b": "1"}}}
    ops = [{"op": "replace", "path": "/metadata/annotations/example.com~1a~0b", "value": "2"}]
    assert json_patch(doc, ops) == {"metadata": {"annotations": {"example.com/a~b": "2"}}}


def test_json_patch_failed_test_raises_apply_error() -> None:
    with pytest.raises(PatchApplyError, match="testing value"):
        json_patch({"metadata": {"resourceVersion": "5"}},
                   [{"op": "test", "path": "/metadata/resourceVersion", "value": "4"}])


def test_json_patch_test_distinguishes_booleans_from_numbers() -> None:
    with pytest.raises(PatchApplyError):
        json_patch({"a": 1}, [{"op": "test", "path": "/a", "value": True}])
    assert not json_equal({"a": [1]}, {"a": [True]})
    assert json_equal({"a": [1, {"b": None}]}, {"a": [1, {"b": None}]})


@pytest.mark.parametrize("ops", [
    [{"op": "remove", "path": "/missing"}],
    [{"op": "replace", "path": "/missing", "value": 1}],
    [{"op": "add", "path": "/list/7", "value": 1}],
    [{"op": "add", "path": "/nested/deeper", "value": 1}],
    [{"op": "move", "from": "/a", "path": "/a/b"}],
])
def test_json_patch_refuses_paths_that_do_not_apply(ops: list[dict[str, Any]]) -> None:
    with pytest.raises(PatchApplyError):
        json_patch({"a": {"b": 1}, "list": [1]}, ops)


@pytest.mark.parametrize("ops", [
    {"op": "add"},
    [{"op": "add", "path": "/a"}],
    [{"op": "frobnicate", "path": "/a"}],
    [{"op": "copy", "path": "/a"}],
    [{"op": "add", "path": "no-slash", "value": 1}],
])
def test_json_patch_refuses_malformed_operations(ops: Any) -> None:
    with pytest.raises(PatchError):
        json_patch({"a": 1}, ops)
