"""Health of a child ``argoproj.io/Application`` in an App of Apps — opt-in (``--application-health``).

Argo CD removed the built-in Application health check in 1.8, so a parent's sync waves never wait for the child
Applications they create (argo-cd #5585, #4577, #8778); the workaround its docs give is a Lua customization copying
the child's ``status.health``. This check goes further: a child counts as Healthy only once its own controller has
compared the spec the parent applied, finished any operation, and reports sync ``Synced`` and health ``Healthy`` —
so the next wave starts after the child is really deployed, not merely declared.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gitops.health.fields import section
from gitops.resources import Health, JsonObject

HEALTHY, PROGRESSING, DEGRADED, SUSPENDED = "Healthy", "Progressing", "Degraded", "Suspended"
_RUNNING_PHASES = ("Running", "Terminating")


def application_health(obj: JsonObject) -> Health:
    """A child Application's health as its parent's sync sees it.

    Degraded when the child says Degraded (the parent's wave fails, as for any Degraded resource); Suspended when
    the child is Synced and Suspended (the wave holds, as for a suspended Deployment); Healthy only when the child's
    last comparison covers its current spec, no operation is running, and it is Synced and Healthy; otherwise
    Progressing, saying what it waits for.
    """
    status = section(obj, "status")
    health = section(obj, "status", "health")
    health_status = str(health.get("status") or "")
    health_message = str(health.get("message") or "")
    if health_status == DEGRADED:
        return Health(DEGRADED, health_message or "child application is Degraded")
    if not _compared_current_spec(obj):
        return Health(PROGRESSING, "waiting for the child application's controller to compare its current spec")
    if obj.get("operation") or _operation_running(status):
        return Health(PROGRESSING, "waiting for the child application's sync operation to finish")
    sync_status = str(section(obj, "status", "sync").get("status") or "Unknown")
    if sync_status != "Synced":
        return Health(PROGRESSING, f"waiting for the child application to be Synced (sync status: {sync_status})")
    if health_status == SUSPENDED:
        return Health(SUSPENDED, health_message or "child application is Suspended")
    if health_status != HEALTHY:
        return Health(PROGRESSING, f"waiting for the child application to be Healthy (health status: "
                                   f"{health_status or 'Unknown'})")
    return Health(HEALTHY, health_message)


def _operation_running(status: Mapping[str, Any]) -> bool:
    state = status.get("operationState")
    return isinstance(state, Mapping) and state.get("phase") in _RUNNING_PHASES


def _compared_current_spec(obj: JsonObject) -> bool:
    """Whether ``status.sync.comparedTo`` names the spec's destination and source(s) — Argo CD's own test for an
    outdated comparison: a status written before the parent changed the spec says nothing about the new one."""
    spec = section(obj, "spec")
    compared = section(obj, "status", "sync", "comparedTo")
    if not compared:
        return False
    if (compared.get("destination") or {}) != (spec.get("destination") or {}):
        return False
    if spec.get("sources"):
        return bool(compared.get("sources") == spec.get("sources"))
    return bool((compared.get("source") or {}) == (spec.get("source") or {}))
