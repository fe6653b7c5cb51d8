"""From an ApplicationSet to its Applications (seeds' applicationset-git-directories layout, Argo CD's rules)."""

from __future__ import annotations

from typing import Any

import pytest

from gitops.appset.desired_applications import GenerationError, Sources, desired_applications
from tests.unit.gitops.appset.test_generators import FakeRepository

INFRA_APPS: dict[str, Any] = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "ApplicationSet",
    "metadata": {"name": "infra-apps", "namespace": "argocd"},
    "spec": {
        "generators": [{"git": {"repoURL": "https://github.com/injunweb/k8s-resource.git", "revision": "HEAD",
                                "directories": [{"path": "apps/*"}]}}],
        "template": {
            "metadata": {"name": "{{path.basename}}", "namespace": "argocd"},
            "spec": {
                "project": "default",
                "source": {"repoURL": "https://github.com/injunweb/k8s-resource.git", "targetRevision": "HEAD",
                           "path": "{{path}}"},
                "destination": {"server": "https://kubernetes.default.svc", "namespace": "{{path.basename}}"},
            },
        },
    },
}
REPO = FakeRepository(directories=["apps", "apps/blog", "apps/shop", "docs"])
GO_TEMPLATE = {
    "metadata": {"name": "{{ .path.basename }}"},
    "spec": {"source": {"repoURL": "https://github.com/injunweb/k8s-resource.git", "path": "{{ .path.path }}"},
             "destination": {"server": "https://kubernetes.default.svc", "namespace": "{{ .path.basename }}"}},
}


def test_each_directory_becomes_an_application_with_the_cascade_finalizer() -> None:
    apps = desired_applications(INFRA_APPS, Sources(git=REPO))
    assert [app["metadata"]["name"] for app in apps] == ["blog", "shop"]
    blog = apps[0]
    assert blog["kind"] == "Application" and blog["metadata"]["namespace"] == "argocd"
    assert blog["spec"]["source"]["path"] == "apps/blog"
    assert blog["spec"]["destination"]["namespace"] == "blog"
    assert blog["metadata"]["finalizers"] == ["resources-finalizer.argocd.argoproj.io"]


def test_preserve_resources_on_deletion_leaves_the_finalizer_off() -> None:
    appset = {**INFRA_APPS, "spec": {**INFRA_APPS["spec"], "syncPolicy": {"preserveResourcesOnDeletion": True}}}
    assert "finalizers" not in desired_applications(appset, Sources(git=REPO))[0]["metadata"]


def test_two_applications_with_one_name_are_an_error_naming_both_inputs() -> None:
    appset = {**INFRA_APPS, "spec": {**INFRA_APPS["spec"], "template": {
        **INFRA_APPS["spec"]["template"], "metadata": {"name": "same"}}}}
    with pytest.raises(GenerationError, match="duplicate name: same") as raised:
        desired_applications(appset, Sources(git=REPO))
    assert "path=apps/blog" in str(raised.value) and "path=apps/shop" in str(raised.value)


def test_a_missing_key_with_missingkey_error_names_the_key_and_generates_nothing() -> None:
    appset = {**INFRA_APPS, "spec": {**INFRA_APPS["spec"], "goTemplate": True,
                                      "goTemplateOptions": ["missingkey=error"],
                                      "template": {**INFRA_APPS["spec"]["template"],
                                                   "metadata": {"name": "{{ .path.nope }}"}}}}
    with pytest.raises(GenerationError, match=r'map has no entry for key "nope"') as raised:
        desired_applications(appset, Sources(git=REPO))
    assert raised.value.reason == "ApplicationGenerationFromParamsError"


def test_template_patch_sets_non_string_fields() -> None:
    appset = {**INFRA_APPS, "spec": {**INFRA_APPS["spec"], "goTemplate": True, "template": GO_TEMPLATE,
                                      "templatePatch": (
                                          "{{- if eq .path.basename \"shop\" }}\n"
                                          "spec:\n  syncPolicy:\n    automated:\n      prune: true\n"
                                          "{{- end }}\n")}}
    apps = {app["metadata"]["name"]: app for app in desired_applications(appset, Sources(git=REPO))}
    assert apps["shop"]["spec"]["syncPolicy"] == {"automated": {"prune": True}}
    assert "syncPolicy" not in apps["blog"]["spec"]


def test_a_generator_template_overrides_the_main_template() -> None:
    appset = {**INFRA_APPS, "spec": {**INFRA_APPS["spec"], "generators": [{"list": {
        "elements": [{"name": "x"}],
        "template": {"metadata": {}, "spec": {"project": "team-a", "source": {"path": "custom"}}},
    }}], "template": {**INFRA_APPS["spec"]["template"], "metadata": {"name": "{{name}}"}}}}
    app = desired_applications(appset, Sources(git=REPO))[0]
    assert app["spec"]["project"] == "team-a"
    assert app["spec"]["source"]["path"] == "custom"
    assert app["spec"]["source"]["repoURL"] == "https://github.com/injunweb/k8s-resource.git"


def test_a_template_that_renders_an_empty_name_names_the_field_and_the_generator() -> None:
    appset = {
        "metadata": {"name": "apps", "namespace": "argocd"},
        "spec": {
            "generators": [{"list": {"elements": [{"cluster": "a"}]}}],
            "template": {"metadata": {"labels": {"x": "y"}}, "spec": {"project": "default"}},
        },
    }
    with pytest.raises(GenerationError) as raised:
        desired_applications(appset, Sources(git=REPO))
    assert str(raised.value) == "spec.template.metadata.name: renders an empty name (generators[0] with {cluster=a})"
