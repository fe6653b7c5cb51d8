"""Whether a project permits an Application's sources, destination and resource kinds (Argo CD's AppProject rules).

Every function takes the AppProject as the plain dict the API serves, because Argo CD tells an absent
``namespaceResourceWhitelist`` (everything namespaced allowed) from an empty one (nothing allowed), a distinction
a defaulted model would lose. Messages are Argo CD's own, so users can search for them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from gitops.patterns import glob_match, glob_match_negatable, is_deny_pattern
from gitops.resources import JsonObject
from gitops.sources.urls import normalize_git_url
from kube.resources import APP_PROJECTS

DEFAULT_PROJECT_NAME = "default"


def default_project(namespace: str) -> JsonObject:
    """The ``default`` AppProject Argo CD creates when it is missing: every source, destination and kind allowed."""
    return {
        "apiVersion": APP_PROJECTS.api_version,
        "kind": "AppProject",
        "metadata": {"name": DEFAULT_PROJECT_NAME, "namespace": namespace},
        "spec": {
            "sourceRepos": ["*"],
            "destinations": [{"server": "*", "namespace": "*"}],
            "clusterResourceWhitelist": [{"group": "*", "kind": "*"}],
        },
    }


def _name(project: Mapping[str, Any]) -> str:
    return str((project.get("metadata") or {}).get("name", ""))


def _spec(project: Mapping[str, Any]) -> Mapping[str, Any]:
    spec = project.get("spec")
    return spec if isinstance(spec, Mapping) else {}


def is_source_permitted(project: Mapping[str, Any], repo_url: str) -> bool:
    """Argo CD's ``IsSourcePermitted``: some pattern matches, and no ``!`` pattern names the repository.

    As in Argo CD a deny pattern that misses counts as a match, so ``["!https://bad/*"]`` alone permits the rest.
    """
    source = normalize_git_url(repo_url)
    any_matched = False
    for pattern in _spec(project).get("sourceRepos") or []:
        deny = is_deny_pattern(pattern)
        normalized = ("!" if deny else "") + normalize_git_url(pattern.removeprefix("!"))
        if glob_match_negatable(normalized, source):
            any_matched = True
        elif deny:
            return False
    return any_matched


def source_violation(project: Mapping[str, Any], repo_url: str) -> str | None:
    """Argo CD's message for a repository the project does not permit, or None."""
    if is_source_permitted(project, repo_url):
        return None
    return f"application repo {repo_url} is not permitted in project '{_name(project)}'"


def is_destination_permitted(project: Mapping[str, Any], server: str, name: str, namespace: str) -> bool:
    """Argo CD's ``isDestinationMatched``: one destination matches (server or name, and namespace), none denies."""
    any_matched = False
    no_deny_matched = True
    for item in _spec(project).get("destinations") or []:
        item_server = str(item.get("server") or "")
        item_name = str(item.get("name") or "")
        item_namespace = str(item.get("namespace") or "")
        name_matched = bool(name) and glob_match_negatable(item_name, name)
        server_matched = bool(server) and glob_match_negatable(item_server, server)
        namespace_matched = glob_match_negatable(item_namespace, namespace)
        if (server_matched or name_matched) and namespace_matched:
            any_matched = True
        elif (
            (not name_matched and is_deny_pattern(item_name))
            or (not server_matched and is_deny_pattern(item_server))
            or (not namespace_matched and is_deny_pattern(item_namespace))
        ):
            no_deny_matched = False
    return any_matched and no_deny_matched


def destination_violation(project: Mapping[str, Any], server: str, name: str, namespace: str) -> str | None:
    """Argo CD's message for a destination the project does not permit, or None."""
    if is_destination_permitted(project, server, name, namespace):
        return None
    where = server or name
    return (
        f"application destination server '{where}' and namespace '{namespace}' do not match any of the allowed "
        f"destinations in project '{_name(project)}'"
    )


def _in_list(group: str, kind: str, entries: Iterable[Mapping[str, Any]]) -> bool:
    return any(
        glob_match(str(entry.get("kind") or ""), kind) and glob_match(str(entry.get("group") or ""), group)
        for entry in entries
    )


def is_group_kind_permitted(project: Mapping[str, Any], group: str, kind: str, *, namespaced: bool) -> bool:
    """Argo CD's ``IsGroupKindPermitted``.

    Namespaced kinds are allowed unless a whitelist is set without them or a blacklist names them; cluster-scoped
    kinds are denied unless the cluster whitelist names them (and the blacklist does not).
    """
    spec = _spec(project)
    if namespaced:
        whitelist = spec.get("namespaceResourceWhitelist")
        blacklist = spec.get("namespaceResourceBlacklist") or []
        whitelisted = whitelist is None or (len(whitelist) > 0 and _in_list(group, kind, whitelist))
        return whitelisted and not _in_list(group, kind, blacklist)
    cluster_whitelist = spec.get("clusterResourceWhitelist") or []
    cluster_blacklist = spec.get("clusterResourceBlacklist") or []
    return _in_list(group, kind, cluster_whitelist) and not _in_list(group, kind, cluster_blacklist)


def resource_violation(project: Mapping[str, Any], group: str, kind: str, *, namespaced: bool) -> str | None:
    """Argo CD's sync-task message for a kind the project does not permit, or None."""
    if is_group_kind_permitted(project, group, kind, namespaced=namespaced):
        return None
    return f"resource {group}:{kind} is not permitted in project {_name(project)}"


def is_source_namespace_permitted(project: Mapping[str, Any], app_namespace: str, control_namespace: str) -> bool:
    """Applications in the control-plane namespace may use any project; others only one listing their namespace."""
    if app_namespace == control_namespace:
        return True
    return any(glob_match(str(pattern), app_namespace) for pattern in _spec(project).get("sourceNamespaces") or [])


def application_violations(
    project: Mapping[str, Any],
    *,
    app_name: str,
    app_namespace: str,
    control_namespace: str,
    repo_urls: Sequence[str],
    server: str,
    destination_name: str,
    namespace: str,
) -> list[str]:
    """Every reason the project refuses the Application as a whole (Argo CD's InvalidSpecError messages)."""
    problems: list[str] = []
    if not is_source_namespace_permitted(project, app_namespace, control_namespace):
        problems.append(
            f"application '{app_name}' in namespace '{app_namespace}' is not permitted to use project "
            f"'{_name(project)}': the project's sourceNamespaces do not include '{app_namespace}'"
        )
    problems.extend(message for url in repo_urls if (message := source_violation(project, url)))
    if message := destination_violation(project, server, destination_name, namespace):
        problems.append(message)
    return problems
