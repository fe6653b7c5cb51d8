"""Requests a real API server refuses with a Kubernetes `Status` (400, 413, 422), never a 500, a traceback or a
wedged server (issue #15, item 7): alias bombs, wrongly typed metadata, deep nesting, oversized bodies, patches of
immutable fields, unsupported field selectors."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from sandbox.emulator import ApiEmulator

CM = "/api/v1/namespaces/default/configmaps"
PODS = "/api/v1/namespaces/default/pods"


def assert_status(response: httpx.Response, code: int, reason: str) -> dict[str, Any]:
    """The refusal is a `Status` object as kube-apiserver sends, with no Python internals in it."""
    assert response.status_code == code, response.text[:500]
    assert response.headers["content-type"].startswith("application/json"), response.text[:200]
    status: dict[str, Any] = response.json()
    assert (status["kind"], status["status"], status["code"], status["reason"]) == ("Status", "Failure", code, reason)
    assert "Traceback" not in response.text and "traceback" not in status.get("details", {})
    return status


def alias_bomb(levels: int) -> str:
    """The "billion laughs" document: each level a list of nine aliases of the one before."""
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, levels):
        lines.append(f"l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * 9) + "]")
    return "\n".join(["apiVersion: v1", "kind: ConfigMap", "metadata: {name: bomb}", "data:", "  x: y",
                      *lines]) + "\n"


def test_a_yaml_alias_bomb_is_refused_as_a_bad_request(http: httpx.Client, emulator: ApiEmulator) -> None:
    # go-yaml, which the API server decodes YAML with, stops such documents: "excessive aliasing".
    bomb = alias_bomb(6)  # 9^6 = 531,441 strings from about 500 bytes
    response = http.post(CM, content=bomb, headers={"Content-Type": "application/yaml"})
    status = assert_status(response, 400, "BadRequest")
    assert "excessive aliasing" in status["message"]
    assert emulator.get_object("", "v1", "configmaps", "default", "bomb") is None


def test_a_few_yaml_aliases_are_still_accepted(http: httpx.Client) -> None:
    body = "metadata: {name: aliased, labels: &l {app: web}, annotations: *l}\ndata: {a: b}\n"
    response = http.post(CM, content=body, headers={"Content-Type": "application/yaml"})
    assert response.status_code == 201, response.text
    assert response.json()["metadata"]["annotations"] == {"app": "web"}


@pytest.mark.parametrize(("metadata", "field"), [
    ({"name": 5}, "metadata.name"),
    ({"generateName": ["x-"]}, "metadata.generateName"),
    ({"name": "ok", "namespace": 7}, "metadata.namespace"),
    ({"name": "ok", "resourceVersion": {"a": 1}}, "metadata.resourceVersion"),
])
def test_a_wrongly_typed_metadata_string_is_a_bad_request_naming_the_field(
        http: httpx.Client, metadata: dict[str, Any], field: str) -> None:
    # Upstream fails these while decoding into ObjectMeta's string fields: 400, "cannot unmarshal".
    status = assert_status(http.post(CM, json={"metadata": metadata}), 400, "BadRequest")
    assert field in status["message"]


def test_a_merge_patch_making_the_name_a_number_is_a_bad_request(http: httpx.Client) -> None:
    http.post(CM, json={"metadata": {"name": "typed"}}).raise_for_status()
    response = http.patch(f"{CM}/typed", json={"metadata": {"labels": {"a": "b"}, "name": 5}},
                          headers={"Content-Type": "application/merge-patch+json"})
    assert "metadata.name" in assert_status(response, 400, "BadRequest")["message"]


@pytest.mark.parametrize("media_type", ["application/json", "application/yaml"])
def test_a_10000_deep_body_is_a_bad_request_not_a_traceback(http: httpx.Client, media_type: str) -> None:
    body = '{"metadata": {"name": "deep"}, "data": ' + '{"a": ' * 10_000 + "1" + "}" * 10_000 + "}"
    response = http.post(CM, content=body, headers={"Content-Type": media_type})
    assert "nest" in assert_status(response, 400, "BadRequest")["message"]


def test_a_json_patch_of_the_name_is_refused_as_immutable(http: httpx.Client, emulator: ApiEmulator) -> None:
    http.post(CM, json={"metadata": {"name": "a"}}).raise_for_status()
    patch = [{"op": "replace", "path": "/metadata/name", "value": "b"}]
    response = http.patch(f"{CM}/a", content=json.dumps(patch),
                          headers={"Content-Type": "application/json-patch+json"})
    status = assert_status(response, 422, "Invalid")
    assert status["message"] == 'ConfigMap "a" is invalid: metadata.name: Invalid value: "b": field is immutable'
    assert emulator.get_object("", "v1", "configmaps", "default", "a") is not None
    assert emulator.get_object("", "v1", "configmaps", "default", "b") is None


def test_a_merge_patch_moving_the_object_to_another_namespace_is_refused(http: httpx.Client) -> None:
    http.post(CM, json={"metadata": {"name": "stay"}}).raise_for_status()
    response = http.patch(f"{CM}/stay", json={"metadata": {"namespace": "kube-system"}},
                          headers={"Content-Type": "application/merge-patch+json"})
    assert "metadata.namespace" in assert_status(response, 422, "Invalid")["message"]


def test_an_oversized_body_is_413_as_a_status_at_the_api_servers_3_mib_limit(http: httpx.Client) -> None:
    # kube-apiserver's --max-request-body-bytes default: 3 MiB; a 2 MiB body (over aiohttp's 1 MiB) is served.
    two_mib = {"metadata": {"name": "big"}, "data": {"blob": "x" * (2 * 1024 * 1024)}}
    assert http.post(CM, json=two_mib).status_code == 201
    four_mib = {"metadata": {"name": "huge"}, "data": {"blob": "x" * (4 * 1024 * 1024)}}
    status = assert_status(http.post(CM, json=four_mib), 413, "RequestEntityTooLarge")
    assert status["message"] == "Request entity too large: limit is 3145728"


@pytest.mark.parametrize(("path", "selector", "label"), [
    (CM, "spec.foo=bar", "spec.foo"),
    (PODS, "spec.nodename=x", "spec.nodename"),
    ("/apis/apps/v1/namespaces/default/deployments", "status.phase=Running", "status.phase"),
])
def test_an_unsupported_field_selector_is_a_bad_request(http: httpx.Client, path: str, selector: str,
                                                        label: str) -> None:
    for params in ({"fieldSelector": selector}, {"fieldSelector": selector, "watch": "true"}):
        status = assert_status(http.get(path, params=params), 400, "BadRequest")
        assert status["message"] == f'field label not supported: {label}'


@pytest.mark.parametrize(("path", "selector"), [
    (CM, "metadata.name=a"),
    (CM, "metadata.namespace!=kube-system"),
    (PODS, "spec.nodeName=sandbox-node,status.phase=Running"),
    ("/api/v1/events", "involvedObject.name=web,involvedObject.kind=Rollout,reason=Created"),
    ("/api/v1/secrets", "type=kubernetes.io/tls"),
    ("/apis/apps/v1/replicasets", "status.replicas=0"),
])
def test_the_field_selectors_kubernetes_supports_are_served(http: httpx.Client, path: str, selector: str) -> None:
    assert http.get(path, params={"fieldSelector": selector}).status_code == 200
