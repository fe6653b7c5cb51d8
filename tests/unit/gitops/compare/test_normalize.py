"""Normalisation: what is removed or rewritten on both sides before they are compared."""

from __future__ import annotations

import base64

import pytest

from gitops.compare.normalize import canonical_quantity, normalize


def test_server_owned_metadata_is_dropped() -> None:
    """Argo CD normalises away creationTimestamp, uid, resourceVersion, generation and managedFields."""
    live = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "c",
            "creationTimestamp": "2026-01-01T00:00:00Z",
            "uid": "1234",
            "resourceVersion": "99",
            "generation": 3,
            "managedFields": [{"manager": "kubectl"}],
        },
    }
    assert normalize(live)["metadata"] == {"name": "c"}


def test_custom_resource_status_is_dropped_by_default() -> None:
    """Argo CD ignoreResourceStatusField default (crd): the status of custom resources is not compared."""
    rollout = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {"name": "r"}, "status": {"x": 1}}
    assert "status" not in normalize(rollout)


def test_built_in_status_is_kept_by_default_and_dropped_with_all() -> None:
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}, "status": {"replicas": 1}}
    assert normalize(deployment)["status"] == {"replicas": 1}
    assert "status" not in normalize(deployment, ignore_status="all")
    rollout = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {"name": "r"}, "status": {"x": 1}}
    assert normalize(rollout, ignore_status="off")["status"] == {"x": 1}


def test_unknown_ignore_status_mode_names_the_setting() -> None:
    with pytest.raises(ValueError, match="ignoreResourceStatusField: unknown value 'some'"):
        normalize({"kind": "ConfigMap"}, ignore_status="some")


def test_secret_string_data_is_folded_into_base64_data() -> None:
    """The API server stores stringData as base64 data (stringData wins over data for the same key)."""
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s"},
        "data": {"user": base64.b64encode(b"old").decode(), "keep": "a2VlcA=="},
        "stringData": {"user": "admin"},
    }
    normalized = normalize(secret)
    assert "stringData" not in normalized
    assert normalized["data"] == {"user": base64.b64encode(b"admin").decode(), "keep": "a2VlcA=="}


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        pytest.param("1000m", "1", id="millicores"),
        pytest.param(1, "1", id="integer"),
        pytest.param("500m", "0.5", id="half-cpu"),
        pytest.param("1Gi", "1073741824", id="gibibyte"),
        pytest.param("1024Mi", "1073741824", id="mebibytes"),
        pytest.param("1k", "1000", id="decimal-kilo"),
        pytest.param("1e3", "1000", id="exponent"),
        pytest.param("not-a-quantity", "not-a-quantity", id="left-alone"),
    ],
)
def test_quantities_have_one_canonical_spelling(written: object, canonical: str) -> None:
    """Kubernetes quantities: the same amount written two ways must not make a diff (computed by hand)."""
    assert canonical_quantity(written) == canonical


def test_resource_requests_are_canonicalised_in_place() -> None:
    pod_spec = {"containers": [{"name": "c", "resources": {"limits": {"cpu": 1, "memory": "1Gi"}}}]}
    obj = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": pod_spec}
    limits = normalize(obj)["spec"]["containers"][0]["resources"]["limits"]
    assert limits == {"cpu": "1", "memory": "1073741824"}
