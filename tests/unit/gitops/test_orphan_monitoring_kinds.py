"""Which types orphan monitoring watches: every namespaced type but those Argo CD never caches (its
coreExcludedResources: events.k8s.io, metrics.k8s.io, core Event) and those its default argocd-cm excludes
(resource.exclusions: Endpoints, EndpointSlice, Lease, access reviews, certificate requests)."""

from __future__ import annotations

import pytest

from gitops.controller.orphans import monitored_kind


@pytest.mark.parametrize(
    ("group", "kind", "watched"),
    [
        pytest.param("", "ConfigMap", True, id="configmap"),
        pytest.param("apps", "Deployment", True, id="deployment"),
        pytest.param("argoproj.io", "Rollout", True, id="custom-resource"),
        pytest.param("", "Event", False, id="core-event"),
        pytest.param("events.k8s.io", "Event", False, id="events-group"),
        pytest.param("metrics.k8s.io", "PodMetrics", False, id="metrics-group"),
        pytest.param("", "Endpoints", False, id="endpoints"),
        pytest.param("discovery.k8s.io", "EndpointSlice", False, id="endpointslice"),
        pytest.param("coordination.k8s.io", "Lease", False, id="lease"),
        pytest.param("authorization.k8s.io", "LocalSubjectAccessReview", False, id="access-review"),
        pytest.param("cert-manager.io", "CertificateRequest", False, id="certificate-request"),
    ],
)
def test_orphan_monitoring_skips_what_argo_cd_never_caches_or_excludes_by_default(
    group: str, kind: str, watched: bool
) -> None:
    assert monitored_kind(group, kind) is watched
