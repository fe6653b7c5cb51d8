"""PATCH over HTTP: merge patch, strategic merge patch, JSON patch, and the media types a server refuses."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from emulator_helpers import GROUP, VERSION, configmap, deployment, patch_headers, widget
from kubernetes import client

CM = "/api/v1/namespaces/default/configmaps"
DEPLOY = "/apis/apps/v1/namespaces/default/deployments"
WIDGETS = f"/apis/{GROUP}/{VERSION}/namespaces/default/widgets"


def _patch(http: httpx.Client, url: str, kind: str, body: Any) -> httpx.Response:
    return http.patch(url, headers=patch_headers(kind), json=body)


def test_merge_patch_follows_rfc7386(http: httpx.Client) -> None:
    body = configmap("a", keep="1", drop="2")
    body["metadata"]["labels"] = {"x": "1", "y": "2"}
    http.post(CM, json=body).raise_for_status()
    response = _patch(http, f"{CM}/a", "merge",
                      {"metadata": {"labels": {"y": None, "z": "3"}}, "data": {"drop": None, "new": "4"}})
    assert response.status_code == 200
    patched = response.json()
    assert patched["metadata"]["labels"] == {"x": "1", "z": "3"}
    assert patched["data"] == {"keep": "1", "new": "4"}


def test_merge_patch_replaces_lists_wholesale(http: httpx.Client) -> None:
    http.post(DEPLOY, json=deployment("web")).raise_for_status()
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "app:2"}]}}}}
    containers = _patch(http, f"{DEPLOY}/web", "merge", patch).json()["spec"]["template"]["spec"]["containers"]
    assert containers == [{"name": "app", "image": "app:2"}]


def test_strategic_merge_patch_merges_containers_by_name(apps: client.AppsV1Api) -> None:
    apps.create_namespaced_deployment("default", deployment("web"))
    patched = apps.patch_namespaced_deployment("web", "default", {"spec": {"template": {"spec": {"containers": [
        {"name": "app", "image": "app:2", "env": [{"name": "EXTRA", "value": "1"}]},
    ]}}}})
    containers = patched.spec.template.spec.containers
    assert [(c.name, c.image) for c in containers] == [("app", "app:2"), ("sidecar", "proxy:1")]
    assert [(e.name, e.value) for e in containers[0].env] == [("MODE", "a"), ("EXTRA", "1")]
    assert [p.container_port for p in containers[0].ports] == [8080]
    assert patched.metadata.generation == 2


def test_strategic_merge_patch_directives(http: httpx.Client) -> None:
    http.post(DEPLOY, json=deployment("web")).raise_for_status()
    patch = {
        "spec": {
            "strategy": {"$retainKeys": ["type"], "type": "Recreate"},
            "template": {"spec": {
                "$setElementOrder/containers": [{"name": "sidecar"}, {"name": "app"}],
                "containers": [{"name": "sidecar", "image": "proxy:2"},
                               {"name": "app", "env": [{"name": "MODE", "$patch": "delete"}]}],
            }},
            "selector": {"$patch": "replace", "matchLabels": {"app": "web"}},
        },
    }
    response = _patch(http, f"{DEPLOY}/web", "strategic", patch)
    assert response.status_code == 200, response.text
    spec = response.json()["spec"]
    assert spec["strategy"] == {"type": "Recreate"}
    assert [c["name"] for c in spec["template"]["spec"]["containers"]] == ["sidecar", "app"]
    assert spec["template"]["spec"]["containers"][0]["image"] == "proxy:2"
    assert not spec["template"]["spec"]["containers"][1].get("env")
    assert "$patch" not in response.text and "$retainKeys" not in response.text


def test_strategic_merge_patch_on_custom_resource_is_unsupported_media_type(
    http: httpx.Client, widgets: dict[str, Any]
) -> None:
    http.post(WIDGETS, json=widget("w")).raise_for_status()
    response = _patch(http, f"{WIDGETS}/w", "strategic", {"spec": {"size": 2}})
    assert response.status_code == 415
    assert response.json()["reason"] == "UnsupportedMediaType"
    assert http.get(f"{WIDGETS}/w").json()["spec"]["size"] == 1


def test_json_patch_operations(http: httpx.Client) -> None:
    http.post(CM, json=configmap("a", one="1", two="2")).raise_for_status()
    ops = [
        {"op": "test", "path": "/data/one", "value": "1"},
        {"op": "add", "path": "/data/three", "value": "3"},
        {"op": "remove", "path": "/data/two"},
        {"op": "replace", "path": "/data/one", "value": "uno"},
        {"op": "copy", "from": "/data/one", "path": "/data/copy"},
        {"op": "move", "from": "/data/three", "path": "/data/moved"},
        {"op": "add", "path": "/metadata/labels", "value": {"a": "b"}},
    ]
    response = _patch(http, f"{CM}/a", "json", ops)
    assert response.status_code == 200, response.text
    patched = response.json()
    assert patched["data"] == {"one": "uno", "copy": "uno", "moved": "3"}
    assert patched["metadata"]["labels"] == {"a": "b"}


def test_failed_json_patch_test_is_invalid_422(http: httpx.Client) -> None:
    http.post(CM, json=configmap("a", one="1")).raise_for_status()
    response = _patch(http, f"{CM}/a", "json", [
        {"op": "test", "path": "/data/one", "value": "2"},
        {"op": "replace", "path": "/data/one", "value": "3"},
    ])
    assert response.status_code == 422
    assert response.json()["reason"] == "Invalid"
    assert http.get(f"{CM}/a").json()["data"] == {"one": "1"}


def test_json_patch_test_of_stale_resource_version_is_invalid(http: httpx.Client) -> None:
    created = http.post(CM, json=configmap("a")).json()
    _patch(http, f"{CM}/a", "merge", {"data": {"x": "1"}}).raise_for_status()
    response = _patch(http, f"{CM}/a", "json", [
        {"op": "test", "path": "/metadata/resourceVersion", "value": created["metadata"]["resourceVersion"]},
        {"op": "add", "path": "/metadata/finalizers", "value": ["example.com/f"]},
    ])
    assert response.status_code == 422  # what kopf expects, to retry its finalizer patch later


def test_json_patch_replacing_resource_version_with_stale_value_is_conflict(http: httpx.Client) -> None:
    created = http.post(CM, json=configmap("a")).json()
    _patch(http, f"{CM}/a", "merge", {"data": {"x": "1"}}).raise_for_status()
    response = _patch(http, f"{CM}/a", "json", [
        {"op": "replace", "path": "/metadata/resourceVersion", "value": created["metadata"]["resourceVersion"]},
        {"op": "replace", "path": "/data/x", "value": "2"},
    ])
    assert response.status_code == 409
    assert response.json()["reason"] == "Conflict"


def test_malformed_json_patch_is_bad_request(http: httpx.Client) -> None:
    http.post(CM, json=configmap("a")).raise_for_status()
    response = _patch(http, f"{CM}/a", "json", [{"op": "teleport", "path": "/data"}])
    assert response.status_code == 400
    assert response.json()["reason"] == "BadRequest"


def test_patch_without_known_content_type_is_unsupported_media_type(http: httpx.Client) -> None:
    http.post(CM, json=configmap("a")).raise_for_status()
    response = http.patch(f"{CM}/a", json={"data": {"x": "1"}})  # plain application/json
    assert response.status_code == 415


def test_patch_of_missing_object_is_not_found(http: httpx.Client) -> None:
    response = _patch(http, f"{CM}/ghost", "merge", {"data": {"x": "1"}})
    assert response.status_code == 404
    assert response.json()["details"] == {"name": "ghost", "kind": "configmaps"}


def test_custom_objects_api_merge_patches_custom_resources(
    custom: client.CustomObjectsApi, widgets: dict[str, Any]
) -> None:
    custom.create_namespaced_custom_object(GROUP, VERSION, "default", "widgets", widget("w", color="red"))
    patched = custom.patch_namespaced_custom_object(GROUP, VERSION, "default", "widgets", "w",
                                                    {"spec": {"size": 3, "extra": {"a": 1}}})
    assert patched["spec"] == {"size": 3, "extra": {"a": 1}}


@pytest.mark.parametrize("kind", ["merge", "strategic", "json"])
def test_patch_cannot_change_identity(http: httpx.Client, kind: str) -> None:
    created = http.post(CM, json=configmap("a")).json()
    body: Any = [{"op": "replace", "path": "/metadata/uid", "value": "forged"}] if kind == "json" else \
        {"metadata": {"uid": "forged", "creationTimestamp": "2000-01-01T00:00:00Z"}}
    patched = _patch(http, f"{CM}/a", kind, body).json()
    assert patched["metadata"]["uid"] == created["metadata"]["uid"]
    assert patched["metadata"]["creationTimestamp"] == created["metadata"]["creationTimestamp"]
