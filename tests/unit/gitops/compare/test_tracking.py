"""Resource tracking: Argo CD's tracking-id annotation (default since 3.0), the instance label, and both."""

from __future__ import annotations

import pytest

from gitops.compare.tracking import (
    INSTANCE_LABEL,
    TRACKING_ANNOTATION,
    owning_app,
    parse_tracking_id,
    tracking_id,
    with_tracking,
)
from gitops.resources import JsonObject

DEPLOYMENT: JsonObject = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web", "namespace": "shop"},
}
CLUSTER_ROLE: JsonObject = {
    "apiVersion": "rbac.authorization.k8s.io/v1",
    "kind": "ClusterRole",
    "metadata": {"name": "reader"},
}
CONFIG_MAP: JsonObject = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "metadata": {"name": "settings", "namespace": "shop"},
}


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        pytest.param(DEPLOYMENT, "guestbook:apps/Deployment:shop/web", id="namespaced"),
        pytest.param(CONFIG_MAP, "guestbook:/ConfigMap:shop/settings", id="core-group-is-empty"),
        pytest.param(CLUSTER_ROLE, "guestbook:rbac.authorization.k8s.io/ClusterRole:/reader", id="cluster-scoped"),
    ],
)
def test_tracking_id_format(obj: JsonObject, expected: str) -> None:
    """Argo CD: tracking-id is <app>:<group>/<kind>:<namespace>/<name>."""
    assert tracking_id("guestbook", obj) == expected


def test_annotation_tracking_marks_and_recognises_the_object() -> None:
    """Annotation tracking (Argo CD 3.0 default): the marked copy is owned by the app; the original is untouched."""
    marked = with_tracking(DEPLOYMENT, "guestbook")
    assert marked["metadata"]["annotations"][TRACKING_ANNOTATION] == "guestbook:apps/Deployment:shop/web"
    assert owning_app(marked) == "guestbook"
    assert "annotations" not in DEPLOYMENT["metadata"]


def test_copied_annotation_naming_another_object_is_ignored() -> None:
    """Argo CD: a tracking annotation that does not name the object it sits on (copied) is ignored."""
    copied = with_tracking(DEPLOYMENT, "guestbook")
    copied["metadata"]["name"] = "web-7d9f"  # e.g. a ReplicaSet-like copy with the same annotations
    assert owning_app(copied) is None


def test_copied_annotation_from_another_namespace_is_ignored() -> None:
    """The namespace is part of the identity: the same annotation on an object in another namespace is ignored."""
    copied = with_tracking(DEPLOYMENT, "guestbook")
    copied["metadata"]["namespace"] = "other"
    assert owning_app(copied) is None


def test_label_tracking_uses_the_instance_label() -> None:
    """Label tracking: app.kubernetes.io/instance=<app>, and the annotation is not read."""
    marked = with_tracking(DEPLOYMENT, "guestbook", "label")
    assert marked["metadata"]["labels"][INSTANCE_LABEL] == "guestbook"
    assert TRACKING_ANNOTATION not in (marked["metadata"].get("annotations") or {})
    assert owning_app(marked, "label") == "guestbook"
    assert owning_app(with_tracking(DEPLOYMENT, "guestbook"), "label") is None


def test_annotation_plus_label_writes_both_and_tracks_by_annotation() -> None:
    """annotation+label: both marks are written; ownership is read from the annotation only."""
    marked = with_tracking(DEPLOYMENT, "guestbook", "annotation+label")
    assert marked["metadata"]["labels"][INSTANCE_LABEL] == "guestbook"
    marked["metadata"]["labels"][INSTANCE_LABEL] = "someone-else"
    assert owning_app(marked, "annotation+label") == "guestbook"


def test_label_tracking_refuses_names_longer_than_a_label_value() -> None:
    """Kubernetes label values are at most 63 characters; the error names the label and the remedy."""
    with pytest.raises(ValueError, match=r"longer than 63 characters; use annotation tracking"):
        with_tracking(DEPLOYMENT, "a" * 64, "label")


def test_unknown_tracking_method_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"resourceTrackingMethod: unknown method 'labels'"):
        owning_app(DEPLOYMENT, "labels")


def test_installation_id_must_match_when_given() -> None:
    """Argo CD installationID: an object marked by another installation is not ours."""
    marked = with_tracking(DEPLOYMENT, "guestbook", installation_id="prod")
    assert owning_app(marked, installation_id="prod") == "guestbook"
    assert owning_app(marked, installation_id="staging") is None


@pytest.mark.parametrize("value", ["", "guestbook", "guestbook:apps/Deployment", "guestbook:Deployment:shop/web"])
def test_malformed_tracking_ids_are_not_parsed(value: str) -> None:
    assert parse_tracking_id(value) is None
