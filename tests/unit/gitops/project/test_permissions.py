"""AppProject permissions, case by case against Argo CD's documented rules (docs: user-guide/projects.md) and its
``IsSourcePermitted`` / ``isDestinationMatched`` / ``IsGroupKindPermitted`` behaviour."""

from __future__ import annotations

from typing import Any

import pytest

from gitops.project.permissions import (
    application_violations,
    default_project,
    destination_violation,
    is_destination_permitted,
    is_group_kind_permitted,
    is_source_permitted,
    resource_violation,
    source_violation,
)

IN_CLUSTER = "https://kubernetes.default.svc"


def project(name: str = "team-a", **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "AppProject", "metadata": {"name": name}, "spec": spec}


# The seeds' team-a project: repositories and namespaces by prefix, Namespaces the only cluster-scoped kind.
TEAM_A = project(
    sourceRepos=["https://github.com/org/team-a-*"],
    destinations=[{"namespace": "team-a-*", "server": IN_CLUSTER}],
    clusterResourceWhitelist=[{"group": "", "kind": "Namespace"}],
)


@pytest.mark.parametrize(
    ("patterns", "repo", "permitted"),
    [
        pytest.param(["*"], "https://github.com/anyone/anything", True, id="star-permits-every-repo"),
        pytest.param(["https://github.com/org/team-a-*"], "https://github.com/org/team-a-web.git", True,
                     id="glob-matches-after-dropping-.git"),
        pytest.param(["https://github.com/org/team-a-*"], "https://GitHub.com/Org/Team-A-web", True,
                     id="urls-compare-case-insensitively"),
        pytest.param(["https://github.com/org/team-a-*"], "https://github.com/org/team-b-web", False,
                     id="other-prefix-refused"),
        pytest.param(["git@github.com:org/*"], "git@github.com:org/repo.git", True, id="scp-style-ssh-urls"),
        pytest.param(["!https://github.com/org/secret", "*"], "https://github.com/org/secret", False,
                     id="negation-refuses-the-named-repo"),
        pytest.param(["!https://github.com/org/secret", "*"], "https://github.com/org/public", True,
                     id="negation-leaves-the-others"),
        # Argo CD counts a deny pattern that misses as a match, so a lone deny permits everything else.
        pytest.param(["!https://bad.example/*"], "https://github.com/org/x", True, id="lone-deny-permits-the-rest"),
        pytest.param([], "https://github.com/org/x", False, id="no-patterns-permit-nothing"),
    ],
)
def test_source_repositories(patterns: list[str], repo: str, permitted: bool) -> None:
    assert is_source_permitted(project(sourceRepos=patterns), repo) is permitted


def test_a_refused_repository_gets_argo_cds_message() -> None:
    assert source_violation(TEAM_A, "https://github.com/org/team-b") == (
        "application repo https://github.com/org/team-b is not permitted in project 'team-a'"
    )


@pytest.mark.parametrize(
    ("destinations", "server", "name", "namespace", "permitted"),
    [
        pytest.param([{"server": IN_CLUSTER, "namespace": "team-a-*"}], IN_CLUSTER, "", "team-a-dev", True,
                     id="namespace-glob"),
        pytest.param([{"server": IN_CLUSTER, "namespace": "team-a-*"}], IN_CLUSTER, "", "kube-system", False,
                     id="namespace-outside-the-glob"),
        pytest.param([{"server": IN_CLUSTER, "namespace": "*"}], "https://other:6443", "", "x", False,
                     id="other-server"),
        pytest.param([{"name": "in-cluster", "namespace": "*"}], "", "in-cluster", "x", True,
                     id="destination-by-cluster-name"),
        pytest.param([{"server": "*", "namespace": "!kube-system"}, {"server": "*", "namespace": "*"}],
                     IN_CLUSTER, "", "kube-system", False, id="negated-namespace-wins-over-star"),
        pytest.param([{"server": "*", "namespace": "!kube-system"}, {"server": "*", "namespace": "*"}],
                     IN_CLUSTER, "", "apps", True, id="negation-leaves-other-namespaces"),
        pytest.param([], IN_CLUSTER, "", "apps", False, id="no-destinations-permit-nothing"),
    ],
)
def test_destinations(
    destinations: list[dict[str, str]], server: str, name: str, namespace: str, permitted: bool
) -> None:
    assert is_destination_permitted(project(destinations=destinations), server, name, namespace) is permitted


