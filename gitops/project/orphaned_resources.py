"""Orphaned resources: objects in an Application's destination namespace that no Application manages. Pure.

Argo CD (user-guide/orphaned-resources.md; controller getResourceTree) only reports them — never deletes them — and
only when the Application's project sets ``orphanedResources``:

- the candidates are the namespace's top-level objects (no ``ownerReferences``) that are not the Application's own
  resources;
- never orphans: a kind the project does not permit, the ``default`` ServiceAccount, the ``kube-root-ca.crt``
  ConfigMap, the ``kubernetes`` Service of the ``default`` namespace, and whatever an ``ignore`` entry matches
  (``group`` and ``kind`` globs, ``name`` glob; an empty kind or name matches all);
- each candidate is listed with its descendants (objects that name it, transitively, in ``ownerReferences``), except
  objects another existing Application tracks, and those the project does not permit, whose descendants are then
  left out too;
- with ``warn`` (true unless set false) the Application gets ``OrphanedResourceWarning``, "Application has N orphaned
  resources" — N counting the descendants.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

from gitops.patterns import glob_match
from gitops.project.permissions import is_group_kind_permitted
from gitops.resources import JsonObject, ResourceKey, group_of

CONDITION_TYPE: Final = "OrphanedResourceWarning"

# Objects Kubernetes itself puts in namespaces (Argo CD's isKnownOrphanedResourceExclusion).
_ALWAYS_IN_A_NAMESPACE: Final = (("", "ServiceAccount", "default"), ("", "ConfigMap", "kube-root-ca.crt"))
_API_SERVER_SERVICE: Final = ResourceKey("", "Service", "default", "kubernetes")


def monitors_orphans(project: Mapping[str, Any]) -> bool:
    """Whether the project sets ``orphanedResources`` (even empty), which turns the monitoring on."""
    return isinstance((project.get("spec") or {}).get("orphanedResources"), Mapping)


def warns(project: Mapping[str, Any]) -> bool:
    """``orphanedResources.warn``: true unless set false (Argo CD's IsWarn)."""
    settings = (project.get("spec") or {}).get("orphanedResources")
    return isinstance(settings, Mapping) and settings.get("warn") is not False


def known_exclusion(key: ResourceKey, project: Mapping[str, Any]) -> bool:
    """Whether ``key`` is never an orphan: an object Kubernetes creates itself, or one an ``ignore`` entry names."""
    if key == _API_SERVER_SERVICE or (key.group, key.kind, key.name) in _ALWAYS_IN_A_NAMESPACE:
        return True
    settings = (project.get("spec") or {}).get("orphanedResources") or {}
    for entry in settings.get("ignore") or []:
        if not isinstance(entry, Mapping):
            continue
        kind, group, name = (str(entry.get(field) or "") for field in ("kind", "group", "name"))
        if (not kind or glob_match(kind, key.kind)) and _group_matches(group, key.group) and (
                not name or glob_match(name, key.name)):
            return True
    return False


def _group_matches(pattern: str, group: str) -> bool:
    # An empty pattern names the core group (Argo CD matches the glob "" against the group).
    return group == "" if not pattern else glob_match(pattern, group)


def orphaned_resources(
    project: Mapping[str, Any],
    namespace_objects: Iterable[JsonObject],
    *,
    managed: set[ResourceKey],
    tracked_by_other_app: Callable[[JsonObject], bool],
    permitted: Callable[[ResourceKey], bool],
) -> list[JsonObject] | None:
    """The orphaned objects of the destination namespace, sorted by key; None when the project does not monitor.

    ``managed``: the Application's own resources; ``tracked_by_other_app``: whether an existing Application other
    than this one tracks the object; ``permitted``: the project's verdict on a resource in the destination.
    """
    if not monitors_orphans(project):
        return None
    objects = list(namespace_objects)
    children: dict[str, list[JsonObject]] = {}
    for obj in objects:
        for reference in (obj.get("metadata") or {}).get("ownerReferences") or []:
            if isinstance(reference, Mapping) and reference.get("uid"):
                children.setdefault(str(reference["uid"]), []).append(obj)
    found: dict[ResourceKey, JsonObject] = {}

    def visit(obj: JsonObject) -> None:
        key = ResourceKey.of(obj)
        if key in found or tracked_by_other_app(obj) or not permitted(key):
            return
        found[key] = obj
        for child in children.get(str((obj.get("metadata") or {}).get("uid") or ""), []):
            visit(child)

    for obj in objects:
        key = ResourceKey.of(obj)
        if (obj.get("metadata") or {}).get("ownerReferences") or not key.namespace or key in managed:
            continue
        if not is_group_kind_permitted(project, key.group, key.kind, namespaced=True):
            continue
        if known_exclusion(key, project):
            continue
        visit(obj)
    return [found[key] for key in sorted(found)]


def orphaned_condition(project: Mapping[str, Any], orphans: list[JsonObject] | None) -> JsonObject | None:
    """The ``OrphanedResourceWarning`` condition Argo CD sets, or None (no monitoring, ``warn: false``, no orphans)."""
    if not orphans or not warns(project):
        return None
    return {"type": CONDITION_TYPE, "message": f"Application has {len(orphans)} orphaned resources"}


def orphan_entries(orphans: Iterable[JsonObject]) -> list[JsonObject]:
    """How the orphans are listed in ``status.orphanedResources``: Argo CD's ResourceRef fields (group, version,
    kind, namespace, name), as its resource tree's ``orphanedNodes`` name them."""
    entries = []
    for obj in orphans:
        key = ResourceKey.of(obj)
        api_version = str(obj.get("apiVersion") or "")
        entries.append({"group": group_of(api_version), "version": api_version.rpartition("/")[2],
                        "kind": key.kind, "namespace": key.namespace, "name": key.name})
    return entries
