"""The resource types the cluster serves, from its discovery documents: which plural and version address a
manifest's kind, and whether the kind is namespaced — what the sync needs to place and write any object Git holds."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from kube.client import KubeClient
from kube.errors import ApiError
from kube.resources import ResourceKind

logger = logging.getLogger(__name__)


@dataclass
class ApiResources:
    """Resource types by (group, kind), each at its group's preferred version."""

    kinds: dict[tuple[str, str], ResourceKind] = field(default_factory=dict)

    @classmethod
    def of(cls, kinds: Iterable[ResourceKind]) -> ApiResources:
        table: dict[tuple[str, str], ResourceKind] = {}
        for kind in kinds:
            table.setdefault((kind.group, kind.kind), kind)
        return cls(table)

    def find(self, group: str, kind: str) -> ResourceKind | None:
        """The type serving ``group``/``kind``; ``None`` when the cluster does not serve it (no CRD yet)."""
        return self.kinds.get((group, kind))

    def for_version(self, api_version: str, kind: str) -> ResourceKind | None:
        """The type at exactly ``api_version`` (a manifest's own), falling back to the preferred version."""
        group, _, version = api_version.rpartition("/")
        found = self.find(group, kind)
        if found is None:
            return None
        if found.version == version or not version:
            return found
        return ResourceKind(group, version, found.plural, found.kind, found.namespaced)

    def namespaced(self, group: str, kind: str) -> bool:
        """Whether ``group``/``kind`` is namespaced; an unknown kind counts as namespaced, as most are."""
        found = self.find(group, kind)
        return found.namespaced if found is not None else True

    def merge(self, other: ApiResources) -> None:
        self.kinds.update(other.kinds)


def discover(client: KubeClient) -> ApiResources:
    """Read ``/api/v1`` and every group's preferred version under ``/apis``; a group whose document cannot be read
    is skipped with a warning (an aggregated API that is down must not stop the controller)."""
    kinds: list[ResourceKind] = []
    kinds.extend(_resources(client, "/api/v1", "", "v1"))
    groups = client.request("GET", "/apis").get("groups") or []
    for group in groups:
        name = str(group.get("name") or "")
        preferred = (group.get("preferredVersion") or {}).get("version")
        versions = [str(v.get("version")) for v in group.get("versions") or [] if v.get("version")]
        ordered = [str(preferred)] + [v for v in versions if v != preferred] if preferred else versions
        for version in ordered:
            try:
                kinds.extend(_resources(client, f"/apis/{name}/{version}", name, version))
            except ApiError as error:
                logger.warning("discovery of %s/%s failed: %s", name, version, error)
    return ApiResources.of(kinds)


def _resources(client: KubeClient, path: str, group: str, version: str) -> list[ResourceKind]:
    document = client.request("GET", path)
    found = []
    for entry in document.get("resources") or []:
        plural = str(entry.get("name") or "")
        verbs = entry.get("verbs") or []
        if not plural or "/" in plural or "list" not in verbs or "watch" not in verbs:
            continue
        found.append(ResourceKind(group, version, plural, str(entry.get("kind")), bool(entry.get("namespaced"))))
    return found
