"""Server-side apply over HTTP, with the `kubernetes` client, raw requests and kubectl.

Expectations follow Kubernetes' "Server-Side Apply" reference: the apply patch type with a required fieldManager,
managedFields per manager in FieldsV1, 409 Conflict naming manager and field, force taking ownership over, removal of
fields an applier no longer sets, create on apply; and Update entries for every other kind of write.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from emulator_helpers import GROUP, VERSION, deployment, widget
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from sandbox.emulator import ApiEmulator, EmulatorThread
from tests.kubectl_runner import KUBECTL, MISSING_REASON, Kubectl, kubectl_for

APPLY = "application/apply-patch+yaml"
CM = "/api/v1/namespaces/default/configmaps"
DEPLOYMENTS = "/apis/apps/v1/namespaces/default/deployments"
KUBECTL_EDIT_AGENT = "kubectl-edit/v1.32.0 (linux/amd64) kubernetes/abcdef0"


def _cm(name: str, labels: dict[str, str] | None = None, **data: str) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    if labels:
        metadata["labels"] = labels
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": data}


def _apply(http: httpx.Client, url: str, body: dict[str, Any] | str, manager: str | None,
           **params: str) -> httpx.Response:
    if manager is not None:
        params["fieldManager"] = manager
    content = body if isinstance(body, str) else json.dumps(body)
    return http.patch(url, params=params, headers={"Content-Type": APPLY}, content=content)


def _owners(obj: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f"{e['manager']}/{e['operation']}": e["fieldsV1"] for e in obj["metadata"].get("managedFields", [])}


def _apply_deployment(apps: client.AppsV1Api, body: dict[str, Any], manager: str,
                      force: bool | None = None) -> client.V1Deployment:
    return apps.patch_namespaced_deployment(body["metadata"]["name"], "default", body, field_manager=manager,
                                            force=force, _content_type=APPLY)


@pytest.fixture
def kubectl(emulator_thread: EmulatorThread, tmp_path: Path) -> Kubectl:
    if KUBECTL is None:
        pytest.skip(MISSING_REASON)
    return kubectl_for(emulator_thread.url, tmp_path)


# ------------------------------------------------------------------------------------------- the request


def test_apply_creates_a_missing_object(http: httpx.Client, emulator: ApiEmulator) -> None:
    response = _apply(http, f"{CM}/a", _cm("a", k="v"), "alice")
    assert response.status_code == 201
    stored = emulator.get_object("", "v1", "configmaps", "default", "a")
    assert stored is not None and stored["data"] == {"k": "v"}
    assert stored["metadata"]["managedFields"] == [{
        "manager": "alice", "operation": "Apply", "apiVersion": "v1",
        "time": stored["metadata"]["creationTimestamp"], "fieldsType": "FieldsV1",
        "fieldsV1": {"f:data": {"f:k": {}}},
    }]


def test_apply_without_field_manager_is_invalid(http: httpx.Client) -> None:
    response = _apply(http, f"{CM}/a", _cm("a", k="v"), None)
    assert response.status_code == 422
    status = response.json()
    assert status["reason"] == "Invalid"
    assert status["details"]["causes"] == [{"reason": "FieldValueRequired", "field": "fieldManager",
                                            "message": "Required value: is required for apply patch"}]


def test_force_on_a_merge_patch_is_invalid(http: httpx.Client) -> None:
    http.post(CM, json=_cm("a", k="v")).raise_for_status()
    response = http.patch(f"{CM}/a", params={"force": "true"}, content=json.dumps({"data": {"k": "w"}}),
                          headers={"Content-Type": "application/merge-patch+json"})
    assert response.status_code == 422
    assert response.json()["details"]["causes"][0]["field"] == "force"


def test_apply_body_may_be_yaml(http: httpx.Client) -> None:
    body = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: from-yaml\n"
    assert _apply(http, f"{CM}/a", body, "alice").status_code == 201
    assert http.get(f"{CM}/a").json()["data"] == {"k": "from-yaml"}


def test_apply_yaml_dates_stay_strings(http: httpx.Client) -> None:
    # The API server converts YAML to JSON, where an unquoted date is just a string.
    body = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {since: 2024-01-01}\n"
    assert _apply(http, f"{CM}/a", body, "alice").status_code == 201
    assert http.get(f"{CM}/a").json()["data"] == {"since": "2024-01-01"}


def test_apply_with_wrong_api_version_is_bad_request(http: httpx.Client) -> None:
    body = {**_cm("a", k="v"), "apiVersion": "v2"}
    response = _apply(http, f"{CM}/a", body, "alice")
    assert response.status_code == 400
    assert "expected: v1" in response.json()["message"]


def test_apply_with_another_name_than_the_url_is_bad_request(http: httpx.Client) -> None:
    assert _apply(http, f"{CM}/a", _cm("b", k="v"), "alice").status_code == 400


def test_reapplying_the_same_configuration_writes_nothing(http: httpx.Client) -> None:
    first = _apply(http, f"{CM}/a", _cm("a", k="v"), "alice").json()
    again = _apply(http, f"{CM}/a", _cm("a", k="v"), "alice").json()
    assert again["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]


# ----------------------------------------------------------------------------------- ownership, conflicts


def test_two_appliers_of_different_fields_each_own_theirs(apps: client.AppsV1Api) -> None:
    _apply_deployment(apps, deployment("web", replicas=2), "alice")
    result = _apply_deployment(apps, {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {
        "name": "web", "labels": {"team": "blue"}}}, "bob")
    owners = {entry.manager: entry.fields_v1 for entry in result.metadata.managed_fields}
    assert owners["bob"] == {"f:metadata": {"f:labels": {"f:team": {}}}}
    assert "f:replicas" in owners["alice"]["f:spec"]
    assert result.metadata.labels == {"team": "blue"} and result.spec.replicas == 2


def test_changing_a_field_another_manager_applied_is_a_conflict(apps: client.AppsV1Api) -> None:
    _apply_deployment(apps, deployment("web", replicas=2), "alice")
    with pytest.raises(ApiException) as info:
        _apply_deployment(apps, deployment("web", replicas=5), "bob")
    assert info.value.status == 409
    status = json.loads(info.value.body)
    assert status["reason"] == "Conflict"
    assert status["message"] == 'Apply failed with 1 conflict: conflict with "alice": .spec.replicas'
    assert status["details"]["causes"] == [
        {"reason": "FieldManagerConflict", "message": 'conflict with "alice"', "field": ".spec.replicas"}]
    assert apps.read_namespaced_deployment("web", "default").spec.replicas == 2


def test_applying_an_equal_value_shares_ownership(http: httpx.Client) -> None:
    _apply(http, f"{CM}/a", _cm("a", k="v"), "alice").raise_for_status()
    result = _apply(http, f"{CM}/a", _cm("a", k="v"), "bob")
    assert result.status_code == 200
    assert _owners(result.json()) == {"alice/Apply": {"f:data": {"f:k": {}}}, "bob/Apply": {"f:data": {"f:k": {}}}}


def test_force_takes_ownership_of_conflicting_fields(apps: client.AppsV1Api) -> None:
    _apply_deployment(apps, deployment("web", replicas=2), "alice")
    result = _apply_deployment(apps, deployment("web", replicas=5), "bob", force=True)
    assert result.spec.replicas == 5
    owners = {entry.manager: entry.fields_v1 for entry in result.metadata.managed_fields}
    assert "f:replicas" in owners["bob"]["f:spec"]
    assert "f:replicas" not in owners["alice"]["f:spec"]


def test_fields_no_longer_applied_are_removed(http: httpx.Client) -> None:
    _apply(http, f"{CM}/a", _cm("a", {"app": "web", "tier": "front"}, k="v", old="x"), "alice").raise_for_status()
    result = _apply(http, f"{CM}/a", _cm("a", {"app": "web"}, k="v"), "alice").json()
    assert result["metadata"]["labels"] == {"app": "web"}
    assert result["data"] == {"k": "v"}


def test_fields_no_longer_applied_stay_while_another_manager_owns_them(http: httpx.Client) -> None:
    _apply(http, f"{CM}/a", _cm("a", k="v", shared="s"), "alice").raise_for_status()
    _apply(http, f"{CM}/a", _cm("a", shared="s"), "bob").raise_for_status()
    result = _apply(http, f"{CM}/a", _cm("a", k="v"), "alice").json()
    assert result["data"] == {"k": "v", "shared": "s"}


def test_container_removed_from_the_configuration_is_removed_by_name(http: httpx.Client) -> None:
    _apply(http, f"{DEPLOYMENTS}/web", deployment("web"), "alice").raise_for_status()  # app and sidecar
    only_app = deployment("web")
    only_app["spec"]["template"]["spec"]["containers"] = only_app["spec"]["template"]["spec"]["containers"][:1]
    result = _apply(http, f"{DEPLOYMENTS}/web", only_app, "alice").json()
    assert [c["name"] for c in result["spec"]["template"]["spec"]["containers"]] == ["app"]


def test_container_fields_are_keyed_by_name_and_ports_by_container_port(http: httpx.Client) -> None:
    result = _apply(http, f"{DEPLOYMENTS}/web", deployment("web"), "alice").json()
    containers = _owners(result)["alice/Apply"]["f:spec"]["f:template"]["f:spec"]["f:containers"]
    assert containers['k:{"name":"app"}'] == {
        ".": {}, "f:env": {'k:{"name":"MODE"}': {".": {}, "f:name": {}, "f:value": {}}}, "f:image": {},
        "f:name": {}, "f:ports": {'k:{"containerPort":8080,"protocol":"TCP"}': {".": {}, "f:containerPort": {}}}}


# --------------------------------------------------------------------------------------- Update entries


def test_create_records_an_update_entry_for_the_user_agent(http: httpx.Client) -> None:
    created = http.post(CM, json=_cm("a", k="v"), headers={"User-Agent": "kubectl-create/v1.32.0 (linux/amd64)"})
    entry = created.json()["metadata"]["managedFields"][0]
    assert (entry["manager"], entry["operation"], entry["fieldsV1"]) == (
        "kubectl-create", "Update", {"f:data": {"f:k": {}}})


def test_patch_records_the_field_manager_param(http: httpx.Client) -> None:
    http.post(CM, json=_cm("a", k="v")).raise_for_status()
    patched = http.patch(f"{CM}/a", params={"fieldManager": "my-controller"}, content=json.dumps(
        {"data": {"extra": "1"}}), headers={"Content-Type": "application/merge-patch+json"}).json()
    assert _owners(patched)["my-controller/Update"] == {"f:data": {"f:extra": {}}}


def test_update_takes_a_field_from_the_applier_and_apply_then_conflicts_with_it(http: httpx.Client) -> None:
    _apply(http, f"{CM}/a", _cm("a", k="v"), "alice").raise_for_status()
    edited = http.get(f"{CM}/a").json()
    edited["data"]["k"] = "edited"
    http.put(f"{CM}/a", json=edited, headers={"User-Agent": KUBECTL_EDIT_AGENT}).raise_for_status()
    stored = http.get(f"{CM}/a").json()
    assert _owners(stored) == {"kubectl-edit/Update": {"f:data": {"f:k": {}}}}
    edit_time = stored["metadata"]["managedFields"][0]["time"]

    refused = _apply(http, f"{CM}/a", _cm("a", k="v"), "alice")
    assert refused.status_code == 409
    assert refused.json()["details"]["causes"][0]["message"] == (
        f'conflict with "kubectl-edit" using v1 at {edit_time}')


def test_status_write_records_the_status_subresource(http: httpx.Client, widgets: dict[str, Any]) -> None:
    url = f"/apis/{GROUP}/{VERSION}/namespaces/default/widgets"
    http.post(url, json=widget("w")).raise_for_status()
    http.patch(f"{url}/w/status", params={"fieldManager": "widget-controller"}, content=json.dumps(
        {"status": {"ready": 1}}), headers={"Content-Type": "application/merge-patch+json"}).raise_for_status()
    entries = http.get(f"{url}/w").json()["metadata"]["managedFields"]
    status_entry = next(e for e in entries if e["manager"] == "widget-controller")
    assert status_entry["subresource"] == "status"
    assert status_entry["fieldsV1"] == {"f:status": {"f:ready": {}}}


def test_apply_to_custom_resource_with_the_custom_objects_api(custom: client.CustomObjectsApi,
                                                              widgets: dict[str, Any]) -> None:
    # The client maps only a 200 answer of PATCH to a body, so the widget exists before (create answers 201).
    custom.create_namespaced_custom_object(GROUP, VERSION, "default", "widgets", widget("w", size=3))
    body = {**widget("w", size=3), "spec": {"size": 3, "steps": [{"setWeight": 20}, {"pause": {}}]}}
    result = custom.patch_namespaced_custom_object(GROUP, VERSION, "default", "widgets", "w", body,
                                                   field_manager="alice", _content_type=APPLY)
    assert result["spec"]["steps"] == [{"setWeight": 20}, {"pause": {}}]
    assert _owners(result)["alice/Apply"] == {"f:spec": {"f:size": {}, "f:steps": {}}}  # lists are atomic


# ----------------------------------------------------------------------------------------------- kubectl


def test_kubectl_server_side_apply_creates_then_conflicts_then_forces(kubectl: Kubectl, http: httpx.Client) -> None:
    manifest = yaml.safe_dump(deployment("web", replicas=2))
    assert "serverside-applied" in kubectl("apply", "--server-side", "--validate=false", "-f", "-",
                                           stdin=manifest).stdout
    other = yaml.safe_dump(deployment("web", replicas=4))
    refused = kubectl("apply", "--server-side", "--validate=false", "--field-manager=other", "-f", "-",
                      stdin=other, check=False)
    assert refused.returncode != 0
    assert 'conflict with "kubectl": .spec.replicas' in refused.stderr
    kubectl("apply", "--server-side", "--validate=false", "--field-manager=other", "--force-conflicts",
            "-f", "-", stdin=other)
    stored = http.get(f"{DEPLOYMENTS}/web").json()
    assert stored["spec"]["replicas"] == 4
    assert "f:replicas" in _owners(stored)["other/Apply"]["f:spec"]


def test_kubectl_server_side_apply_removes_a_dropped_label(kubectl: Kubectl, http: httpx.Client) -> None:
    kubectl("apply", "--server-side", "--validate=false", "-f", "-",
            stdin=yaml.safe_dump(_cm("a", {"app": "web", "tier": "front"}, k="v")))
    kubectl("apply", "--server-side", "--validate=false", "-f", "-",
            stdin=yaml.safe_dump(_cm("a", {"app": "web"}, k="v")))
    assert http.get(f"{CM}/a").json()["metadata"]["labels"] == {"app": "web"}


def test_kubectl_client_side_apply_keeps_last_applied_configuration(kubectl: Kubectl, http: httpx.Client) -> None:
    kubectl("apply", "--validate=false", "-f", "-", stdin=yaml.safe_dump(_cm("a", k="1")))
    kubectl("apply", "--validate=false", "-f", "-", stdin=yaml.safe_dump(_cm("a", k="2")))
    stored = http.get(f"{CM}/a").json()
    last_applied = json.loads(stored["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"])
    assert last_applied["data"] == {"k": "2"}
    assert _owners(stored)["kubectl-client-side-apply/Update"]["f:data"] == {"f:k": {}}


def test_kubectl_server_side_apply_after_client_side_apply_takes_over(kubectl: Kubectl, http: httpx.Client) -> None:
    kubectl("apply", "--validate=false", "-f", "-", stdin=yaml.safe_dump(_cm("a", k="1")))
    kubectl("apply", "--server-side", "--validate=false", "-f", "-", stdin=yaml.safe_dump(_cm("a", k="2")))
    stored = http.get(f"{CM}/a").json()
    assert stored["data"] == {"k": "2"}
    assert _owners(stored)["kubectl/Apply"] == {"f:data": {"f:k": {}}}


def test_managed_fields_reset_with_an_empty_entry(http: httpx.Client) -> None:
    # Kubernetes' documented way to strip managedFields: write them as a list of one empty entry.
    _apply(http, f"{CM}/a", _cm("a", k="v"), "alice").raise_for_status()
    reset = http.patch(f"{CM}/a", content=json.dumps({"metadata": {"managedFields": [{}]}}),
                       headers={"Content-Type": "application/merge-patch+json"})
    assert reset.status_code == 200
    assert "managedFields" not in reset.json()["metadata"]


def test_body_without_managed_fields_keeps_them(http: httpx.Client) -> None:
    _apply(http, f"{CM}/a", _cm("a", k="v"), "alice").raise_for_status()
    http.put(f"{CM}/a", json=_cm("a", k="v", other="o"), params={"fieldManager": "replacer"}).raise_for_status()
    assert set(_owners(http.get(f"{CM}/a").json())) == {"alice/Apply", "replacer/Update"}


def test_status_write_cannot_set_managed_fields(http: httpx.Client, widgets: dict[str, Any]) -> None:
    url = f"/apis/{GROUP}/{VERSION}/namespaces/default/widgets"
    http.post(url, json=widget("w"), params={"fieldManager": "creator"}).raise_for_status()
    body = http.get(f"{url}/w").json()
    body["metadata"]["managedFields"] = [{}]
    body["status"] = {"ready": 1}
    http.put(f"{url}/w/status", json=body, params={"fieldManager": "controller"}).raise_for_status()
    assert set(_owners(http.get(f"{url}/w").json())) == {"creator/Update", "controller/Update"}
