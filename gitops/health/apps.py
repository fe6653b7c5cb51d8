"""Health of the apps/v1 workloads: Deployment, StatefulSet, DaemonSet and ReplicaSet (gitops-engine's rules,
which follow ``kubectl rollout status``).

Messages are Argo's word for word, its "less then" included, so anything matching on them keeps working.
"""

from __future__ import annotations

from gitops.health.fields import condition, generation_observed, integer, optional_integer, section, text
from gitops.resources import Health, JsonObject

HEALTHY, PROGRESSING, DEGRADED, SUSPENDED = "Healthy", "Progressing", "Degraded", "Suspended"


def deployment_health(obj: JsonObject) -> Health:
    """Paused → Suspended; spec not yet observed or replicas short → Progressing; deadline exceeded → Degraded."""
    if section(obj, "spec").get("paused") is True:
        return Health(SUSPENDED, "Deployment is paused")
    if not generation_observed(obj):
        return Health(
            PROGRESSING, "Waiting for rollout to finish: observed deployment generation less then desired generation"
        )
    progressing = condition(obj, "Progressing")
    if progressing is not None and progressing.get("reason") == "ProgressDeadlineExceeded":
        name = text(obj, "metadata.name")
        return Health(DEGRADED, f'Deployment "{name}" exceeded its progress deadline')
    wanted = optional_integer(obj, "spec.replicas")
    updated = integer(obj, "status.updatedReplicas")
    replicas = integer(obj, "status.replicas")
    available = integer(obj, "status.availableReplicas")
    if wanted is not None and updated < wanted:
        return Health(
            PROGRESSING, f"Waiting for rollout to finish: {updated} out of {wanted} new replicas have been updated..."
        )
    if replicas > updated:
        return Health(
            PROGRESSING, f"Waiting for rollout to finish: {replicas - updated} old replicas are pending termination..."
        )
    if available < updated:
        return Health(
            PROGRESSING, f"Waiting for rollout to finish: {available} of {updated} updated replicas are available..."
        )
    return Health(HEALTHY)


def statefulset_health(obj: JsonObject) -> Health:
    """Observed, ready, and every pod at the update revision (or the partition reached) → Healthy."""
    observed = integer(obj, "status.observedGeneration")
    if observed == 0 or integer(obj, "metadata.generation") > observed:
        return Health(PROGRESSING, "Waiting for statefulset spec update to be observed...")
    wanted = optional_integer(obj, "spec.replicas")
    ready = integer(obj, "status.readyReplicas")
    if wanted is not None and ready < wanted:
        return Health(PROGRESSING, f"Waiting for {wanted - ready} pods to be ready...")
    strategy = section(obj, "spec", "updateStrategy")
    updated = integer(obj, "status.updatedReplicas")
    # An absent strategy type is RollingUpdate (the API server's default).
    strategy_type = strategy.get("type") or "RollingUpdate"
    if strategy_type == "RollingUpdate" and strategy.get("rollingUpdate") is not None:
        partition = optional_integer(obj, "spec.updateStrategy.rollingUpdate.partition")
        if wanted is not None and partition is not None and updated < wanted - partition:
            return Health(
                PROGRESSING,
                f"Waiting for partitioned roll out to finish: {updated} out of {wanted - partition} "
                "new pods have been updated...",
            )
        return Health(HEALTHY, f"partitioned roll out complete: {updated} new pods have been updated...")
    if strategy_type == "OnDelete":
        return Health(HEALTHY, f"statefulset has {ready} ready pods")
    update_revision = text(obj, "status.updateRevision")
    current_revision = text(obj, "status.currentRevision")
    if update_revision != current_revision:
        return Health(
            PROGRESSING,
            f"waiting for statefulset rolling update to complete {updated} pods at revision {update_revision}...",
        )
    current = integer(obj, "status.currentReplicas")
    return Health(HEALTHY, f"statefulset rolling update complete {current} pods at revision {current_revision}...")


def daemonset_health(obj: JsonObject) -> Health:
    """Every scheduled pod updated and available → Healthy; OnDelete is Healthy once observed."""
    if not generation_observed(obj):
        return Health(
            PROGRESSING, "Waiting for rollout to finish: observed daemon set generation less then desired generation"
        )
    desired = integer(obj, "status.desiredNumberScheduled")
    updated = integer(obj, "status.updatedNumberScheduled")
    if section(obj, "spec", "updateStrategy").get("type") == "OnDelete":
        return Health(HEALTHY, f"daemon set {updated} out of {desired} new pods have been updated")
    name = text(obj, "metadata.name")
    if updated < desired:
        return Health(
            PROGRESSING,
            f'Waiting for daemon set "{name}" rollout to finish: '
            f"{updated} out of {desired} new pods have been updated...",
        )
    available = integer(obj, "status.numberAvailable")
    if available < desired:
        return Health(
            PROGRESSING,
            f'Waiting for daemon set "{name}" rollout to finish: '
            f"{available} of {desired} updated pods are available...",
        )
    return Health(HEALTHY)


def replicaset_health(obj: JsonObject) -> Health:
    """A true ReplicaFailure condition → Degraded; fewer available than wanted → Progressing."""
    if not generation_observed(obj):
        return Health(
            PROGRESSING, "Waiting for rollout to finish: observed replica set generation less then desired generation"
        )
    failure = condition(obj, "ReplicaFailure")
    if failure is not None and failure.get("status") == "True":
        return Health(DEGRADED, str(failure.get("message") or ""))
    wanted = optional_integer(obj, "spec.replicas")
    available = integer(obj, "status.availableReplicas")
    if wanted is not None and available < wanted:
        return Health(
            PROGRESSING, f"Waiting for rollout to finish: {available} out of {wanted} new replicas are available..."
        )
    return Health(HEALTHY)
