"""Discovery and CRDs: what clients learn about the served resources, and how CRDs change it."""

from __future__ import annotations

import copy
from typing import Any

import httpx
import pytest
from emulator_helpers import GROUP, VERSION, WIDGET_CRD, widget
from kubernetes import client

from sandbox.emulator import ApiEmulator

BUILT_INS = [
    ("", "v1", "namespaces"), ("", "v1", "pods"), ("", "v1", "services"), ("", "v1", "events"),
    ("", "v1", "configmaps"), ("", "v1", "secrets"), ("apps", "v1", "replicasets"), ("apps", "v1", "deployments"),
    ("batch", "v1", "jobs"), ("coordination.k8s.io", "v1", "leases"),
    ("apiextensions.k8s.io", "v1", "customresourcedefinitions"), ("events.k8s.io", "v1", "events"),
]


def _resources(http: httpx.Client, group: str, version: str) -> dict[str, dict[str, Any]]:
    path = f"/apis/{group}/{version}" if group else f"/api/{version}"
    response = http.get(path)
    response.raise_for_status()
    return {entry["name"]: entry for entry in response.json()["resources"]}


@pytest.mark.parametrize(("group", "version", "plural"), BUILT_INS)
def test_builtin_resources_are_declared(http: httpx.Client, group: str, version: str, plural: str) -> None:
    entry = _resources(http, group, version)[plural]
    assert {"get", "list", "watch", "create", "patch", "delete"} <= set(entry["verbs"])


def test_discovery_lists_subresources_without_short_names(http: httpx.Client) -> None:
    core = _resources(http, "", "v1")
    assert core["namespaces"]["shortNames"] == ["ns"]
    assert core["pods"]["shortNames"] == ["po"]
    for name, entry in core.items():
        if "/" in name:
            assert "shortNames" not in entry and "categories" not in entry, name
            assert entry["singularName"] == ""
    assert core["namespaces/status"]["verbs"] == ["get", "patch", "update"]
    scale = _resources(http, "apps", "v1")["deployments/scale"]
    assert (scale["kind"], scale["group"], scale["version"]) == ("Scale", "autoscaling", "v1")


def test_discovery_documents(http: httpx.Client) -> None:
    assert http.get("/api").json()["versions"] == ["v1"]
    groups = {group["name"]: group for group in http.get("/apis").json()["groups"]}
    assert groups["apps"]["preferredVersion"] == {"groupVersion": "apps/v1", "version": "v1"}
    assert http.get("/apis/apps").json()["kind"] == "APIGroup"
    assert http.get("/version").json()["major"] == "1"
    assert http.get("/apis/no.such.group").status_code == 404
    assert http.get("/openapi/v3/apis/no.such.group/v1").status_code == 404
    assert http.get("/healthz").text == "ok"


def test_crd_created_through_api_is_discoverable_and_servable(
    http: httpx.Client, extensions: client.ApiextensionsV1Api, custom: client.CustomObjectsApi
) -> None:
    assert http.get(f"/apis/{GROUP}/{VERSION}/widgets").status_code == 404
    created = extensions.create_custom_resource_definition(WIDGET_CRD)
    conditions = {c.type: c.status for c in created.status.conditions}
    assert conditions == {"NamesAccepted": "True", "Established": "True"}
    assert GROUP in {group["name"] for group in http.get("/apis").json()["groups"]}
    entry = _resources(http, GROUP, VERSION)["widgets"]
    assert entry["kind"] == "Widget"
    assert entry["namespaced"] is True
    assert entry["shortNames"] == ["wd"]
    assert entry["categories"] == ["gadgets"]
    assert {"widgets/status", "widgets/scale"} <= set(_resources(http, GROUP, VERSION))
    custom.create_namespaced_custom_object(GROUP, VERSION, "default", "widgets", widget("w"))
    assert custom.list_namespaced_custom_object(GROUP, VERSION, "default", "widgets")["items"][0]["kind"] == "Widget"


def test_deleted_crd_is_no_longer_served(
    http: httpx.Client, extensions: client.ApiextensionsV1Api, custom: client.CustomObjectsApi,
    widgets: dict[str, Any], emulator: ApiEmulator,
) -> None:
    custom.create_namespaced_custom_object(GROUP, VERSION, "default", "widgets", widget("w"))
    extensions.delete_custom_resource_definition("widgets.sandbox.test")
    assert http.get(f"/apis/{GROUP}/{VERSION}/namespaces/default/widgets").status_code == 404
    assert http.get(f"/apis/{GROUP}/{VERSION}").status_code == 404
    assert GROUP not in {group["name"] for group in http.get("/apis").json()["groups"]}
    extensions.create_custom_resource_definition(WIDGET_CRD)
    assert custom.list_namespaced_custom_object(GROUP, VERSION, "default", "widgets")["items"] == []


