"""Health of batch/v1 Job and CronJob."""

from __future__ import annotations

from gitops.health.fields import items, section
from gitops.resources import Health, JsonObject

HEALTHY, PROGRESSING, DEGRADED, SUSPENDED = "Healthy", "Progressing", "Degraded", "Suspended"


def job_health(obj: JsonObject) -> Health:
    """No Complete/Failed/Suspended condition → Progressing; Failed → Degraded; Suspended → Suspended."""
    complete = failed = suspended = False
    message = failure = ""
    for found in items(obj, "status.conditions"):
        kind = found.get("type")
        if kind == "Failed":
            complete = failed = True
            failure = str(found.get("message") or "")
        elif kind == "Complete":
            complete = True
            message = str(found.get("message") or "")
        elif kind == "Suspended":
            complete = True
            message = str(found.get("message") or "")
            suspended = found.get("status") == "True"
    if not complete:
        return Health(PROGRESSING, message)
    if failed:
        return Health(DEGRADED, failure)
    if suspended:
        return Health(SUSPENDED, message)
    return Health(HEALTHY, message)


def cronjob_health(obj: JsonObject) -> Health:
    """A suspended CronJob → Suspended; otherwise Healthy (its Jobs carry their own health)."""
    if section(obj, "spec").get("suspend") is True:
        return Health(SUSPENDED, "CronJob is Suspended")
    return Health(HEALTHY)
