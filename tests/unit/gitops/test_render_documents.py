"""Manifests read from Directory source files with Argo CD's rules for files that are not manifests."""

from __future__ import annotations

import pytest

from gitops.render.documents import json_object, yaml_objects
from gitops.render.errors import RenderError

DEPLOYMENT = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n"


def test_every_document_of_a_multi_document_file_is_read() -> None:
    text = DEPLOYMENT + "---\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: web\n"
    assert [obj["kind"] for obj in yaml_objects(text, "a.yaml")] == ["Deployment", "Service"]


def test_list_kinds_are_flattened_into_their_items() -> None:
    text = (
        "apiVersion: v1\nkind: List\nitems:\n"
        "- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n"
        "- {apiVersion: v1, kind: Secret, metadata: {name: b}}\n"
    )
    assert [obj["kind"] for obj in yaml_objects(text, "list.yaml")] == ["ConfigMap", "Secret"]


def test_a_yaml_file_that_is_not_a_manifest_is_ignored() -> None:
    """Argo CD skips YAML that fails to read as objects unless it looks like a manifest (values, CI files)."""
    assert yaml_objects("replicaCount: 1\nimage:\n  tag: v5\n", "values.yaml") == []


def test_a_syntax_error_in_a_manifest_names_the_file_and_line() -> None:
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: [unclosed\n"
    with pytest.raises(RenderError, match=r"^cm\.yaml: line 7, column 1: invalid YAML"):
        yaml_objects(text, "cm.yaml")


def test_a_bad_document_after_good_ones_is_an_error() -> None:
    with pytest.raises(RenderError, match=r"multi\.yaml: line 6: document has no apiVersion and no kind"):
        yaml_objects(DEPLOYMENT + "---\nfoo: bar\n", "multi.yaml")


def test_json_manifest_is_read() -> None:
    assert json_object('{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "a"}}', "s.json")[0]["kind"] == (
        "Service"
    )


def test_other_json_is_ignored() -> None:
    assert json_object('{"name": "my-package", "version": "1.0.0"}', "package.json") == []


def test_broken_json_manifest_names_the_line() -> None:
    with pytest.raises(RenderError, match=r"s\.json: line 3, column \d+: invalid JSON"):
        json_object('{"apiVersion": "v1",\n "kind": "Service",\n "metadata": {"name": }}', "s.json")


def test_renderer_output_is_strict() -> None:
    with pytest.raises(RenderError, match="document has no apiVersion"):
        yaml_objects("foo: bar\n", "chart/templates/x.yaml", strict=True)
