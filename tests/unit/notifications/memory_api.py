"""An in-memory stand-in for the few API calls a notification controller makes (get, patch with resourceVersion
preconditions), for tests of its passes without a cluster."""

from __future__ import annotations

import copy
from typing import Any

from kube.errors import Conflict, NotFound
from kube.merge_patch import apply_merge_patch
from kube.resources import ResourceKind


class MemoryApi:
    """The few calls the notification controller makes, over objects kept in memory, with resourceVersions."""

    def __init__(self, *objects: tuple[ResourceKind, dict[str, Any]]) -> None:
        self.objects = {(kind.plural, obj["metadata"]["namespace"], obj["metadata"]["name"]): obj
                        for kind, obj in objects}
        self.patches = 0

    async def get_or_none(self, kind: ResourceKind, namespace: str, name: str) -> dict[str, Any] | None:
        found = self.objects.get((kind.plural, namespace, name))
        return copy.deepcopy(found) if found is not None else None

    async def list(self, kind: ResourceKind, namespace: str | None = None, *,
                   field_selector: str | None = None) -> list[dict[str, Any]]:
        """The objects of ``kind`` (in ``namespace``), with a ``field_selector`` of one ``path=value`` term."""
        path, _, value = (field_selector or "").partition("=")

        def selected(obj: dict[str, Any]) -> bool:
            found: Any = obj
            for part in path.split("."):
                found = found.get(part) if isinstance(found, dict) else None
            return not path or found == value

        return [copy.deepcopy(obj) for (plural, where, _), obj in self.objects.items()
                if plural == kind.plural and namespace in (None, where) and selected(obj)]

    async def get(self, kind: ResourceKind, namespace: str, name: str) -> dict[str, Any]:
        found = await self.get_or_none(kind, namespace, name)
        if found is None:
            raise NotFound(404, "NotFound", f"{name} not found")
        return found

    async def patch(self, kind: ResourceKind, namespace: str, name: str, patch: dict[str, Any]) -> dict[str, Any]:
        current = self.objects[(kind.plural, namespace, name)]
        version = current["metadata"]["resourceVersion"]
        if patch["metadata"].get("resourceVersion") not in (None, version):
            raise Conflict(409, "Conflict", "the object has been modified")
        updated = apply_merge_patch(current, patch)
        updated["metadata"]["resourceVersion"] = str(int(version) + 1)
        self.objects[(kind.plural, namespace, name)] = updated
        self.patches += 1
        return copy.deepcopy(updated)