def test_deleting_crd_deletes_custom_resources_honouring_their_finalizers(
    http: httpx.Client, extensions: client.ApiextensionsV1Api, custom: client.CustomObjectsApi,
    widgets: dict[str, Any],
) -> None:
    held = widget("held")
    held["metadata"]["finalizers"] = ["example.com/hold"]
    custom.create_namespaced_custom_object(GROUP, VERSION, "default", "widgets", held)
    custom.create_namespaced_custom_object(GROUP, VERSION, "default", "widgets", widget("free"))
    extensions.delete_custom_resource_definition("widgets.sandbox.test")

    crd = extensions.read_custom_resource_definition("widgets.sandbox.test")
    assert crd.metadata.deletion_timestamp is not None
    assert crd.metadata.finalizers == ["customresourcecleanup.apiextensions.k8s.io"]
    remaining = custom.list_namespaced_custom_object(GROUP, VERSION, "default", "widgets")["items"]
    assert [w["metadata"]["name"] for w in remaining] == ["held"]
    assert remaining[0]["metadata"]["deletionTimestamp"]

    custom.patch_namespaced_custom_object(GROUP, VERSION, "default", "widgets", "held",
                                          {"metadata": {"finalizers": None}})
    with pytest.raises(client.ApiException) as info:
        extensions.read_custom_resource_definition("widgets.sandbox.test")
    assert info.value.status == 404
    assert http.get(f"/apis/{GROUP}/{VERSION}/namespaces/default/widgets").status_code == 404


def test_crd_serves_every_served_version(http: httpx.Client, extensions: client.ApiextensionsV1Api) -> None:
    crd = copy.deepcopy(WIDGET_CRD)
    v1 = crd["spec"]["versions"][0]
    crd["spec"]["versions"] = [dict(v1, name="v1alpha1", storage=False), v1,
                               dict(v1, name="v0", served=False, storage=False)]
    extensions.create_custom_resource_definition(crd)
    assert http.get(f"/apis/{GROUP}").json()["preferredVersion"]["version"] == "v1"
    assert http.get(f"/apis/{GROUP}/v0/widgets").status_code == 404
    http.post(f"/apis/{GROUP}/v1alpha1/namespaces/default/widgets",
              json=dict(widget("w"), apiVersion=f"{GROUP}/v1alpha1")).raise_for_status()
    as_v1 = http.get(f"/apis/{GROUP}/v1/namespaces/default/widgets/w").json()
    assert as_v1["apiVersion"] == f"{GROUP}/v1"


def test_invalid_crd_is_refused(extensions: client.ApiextensionsV1Api, http: httpx.Client) -> None:
    crd = copy.deepcopy(WIDGET_CRD)
    crd["metadata"]["name"] = "wrong.name"
    with pytest.raises(client.ApiException) as info:
        extensions.create_custom_resource_definition(crd)
    assert info.value.status == 422
    assert http.get("/apis/apiextensions.k8s.io/v1/customresourcedefinitions").json()["items"] == []


def test_register_crd_and_register_resource_in_process(emulator: ApiEmulator, http: httpx.Client) -> None:
    emulator.register_crd(WIDGET_CRD)
    assert "widgets" in _resources(http, GROUP, VERSION)
    emulator.register_resource(group="example.com", version="v1", plural="gizmos", kind="Gizmo", namespaced=False,
                               subresources={"status"}, short_names=["gz"], categories=["all"])
    entry = _resources(http, "example.com", "v1")["gizmos"]
    assert (entry["kind"], entry["namespaced"], entry["shortNames"], entry["singularName"]) == (
        "Gizmo", False, ["gz"], "gizmo")
    response = http.post("/apis/example.com/v1/gizmos", json={"metadata": {"name": "g"}})
    assert response.status_code == 201
    assert response.json()["metadata"].get("namespace") is None
    assert http.get("/apis/example.com/v1/gizmos/g").json()["kind"] == "Gizmo"


def test_cluster_scoped_custom_resources(http: httpx.Client, extensions: client.ApiextensionsV1Api) -> None:
    crd = copy.deepcopy(WIDGET_CRD)
    crd["spec"]["scope"] = "Cluster"
    extensions.create_custom_resource_definition(crd)
    body = widget("w")
    body["metadata"]["namespace"] = "ignored"
    created = http.post(f"/apis/{GROUP}/{VERSION}/widgets", json=body).json()
    assert "namespace" not in created["metadata"]
    assert http.get(f"/apis/{GROUP}/{VERSION}/namespaces/default/widgets").status_code == 404