def test_a_refused_destination_gets_argo_cds_message() -> None:
    assert destination_violation(TEAM_A, IN_CLUSTER, "", "prod") == (
        "application destination server 'https://kubernetes.default.svc' and namespace 'prod' do not match any of "
        "the allowed destinations in project 'team-a'"
    )


@pytest.mark.parametrize(
    ("spec", "group", "kind", "namespaced", "permitted"),
    [
        pytest.param({}, "apps", "Deployment", True, True, id="namespaced-allowed-without-lists"),
        pytest.param({}, "", "Namespace", False, False, id="cluster-scoped-denied-without-whitelist"),
        pytest.param({"clusterResourceWhitelist": [{"group": "", "kind": "Namespace"}]}, "", "Namespace", False,
                     True, id="cluster-whitelist-permits"),
        pytest.param({"clusterResourceWhitelist": [{"group": "", "kind": "Namespace"}]},
                     "rbac.authorization.k8s.io", "ClusterRole", False, False, id="cluster-whitelist-is-exclusive"),
        pytest.param({"clusterResourceWhitelist": [{"group": "*", "kind": "*"}],
                      "clusterResourceBlacklist": [{"group": "apiextensions.k8s.io", "kind": "*"}]},
                     "apiextensions.k8s.io", "CustomResourceDefinition", False, False, id="cluster-blacklist-wins"),
        pytest.param({"namespaceResourceBlacklist": [{"group": "", "kind": "ResourceQuota"}]}, "", "ResourceQuota",
                     True, False, id="namespace-blacklist"),
        pytest.param({"namespaceResourceWhitelist": [{"group": "apps", "kind": "*"}]}, "", "ConfigMap", True, False,
                     id="namespace-whitelist-is-exclusive"),
        pytest.param({"namespaceResourceWhitelist": [{"group": "apps", "kind": "*"}]}, "apps", "StatefulSet", True,
                     True, id="namespace-whitelist-kind-glob"),
        # An explicitly empty whitelist is not an absent one: nothing namespaced is permitted.
        pytest.param({"namespaceResourceWhitelist": []}, "", "ConfigMap", True, False, id="empty-whitelist"),
    ],
)
def test_resource_kinds(spec: dict[str, Any], group: str, kind: str, namespaced: bool, permitted: bool) -> None:
    assert is_group_kind_permitted(project(**spec), group, kind, namespaced=namespaced) is permitted


def test_a_refused_kind_gets_argo_cds_sync_message() -> None:
    assert resource_violation(TEAM_A, "rbac.authorization.k8s.io", "ClusterRole", namespaced=False) == (
        "resource rbac.authorization.k8s.io:ClusterRole is not permitted in project team-a"
    )
    assert resource_violation(TEAM_A, "", "Namespace", namespaced=False) is None


def test_the_default_project_permits_everything() -> None:
    default = default_project("argocd")
    assert default["metadata"] == {"name": "default", "namespace": "argocd"}
    assert is_source_permitted(default, "https://any.example/repo.git")
    assert is_destination_permitted(default, "https://remote:6443", "", "any-namespace")
    assert is_group_kind_permitted(default, "rbac.authorization.k8s.io", "ClusterRole", namespaced=False)
    assert is_group_kind_permitted(default, "apps", "Deployment", namespaced=True)


def test_an_application_outside_the_control_namespace_needs_the_projects_source_namespaces() -> None:
    def violations(spec: dict[str, Any]) -> list[str]:
        return application_violations(
            project(sourceRepos=["*"], destinations=[{"server": "*", "namespace": "*"}], **spec),
            app_name="web", app_namespace="team-a-apps", control_namespace="argocd",
            repo_urls=["https://github.com/org/web"], server=IN_CLUSTER, destination_name="", namespace="web",
        )

    refused = violations({})
    assert len(refused) == 1 and "sourceNamespaces" in refused[0] and "team-a-apps" in refused[0]
    assert violations({"sourceNamespaces": ["team-a-*"]}) == []


def test_every_reason_is_reported_at_once() -> None:
    problems = application_violations(
        TEAM_A, app_name="web", app_namespace="argocd", control_namespace="argocd",
        repo_urls=["https://github.com/other/web"], server=IN_CLUSTER, destination_name="", namespace="prod",
    )
    assert problems == [
        "application repo https://github.com/other/web is not permitted in project 'team-a'",
        "application destination server 'https://kubernetes.default.svc' and namespace 'prod' do not match any of "
        "the allowed destinations in project 'team-a'",
    ]
