"""Health of networking.k8s.io (and extensions) Ingress."""

from __future__ import annotations

from gitops.health.fields import items
from gitops.resources import Health, JsonObject


def ingress_health(obj: JsonObject) -> Health:
    """An Ingress with a load-balancer address → Healthy; without one yet → Progressing."""
    return Health("Healthy" if list(items(obj, "status.loadBalancer.ingress")) else "Progressing")
