"""Orphaned resources: objects in an Application's destination namespace that no Application tracks.

Argo CD only reports them — never deletes them — and only when the project sets ``orphanedResources``: with
``warn`` (true unless set false) the Application gets an ``OrphanedResourceWarning`` condition, and entries of
``ignore`` (group, kind and name globs) are left out. Objects owned by another object (``ownerReferences``) are
children, not orphans.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from gitops.patterns import glob_match
from gitops.resources import JsonObject, ResourceKey

CONDITION_TYPE = "OrphanedResourceWarning"


def orphaned_resources(
    project: Mapping[str, Any],
    namespace_objects: Iterable[JsonObject],
    tracked_by_any_app: Callable[[JsonObject], bool],
) -> list[ResourceKey] | None:
    """The orphans among the destination namespace's objects, sorted; None when the project does not monitor them."""
    settings = (project.get("spec") or {}).get("orphanedResources")
    if not isinstance(settings, Mapping):
        return None
    ignore = [entry for entry in settings.get("ignore") or [] if isinstance(entry, Mapping)]
    found: list[ResourceKey] = []
    for obj in namespace_objects:
        metadata = obj.get("metadata") or {}
        if metadata.get("ownerReferences") or tracked_by_any_app(obj):
            continue
        key = ResourceKey.of(obj)
        if any(_ignored(key, entry) for entry in ignore):
            continue
        found.append(key)
    return sorted(found)


def _ignored(key: ResourceKey, entry: Mapping[str, Any]) -> bool:
    def field_matches(pattern: object, value: str) -> bool:
        return not pattern or glob_match(str(pattern), value)

    return (
        field_matches(entry.get("group"), key.group)
        and field_matches(entry.get("kind"), key.kind)
        and field_matches(entry.get("name"), key.name)
    )


def orphaned_condition(project: Mapping[str, Any], orphans: list[ResourceKey] | None) -> JsonObject | None:
    """The ``OrphanedResourceWarning`` condition Argo CD sets, or None (no monitoring, ``warn: false``, no orphans)."""
    settings = (project.get("spec") or {}).get("orphanedResources")
    if not orphans or not isinstance(settings, Mapping) or settings.get("warn") is False:
        return None
    listed = ", ".join(str(key) for key in orphans[:10]) + (", …" if len(orphans) > 10 else "")
    return {
        "type": CONDITION_TYPE,
        "message": f"Application has {len(orphans)} orphaned resources: {listed}",
    }
