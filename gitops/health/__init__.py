"""Resource and application health, as Argo CD assesses it: one pure function per kind, user Lua overrides on top.

``resource_health`` answers for one live object (None when no check applies: Argo CD then leaves the resource out
of the app's health); ``app_health`` folds the resources of one Application into its health.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from gitops.health.apiextensions import crd_health
from gitops.health.apiregistration import apiservice_health
from gitops.health.application import application_health
from gitops.health.apps import daemonset_health, deployment_health, replicaset_health, statefulset_health
from gitops.health.argo import analysisrun_health, rollout_health
from gitops.health.autoscaling import hpa_health
from gitops.health.batch import cronjob_health, job_health
from gitops.health.core import pod_health, pvc_health, service_health
from gitops.health.fields import MalformedObject
from gitops.health.lua import find_health_script, run_health_script
from gitops.health.networking import ingress_health
from gitops.resources import Health, JsonObject, group_of

HEALTHY, SUSPENDED, PROGRESSING, MISSING, DEGRADED, UNKNOWN = (
    "Healthy",
    "Suspended",
    "Progressing",
    "Missing",
    "Degraded",
    "Unknown",
)
# Best to worst: an app is as healthy as its worst resource.
HEALTH_ORDER = (HEALTHY, SUSPENDED, PROGRESSING, MISSING, DEGRADED, UNKNOWN)
PENDING_DELETION = Health(PROGRESSING, "Pending deletion")
IGNORE_HEALTHCHECK_ANNOTATION = "argocd.argoproj.io/ignore-healthcheck"

HealthCheck = Callable[[JsonObject], Health]
APPLICATION_KIND = ("argoproj.io", "Application")

# By API group, then kind, as gitops-engine looks a check up. ``extensions`` is the legacy group that served
# Deployments, DaemonSets, ReplicaSets and Ingresses before ``apps`` and ``networking.k8s.io`` did.
BUILT_IN_CHECKS: Mapping[str, Mapping[str, HealthCheck]] = {
    "": {"Pod": pod_health, "Service": service_health, "PersistentVolumeClaim": pvc_health},
    "apps": {
        "Deployment": deployment_health,
        "StatefulSet": statefulset_health,
        "DaemonSet": daemonset_health,
        "ReplicaSet": replicaset_health,
    },
    "extensions": {
        "Deployment": deployment_health,
        "DaemonSet": daemonset_health,
        "ReplicaSet": replicaset_health,
        "Ingress": ingress_health,
    },
    "batch": {"Job": job_health, "CronJob": cronjob_health},
    "networking.k8s.io": {"Ingress": ingress_health},
    "autoscaling": {"HorizontalPodAutoscaler": hpa_health},
    "apiregistration.k8s.io": {"APIService": apiservice_health},
    "apiextensions.k8s.io": {"CustomResourceDefinition": crd_health},
    "argoproj.io": {"Rollout": rollout_health, "AnalysisRun": analysisrun_health},
}


def is_worse(current: str, candidate: str) -> bool:
    """Whether ``candidate`` is a worse health status than ``current`` (unknown words rank as Healthy, as in Argo)."""
    return _rank(candidate) > _rank(current)


def _rank(status: str) -> int:
    return HEALTH_ORDER.index(status) if status in HEALTH_ORDER else 0


def resource_health(
    obj: JsonObject, *, overrides: Mapping[str, str] | None = None, assess_applications: bool = False
) -> Health | None:
    """The health of one live object; None when neither a user script nor a built-in check covers its kind.

    An object being deleted is Progressing "Pending deletion". A user script (``overrides``, keyed ``group_Kind``)
    wins over the built-in check; a malformed object gives Unknown with the field at fault. A child
    ``argoproj.io/Application`` has no check (Argo CD ≥ 1.8) unless ``assess_applications`` (``--application-health``).
    """
    metadata = obj.get("metadata") or {}
    if isinstance(metadata, Mapping) and metadata.get("deletionTimestamp"):
        return PENDING_DELETION
    group, kind = group_of(str(obj.get("apiVersion", ""))), str(obj.get("kind", ""))
    if overrides:
        script = find_health_script(overrides, group, kind)
        if script is not None:
            assessed = run_health_script(script, obj)
            if assessed is not None:
                return assessed
    check = BUILT_IN_CHECKS.get(group, {}).get(kind)
    if check is None and assess_applications and (group, kind) == APPLICATION_KIND:
        check = application_health
    if check is None:
        return None
    try:
        return check(obj)
    except MalformedObject as error:
        return Health(UNKNOWN, str(error))


def app_health(resources: Sequence[tuple[JsonObject | None, Health | None, bool]]) -> Health:
    """An Application's health from its resources' ``(live, health, is_hook)``: the worst one counts.

    As Argo CD 3.4's setApplicationHealth: hooks are left out; so are resources without a health check, live objects
    annotated ``argocd.argoproj.io/ignore-healthcheck: "true"``, and a child Application that is Missing or Unknown.
    A resource with no live object does not lower the app's health by itself (its OutOfSync status already says it
    is missing); only when no resource exists at all is the app Missing.
    """
    worst = HEALTHY
    contains_resources = contains_live = False
    for live, health, is_hook in resources:
        if is_hook:
            continue
        contains_resources = True
        if live is None:
            continue
        contains_live = True
        if health is None or _ignores_health(live):
            continue
        if _is_application(live) and health.status in (MISSING, UNKNOWN):
            continue
        if is_worse(worst, health.status):
            worst = health.status
    if contains_resources and not contains_live and is_worse(worst, MISSING):
        worst = MISSING
    return Health(worst)


def _is_application(live: JsonObject) -> bool:
    return live.get("kind") == "Application" and group_of(str(live.get("apiVersion", ""))) == "argoproj.io"


def _ignores_health(live: JsonObject) -> bool:
    annotations = (live.get("metadata") or {}).get("annotations") or {}
    return isinstance(annotations, Mapping) and annotations.get(IGNORE_HEALTHCHECK_ANNOTATION) == "true"
