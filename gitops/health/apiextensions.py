"""Health of apiextensions.k8s.io CustomResourceDefinition (gitops-engine's rules)."""

from __future__ import annotations

from gitops.health.fields import items
from gitops.resources import Health, JsonObject


def crd_health(obj: JsonObject) -> Health:
    """Established with its names accepted → Healthy; terminating → Progressing; otherwise Degraded."""
    conditions = list(items(obj, "status.conditions"))
    if not conditions:
        return Health("Progressing", "Status conditions not found")
    established = terminating = names_rejected = violations = False
    message = ""
    for found in conditions:
        kind, status, text = found.get("type"), found.get("status"), str(found.get("message") or "")
        if kind == "Terminating" and status == "True":
            terminating, message = True, text
        elif kind == "NamesAccepted" and status == "False":
            names_rejected, message = True, text
        elif kind == "Established":
            if status == "True":
                established = True
            else:
                message = text
        elif kind == "NonStructuralSchema" and status == "True":
            violations, message = True, text
    if terminating:
        return Health("Progressing", f"CRD is being terminated: {message}")
    if names_rejected:
        return Health("Degraded", f"CRD names have not been accepted: {message}")
    if not established:
        return Health("Degraded", f"CRD is not established: {message}")
    if violations:
        return Health("Degraded", f"Schema violations found: {message}")
    return Health("Healthy", "CRD is healthy")
