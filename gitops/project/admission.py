"""What a project decides for one Application: whether it may be reconciled at all, which resources its syncs
may touch, and whether a sync may start now. Pure: the controller passes the projects it watches and ``now``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from gitops.clusters import ClusterConfig
from gitops.project.permissions import (
    DEFAULT_PROJECT_NAME,
    application_violations,
    is_destination_permitted,
    resource_violation,
)
from gitops.project.sync_windows import BLOCKED_MESSAGE, can_sync, matching_windows, project_windows
from gitops.resources import JsonObject, ResourceKey
from gitops.sync.source_revisions import app_sources


def project_name(app: Mapping[str, Any]) -> str:
    """The Application's project (an empty ``spec.project`` means ``default``, as in Argo CD)."""
    return str((app.get("spec") or {}).get("project") or DEFAULT_PROJECT_NAME)


def find_project(app: Mapping[str, Any], projects: Mapping[str, JsonObject]) -> JsonObject | str:
    """The AppProject the Application names, or Argo CD's message when it does not exist."""
    name = project_name(app)
    found = projects.get(name)
    if found is None:
        return f"Application referencing project {name} which does not exist"
    return found


def _repo_urls(app: Mapping[str, Any]) -> list[str]:
    # `sources` wins over `source` (Argo CD: user-guide/multiple_sources.md), so only its repositories count.
    return [str(source.get("repoURL")) for source in app_sources(app) if source.get("repoURL")]


def _destination_cluster(destination: Mapping[str, Any], cluster: ClusterConfig | None) -> tuple[str, str]:
    """The server and name a project's destinations are matched against: the resolved cluster's both (Argo CD's
    ``IsDestinationPermitted(destCluster, …)``), else the Application's own fields."""
    if cluster is not None:
        return cluster.server, cluster.name
    return str(destination.get("server") or ""), str(destination.get("name") or "")


def spec_problems(app: Mapping[str, Any], project: Mapping[str, Any], control_namespace: str, *,
                  cluster: ClusterConfig | None = None) -> list[str]:
    """Every reason the project refuses the Application as a whole (its InvalidSpecError messages); ``cluster`` is
    the destination resolved, matched by its server and its name."""
    metadata = app.get("metadata") or {}
    destination = (app.get("spec") or {}).get("destination") or {}
    server, cluster_name = _destination_cluster(destination, cluster)
    return application_violations(
        project,
        app_name=str(metadata.get("name", "")),
        app_namespace=str(metadata.get("namespace") or control_namespace),
        control_namespace=control_namespace,
        repo_urls=_repo_urls(app),
        server=server,
        destination_name=cluster_name,
        namespace=str(destination.get("namespace") or ""),
    )


def resource_permission(
    app: Mapping[str, Any], project: Mapping[str, Any], namespaced: Callable[[str, str], bool], *,
    cluster: ClusterConfig | None = None,
) -> Callable[[ResourceKey], str | None]:
    """The sync's per-resource check: the kind must be permitted, and a namespaced resource's namespace too (in
    the destination ``cluster`` resolved, when given)."""
    destination = (app.get("spec") or {}).get("destination") or {}
    server, cluster_name = _destination_cluster(destination, cluster)
    name = str((project.get("metadata") or {}).get("name", ""))

    def permitted(key: ResourceKey) -> str | None:
        is_namespaced = namespaced(key.group, key.kind)
        problem = resource_violation(project, key.group, key.kind, namespaced=is_namespaced)
        if problem is not None:
            return problem
        if is_namespaced and key.namespace and not is_destination_permitted(
            project, server, cluster_name, key.namespace
        ):
            return f"namespace {key.namespace} is not permitted in project '{name}'"
        return None

    return permitted


def sync_blocked(app: Mapping[str, Any], project: Mapping[str, Any], now: datetime, *, manual: bool) -> str | None:
    """Argo CD's message when the project's sync windows forbid a sync of this kind now, else None."""
    metadata = app.get("metadata") or {}
    destination = (app.get("spec") or {}).get("destination") or {}
    windows = matching_windows(
        project_windows(project),
        app_name=str(metadata.get("name", "")),
        namespace=str(destination.get("namespace") or ""),
        server=str(destination.get("server") or ""),
        destination_name=str(destination.get("name") or ""),
    )
    return None if can_sync(windows, now, manual=manual) else BLOCKED_MESSAGE
