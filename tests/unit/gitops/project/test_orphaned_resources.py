"""Orphaned resources (Argo CD docs: user-guide/orphaned-resources.md, "Exceptions"; controller getResourceTree and
isKnownOrphanedResourceExclusion): reported, never deleted."""

from __future__ import annotations

from typing import Any

import pytest

from gitops.project.orphaned_resources import (
    known_exclusion,
    orphan_entries,
    orphaned_condition,
    orphaned_resources,
    warns,
)
from gitops.resources import JsonObject, ResourceKey

TRACKING = "argocd.argoproj.io/tracking-id"
EXISTING_APPS = {"web", "other"}


def obj(kind: str, name: str, *, api_version: str = "v1", namespace: str = "web", uid: str = "",
        owner: str = "", tracked_by: str = "") -> JsonObject:
    metadata: dict[str, Any] = {"name": name, "namespace": namespace, "uid": uid or f"uid-{kind}-{name}"}
    if owner:
        metadata["ownerReferences"] = [{"uid": owner, "kind": "X", "name": "x"}]
    if tracked_by:
        group = api_version.rpartition("/")[0]
        metadata["annotations"] = {TRACKING: f"{tracked_by}:{group}/{kind}:{namespace}/{name}"}
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata}


def tracked_by_other_app(live: JsonObject) -> bool:
    annotation = ((live["metadata"].get("annotations") or {}).get(TRACKING) or "")
    owner = annotation.partition(":")[0]
    return bool(owner) and owner != "web" and owner in EXISTING_APPS


def everything_permitted(key: ResourceKey) -> bool:
    return True


def orphans(project: JsonObject, live: list[JsonObject], *, managed: set[ResourceKey] | None = None,
            permitted: Any = everything_permitted) -> list[str] | None:
    found = orphaned_resources(project, live, managed=managed or set(), tracked_by_other_app=tracked_by_other_app,
                               permitted=permitted)
    return None if found is None else [str(ResourceKey.of(o)) for o in found]


MONITORED: JsonObject = {"metadata": {"name": "team"}, "spec": {"orphanedResources": {}}}


def test_nothing_is_reported_unless_the_project_sets_orphaned_resources() -> None:
    assert orphans({"spec": {}}, [obj("ConfigMap", "stray")]) is None


def test_untracked_top_level_objects_are_orphans() -> None:
    assert orphans(MONITORED, [obj("ConfigMap", "stray"), obj("Secret", "token")]) == [
        "ConfigMap web/stray", "Secret web/token"]


def test_the_applications_own_resources_are_not_orphans() -> None:
    own = obj("ConfigMap", "settings", tracked_by="web")
    assert orphans(MONITORED, [own], managed={ResourceKey.of(own)}) == []


def test_an_object_another_existing_application_tracks_is_not_an_orphan() -> None:
    assert orphans(MONITORED, [obj("ConfigMap", "theirs", tracked_by="other")]) == []


def test_an_object_tracked_by_an_application_that_no_longer_exists_is_an_orphan() -> None:
    assert orphans(MONITORED, [obj("ConfigMap", "left-behind", tracked_by="deleted-app")]) == [
        "ConfigMap web/left-behind"]


def test_an_orphans_descendants_are_listed_with_it() -> None:
    """Argo CD iterates the hierarchy of each orphan: a Deployment brings its ReplicaSet and Pod."""
    live = [
        obj("Deployment", "manual", api_version="apps/v1", uid="d1"),
        obj("ReplicaSet", "manual-5d9", api_version="apps/v1", uid="r1", owner="d1"),
        obj("Pod", "manual-5d9-x", uid="p1", owner="r1"),
    ]
    assert orphans(MONITORED, live) == ["Pod web/manual-5d9-x", "apps/Deployment web/manual",
                                        "apps/ReplicaSet web/manual-5d9"]


def test_children_of_managed_resources_are_not_orphans() -> None:
    own = obj("Deployment", "app", api_version="apps/v1", uid="d1", tracked_by="web")
    child = obj("ReplicaSet", "app-1", api_version="apps/v1", uid="r1", owner="d1")
    assert orphans(MONITORED, [own, child], managed={ResourceKey.of(own)}) == []


