"""OpenAPI v3 for kubectl: ``kubectl apply`` validates without ``--validate=false``, ``kubectl explain`` reads CRDs.

kubectl 1.32 (validation on, the default) reads ``/openapi/v3``, then the group-version document of each kind it
applies, and sends ``fieldValidation=Strict`` when that document's PATCH operation lists the parameter; the
server then refuses unknown fields with ``strict decoding error: unknown field "spec.x"``, as kube-apiserver does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from emulator_helpers import deployment
from emulator_kubectl import KUBECTL, REPO, Kubectl, crd_manifest, kubectl_for

from sandbox.emulator import ApiEmulator, EmulatorThread
from sandbox.istio_crds import destination_rule_crd, virtual_service_crd

CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"

needs_kubectl = pytest.mark.skipif(KUBECTL is None, reason="the kubectl binary is not on PATH")

GADGET_CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "gadgets.sandbox.test"},
    "spec": {"group": "sandbox.test", "scope": "Namespaced", "names": {"plural": "gadgets", "kind": "Gadget"},
             "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {
                 "type": "object",
                 "properties": {"spec": {"type": "object", "required": ["size"], "properties": {
                     "size": {"type": "integer", "minimum": 1, "description": "How many gadgets."},
                     "colour": {"type": "string", "enum": ["red", "blue"]}}}}}}}]},
}


def _gadget(**spec: Any) -> str:
    return yaml.safe_dump({"apiVersion": "sandbox.test/v1", "kind": "Gadget", "metadata": {"name": "g"},
                           "spec": spec})


@pytest.fixture
def kubectl(emulator_thread: EmulatorThread, tmp_path: Path) -> Kubectl:
    return kubectl_for(emulator_thread.url, tmp_path)


@pytest.fixture
def gadgets(http: httpx.Client) -> None:
    http.post(CRDS, json=GADGET_CRD).raise_for_status()


@pytest.fixture
def rollout_crds(http: httpx.Client) -> None:
    for crd in (crd_manifest("argoproj.io_rollouts.yaml"), virtual_service_crd(), destination_rule_crd()):
        http.post(CRDS, json=crd).raise_for_status()


def _document(http: httpx.Client, key: str) -> dict[str, Any]:
    url = http.get("/openapi/v3").json()["paths"][key]["serverRelativeURL"]
    response = http.get(url)
    response.raise_for_status()
    document: dict[str, Any] = response.json()
    return document


def test_index_lists_every_group_version_with_a_content_hash(http: httpx.Client) -> None:
    paths = http.get("/openapi/v3").json()["paths"]
    assert {"api/v1", "apis/apps/v1", "apis/batch/v1", "apis/apiextensions.k8s.io/v1"} <= set(paths)
    assert paths["apis/apps/v1"]["serverRelativeURL"].startswith("/openapi/v3/apis/apps/v1?hash=")


@pytest.mark.usefixtures("rollout_crds")
def test_crd_schema_is_published_as_a_component_with_its_kind(http: httpx.Client) -> None:
    document = _document(http, "apis/argoproj.io/v1alpha1")
    component = document["components"]["schemas"]["io.argoproj.v1alpha1.Rollout"]
    crd_schema = crd_manifest("argoproj.io_rollouts.yaml")["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    assert component.pop("x-kubernetes-group-version-kind") == [
        {"group": "argoproj.io", "version": "v1alpha1", "kind": "Rollout"}]
    assert component == crd_schema


def test_patch_operations_declare_field_validation(http: httpx.Client) -> None:
    document = _document(http, "apis/apps/v1")
    patch = document["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"]
    assert patch["x-kubernetes-group-version-kind"] == {"group": "apps", "version": "v1", "kind": "Deployment"}
    assert {"name": "fieldValidation", "in": "query"}.items() <= patch["parameters"][-1].items()


def test_a_crd_created_at_runtime_appears_and_its_update_changes_the_hash(http: httpx.Client,
                                                                          gadgets: None) -> None:
    first = http.get("/openapi/v3").json()["paths"]["apis/sandbox.test/v1"]["serverRelativeURL"]
    schema = _document(http, "apis/sandbox.test/v1")["components"]["schemas"]["test.sandbox.v1.Gadget"]
    assert schema["properties"]["spec"]["required"] == ["size"]

    crd = http.get(f"{CRDS}/gadgets.sandbox.test").json()
    crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["shape"] = {
        "type": "string"}
    http.put(f"{CRDS}/gadgets.sandbox.test", json=crd).raise_for_status()
    second = http.get("/openapi/v3").json()["paths"]["apis/sandbox.test/v1"]["serverRelativeURL"]
    assert second != first
    assert "shape" in _document(http, "apis/sandbox.test/v1")["components"]["schemas"]["test.sandbox.v1.Gadget"][
        "properties"]["spec"]["properties"]


def test_unknown_group_version_is_not_found(http: httpx.Client) -> None:
    assert http.get("/openapi/v3/apis/no.such.group/v1").status_code == 404


@needs_kubectl
@pytest.mark.kubectl
@pytest.mark.usefixtures("rollout_crds")
def test_kubectl_apply_validates_the_canary_example_without_validate_false(kubectl: Kubectl,
                                                                           emulator: ApiEmulator) -> None:
    result = kubectl("apply", "-f", str(REPO / "examples" / "canary"))
    assert "rollout.argoproj.io/reviews created" in result.stdout, result.stderr
    assert "virtualservice.networking.istio.io/reviews created" in result.stdout
    assert emulator.get_object("argoproj.io", "v1alpha1", "rollouts", "default", "reviews") is not None
    assert "unchanged" in kubectl("apply", "-f", str(REPO / "examples" / "canary")).stdout


@needs_kubectl
@pytest.mark.kubectl
def test_kubectl_apply_keeps_merging_built_in_lists_by_key(kubectl: Kubectl, emulator: ApiEmulator) -> None:
    # Strategic merge patch still comes from kubectl's compiled-in types: one container's image changes,
    # the container a controller added stays (a wholesale list replace would drop it).
    kubectl("apply", "-f", "-", stdin=yaml.safe_dump(deployment("web")))
    emulator.patch_object("apps", "v1", "deployments", "default", "web",
                          {"spec": {"template": {"metadata": {"annotations": {"injected": "yes"}}}}})
    changed = deployment("web", image="app:2")
    kubectl("apply", "-f", "-", stdin=yaml.safe_dump(changed))
    live = emulator.get_object("apps", "v1", "deployments", "default", "web")
    assert live is not None
    assert [c["image"] for c in live["spec"]["template"]["spec"]["containers"]] == ["app:2", "proxy:1"]
    assert live["spec"]["template"]["metadata"]["annotations"] == {"injected": "yes"}


@needs_kubectl
@pytest.mark.kubectl
@pytest.mark.usefixtures("gadgets")
def test_kubectl_apply_refuses_unknown_fields_of_a_custom_resource(kubectl: Kubectl) -> None:
    result = kubectl("apply", "-f", "-", stdin=_gadget(size=2, shape="round"), check=False)
    assert result.returncode != 0
    assert 'strict decoding error: unknown field "spec.shape"' in result.stderr


@needs_kubectl
@pytest.mark.kubectl
@pytest.mark.usefixtures("gadgets")
def test_kubectl_apply_validate_false_stores_the_resource_pruned(kubectl: Kubectl, emulator: ApiEmulator) -> None:
    kubectl("apply", "--validate=false", "-f", "-", stdin=_gadget(size=2, shape="round"))
    stored = emulator.get_object("sandbox.test", "v1", "gadgets", "default", "g")
    assert stored is not None and stored["spec"] == {"size": 2}


@needs_kubectl
@pytest.mark.kubectl
@pytest.mark.usefixtures("gadgets")
def test_kubectl_explain_reads_the_crd_schema(kubectl: Kubectl) -> None:
    out = kubectl("explain", "gadgets.spec.size").stdout
    assert "FIELD: size <integer>" in out and "How many gadgets." in out


@needs_kubectl
@pytest.mark.kubectl
@pytest.mark.usefixtures("gadgets")
def test_kubectl_apply_validate_warn_prints_the_pruned_fields(kubectl: Kubectl, emulator: ApiEmulator) -> None:
    result = kubectl("apply", "--validate=warn", "-f", "-", stdin=_gadget(size=2, shape="round"))
    assert 'Warning: unknown field "spec.shape"' in result.stderr
    stored = emulator.get_object("sandbox.test", "v1", "gadgets", "default", "g")
    assert stored is not None and stored["spec"] == {"size": 2}
