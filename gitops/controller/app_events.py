"""The Kubernetes Events the Application controller posts, with Argo CD's reasons and wording. Pure."""

from __future__ import annotations

from typing import Final

from kube.event_records import EventRecord

OPERATION_STARTED: Final = "OperationStarted"
OPERATION_COMPLETED: Final = "OperationCompleted"
RESOURCE_UPDATED: Final = "ResourceUpdated"
RESOURCE_DELETED: Final = "ResourceDeleted"


def automated_sync_started(revision: str) -> EventRecord:
    return EventRecord("Normal", OPERATION_STARTED, f"Initiated automated sync to '{revision}'")


def sync_started(revision: str, username: str) -> EventRecord:
    who = username or "unknown user"
    return EventRecord("Normal", OPERATION_STARTED, f"{who} initiated sync to {revision or 'HEAD'}")


def operation_completed(revision: str, phase: str, message: str) -> EventRecord:
    """Argo CD's "Sync operation to <rev> succeeded" / "... failed: <message>"."""
    if phase == "Succeeded":
        return EventRecord("Normal", OPERATION_COMPLETED, f"Sync operation to {revision} succeeded")
    return EventRecord("Warning", OPERATION_COMPLETED, f"Sync operation to {revision} failed: {message}")


def status_transitions(before_sync: str, after_sync: str, before_health: str, after_health: str) -> list[EventRecord]:
    """"Updated sync status: A -> B" and "Updated health status: A -> B" for each that changed."""
    events = []
    if before_sync and after_sync and before_sync != after_sync:
        events.append(EventRecord("Normal", RESOURCE_UPDATED, f"Updated sync status: {before_sync} -> {after_sync}"))
    if before_health and after_health and before_health != after_health:
        events.append(
            EventRecord("Normal", RESOURCE_UPDATED, f"Updated health status: {before_health} -> {after_health}")
        )
    return events


def resource_deleted(what: str) -> EventRecord:
    return EventRecord("Normal", RESOURCE_DELETED, f"Deleted resource {what}")