@pytest.mark.parametrize(
    ("live", "namespace"),
    [
        pytest.param(obj("ServiceAccount", "default"), "web", id="default-service-account"),
        pytest.param(obj("ConfigMap", "kube-root-ca.crt"), "web", id="kube-root-ca"),
        pytest.param(obj("Service", "kubernetes", namespace="default"), "default", id="api-server-service"),
    ],
)
def test_objects_kubernetes_puts_in_every_namespace_are_never_orphans(live: JsonObject, namespace: str) -> None:
    assert orphans(MONITORED, [live]) == []


def test_a_service_named_kubernetes_outside_the_default_namespace_is_an_orphan() -> None:
    assert orphans(MONITORED, [obj("Service", "kubernetes")]) == ["Service web/kubernetes"]


@pytest.mark.parametrize(
    ("entry", "key", "ignored"),
    [
        pytest.param({"kind": "ConfigMap", "name": "orphaned-but-ignored-configmap"},
                     ResourceKey("", "ConfigMap", "web", "orphaned-but-ignored-configmap"), True, id="docs-example"),
        pytest.param({"kind": "Secret", "name": "*.example.com"}, ResourceKey("", "Secret", "web", "tls.example.com"),
                     True, id="name-glob"),
        pytest.param({"kind": "Secret", "name": "*.example.com"}, ResourceKey("", "Secret", "web", "tls"), False,
                     id="name-glob-no-match"),
        pytest.param({"kind": "ConfigMap"}, ResourceKey("", "ConfigMap", "web", "any"), True, id="no-name-all-names"),
        pytest.param({"group": "apps"}, ResourceKey("apps", "Deployment", "web", "x"), True, id="no-kind-all-kinds"),
        pytest.param({"kind": "Deployment"}, ResourceKey("apps", "Deployment", "web", "x"), False,
                     id="no-group-is-the-core-group"),
        pytest.param({"group": "*", "kind": "Deployment"}, ResourceKey("apps", "Deployment", "web", "x"), True,
                     id="group-glob"),
    ],
)
def test_ignore_entries(entry: JsonObject, key: ResourceKey, ignored: bool) -> None:
    project = {"spec": {"orphanedResources": {"ignore": [entry]}}}
    assert known_exclusion(key, project) is ignored


def test_kinds_the_project_does_not_permit_are_never_orphans() -> None:
    project = {"spec": {"orphanedResources": {}, "namespaceResourceBlacklist": [{"group": "", "kind": "Secret"}]}}
    assert orphans(project, [obj("Secret", "token"), obj("ConfigMap", "stray")]) == ["ConfigMap web/stray"]


def test_a_descendant_the_project_does_not_permit_is_left_out_with_its_own_descendants() -> None:
    live = [obj("Deployment", "manual", api_version="apps/v1", uid="d1"),
            obj("ReplicaSet", "manual-1", api_version="apps/v1", uid="r1", owner="d1"),
            obj("Pod", "manual-1-x", uid="p1", owner="r1")]
    assert orphans(MONITORED, live, permitted=lambda key: key.kind != "ReplicaSet") == ["apps/Deployment web/manual"]


def test_warning_uses_argo_cds_message_and_counts_descendants() -> None:
    found = orphaned_resources(MONITORED, [obj("Deployment", "m", api_version="apps/v1", uid="d1"),
                                           obj("Pod", "m-x", owner="d1")],
                               managed=set(), tracked_by_other_app=tracked_by_other_app,
                               permitted=everything_permitted)
    assert orphaned_condition(MONITORED, found) == {"type": "OrphanedResourceWarning",
                                                    "message": "Application has 2 orphaned resources"}


@pytest.mark.parametrize(
    ("settings", "warning"),
    [
        pytest.param({}, True, id="warn-unset-warns"),
        pytest.param({"warn": True}, True, id="warn-true"),
        pytest.param({"warn": False}, False, id="warn-false-lists-only"),
    ],
)
def test_warn_is_true_unless_set_false(settings: JsonObject, warning: bool) -> None:
    project = {"spec": {"orphanedResources": settings}}
    assert warns(project) is warning
    assert (orphaned_condition(project, [obj("ConfigMap", "stray")]) is not None) is warning


def test_no_orphans_no_condition() -> None:
    assert orphaned_condition(MONITORED, []) is None


def test_orphans_are_listed_as_resource_refs() -> None:
    assert orphan_entries([obj("Deployment", "manual", api_version="apps/v1")]) == [
        {"group": "apps", "version": "v1", "kind": "Deployment", "namespace": "web", "name": "manual"}]
