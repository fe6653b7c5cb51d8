"""Client-side apply as `kubectl apply` does it (kubectl docs, "How apply calculates differences and merges
changes"): fields removed from the configuration since the last apply are deleted, fields it sets are set, fields
only the live object has (set by others) are kept; the configuration is remembered in last-applied-configuration."""

from __future__ import annotations

import json
from typing import Any

from gitops.controller.client_apply import LAST_APPLIED, apply_patch, three_way_merge_patch, with_last_applied


def configmap(data: dict[str, str], **metadata: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", **metadata}, "data": data}


def test_a_create_carries_the_manifest_in_the_last_applied_annotation() -> None:
    body = with_last_applied(configmap({"a": "1"}))
    assert json.loads(body["metadata"]["annotations"][LAST_APPLIED]) == configmap({"a": "1"})


def test_a_field_removed_from_git_since_the_last_apply_is_deleted() -> None:
    live = with_last_applied(configmap({"a": "1", "b": "2"}))
    patch = apply_patch(configmap({"a": "1"}), live)
    assert patch is not None
    assert patch["data"] == {"b": None}


def test_a_field_set_by_someone_else_is_kept() -> None:
    live = with_last_applied(configmap({"a": "1"}))
    live["data"]["added-by-hand"] = "x"
    assert apply_patch(configmap({"a": "1"}), live) is None


def test_a_field_git_sets_is_restored_when_edited_live() -> None:
    live = with_last_applied(configmap({"a": "1"}))
    live["data"]["a"] = "edited"
    patch = apply_patch(configmap({"a": "1"}), live)
    assert patch is not None and patch["data"] == {"a": "1"}


def test_server_owned_fields_are_never_patched() -> None:
    live = {**with_last_applied(configmap({"a": "1"})), "status": {"x": 1}}
    live["metadata"]["resourceVersion"] = "7"
    live["metadata"]["uid"] = "u"
    assert apply_patch(configmap({"a": "1"}), live) is None


def test_without_a_previous_apply_nothing_is_deleted() -> None:
    patch = three_way_merge_patch(None, configmap({"a": "1"}), configmap({"a": "1", "b": "2"}))
    assert patch == {}


def test_lists_are_replaced_whole() -> None:
    original = {"spec": {"ports": [{"port": 80}, {"port": 81}]}}
    patch = three_way_merge_patch(original, {"spec": {"ports": [{"port": 80}]}}, original)
    assert patch == {"spec": {"ports": [{"port": 80}]}}
