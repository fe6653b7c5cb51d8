"""Custom resources against their CRD's structural schema, as kube-apiserver's apiextensions does it.

Unknown fields are pruned unless ``x-kubernetes-preserve-unknown-fields`` keeps them; what remains is validated
(types, required, enum, bounds) on create, update, patch and status writes, and refused with 422 ``Invalid``
whose ``details.causes[].field`` names each path, worded as the real server words it:
``spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from emulator_kubectl import REPO, argo_crd_files, crd_manifest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from sandbox.emulator import ApiEmulator, ApiError
from tests.conformance.corpus import corpus_dir, corpus_missing_reason

CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
ROLLOUTS = "/apis/argoproj.io/v1alpha1/namespaces/default/rollouts"
APPLICATIONS = "/apis/argoproj.io/v1alpha1/namespaces/default/applications"
GADGETS = "/apis/sandbox.test/v1/namespaces/default/gadgets"
MERGE = {"Content-Type": "application/merge-patch+json"}
JSON_PATCH = {"Content-Type": "application/json-patch+json"}

GADGET_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "required": ["size"],
            "properties": {
                "size": {"type": "integer", "minimum": 1, "maximum": 10},
                "colour": {"type": "string", "enum": ["red", "blue"]},
                "name": {"type": "string", "maxLength": 5},
                "ports": {"type": "array", "items": {"type": "object", "properties": {"port": {"type": "integer"}}}},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                "note": {"type": "string", "nullable": True},
                "target": {"x-kubernetes-int-or-string": True, "anyOf": [{"type": "integer"}, {"type": "string"}]},
                "mode": {"type": "string", "default": "auto"},
                "limits": {"type": "object", "properties": {"cpu": {"type": "string", "default": "100m"}}},
            },
        },
        "status": {"type": "object", "properties": {"ready": {"type": "integer"}}},
    },
}

GADGET_CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "gadgets.sandbox.test"},
    "spec": {"group": "sandbox.test", "scope": "Namespaced", "names": {"plural": "gadgets", "kind": "Gadget"},
             "versions": [{"name": "v1", "served": True, "storage": True, "subresources": {"status": {}},
                           "schema": {"openAPIV3Schema": GADGET_SCHEMA}}]},
}


def _gadget(gadget_name: str = "g", **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "sandbox.test/v1", "kind": "Gadget", "metadata": {"name": gadget_name}, "spec": spec}


@pytest.fixture
def gadgets(http: httpx.Client) -> None:
    http.post(CRDS, json=GADGET_CRD).raise_for_status()


@pytest.fixture
def argo_crds(http: httpx.Client) -> None:
    for file_name in argo_crd_files():
        http.post(CRDS, json=crd_manifest(file_name)).raise_for_status()


def _rollout(**spec: Any) -> dict[str, Any]:
    labels = {"app": "web"}
    body = {"replicas": 3, "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "app", "image": "a:1"}]}},
            "strategy": {"canary": {"steps": [{"setWeight": 20}, {"pause": {}}]}}}
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {"name": "web"},
            "spec": {**body, **spec}}


def _causes(response: httpx.Response) -> list[dict[str, str]]:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["reason"] == "Invalid"
    causes: list[dict[str, str]] = body["details"]["causes"]
    return causes


# ------------------------------------------------------------------------------------------ validation

@pytest.mark.usefixtures("argo_crds")
def test_wrong_type_is_refused_naming_the_field_in_the_servers_words(http: httpx.Client) -> None:
    response = http.post(ROLLOUTS, json=_rollout(replicas="three"))
    assert _causes(response) == [{
        "reason": "FieldValueInvalid", "field": "spec.replicas",
        "message": 'Invalid value: "string": spec.replicas in body must be of type integer: "string"'}]
    assert response.json()["message"] == (
        'Rollout.argoproj.io "web" is invalid: spec.replicas: Invalid value: "string": spec.replicas in body must'
        ' be of type integer: "string"')


@pytest.mark.usefixtures("argo_crds")
def test_the_kubernetes_client_sees_the_422_with_the_field(api_client: client.ApiClient) -> None:
    custom = client.CustomObjectsApi(api_client)
    with pytest.raises(ApiException) as raised:
        custom.create_namespaced_custom_object("argoproj.io", "v1alpha1", "default", "rollouts",
                                               _rollout(strategy={"canary": {"steps": [{"setWeight": "half"}]}}))
    assert raised.value.status == 422
    assert "spec.strategy.canary.steps[0].setWeight in body must be of type integer" in raised.value.body


@pytest.mark.usefixtures("gadgets")
@pytest.mark.parametrize(("spec", "cause"), [
    ({}, {"reason": "FieldValueRequired", "field": "spec.size", "message": "Required value"}),
    ({"size": 0}, {"reason": "FieldValueInvalid", "field": "spec.size",
                   "message": "Invalid value: 0: spec.size in body should be greater than or equal to 1"}),
    ({"size": 11}, {"reason": "FieldValueInvalid", "field": "spec.size",
                    "message": "Invalid value: 11: spec.size in body should be less than or equal to 10"}),
    ({"size": 1, "colour": "green"}, {"reason": "FieldValueNotSupported", "field": "spec.colour",
                                      "message": 'Unsupported value: "green": supported values: "red", "blue"'}),
    ({"size": 1, "name": "toolong"}, {"reason": "FieldValueTooLong", "field": "spec.name",
                                      "message": "Too long: may not be more than 5 bytes"}),
    ({"size": 1, "ports": [{"port": "http"}]}, {
        "reason": "FieldValueInvalid", "field": "spec.ports[0].port",
        "message": 'Invalid value: "string": spec.ports[0].port in body must be of type integer: "string"'}),
    ({"size": 1, "labels": {"tier": 3}}, {
        "reason": "FieldValueInvalid", "field": "spec.labels[tier]",
        "message": 'Invalid value: "integer": spec.labels[tier] in body must be of type string: "integer"'}),
    ({"size": 1, "target": True}, {
        "reason": "FieldValueInvalid", "field": "spec.target",
        "message": 'Invalid value: "boolean": spec.target in body must be of type integer or string: "boolean"'}),
])
def test_schema_constraints_are_enforced(http: httpx.Client, spec: dict[str, Any], cause: dict[str, str]) -> None:
    assert _causes(http.post(GADGETS, json=_gadget(**spec))) == [cause]


@pytest.mark.usefixtures("gadgets")
def test_every_violation_is_reported_at_once(http: httpx.Client) -> None:
    response = http.post(GADGETS, json=_gadget(size="big", colour="green"))
    assert {cause["field"] for cause in _causes(response)} == {"spec.size", "spec.colour"}
    assert response.json()["message"].startswith('Gadget.sandbox.test "g" is invalid: [spec.')


@pytest.mark.usefixtures("gadgets")
def test_int_or_string_takes_both(http: httpx.Client) -> None:
    http.post(GADGETS, json=_gadget("a", size=1, target=8080)).raise_for_status()
    http.post(GADGETS, json=_gadget("b", size=1, target="http")).raise_for_status()


@pytest.mark.usefixtures("gadgets")
def test_an_invalid_update_or_patch_leaves_the_object_as_it_was(http: httpx.Client,
                                                                emulator: ApiEmulator) -> None:
    created = http.post(GADGETS, json=_gadget(size=2)).json()
    assert _causes(http.patch(f"{GADGETS}/g", headers=MERGE, json={"spec": {"size": "two"}}))[0]["field"] == (
        "spec.size")
    assert _causes(http.patch(f"{GADGETS}/g", headers=JSON_PATCH,
                              json=[{"op": "remove", "path": "/spec/size"}]))[0]["field"] == "spec.size"
    replaced = {**created, "spec": {"size": 20}}
    assert _causes(http.put(f"{GADGETS}/g", json=replaced))[0]["field"] == "spec.size"
    stored = emulator.get_object("sandbox.test", "v1", "gadgets", "default", "g")
    assert stored is not None and stored["spec"] == {"size": 2, "mode": "auto"}
    assert stored["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]


@pytest.mark.usefixtures("gadgets")
def test_an_update_may_keep_a_value_a_tightened_schema_now_refuses(http: httpx.Client) -> None:
    # Validation ratcheting (Kubernetes 1.30+): unchanged values are not validated again on update.
    http.post(GADGETS, json=_gadget(size=8, colour="red")).raise_for_status()
    crd = http.get(f"{CRDS}/gadgets.sandbox.test").json()
    crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["size"][
        "maximum"] = 5
    http.put(f"{CRDS}/gadgets.sandbox.test", json=crd).raise_for_status()

    kept = http.patch(f"{GADGETS}/g", headers=MERGE, json={"spec": {"colour": "blue"}})
    assert kept.status_code == 200, kept.text
    assert kept.json()["spec"]["size"] == 8
    changed = http.patch(f"{GADGETS}/g", headers=MERGE, json={"spec": {"size": 9}})
    assert _causes(changed)[0]["message"] == "Invalid value: 9: spec.size in body should be less than or equal to 5"
    assert http.post(GADGETS, json=_gadget("h", size=8)).status_code == 422  # a new object gets no such grace


@pytest.mark.usefixtures("gadgets")
def test_status_writes_are_validated_too(http: httpx.Client) -> None:
    http.post(GADGETS, json=_gadget(size=2)).raise_for_status()
    response = http.patch(f"{GADGETS}/g/status", headers=MERGE, json={"status": {"ready": "yes"}})
    assert _causes(response)[0]["field"] == "status.ready"


@pytest.mark.usefixtures("gadgets")
def test_in_process_writes_follow_the_same_rules(emulator: ApiEmulator) -> None:
    with pytest.raises(ApiError) as raised:
        emulator.create_object("sandbox.test", "v1", "gadgets", _gadget(size=-1), namespace="default")
    assert raised.value.code == 422 and raised.value.details["causes"][0]["field"] == "spec.size"


# --------------------------------------------------------------------------------------------- pruning

@pytest.mark.usefixtures("gadgets")
def test_unknown_fields_are_pruned_where_the_schema_does_not_preserve_them(http: httpx.Client) -> None:
    body = _gadget(size=2, shape="round", ports=[{"port": 80, "protocol": "TCP"}],
                   extra={"anything": {"goes": [1, 2]}})
    body["colour"] = "top-level"
    stored = http.post(GADGETS, json=body).json()
    assert stored["spec"] == {"size": 2, "ports": [{"port": 80}], "extra": {"anything": {"goes": [1, 2]}},
                              "mode": "auto"}
    assert "colour" not in stored


@pytest.mark.usefixtures("gadgets")
def test_null_is_dropped_unless_the_field_is_nullable(http: httpx.Client) -> None:
    stored = http.post(GADGETS, json=_gadget(size=2, colour=None, note=None)).json()
    assert stored["spec"] == {"size": 2, "note": None, "mode": "auto"}


@pytest.mark.usefixtures("gadgets")
def test_defaults_fill_absent_fields_of_present_objects(http: httpx.Client) -> None:
    # A default applies where its parent object exists: `limits` absent stays absent, `limits: {}` gets cpu.
    stored = http.post(GADGETS, json=_gadget("a", size=2)).json()
    assert stored["spec"] == {"size": 2, "mode": "auto"}
    stored = http.post(GADGETS, json=_gadget("b", size=2, mode="manual", limits={})).json()
    assert stored["spec"] == {"size": 2, "mode": "manual", "limits": {"cpu": "100m"}}
    stored = http.post(GADGETS, json=_gadget("c", size=2, mode=None)).json()  # null, not nullable: defaulted
    assert stored["spec"]["mode"] == "auto"


@pytest.mark.usefixtures("gadgets")
def test_a_patch_of_only_pruned_fields_changes_nothing(http: httpx.Client) -> None:
    created = http.post(GADGETS, json=_gadget(size=2)).json()
    patched = http.patch(f"{GADGETS}/g", headers=MERGE, json={"spec": {"shape": "round"}}).json()
    assert patched["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]
    assert patched["metadata"]["generation"] == 1 and patched["spec"] == {"size": 2, "mode": "auto"}


@pytest.mark.usefixtures("gadgets")
def test_field_validation_strict_refuses_unknown_fields(http: httpx.Client) -> None:
    response = http.post(GADGETS, params={"fieldValidation": "Strict"}, json=_gadget(size=2, shape="round"))
    assert response.status_code == 400
    assert response.json()["message"] == (
        'Gadget in version "v1" cannot be handled as a Gadget: strict decoding error: unknown field "spec.shape"')
    http.post(GADGETS, json=_gadget(size=2)).raise_for_status()
    patch = http.patch(f"{GADGETS}/g", params={"fieldValidation": "Strict"}, headers=MERGE,
                       json={"spec": {"shape": "round"}})
    assert patch.status_code == 400 and 'unknown field "spec.shape"' in patch.json()["message"]


@pytest.mark.usefixtures("gadgets")
def test_pruned_fields_are_warned_about_unless_validation_is_ignored(http: httpx.Client) -> None:
    # Upstream's default fieldValidation is Warn: one `Warning: 299 - "unknown field …"` header per field.
    warned = http.post(GADGETS, json=_gadget("a", size=2, shape="round", weight=3))
    assert warned.headers.get_list("Warning") == ['299 - "unknown field \\"spec.shape\\""',
                                                  '299 - "unknown field \\"spec.weight\\""']
    ignored = http.post(GADGETS, params={"fieldValidation": "Ignore"}, json=_gadget("b", size=2, shape="round"))
    assert ignored.status_code == 201 and "Warning" not in ignored.headers
    patched = http.patch(f"{GADGETS}/a", params={"fieldValidation": "Warn"}, headers=MERGE,
                         json={"spec": {"colour": "red", "texture": "smooth"}})
    assert patched.headers.get_list("Warning") == ['299 - "unknown field \\"spec.texture\\""']


@pytest.mark.usefixtures("argo_crds")
def test_argo_cd_application_status_written_by_a_controller_survives(http: httpx.Client) -> None:
    # Argo CD's Application has no status subresource: its controller patches status on the object itself.
    status = yaml.safe_load((Path(__file__).parent / "argocd_application_status.yaml").read_text())
    application = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application", "metadata": {"name": "guestbook"},
                   "spec": {"project": "default",
                            "source": {"repoURL": "https://github.com/argoproj/argocd-example-apps.git",
                                       "path": "guestbook", "targetRevision": "HEAD"},
                            "destination": {"server": "https://kubernetes.default.svc", "namespace": "default"}}}
    http.post(APPLICATIONS, json=application).raise_for_status()
    http.patch(f"{APPLICATIONS}/guestbook", headers=MERGE, json={"status": status}).raise_for_status()
    assert http.get(f"{APPLICATIONS}/guestbook").json()["status"] == status


def _argo_documents(root: Path) -> list[dict[str, Any]]:
    documents: list[dict[str, Any]] = []
    for path in sorted(root.rglob("*.yaml")):
        try:
            loaded = list(yaml.load_all(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))
        except yaml.YAMLError:
            continue  # a chart template, not a manifest
        for document in loaded:
            if isinstance(document, dict) and document.get("apiVersion") == "argoproj.io/v1alpha1":
                documents.append(document)
    return documents


@pytest.mark.usefixtures("argo_crds")
def test_every_example_is_stored_exactly_as_written(http: httpx.Client) -> None:
    documents = _argo_documents(REPO / "examples")
    assert documents, "examples/ holds Argo manifests"
    _assert_stored_unchanged(http, documents)


@pytest.mark.usefixtures("argo_crds")
def test_every_argo_manifest_of_the_corpus_is_stored_exactly_as_written(http: httpx.Client) -> None:
    reason = corpus_missing_reason()
    if reason is not None:
        pytest.skip(reason)
    _assert_stored_unchanged(http, _argo_documents(corpus_dir()))


def _assert_stored_unchanged(http: httpx.Client, documents: list[dict[str, Any]]) -> None:
    plurals = {crd["spec"]["names"]["kind"]: (crd["spec"]["names"]["plural"], crd["spec"]["scope"])
               for crd in map(crd_manifest, argo_crd_files())}
    seen: set[tuple[str, str]] = set()
    for document in documents:
        plural, scope = plurals[document["kind"]]
        name = document["metadata"].get("name") or document["metadata"]["generateName"] + "x"
        if (plural, name) in seen:
            continue
        seen.add((plural, name))
        body = {**document, "metadata": {**document["metadata"], "name": name}}
        body["metadata"].pop("namespace", None)
        base = "/apis/argoproj.io/v1alpha1" + ("/namespaces/default" if scope == "Namespaced" else "")
        response = http.post(f"{base}/{plural}", json=body)
        assert response.status_code == 201, (document["kind"], name, response.text)
        stored = response.json()
        for key in set(document) - {"metadata", "status"}:
            assert stored.get(key) == document[key], (document["kind"], name, key)
