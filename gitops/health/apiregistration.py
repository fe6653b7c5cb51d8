"""Health of apiregistration.k8s.io APIService."""

from __future__ import annotations

from gitops.health.fields import items
from gitops.resources import Health, JsonObject


def apiservice_health(obj: JsonObject) -> Health:
    """Available=True → Healthy; Available otherwise, or not reported yet → Progressing."""
    for found in items(obj, "status.conditions"):
        if found.get("type") == "Available":
            message = f"{found.get('reason', '')}: {found.get('message', '')}"
            return Health("Healthy" if found.get("status") == "True" else "Progressing", message)
    return Health("Progressing", "Waiting to be processed")
