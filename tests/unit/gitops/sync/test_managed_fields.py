"""RespectIgnoreDifferences with ``managedFieldsManagers`` (Argo CD docs, "Diffing Customization": ignore the
fields owned by the listed managers in the live resource's managedFields; "Sync Options", RespectIgnoreDifferences:
the sync keeps those fields' live values)."""

from __future__ import annotations

from typing import Any

from gitops.resources import JsonObject
from gitops.sync.ignore_differences import respect_ignored_fields
from gitops.sync.managed_fields import KeyedItem, owned_paths

RULE = {"group": "apps", "kind": "Deployment", "managedFieldsManagers": ["kube-controller-manager", "injector"]}


def _deployment(replicas: int, containers: list[JsonObject], managed: list[JsonObject] | None = None) -> JsonObject:
    metadata: JsonObject = {"name": "web", "namespace": "demo"}
    if managed is not None:
        metadata["managedFields"] = managed
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata,
        "spec": {"replicas": replicas, "template": {"spec": {"containers": containers}}},
    }


def _managed(manager: str, fields: dict[str, Any]) -> JsonObject:
    return {"manager": manager, "operation": "Update", "fieldsType": "FieldsV1", "fieldsV1": fields}


REPLICAS_BY_HPA = _managed("kube-controller-manager", {"f:spec": {"f:replicas": {}}})
IMAGE_BY_INJECTOR = _managed(
    "injector",
    {"f:spec": {"f:template": {"f:spec": {"f:containers": {'k:{"name":"web"}': {".": {}, "f:image": {}}}}}}},
)
OURS = _managed("argocd-controller", {"f:spec": {"f:template": {"f:spec": {"f:containers": {}}}}})


def test_owned_paths_read_fields_and_keyed_list_items() -> None:
    live = _deployment(5, [], [REPLICAS_BY_HPA, IMAGE_BY_INJECTOR, OURS])
    assert owned_paths(live, {"kube-controller-manager", "injector"}) == [
        ("spec", "replicas"),
        ("spec", "template", "spec", "containers", KeyedItem((("name", "web"),)), "image"),
    ]


def test_a_field_owned_by_a_listed_manager_keeps_its_live_value() -> None:
    """The HPA's replicas (kube-controller-manager) are not reverted; argocd-controller's fields are applied."""
    target = _deployment(1, [{"name": "web", "image": "app:v2"}])
    live = _deployment(5, [{"name": "web", "image": "app:v1"}], [REPLICAS_BY_HPA, OURS])
    result = respect_ignored_fields(target, live, [RULE])
    assert result["spec"]["replicas"] == 5
    assert result["spec"]["template"]["spec"]["containers"] == [{"name": "web", "image": "app:v2"}]


def test_a_keyed_list_item_is_found_by_its_key_not_its_position() -> None:
    """k:{"name":"web"} names the container called web wherever it stands in either list."""
    target = _deployment(1, [{"name": "proxy", "image": "proxy:2"}, {"name": "web", "image": "app:v2"}])
    live = _deployment(
        1, [{"name": "web", "image": "app:v1-patched"}, {"name": "proxy", "image": "proxy:1"}], [IMAGE_BY_INJECTOR]
    )
    result = respect_ignored_fields(target, live, [RULE])
    assert result["spec"]["template"]["spec"]["containers"] == [
        {"name": "proxy", "image": "proxy:2"},
        {"name": "web", "image": "app:v1-patched"},
    ]


def test_an_owned_field_the_target_leaves_out_is_not_added() -> None:
    """Only fields the target sets are taken from live: a sidecar's image stays out of a target without it."""
    target = _deployment(1, [{"name": "proxy", "image": "proxy:2"}])
    live = _deployment(1, [{"name": "web", "image": "app:v1"}], [IMAGE_BY_INJECTOR])
    assert respect_ignored_fields(target, live, [RULE]) == target


def test_managers_of_a_rule_for_another_kind_are_not_consulted() -> None:
    target = _deployment(1, [])
    live = _deployment(5, [], [REPLICAS_BY_HPA])
    other_kind = dict(RULE, kind="StatefulSet")
    assert respect_ignored_fields(target, live, [other_kind])["spec"]["replicas"] == 1
