"""A project's decisions for one Application (Argo CD: projects.md, sync_windows.md; messages from its controller)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from gitops.clusters import ClusterConfig
from gitops.project.admission import find_project, resource_permission, spec_problems, sync_blocked
from gitops.project.permissions import default_project
from gitops.resources import ResourceKey

TEAM_A = {
    "metadata": {"name": "team-a"},
    "spec": {
        "sourceRepos": ["https://github.com/org/team-a-*"],
        "destinations": [{"namespace": "team-a-*", "server": "https://kubernetes.default.svc"}],
        "clusterResourceWhitelist": [{"group": "", "kind": "Namespace"}],
        "syncWindows": [{"kind": "deny", "schedule": "* * * * *", "duration": "1h", "applications": ["*"],
                         "manualSync": True}],
    },
}


def app(project: str = "team-a", namespace: str = "team-a-web", repo: str = "https://github.com/org/team-a-web"
        ) -> dict[str, Any]:
    return {"metadata": {"name": "web", "namespace": "argocd"},
            "spec": {"project": project, "source": {"repoURL": repo, "path": "."},
                     "destination": {"server": "https://kubernetes.default.svc", "namespace": namespace}}}


def namespaced(group: str, kind: str) -> bool:
    return kind not in ("Namespace", "ClusterRole")


def test_a_missing_project_is_named_with_argo_cds_message() -> None:
    assert find_project(app("nope"), {"team-a": TEAM_A}) == "Application referencing project nope which does not exist"


def test_an_empty_project_means_default() -> None:
    default = default_project("argocd")
    assert find_project(app(""), {"default": default}) is default


def test_spec_problems_come_from_sources_and_destination() -> None:
    assert spec_problems(app(), TEAM_A, "argocd") == []
    problems = spec_problems(app(namespace="prod", repo="https://github.com/org/other"), TEAM_A, "argocd")
    assert problems == [
        "application repo https://github.com/org/other is not permitted in project 'team-a'",
        "application destination server 'https://kubernetes.default.svc' and namespace 'prod' do not match any of "
        "the allowed destinations in project 'team-a'",
    ]


EDGE = ClusterConfig(name="edge", server="https://edge.example:6443")
BY_NAME = {"metadata": {"name": "by-name"},
           "spec": {"sourceRepos": ["*"], "destinations": [{"name": "edge", "namespace": "*"}]}}


def by_name_app(destination: dict[str, str]) -> dict[str, Any]:
    return {"metadata": {"name": "web", "namespace": "argocd"},
            "spec": {"project": "by-name", "source": {"repoURL": "https://x/r", "path": "."},
                     "destination": {**destination, "namespace": "web"}}}


def test_a_project_destination_by_name_admits_an_app_that_names_the_cluster_by_server() -> None:
    """Argo CD 3 matches the project's destinations against the resolved cluster's server and name
    (``IsDestinationPermitted(destCluster, namespace)``), whichever field the Application used."""
    app_by_server = by_name_app({"server": EDGE.server})
    assert spec_problems(app_by_server, BY_NAME, "argocd", cluster=EDGE) == []
    permitted = resource_permission(app_by_server, BY_NAME, namespaced, cluster=EDGE)
    assert permitted(ResourceKey("apps", "Deployment", "web", "web")) is None


def test_without_the_resolved_cluster_only_the_applications_own_fields_are_matched() -> None:
    assert spec_problems(by_name_app({"server": EDGE.server}), BY_NAME, "argocd") == [
        "application destination server 'https://edge.example:6443' and namespace 'web' do not match any of the "
        "allowed destinations in project 'by-name'"]


def test_each_resource_is_checked_for_kind_and_namespace() -> None:
    permitted = resource_permission(app(), TEAM_A, namespaced)
    assert permitted(ResourceKey("", "Namespace", "", "team-a-web")) is None
    assert permitted(ResourceKey("apps", "Deployment", "team-a-web", "web")) is None
    assert permitted(ResourceKey("rbac.authorization.k8s.io", "ClusterRole", "", "x")) == (
        "resource rbac.authorization.k8s.io:ClusterRole is not permitted in project team-a")
    assert permitted(ResourceKey("apps", "Deployment", "kube-system", "web")) == (
        "namespace kube-system is not permitted in project 'team-a'")


def test_a_deny_window_blocks_automated_syncs_and_lets_manual_ones_through() -> None:
    now = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    assert sync_blocked(app(), TEAM_A, now, manual=False) == "Sync operation blocked by sync window"
    assert sync_blocked(app(), TEAM_A, now, manual=True) is None
    assert sync_blocked(app(), default_project("argocd"), now, manual=False) is None
