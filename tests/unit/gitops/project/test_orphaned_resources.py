"""Orphaned resources (Argo CD docs: user-guide/orphaned-resources.md): reported, never deleted."""

from __future__ import annotations

from typing import Any

from gitops.project.orphaned_resources import orphaned_condition, orphaned_resources
from gitops.resources import ResourceKey


def obj(kind: str, name: str, *, api_version: str = "v1", **metadata: Any) -> dict[str, Any]:
    return {"apiVersion": api_version, "kind": kind, "metadata": {"name": name, "namespace": "web", **metadata}}


LIVE = [
    obj("ConfigMap", "tracked", annotations={"argocd.argoproj.io/tracking-id": "web:/ConfigMap:web/tracked"}),
    obj("ConfigMap", "stray"),
    obj("Pod", "child", ownerReferences=[{"kind": "ReplicaSet", "name": "rs"}]),
    obj("ServiceAccount", "default"),
]


def tracked(live: dict[str, Any]) -> bool:
    return "argocd.argoproj.io/tracking-id" in (live["metadata"].get("annotations") or {})


def test_nothing_is_reported_unless_the_project_asks() -> None:
    assert orphaned_resources({"spec": {}}, LIVE, tracked) is None


def test_untracked_top_level_objects_are_orphans() -> None:
    orphans = orphaned_resources({"spec": {"orphanedResources": {}}}, LIVE, tracked)
    assert orphans == [
        ResourceKey("", "ConfigMap", "web", "stray"),
        ResourceKey("", "ServiceAccount", "web", "default"),
    ]


def test_ignore_entries_leave_objects_out_by_glob() -> None:
    project = {"spec": {"orphanedResources": {"ignore": [{"kind": "ServiceAccount", "name": "def*"}]}}}
    assert orphaned_resources(project, LIVE, tracked) == [ResourceKey("", "ConfigMap", "web", "stray")]


def test_the_warning_condition_counts_and_names_them_unless_warn_is_false() -> None:
    project = {"spec": {"orphanedResources": {}}}
    orphans = orphaned_resources(project, LIVE, tracked)
    condition = orphaned_condition(project, orphans)
    assert condition is not None and condition["type"] == "OrphanedResourceWarning"
    assert condition["message"].startswith("Application has 2 orphaned resources")
    assert "ConfigMap web/stray" in condition["message"]
    assert orphaned_condition({"spec": {"orphanedResources": {"warn": False}}}, orphans) is None
