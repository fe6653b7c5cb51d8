"""Object lifecycle over HTTP with the official client: metadata, concurrency, finalizers, GC, namespaces."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from emulator_helpers import GROUP, VERSION, configmap, patch_headers, read_events, widget
from kubernetes import client

from sandbox.emulator import ApiEmulator

ApiException = client.ApiException


def _status(exc: ApiException) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(exc.body)
    return body


def test_default_namespaces_exist_at_start(core: client.CoreV1Api) -> None:
    names = {ns.metadata.name for ns in core.list_namespace().items}
    assert {"default", "kube-system"} <= names
    assert core.read_namespace("default").status.phase == "Active"


def test_create_sets_uid_resource_version_generation_and_creation_timestamp(core: client.CoreV1Api) -> None:
    created = core.create_namespaced_config_map("default", configmap("a", x="1"))
    meta = created.metadata
    assert re.fullmatch(r"[0-9a-f-]{36}", meta.uid)
    assert int(meta.resource_version) > 0
    assert meta.generation == 1
    assert meta.creation_timestamp is not None
    assert meta.namespace == "default"


def test_resource_version_is_a_global_monotonic_counter(core: client.CoreV1Api, apps: client.AppsV1Api) -> None:
    first = int(core.create_namespaced_config_map("default", configmap("a")).metadata.resource_version)
    second = int(core.create_namespaced_secret("default", {"metadata": {"name": "s"}}).metadata.resource_version)
    third = int(core.patch_namespaced_config_map("a", "default", {"data": {"k": "v"}}).metadata.resource_version)
    assert first < second < third
    listed = int(core.list_namespaced_config_map("default").metadata.resource_version)
    assert listed >= third


def test_client_supplied_server_fields_are_ignored_on_create(core: client.CoreV1Api) -> None:
    body = configmap("a")
    body["metadata"].update(uid="mine", resourceVersion="999", generation=7)
    created = core.create_namespaced_config_map("default", body)
    assert created.metadata.uid != "mine"
    assert created.metadata.resource_version != "999"
    assert created.metadata.generation == 1


def test_namespace_is_filled_from_url(http: httpx.Client) -> None:
    response = http.post("/api/v1/namespaces/kube-system/configmaps", json=configmap("a"))
    assert response.status_code == 201
    assert response.json()["metadata"]["namespace"] == "kube-system"


def test_body_namespace_differing_from_url_is_bad_request(core: client.CoreV1Api) -> None:
    body = configmap("a")
    body["metadata"]["namespace"] = "kube-system"
    with pytest.raises(ApiException) as info:
        core.create_namespaced_config_map("default", body)
    assert info.value.status == 400
    assert _status(info.value)["reason"] == "BadRequest"


def test_generate_name_appends_unique_random_suffix(core: client.CoreV1Api) -> None:
    names = {
        core.create_namespaced_config_map("default", {"metadata": {"generateName": "job-"}}).metadata.name
        for _ in range(20)
    }
    assert len(names) == 20
    assert all(re.fullmatch(r"job-[a-z0-9]{5}", name) for name in names)


def test_create_without_name_or_generate_name_is_invalid(core: client.CoreV1Api) -> None:
    with pytest.raises(ApiException) as info:
        core.create_namespaced_config_map("default", {"metadata": {}})
    assert info.value.status == 422
    assert _status(info.value)["reason"] == "Invalid"


def test_create_with_invalid_name_is_invalid(core: client.CoreV1Api) -> None:
    with pytest.raises(ApiException) as info:
        core.create_namespaced_config_map("default", configmap("Not_A_DNS_Name"))
    assert info.value.status == 422


def test_create_twice_is_already_exists(core: client.CoreV1Api) -> None:
    core.create_namespaced_config_map("default", configmap("a"))
    with pytest.raises(ApiException) as info:
        core.create_namespaced_config_map("default", configmap("a"))
    status = _status(info.value)
    assert info.value.status == 409
    assert status["reason"] == "AlreadyExists"
    assert status["details"] == {"name": "a", "kind": "configmaps"}


def test_create_in_missing_namespace_is_not_found(core: client.CoreV1Api) -> None:
    with pytest.raises(ApiException) as info:
        core.create_namespaced_config_map("nowhere", configmap("a"))
    status = _status(info.value)
    assert info.value.status == 404
    assert status["reason"] == "NotFound"
    assert status["message"] == 'namespaces "nowhere" not found'


def test_put_replaces_whole_object(core: client.CoreV1Api) -> None:
    created = core.create_namespaced_config_map("default", configmap("a", x="1", y="2"))
    body = configmap("a", z="3")
    body["metadata"]["resourceVersion"] = created.metadata.resource_version
    replaced = core.replace_namespaced_config_map("a", "default", body)
    assert replaced.data == {"z": "3"}
    assert replaced.metadata.uid == created.metadata.uid
    assert int(replaced.metadata.resource_version) > int(created.metadata.resource_version)


def test_put_with_stale_resource_version_is_conflict(core: client.CoreV1Api) -> None:
    created = core.create_namespaced_config_map("default", configmap("a", x="1"))
    core.patch_namespaced_config_map("a", "default", {"data": {"x": "2"}})
    stale = configmap("a", x="3")
    stale["metadata"]["resourceVersion"] = created.metadata.resource_version
    with pytest.raises(ApiException) as info:
        core.replace_namespaced_config_map("a", "default", stale)
    assert info.value.status == 409
    assert _status(info.value)["reason"] == "Conflict"
    assert core.read_namespaced_config_map("a", "default").data == {"x": "2"}


def test_put_of_missing_object_is_not_found(core: client.CoreV1Api) -> None:
    with pytest.raises(ApiException) as info:
        core.replace_namespaced_config_map("ghost", "default", configmap("ghost"))
    assert info.value.status == 404


def test_put_with_name_differing_from_url_is_bad_request(http: httpx.Client) -> None:
    http.post("/api/v1/namespaces/default/configmaps", json=configmap("a")).raise_for_status()
    response = http.put("/api/v1/namespaces/default/configmaps/a", json=configmap("b"))
    assert response.status_code == 400


def test_patch_carrying_stale_resource_version_is_conflict(core: client.CoreV1Api) -> None:
    created = core.create_namespaced_config_map("default", configmap("a", x="1"))
    core.patch_namespaced_config_map("a", "default", {"data": {"x": "2"}})
    with pytest.raises(ApiException) as info:
        core.patch_namespaced_config_map(
            "a", "default", {"metadata": {"resourceVersion": created.metadata.resource_version}, "data": {"x": "3"}})
    assert info.value.status == 409
    fresh = core.read_namespaced_config_map("a", "default")
    patched = core.patch_namespaced_config_map(
        "a", "default", {"metadata": {"resourceVersion": fresh.metadata.resource_version}, "data": {"x": "4"}})
    assert patched.data == {"x": "4"}


def test_generation_bumps_on_spec_change_only(custom: client.CustomObjectsApi, widgets: dict[str, Any]) -> None:
    custom.create_namespaced_custom_object(GROUP, VERSION, "default", "widgets", widget("w", size=1))
    labelled = custom.patch_namespaced_custom_object(GROUP, VERSION, "default", "widgets", "w",
                                                     {"metadata": {"labels": {"a": "b"}}})
    assert labelled["metadata"]["generation"] == 1
    status_written = custom.patch_namespaced_custom_object_status(GROUP, VERSION, "default", "widgets", "w",
                                                                  {"status": {"ready": 1}})
    assert status_written["metadata"]["generation"] == 1
    resized = custom.patch_namespaced_custom_object(GROUP, VERSION, "default", "widgets", "w", {"spec": {"size": 2}})
    assert resized["metadata"]["generation"] == 2


def test_no_op_patch_does_not_bump_resource_version(core: client.CoreV1Api, emulator: ApiEmulator) -> None:
    created = core.create_namespaced_config_map("default", configmap("a", x="1"))
    again = core.patch_namespaced_config_map("a", "default", {"data": {"x": "1"}})
    assert again.metadata.resource_version == created.metadata.resource_version


def test_delete_returns_status_success_for_builtins_and_object_for_custom_resources(
    http: httpx.Client, widgets: dict[str, Any]
) -> None:
    http.post("/api/v1/namespaces/default/configmaps", json=configmap("a")).raise_for_status()
    deleted = http.delete("/api/v1/namespaces/default/configmaps/a").json()
    assert deleted["kind"] == "Status"
    assert deleted["status"] == "Success"
    assert deleted["details"]["name"] == "a"

    http.post(f"/apis/{GROUP}/{VERSION}/namespaces/default/widgets", json=widget("w")).raise_for_status()
    deleted = http.delete(f"/apis/{GROUP}/{VERSION}/namespaces/default/widgets/w").json()
    assert deleted["kind"] == "Widget"
    assert deleted["metadata"]["name"] == "w"


def test_delete_of_missing_object_is_not_found(core: client.CoreV1Api) -> None:
    with pytest.raises(ApiException) as info:
        core.delete_namespaced_config_map("ghost", "default")
    assert info.value.status == 404


def test_delete_with_finalizers_sets_deletion_timestamp(core: client.CoreV1Api) -> None:
    body = configmap("a")
    body["metadata"]["finalizers"] = ["example.com/hold"]
    core.create_namespaced_config_map("default", body)
    core.delete_namespaced_config_map("a", "default")
    held = core.read_namespaced_config_map("a", "default")
    assert held.metadata.deletion_timestamp is not None
    assert held.metadata.finalizers == ["example.com/hold"]


def test_removing_last_finalizer_deletes(core: client.CoreV1Api) -> None:
    body = configmap("a")
    body["metadata"]["finalizers"] = ["example.com/one", "example.com/two"]
    core.create_namespaced_config_map("default", body)
    core.delete_namespaced_config_map("a", "default")
    core.patch_namespaced_config_map("a", "default", [{"op": "remove", "path": "/metadata/finalizers/0"}])
    assert core.read_namespaced_config_map("a", "default").metadata.finalizers == ["example.com/two"]
    core.patch_namespaced_config_map("a", "default", [{"op": "remove", "path": "/metadata/finalizers"}])
    with pytest.raises(ApiException) as info:
        core.read_namespaced_config_map("a", "default")
    assert info.value.status == 404


def test_no_new_finalizers_while_deleting(http: httpx.Client) -> None:
    body = configmap("a")
    body["metadata"]["finalizers"] = ["example.com/one"]
    http.post("/api/v1/namespaces/default/configmaps", json=body).raise_for_status()
    http.delete("/api/v1/namespaces/default/configmaps/a").raise_for_status()
    response = http.patch("/api/v1/namespaces/default/configmaps/a", headers=patch_headers("merge"),
                          json={"metadata": {"finalizers": ["example.com/one", "example.com/two"]}})
    assert response.status_code == 422


def _owned(name: str, owner: Any, kind: str = "ConfigMap") -> dict[str, Any]:
    body = configmap(name)
    body["metadata"]["ownerReferences"] = [{"apiVersion": "v1", "kind": kind, "name": owner.metadata.name,
                                            "uid": owner.metadata.uid}]
    return body


def test_owner_deletion_garbage_collects_dependents_cascading(core: client.CoreV1Api) -> None:
    root = core.create_namespaced_config_map("default", configmap("root"))
    child = core.create_namespaced_config_map("default", _owned("child", root))
    core.create_namespaced_config_map("default", _owned("grandchild", child))
    core.create_namespaced_config_map("default", configmap("bystander"))
    core.delete_namespaced_config_map("root", "default")
    remaining = {cm.metadata.name for cm in core.list_namespaced_config_map("default").items}
    assert remaining == {"bystander"}


def test_dependent_with_another_living_owner_survives(core: client.CoreV1Api) -> None:
    first = core.create_namespaced_config_map("default", configmap("first"))
    second = core.create_namespaced_config_map("default", configmap("second"))
    body = _owned("shared", first)
    body["metadata"]["ownerReferences"].append(
        {"apiVersion": "v1", "kind": "ConfigMap", "name": "second", "uid": second.metadata.uid})
    core.create_namespaced_config_map("default", body)
    core.delete_namespaced_config_map("first", "default")
    shared = core.read_namespaced_config_map("shared", "default")
    assert [ref.uid for ref in shared.metadata.owner_references] == [second.metadata.uid]


def test_orphan_propagation_keeps_dependents_and_drops_owner_reference(core: client.CoreV1Api) -> None:
    owner = core.create_namespaced_config_map("default", configmap("owner"))
    core.create_namespaced_config_map("default", _owned("child", owner))
    core.delete_namespaced_config_map("owner", "default", propagation_policy="Orphan")
    child = core.read_namespaced_config_map("child", "default")
    assert not child.metadata.owner_references


def test_garbage_collection_waits_for_owner_finalizers(core: client.CoreV1Api) -> None:
    body = configmap("owner")
    body["metadata"]["finalizers"] = ["example.com/hold"]
    owner = core.create_namespaced_config_map("default", body)
    core.create_namespaced_config_map("default", _owned("child", owner))
    core.delete_namespaced_config_map("owner", "default")
    assert core.read_namespaced_config_map("child", "default").metadata.name == "child"
    core.patch_namespaced_config_map("owner", "default", {"metadata": {"finalizers": None}})
    remaining = {cm.metadata.name for cm in core.list_namespaced_config_map("default").items}
    assert remaining == set()


def test_delete_precondition_mismatch_is_conflict(core: client.CoreV1Api) -> None:
    core.create_namespaced_config_map("default", configmap("a"))
    with pytest.raises(ApiException) as info:
        core.delete_namespaced_config_map("a", "default", body={"preconditions": {"uid": "not-the-uid"}})
    assert info.value.status == 409


def test_deletecollection_with_label_selector(core: client.CoreV1Api) -> None:
    for name, tier in [("a", "web"), ("b", "web"), ("c", "db")]:
        core.create_namespaced_config_map("default", configmap(name, labels={"tier": tier}))
    core.delete_collection_namespaced_config_map("default", label_selector="tier=web")
    assert [cm.metadata.name for cm in core.list_namespaced_config_map("default").items] == ["c"]


def test_deleting_namespace_deletes_its_contents(core: client.CoreV1Api, apps: client.AppsV1Api) -> None:
    core.create_namespace({"metadata": {"name": "doomed"}})
    core.create_namespaced_config_map("doomed", configmap("a"))
    core.create_namespaced_config_map("default", configmap("kept"))
    core.delete_namespace("doomed")
    with pytest.raises(ApiException) as info:
        core.read_namespace("doomed")
    assert info.value.status == 404
    assert core.list_config_map_for_all_namespaces().items[0].metadata.name == "kept"
    with pytest.raises(ApiException) as info:
        core.create_namespaced_config_map("doomed", configmap("late"))
    assert info.value.status == 404


def test_namespace_with_finalized_content_terminates_until_content_is_gone(core: client.CoreV1Api) -> None:
    core.create_namespace({"metadata": {"name": "slow"}})
    body = configmap("held")
    body["metadata"]["finalizers"] = ["example.com/hold"]
    core.create_namespaced_config_map("slow", body)
    core.delete_namespace("slow")
    assert core.read_namespace("slow").status.phase == "Terminating"
    with pytest.raises(ApiException) as info:
        core.create_namespaced_config_map("slow", configmap("new"))
    assert info.value.status == 403
    core.patch_namespaced_config_map("held", "slow", [{"op": "remove", "path": "/metadata/finalizers"}])
    with pytest.raises(ApiException) as info:
        core.read_namespace("slow")
    assert info.value.status == 404


def test_a_terminating_namespace_written_to_stays_until_its_content_is_gone(core: client.CoreV1Api) -> None:
    """A write to a Terminating Namespace (a controller's status or label update) must not end it early: the API
    server removes a Namespace only once its content is gone and its finalizers are done."""
    core.create_namespace({"metadata": {"name": "busy"}})
    body = configmap("held")
    body["metadata"]["finalizers"] = ["example.com/hold"]
    core.create_namespaced_config_map("busy", body)
    core.delete_namespace("busy")
    core.patch_namespace("busy", {"metadata": {"labels": {"touched": "yes"}}})
    touched = core.read_namespace("busy")
    assert touched.status.phase == "Terminating" and touched.metadata.labels["touched"] == "yes"
    core.patch_namespaced_config_map("held", "busy", [{"op": "remove", "path": "/metadata/finalizers"}])
    with pytest.raises(ApiException) as info:
        core.read_namespace("busy")
    assert info.value.status == 404


def test_labels_must_be_strings(http: httpx.Client) -> None:
    body = configmap("a")
    body["metadata"]["labels"] = {"replicas": 3}
    assert http.post("/api/v1/namespaces/default/configmaps", json=body).status_code == 400


def test_dry_run_does_not_persist(http: httpx.Client, emulator: ApiEmulator) -> None:
    response = http.post("/api/v1/namespaces/default/configmaps", params={"dryRun": "All"}, json=configmap("a"))
    assert response.status_code == 201
    assert emulator.get_object("", "v1", "configmaps", "default", "a") is None


def test_in_process_get_and_list_objects(core: client.CoreV1Api, emulator: ApiEmulator) -> None:
    core.create_namespaced_config_map("default", configmap("b", x="1"))
    core.create_namespaced_config_map("kube-system", configmap("a", x="2"))
    obj = emulator.get_object("", "v1", "configmaps", "default", "b")
    assert obj is not None and obj["data"] == {"x": "1"}
    obj["data"]["x"] = "mutated"  # a copy: the stored object must not change
    assert core.read_namespaced_config_map("b", "default").data == {"x": "1"}
    assert [o["metadata"]["name"] for o in emulator.list_objects("", "v1", "configmaps")] == ["b", "a"]
    assert [o["metadata"]["name"] for o in emulator.list_objects("", "v1", "configmaps", "kube-system")] == ["a"]
    assert emulator.get_object("", "v1", "configmaps", "default", "missing") is None


def test_in_process_writes_follow_api_rules_and_reach_watchers(emulator: ApiEmulator, http: httpx.Client) -> None:
    created = emulator.create_object("", "v1", "configmaps", configmap("a", x="1"), namespace="default")
    assert created["metadata"]["resourceVersion"]
    rv = created["metadata"]["resourceVersion"]
    with http.stream("GET", "/api/v1/namespaces/default/configmaps",
                     params={"watch": "true", "resourceVersion": rv, "timeoutSeconds": "2"}) as stream:
        emulator.patch_object("", "v1", "configmaps", "default", "a", {"data": {"x": "2"}})
        assert emulator.delete_object("", "v1", "configmaps", "default", "a") is None
        events = read_events(stream, 2)
    assert [(e["type"], e["object"]["data"]["x"]) for e in events] == [("MODIFIED", "2"), ("DELETED", "2")]
    assert emulator.write_count() == 0  # in-process writes are not requests
