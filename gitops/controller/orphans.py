"""Finding an Application's orphaned resources in the live cache, for projects that set ``orphanedResources``.

Argo CD's cluster cache holds every type; this controller's holds the types Applications use, so a monitoring project
makes it watch every namespaced type the cluster serves — except the ones Argo CD never caches (Events, metrics)
and those its installation excludes by default in ``resource.exclusions`` (Endpoints, EndpointSlices, Leases,
access reviews, certificate requests): objects other controllers churn, never anyone's manifests. Watching starts
with the first Application whose project monitors orphans, so nothing is spent without one. The decision itself is
``gitops.project.orphaned_resources``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from gitops.controller.api_resources import ApiResources
from gitops.controller.live_cache import LiveCache
from gitops.project.orphaned_resources import monitors_orphans, orphaned_resources
from gitops.resources import JsonObject, ResourceKey

logger = logging.getLogger(__name__)

# Argo CD's coreExcludedResources (never cached) …
_NEVER_CACHED_GROUPS: Final = frozenset({"events.k8s.io", "metrics.k8s.io"})
_NEVER_CACHED_KINDS: Final = frozenset({("", "Event")})
# … and the resource.exclusions of its default argocd-cm.
_EXCLUDED_BY_DEFAULT: Final = frozenset({
    ("", "Endpoints"),
    ("discovery.k8s.io", "EndpointSlice"),
    ("coordination.k8s.io", "Lease"),
    ("authentication.k8s.io", "SelfSubjectReview"),
    ("authentication.k8s.io", "TokenReview"),
    ("authorization.k8s.io", "LocalSubjectAccessReview"),
    ("authorization.k8s.io", "SelfSubjectAccessReview"),
    ("authorization.k8s.io", "SelfSubjectRulesReview"),
    ("authorization.k8s.io", "SubjectAccessReview"),
    ("certificates.k8s.io", "CertificateSigningRequest"),
    ("cert-manager.io", "CertificateRequest"),
})


def monitored_kind(group: str, kind: str) -> bool:
    """Whether orphan monitoring looks at objects of this type."""
    return group not in _NEVER_CACHED_GROUPS and (group, kind) not in _NEVER_CACHED_KINDS | _EXCLUDED_BY_DEFAULT


@dataclass(frozen=True)
class OrphanMonitor:
    """The orphans of one Application's destination namespace, from the live cache."""

    cache: LiveCache
    resources: Callable[[], ApiResources]
    owner: Callable[[JsonObject], str | None]
    app_exists: Callable[[str], bool]

    def orphans(
        self,
        app: Mapping[str, Any],
        project: Mapping[str, Any],
        managed: set[ResourceKey],
        permitted: Callable[[ResourceKey], bool],
    ) -> list[JsonObject] | None:
        """The Application's orphaned objects, sorted; None when its project does not monitor them (or it has no
        destination namespace). Blocks on the first list of a type not watched yet."""
        name = str((app.get("metadata") or {}).get("name") or "")
        namespace = str(((app.get("spec") or {}).get("destination") or {}).get("namespace") or "")
        if not monitors_orphans(project) or not namespace:
            self.cache.watch_namespace(name, None)
            return None
        kinds = [kind for kind in self.resources().kinds.values()
                 if kind.namespaced and monitored_kind(kind.group, kind.kind)]
        failures = self.cache.ensure_watched(kinds)
        if failures:
            # Orphans of an unlistable type are not found; the others still are.
            logger.debug("%s: orphan monitoring without %s", name, "; ".join(failures))
        self.cache.watch_namespace(name, namespace)

        def tracked_by_other_app(obj: JsonObject) -> bool:
            owner = self.owner(obj)
            return owner is not None and owner != name and self.app_exists(owner)

        return orphaned_resources(project, self.cache.objects_in_namespace(namespace), managed=managed,
                                  tracked_by_other_app=tracked_by_other_app, permitted=permitted)
