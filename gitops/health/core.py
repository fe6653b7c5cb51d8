"""Health of core (v1) kinds: Pod, Service and PersistentVolumeClaim (gitops-engine's rules)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gitops.health.fields import condition, integer, items, section, text
from gitops.resources import Health, JsonObject

HEALTHY, PROGRESSING, DEGRADED, UNKNOWN = "Healthy", "Progressing", "Degraded", "Unknown"
IGNORE_RESTART_POLICY = "argocd.argoproj.io/ignore-restart-policy"


def _is_failing_wait(reason: str) -> bool:
    # CrashLoopBackOff, ImagePullBackOff, ErrImagePull, CreateContainerConfigError, ...
    return reason.startswith("Err") or reason.endswith("Error") or reason.endswith("BackOff")


def _termination_message(container: Mapping[str, Any]) -> str:
    terminated = section(container, "state", "terminated")
    if not terminated:
        return ""
    message = text(terminated, "message")
    if message:
        return message
    if terminated.get("reason") == "OOMKilled":
        return "OOMKilled"
    exit_code = integer(terminated, "exitCode")
    if exit_code != 0:
        return f'container "{text(container, "name")}" failed with exit code {exit_code}'
    return ""


def _is_ready(obj: JsonObject) -> bool:
    ready = condition(obj, "Ready")
    return ready is not None and ready.get("status") == "True"


def pod_health(obj: JsonObject) -> Health:
    """Crash-looping or Err*/…BackOff containers (restartPolicy Always) → Degraded; else from the phase."""
    # Pods with restartPolicy Never/OnFailure are usually hooks: an image pull back-off may still resolve,
    # and failing the hook early would run it again after the sync ended.
    restart_policy = text(obj, "spec.restartPolicy") or "Always"
    if section(obj, "metadata", "annotations").get(IGNORE_RESTART_POLICY) == "true":
        # The user says this pod is long-lived whatever its restart policy: judge it like restartPolicy Always.
        restart_policy = "Always"
    message = text(obj, "status.message")
    if restart_policy == "Always":
        waiting_messages = [
            text(section(container, "state", "waiting"), "message")
            for container in items(obj, "status.containerStatuses")
            if _is_failing_wait(text(section(container, "state", "waiting"), "reason"))
        ]
        if waiting_messages:
            return Health(DEGRADED, ", ".join(waiting_messages))
    phase = text(obj, "status.phase")
    if phase == "Pending":
        return Health(PROGRESSING, message)
    if phase == "Succeeded":
        return Health(HEALTHY, message)
    if phase == "Failed":
        if message:
            return Health(DEGRADED, message)
        containers = [*items(obj, "status.initContainerStatuses"), *items(obj, "status.containerStatuses")]
        for container in containers:
            failure = _termination_message(container)
            if failure:
                return Health(DEGRADED, failure)
        return Health(DEGRADED, "")
    if phase == "Running":
        if restart_policy == "Always":
            if _is_ready(obj):
                return Health(HEALTHY, message)
            restarted = any(
                section(container, "lastState", "terminated") for container in items(obj, "status.containerStatuses")
            )
            return Health(DEGRADED if restarted else PROGRESSING, message)
        # A pod meant to finish (a hook) is still working while it runs.
        return Health(PROGRESSING, message)
    return Health(UNKNOWN, message)


def service_health(obj: JsonObject) -> Health:
    """A LoadBalancer Service without an ingress address → Progressing; every other Service → Healthy."""
    if text(obj, "spec.type") == "LoadBalancer" and not list(items(obj, "status.loadBalancer.ingress")):
        return Health(PROGRESSING)
    return Health(HEALTHY)


def pvc_health(obj: JsonObject) -> Health:
    """Bound → Healthy, Pending → Progressing, Lost → Degraded, anything else Unknown."""
    phase = text(obj, "status.phase")
    status = {"Bound": HEALTHY, "Pending": PROGRESSING, "Lost": DEGRADED}.get(phase, UNKNOWN)
    return Health(status)
