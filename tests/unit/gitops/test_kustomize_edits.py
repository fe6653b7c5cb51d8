"""The Application's kustomize fields written into a kustomization as Argo CD writes them with `kustomize edit`."""

from __future__ import annotations

from typing import Any

import pytest

from gitops.render.errors import RenderError
from gitops.render.kustomize_edits import edited_kustomization, expand_variables, has_edits, parse_image

# `kustomize edit set image` arguments and the `images` entry each gives (kustomize's own docs for the command).
IMAGES = [
    ("nginx:1.25", {"name": "nginx", "newTag": "1.25"}),
    ("nginx=my.registry/nginx:1.25", {"name": "nginx", "newName": "my.registry/nginx", "newTag": "1.25"}),
    ("nginx=my.registry/nginx", {"name": "nginx", "newName": "my.registry/nginx"}),
    ("nginx@sha256:abc", {"name": "nginx", "digest": "sha256:abc"}),
    ("localhost:5000/app:v2", {"name": "localhost:5000/app", "newTag": "v2"}),
    ("localhost:5000/app", {"name": "localhost:5000/app"}),
]


@pytest.mark.parametrize(("argument", "entry"), IMAGES)
def test_image_argument_becomes_an_images_entry(argument: str, entry: dict[str, str]) -> None:
    assert parse_image(argument) == entry


def test_image_updates_the_entry_of_the_same_name_and_a_tag_drops_the_digest() -> None:
    start = {"images": [{"name": "nginx", "digest": "sha256:old"}, {"name": "redis", "newTag": "7"}]}
    edited = edited_kustomization(start, {"images": ["nginx:1.25"]})
    assert edited["images"] == [{"name": "nginx", "newTag": "1.25"}, {"name": "redis", "newTag": "7"}]


def test_image_not_listed_is_added() -> None:
    edited = edited_kustomization({}, {"images": ["redis=mirror/redis:7"]})
    assert edited["images"] == [{"name": "redis", "newName": "mirror/redis", "newTag": "7"}]


def test_prefix_suffix_and_namespace_replace_the_kustomizations_own() -> None:
    start = {"namePrefix": "kustomize-", "namespace": "old"}
    edited = edited_kustomization(start, {"namePrefix": "p-", "nameSuffix": "-s", "namespace": "new"})
    assert (edited["namePrefix"], edited["nameSuffix"], edited["namespace"]) == ("p-", "-s", "new")


def test_the_input_is_not_changed() -> None:
    start: dict[str, Any] = {"commonLabels": {"a": "1"}}
    edited_kustomization(start, {"commonLabels": {"b": "2"}})
    assert start == {"commonLabels": {"a": "1"}}


def test_common_labels_are_added_beside_existing_ones() -> None:
    edited = edited_kustomization({"commonLabels": {"a": "1"}}, {"commonLabels": {"b": "2"}})
    assert edited["commonLabels"] == {"a": "1", "b": "2"}


def test_an_existing_label_is_an_error_without_force() -> None:
    """`kustomize edit add label` refuses a key already present unless --force (Argo CD: forceCommonLabels)."""
    with pytest.raises(RenderError, match=r"spec\.source\.kustomize\.commonLabels: label 'a' is already"):
        edited_kustomization({"commonLabels": {"a": "1"}}, {"commonLabels": {"a": "2"}})


def test_force_common_labels_overwrites() -> None:
    edited = edited_kustomization(
        {"commonLabels": {"a": "1"}}, {"commonLabels": {"a": "2"}, "forceCommonLabels": True}
    )
    assert edited["commonLabels"] == {"a": "2"}


def test_label_without_selector_goes_into_labels() -> None:
    edited = edited_kustomization({}, {"commonLabels": {"team": "x"}, "labelWithoutSelector": True})
    assert edited["labels"] == [{"pairs": {"team": "x"}}]
    assert "commonLabels" not in edited


def test_annotations_with_envsubst_expand_the_build_variables() -> None:
    edited = edited_kustomization(
        {},
        {"commonAnnotations": {"app": "${ARGOCD_APP_NAME}-$ARGOCD_APP_NAMESPACE"}, "commonAnnotationsEnvsubst": True},
        variables={"ARGOCD_APP_NAME": "guestbook", "ARGOCD_APP_NAMESPACE": "prod"},
    )
    assert edited["commonAnnotations"] == {"app": "guestbook-prod"}


def test_envsubst_replaces_unknown_variables_with_nothing() -> None:
    assert expand_variables("a-${NOPE}-b", {}) == "a--b"


def test_replicas_update_by_name_or_are_added() -> None:
    start = {"replicas": [{"name": "web", "count": 1}]}
    edited = edited_kustomization(start, {"replicas": [{"name": "web", "count": "3"}, {"name": "api", "count": 2}]})
    assert edited["replicas"] == [{"name": "web", "count": 3}, {"name": "api", "count": 2}]


def test_a_replica_count_that_is_no_number_names_the_field() -> None:
    with pytest.raises(RenderError, match=r"spec\.source\.kustomize\.replicas\[0\]\.count: 'many'"):
        edited_kustomization({}, {"replicas": [{"name": "web", "count": "many"}]})


def test_missing_component_is_an_error_unless_ignored() -> None:
    options: dict[str, Any] = {"components": ["../gone"]}
    with pytest.raises(RenderError, match=r"component '\.\./gone' does not exist"):
        edited_kustomization({}, options, component_exists=lambda path: False)
    options["ignoreMissingComponents"] = True
    assert "components" not in edited_kustomization({}, options, component_exists=lambda path: False)


def test_patches_are_appended_to_the_kustomizations_own() -> None:
    mine = {"path": "mine.yaml"}
    app_patch = {"patch": "- op: add", "target": {"kind": "Deployment"}}
    assert edited_kustomization({"patches": [mine]}, {"patches": [app_patch]})["patches"] == [mine, app_patch]


def test_kind_and_api_version_are_written_when_missing() -> None:
    edited = edited_kustomization({"resources": ["a.yaml"]}, {"namePrefix": "x-"})
    assert edited["kind"] == "Kustomization"
    assert edited["apiVersion"] == "kustomize.config.k8s.io/v1beta1"


@pytest.mark.parametrize(
    ("options", "edits"),
    [(None, False), ({}, False), ({"version": "v5"}, False), ({"images": ["a:1"]}, True), ({"namespace": "n"}, True)],
)
def test_only_options_that_edit_need_a_copy(options: dict[str, Any] | None, edits: bool) -> None:
    assert has_edits(options) is edits
