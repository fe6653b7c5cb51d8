"""``dryRun=All`` on every write verb, over HTTP and with kubectl ``--dry-run=server``.

Kubernetes' API concepts ("Dry-run"): the request runs through every stage but is not persisted; the response is the
object as it would be. Here: nothing stored, no watch event, no resourceVersion change; invalid values are refused
with 422 as the server validates ``CreateOptions``/``PatchOptions``/``DeleteOptions``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from emulator_helpers import GROUP, VERSION, configmap, read_events, widget
from kubernetes import client

from sandbox.emulator import ApiEmulator, EmulatorThread
from tests.kubectl_runner import KUBECTL, MISSING_REASON, Kubectl, kubectl_for

CM = "/api/v1/namespaces/default/configmaps"
DRY = {"dryRun": "All"}
MERGE = {"Content-Type": "application/merge-patch+json"}


@pytest.fixture
def kubectl(emulator_thread: EmulatorThread, tmp_path: Path) -> Kubectl:
    if KUBECTL is None:
        pytest.skip(MISSING_REASON)
    return kubectl_for(emulator_thread.url, tmp_path)


def _resource_version(http: httpx.Client) -> str:
    return str(http.get(CM).json()["metadata"]["resourceVersion"])


def _first_event_after(http: httpx.Client, since: str) -> dict[str, Any]:
    """The first ConfigMap watch event after resourceVersion ``since``."""
    with http.stream("GET", CM, params={"watch": "true", "resourceVersion": since}) as response:
        return read_events(response, 1)[0]


def _assert_no_event_before_marker(http: httpx.Client, since: str) -> None:
    # A real write after the dry runs: if any dry run had emitted an event, the watch would deliver it first.
    http.post(CM, json=configmap("marker")).raise_for_status()
    event = _first_event_after(http, since)
    assert (event["type"], event["object"]["metadata"]["name"]) == ("ADDED", "marker")


def test_dry_run_create_returns_the_object_and_stores_nothing(http: httpx.Client, emulator: ApiEmulator) -> None:
    since = _resource_version(http)
    response = http.post(CM, params=DRY, json=configmap("a", x="1"))
    assert response.status_code == 201
    assert response.json()["data"] == {"x": "1"} and response.json()["metadata"]["uid"]
    assert emulator.get_object("", "v1", "configmaps", "default", "a") is None
    _assert_no_event_before_marker(http, since)


def test_dry_run_update_returns_the_new_object_and_keeps_the_stored_one(http: httpx.Client) -> None:
    stored = http.post(CM, json=configmap("a", x="1")).json()
    since = _resource_version(http)
    response = http.put(f"{CM}/a", params=DRY, json={**stored, "data": {"x": "2"}})
    assert response.status_code == 200 and response.json()["data"] == {"x": "2"}
    after = http.get(f"{CM}/a").json()
    assert after["data"] == {"x": "1"}
    assert after["metadata"]["resourceVersion"] == stored["metadata"]["resourceVersion"]
    _assert_no_event_before_marker(http, since)


@pytest.mark.parametrize(("content_type", "patch"), [
    ("application/merge-patch+json", {"data": {"x": "2"}}),
    ("application/strategic-merge-patch+json", {"data": {"x": "2"}}),
    ("application/json-patch+json", [{"op": "replace", "path": "/data/x", "value": "2"}]),
    ("application/apply-patch+yaml", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"},
                                      "data": {"x": "2"}}),
])
def test_dry_run_patch_of_every_type_returns_the_patched_object_and_stores_nothing(
        http: httpx.Client, content_type: str, patch: Any) -> None:
    stored = http.post(CM, json=configmap("a", x="1")).json()
    since = _resource_version(http)
    response = http.patch(f"{CM}/a", params={**DRY, "fieldManager": "tester", "force": "true"}
                          if "apply" in content_type else DRY,
                          content=json.dumps(patch), headers={"Content-Type": content_type})
    assert response.status_code == 200, response.text
    assert response.json()["data"] == {"x": "2"}
    after = http.get(f"{CM}/a").json()
    assert after["data"] == {"x": "1"}
    assert after["metadata"]["resourceVersion"] == stored["metadata"]["resourceVersion"]
    _assert_no_event_before_marker(http, since)


def test_dry_run_apply_of_a_missing_object_creates_nothing(http: httpx.Client, emulator: ApiEmulator) -> None:
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"x": "1"}}
    response = http.patch(f"{CM}/a", params={**DRY, "fieldManager": "tester"}, content=json.dumps(body),
                          headers={"Content-Type": "application/apply-patch+yaml"})
    assert response.status_code == 201
    assert response.json()["metadata"]["managedFields"][0]["manager"] == "tester"
    assert emulator.get_object("", "v1", "configmaps", "default", "a") is None


def test_dry_run_of_a_spec_change_shows_the_next_generation_without_keeping_it(apps: client.AppsV1Api) -> None:
    body = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}},
                                  "spec": {"containers": [{"name": "app", "image": "app:1"}]}}}}
    apps.create_namespaced_deployment("default", body)
    would_be = apps.patch_namespaced_deployment("web", "default", {"spec": {"replicas": 3}}, dry_run="All")
    assert (would_be.spec.replicas, would_be.metadata.generation) == (3, 2)
    stored = apps.read_namespaced_deployment("web", "default")
    assert (stored.spec.replicas, stored.metadata.generation) == (1, 1)


def test_dry_run_delete_keeps_the_object(http: httpx.Client) -> None:
    http.post(CM, json=configmap("a")).raise_for_status()
    since = _resource_version(http)
    response = http.delete(f"{CM}/a", params=DRY)
    assert response.status_code == 200
    assert response.json()["status"] == "Success"  # what deleting a ConfigMap answers
    assert http.get(f"{CM}/a").status_code == 200
    _assert_no_event_before_marker(http, since)


def test_dry_run_delete_in_the_body_keeps_the_object(http: httpx.Client) -> None:
    http.post(CM, json=configmap("a")).raise_for_status()
    response = http.request("DELETE", f"{CM}/a", json={"kind": "DeleteOptions", "apiVersion": "v1",
                                                       "dryRun": ["All"]})
    assert response.status_code == 200
    assert http.get(f"{CM}/a").status_code == 200


def test_dry_run_delete_of_an_object_with_finalizers_shows_it_terminating(http: httpx.Client) -> None:
    held = configmap("a")
    held["metadata"]["finalizers"] = ["example.com/hold"]
    http.post(CM, json=held).raise_for_status()
    response = http.delete(f"{CM}/a", params=DRY)
    assert response.status_code == 200
    assert response.json()["metadata"]["deletionTimestamp"]
    assert "deletionTimestamp" not in http.get(f"{CM}/a").json()["metadata"]


def test_dry_run_delete_of_a_custom_resource_returns_it(http: httpx.Client, widgets: dict[str, Any]) -> None:
    url = f"/apis/{GROUP}/{VERSION}/namespaces/default/widgets"
    http.post(url, json=widget("w")).raise_for_status()
    response = http.delete(f"{url}/w", params=DRY)
    assert response.status_code == 200 and response.json()["metadata"]["name"] == "w"
    assert http.get(f"{url}/w").status_code == 200


def test_dry_run_delete_of_a_namespace_shows_it_terminating(http: httpx.Client) -> None:
    http.post("/api/v1/namespaces", json={"metadata": {"name": "team"}}).raise_for_status()
    response = http.delete("/api/v1/namespaces/team", params=DRY)
    assert response.json()["status"]["phase"] == "Terminating"
    assert http.get("/api/v1/namespaces/team").json()["status"]["phase"] == "Active"


def test_dry_run_deletecollection_deletes_nothing(http: httpx.Client) -> None:
    for name in ("a", "b"):
        http.post(CM, json=configmap(name)).raise_for_status()
    response = http.delete(CM, params=DRY)
    assert [item["metadata"]["name"] for item in response.json()["items"]] == ["a", "b"]
    assert len(http.get(CM).json()["items"]) == 2


WRITES: dict[str, Callable[[httpx.Client, dict[str, str]], httpx.Response]] = {
    "create": lambda http, params: http.post(CM, params=params, json=configmap("b")),
    "update": lambda http, params: http.put(f"{CM}/a", params=params, json=configmap("a", x="2")),
    "patch": lambda http, params: http.patch(f"{CM}/a", params=params, content=b'{"data":{"x":"2"}}',
                                             headers=MERGE),
    "delete": lambda http, params: http.delete(f"{CM}/a", params=params),
}


@pytest.mark.parametrize(("verb", "options_kind"), [
    ("create", "CreateOptions"), ("update", "UpdateOptions"), ("patch", "PatchOptions"), ("delete", "DeleteOptions"),
])
def test_unsupported_dry_run_value_is_invalid(http: httpx.Client, verb: str, options_kind: str) -> None:
    http.post(CM, json=configmap("a")).raise_for_status()
    response = WRITES[verb](http, {"dryRun": "Some"})
    assert response.status_code == 422
    status = response.json()
    assert (status["reason"], status["details"]["kind"]) == ("Invalid", options_kind)
    assert status["details"]["causes"][0]["field"] == "dryRun"
    assert http.get(f"{CM}/a").json()["data"] == {}


# ----------------------------------------------------------------------------------------------- kubectl


def test_kubectl_create_dry_run_server_stores_nothing(kubectl: Kubectl, http: httpx.Client) -> None:
    out = kubectl("create", "--dry-run=server", "--validate=false", "-f", "-",
                  stdin=yaml.safe_dump(configmap("a", x="1"))).stdout
    assert "(server dry run)" in out
    assert http.get(f"{CM}/a").status_code == 404


def test_kubectl_apply_dry_run_server_stores_nothing(kubectl: Kubectl, http: httpx.Client) -> None:
    kubectl("apply", "--validate=false", "-f", "-", stdin=yaml.safe_dump(configmap("a", x="1")))
    for mode in ("--server-side", "--server-side=false"):
        out = kubectl("apply", mode, "--validate=false", "--dry-run=server", "-o", "json", "-f", "-",
                      stdin=yaml.safe_dump(configmap("a", x="2"))).stdout
        assert json.loads(out)["data"] == {"x": "2"}
    assert http.get(f"{CM}/a").json()["data"] == {"x": "1"}


def test_kubectl_patch_dry_run_server_stores_nothing(kubectl: Kubectl, http: httpx.Client) -> None:
    http.post(CM, json=configmap("a", x="1")).raise_for_status()
    kubectl("patch", "configmap", "a", "--dry-run=server", "--type=merge", "-p", '{"data":{"x":"2"}}')
    assert http.get(f"{CM}/a").json()["data"] == {"x": "1"}


def test_kubectl_delete_dry_run_server_keeps_the_object(kubectl: Kubectl, http: httpx.Client) -> None:
    http.post(CM, json=configmap("a")).raise_for_status()
    out = kubectl("delete", "configmap", "a", "--dry-run=server").stdout
    assert 'configmap "a" deleted (server dry run)' in out
    assert http.get(f"{CM}/a").status_code == 200
