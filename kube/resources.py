"""The resource types the controllers and the CLI read and write, and the URL paths that address them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ResourceKind:
    """One resource type of the API: where it lives and what its objects are called."""

    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool = True
    short_names: tuple[str, ...] = field(default=(), compare=False)
    """What ``kubectl get`` also accepts for the plural (a CRD's ``names.shortNames``); not part of the identity."""

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    def path(self, namespace: str | None = None, name: str | None = None, subresource: str | None = None) -> str:
        """The REST path of the collection, or of one object (and one of its subresources)."""
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            base += f"/namespaces/{namespace}"
        base += f"/{self.plural}"
        if name:
            base += f"/{name}"
            if subresource:
                base += f"/{subresource}"
        return base

    def manifest(self, body: dict[str, Any]) -> dict[str, Any]:
        """The body with this kind's apiVersion and kind filled in (list items arrive without them)."""
        return {"apiVersion": self.api_version, "kind": self.kind, **body}


NAMESPACES = ResourceKind("", "v1", "namespaces", "Namespace", namespaced=False)
PODS = ResourceKind("", "v1", "pods", "Pod")
SERVICES = ResourceKind("", "v1", "services", "Service")
SECRETS = ResourceKind("", "v1", "secrets", "Secret")
CONFIGMAPS = ResourceKind("", "v1", "configmaps", "ConfigMap")
EVENTS = ResourceKind("", "v1", "events", "Event")
REPLICASETS = ResourceKind("apps", "v1", "replicasets", "ReplicaSet")
DEPLOYMENTS = ResourceKind("apps", "v1", "deployments", "Deployment")
POD_TEMPLATES = ResourceKind("", "v1", "podtemplates", "PodTemplate")
JOBS = ResourceKind("batch", "v1", "jobs", "Job")
LEASES = ResourceKind("coordination.k8s.io", "v1", "leases", "Lease")
CRDS = ResourceKind(
    "apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", namespaced=False
)

# The project's own kinds, with the short names of Argo's CRDs (for KindSpec.for_resource).
ROLLOUTS = ResourceKind("argoproj.io", "v1alpha1", "rollouts", "Rollout", short_names=("ro",))
ANALYSIS_RUNS = ResourceKind("argoproj.io", "v1alpha1", "analysisruns", "AnalysisRun", short_names=("ar",))
EXPERIMENTS = ResourceKind("argoproj.io", "v1alpha1", "experiments", "Experiment", short_names=("exp",))
ANALYSIS_TEMPLATES = ResourceKind(
    "argoproj.io", "v1alpha1", "analysistemplates", "AnalysisTemplate", short_names=("at",)
)
CLUSTER_ANALYSIS_TEMPLATES = ResourceKind(
    "argoproj.io",
    "v1alpha1",
    "clusteranalysistemplates",
    "ClusterAnalysisTemplate",
    namespaced=False,
    short_names=("cat",),
)
APPLICATIONS = ResourceKind("argoproj.io", "v1alpha1", "applications", "Application", short_names=("app", "apps"))
APPLICATION_SETS = ResourceKind(
    "argoproj.io", "v1alpha1", "applicationsets", "ApplicationSet", short_names=("appset", "appsets")
)
APP_PROJECTS = ResourceKind("argoproj.io", "v1alpha1", "appprojects", "AppProject", short_names=("appproj", "appprojs"))

# Argo Rollouts talks to Istio at v1alpha3 by default; every Istio version serves the same objects.
VIRTUAL_SERVICES = ResourceKind("networking.istio.io", "v1alpha3", "virtualservices", "VirtualService")
DESTINATION_RULES = ResourceKind("networking.istio.io", "v1alpha3", "destinationrules", "DestinationRule")

# Traffic routers other than Istio: NGINX's canary Ingress, and the Gateway API's HTTPRoute.
INGRESSES = ResourceKind("networking.k8s.io", "v1", "ingresses", "Ingress")
HTTP_ROUTES = ResourceKind("gateway.networking.k8s.io", "v1", "httproutes", "HTTPRoute")
