"""The status and scale subresources: isolated from the main object, mapped through the CRD's paths."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from emulator_helpers import GROUP, VERSION, configmap, deployment, patch_headers, widget
from kubernetes import client

WIDGETS = f"/apis/{GROUP}/{VERSION}/namespaces/default/widgets"
DEPLOY = "/apis/apps/v1/namespaces/default/deployments"


def test_status_subresource_write_changes_only_status(http: httpx.Client, widgets: dict[str, Any]) -> None:
    http.post(WIDGETS, json=widget("w", size=1)).raise_for_status()
    response = http.patch(f"{WIDGETS}/w/status", headers=patch_headers("merge"),
                          json={"spec": {"size": 99}, "metadata": {"labels": {"sneaky": "yes"}},
                                "status": {"ready": 1}})
    assert response.status_code == 200
    stored = http.get(f"{WIDGETS}/w").json()
    assert stored["status"] == {"ready": 1}
    assert stored["spec"] == {"size": 1}
    assert "labels" not in stored["metadata"]
    assert stored["metadata"]["generation"] == 1


def test_status_put_replaces_status_only(http: httpx.Client, widgets: dict[str, Any]) -> None:
    created = http.post(WIDGETS, json=widget("w", size=1)).json()
    body = widget("w", size=5)
    body["status"] = {"ready": 3}
    body["metadata"]["resourceVersion"] = created["metadata"]["resourceVersion"]
    response = http.put(f"{WIDGETS}/w/status", json=body)
    assert response.status_code == 200
    assert response.json()["status"] == {"ready": 3}
    assert response.json()["spec"] == {"size": 1}


def test_main_write_ignores_status_when_status_subresource_exists(
    custom: client.CustomObjectsApi, widgets: dict[str, Any]
) -> None:
    body = widget("w")
    body["status"] = {"ready": 7}
    created = custom.create_namespaced_custom_object(GROUP, VERSION, "default", "widgets", body)
    assert "status" not in created  # dropped on create, as upstream does
    custom.patch_namespaced_custom_object_status(GROUP, VERSION, "default", "widgets", "w", {"status": {"ready": 1}})
    patched = custom.patch_namespaced_custom_object(GROUP, VERSION, "default", "widgets", "w",
                                                    {"spec": {"size": 2}, "status": {"ready": 100}})
    assert patched["status"] == {"ready": 1}
    assert patched["spec"]["size"] == 2


def test_status_is_part_of_main_object_without_status_subresource(http: httpx.Client) -> None:
    body = configmap("a")
    body["status"] = {"anything": "goes"}  # configmaps have no status subresource
    http.post("/api/v1/namespaces/default/configmaps", json=body).raise_for_status()
    assert http.get("/api/v1/namespaces/default/configmaps/a").json()["status"] == {"anything": "goes"}
    response = http.patch("/api/v1/namespaces/default/configmaps/a/status", headers=patch_headers("merge"),
                          json={"status": {}})
    assert response.status_code == 404


def test_status_write_with_stale_resource_version_is_conflict(http: httpx.Client, widgets: dict[str, Any]) -> None:
    created = http.post(WIDGETS, json=widget("w")).json()
    http.patch(f"{WIDGETS}/w", headers=patch_headers("merge"), json={"spec": {"size": 2}}).raise_for_status()
    body = dict(created, status={"ready": 1})
    assert http.put(f"{WIDGETS}/w/status", json=body).status_code == 409


def test_scale_subresource_of_deployment(apps: client.AppsV1Api) -> None:
    apps.create_namespaced_deployment("default", deployment("web", replicas=2))
    apps.patch_namespaced_deployment_status("web", "default", {"status": {"replicas": 2}})
    scale = apps.read_namespaced_deployment_scale("web", "default")
    assert (scale.kind, scale.api_version) == ("Scale", "autoscaling/v1")
    assert scale.spec.replicas == 2
    assert scale.status.replicas == 2
    assert scale.status.selector == "app=web"

    patched = apps.patch_namespaced_deployment_scale("web", "default", {"spec": {"replicas": 5}})
    assert patched.spec.replicas == 5
    stored = apps.read_namespaced_deployment("web", "default")
    assert stored.spec.replicas == 5
    assert stored.metadata.generation == 2

    body = {"apiVersion": "autoscaling/v1", "kind": "Scale", "metadata": {"name": "web", "namespace": "default"},
            "spec": {"replicas": 1}}
    assert apps.replace_namespaced_deployment_scale("web", "default", body).spec.replicas == 1
    assert apps.read_namespaced_deployment("web", "default").spec.replicas == 1


def test_scale_put_with_stale_resource_version_is_conflict(http: httpx.Client) -> None:
    created = http.post(DEPLOY, json=deployment("web")).json()
    http.patch(f"{DEPLOY}/web", headers=patch_headers("merge"), json={"spec": {"paused": True}}).raise_for_status()
    body = {"apiVersion": "autoscaling/v1", "kind": "Scale",
            "metadata": {"name": "web", "resourceVersion": created["metadata"]["resourceVersion"]},
            "spec": {"replicas": 4}}
    assert http.put(f"{DEPLOY}/web/scale", json=body).status_code == 409


def test_replicaset_scale_subresource(http: httpx.Client) -> None:
    body = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "rs"},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"a": "b"}},
                     "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": []}}}}
    http.post("/apis/apps/v1/namespaces/default/replicasets", json=body).raise_for_status()
    response = http.patch("/apis/apps/v1/namespaces/default/replicasets/rs/scale",
                          headers=patch_headers("strategic"), json={"spec": {"replicas": 3}})
    assert response.status_code == 200
    assert response.json()["spec"] == {"replicas": 3}


def test_scale_subresource_of_custom_resource_uses_crd_paths(
    custom: client.CustomObjectsApi, widgets: dict[str, Any]
) -> None:
    custom.create_namespaced_custom_object(GROUP, VERSION, "default", "widgets", widget("w", size=2))
    custom.patch_namespaced_custom_object_status(GROUP, VERSION, "default", "widgets", "w",
                                                 {"status": {"ready": 1, "selector": "app=w"}})
    scale = custom.get_namespaced_custom_object_scale(GROUP, VERSION, "default", "widgets", "w")
    assert scale["spec"] == {"replicas": 2}
    assert scale["status"] == {"replicas": 1, "selector": "app=w"}
    custom.patch_namespaced_custom_object_scale(GROUP, VERSION, "default", "widgets", "w", {"spec": {"replicas": 4}})
    stored = custom.get_namespaced_custom_object(GROUP, VERSION, "default", "widgets", "w")
    assert stored["spec"]["size"] == 4
    assert stored["metadata"]["generation"] == 2


@pytest.mark.parametrize("replicas", [-1, "three", None])
def test_scale_with_invalid_replicas_is_invalid(http: httpx.Client, replicas: Any) -> None:
    http.post(DEPLOY, json=deployment("web")).raise_for_status()
    response = http.patch(f"{DEPLOY}/web/scale", headers=patch_headers("merge"), json={"spec": {"replicas": replicas}})
    assert response.status_code == 422
