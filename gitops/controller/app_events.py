"""The Kubernetes Events the Application controller posts, with Argo CD's reasons and wording. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

OPERATION_STARTED: Final = "OperationStarted"
OPERATION_COMPLETED: Final = "OperationCompleted"
RESOURCE_UPDATED: Final = "ResourceUpdated"
RESOURCE_DELETED: Final = "ResourceDeleted"
SYNC_ERROR: Final = "SyncError"


@dataclass(frozen=True)
class AppEvent:
    """One Event about an Application (``type`` Normal or Warning)."""

    type: str
    reason: str
    message: str


def automated_sync_started(revision: str) -> AppEvent:
    return AppEvent("Normal", OPERATION_STARTED, f"Initiated automated sync to '{revision}'")


def sync_started(revision: str, username: str) -> AppEvent:
    who = username or "unknown user"
    return AppEvent("Normal", OPERATION_STARTED, f"{who} initiated sync to {revision or 'HEAD'}")


def operation_completed(revision: str, phase: str, message: str) -> AppEvent:
    """Argo CD's "Sync operation to <rev> succeeded" / "... failed: <message>"."""
    if phase == "Succeeded":
        return AppEvent("Normal", OPERATION_COMPLETED, f"Sync operation to {revision} succeeded")
    return AppEvent("Warning", OPERATION_COMPLETED, f"Sync operation to {revision} failed: {message}")


def status_transitions(before_sync: str, after_sync: str, before_health: str, after_health: str) -> list[AppEvent]:
    """"Updated sync status: A -> B" and "Updated health status: A -> B" for each that changed."""
    events = []
    if before_sync and after_sync and before_sync != after_sync:
        events.append(AppEvent("Normal", RESOURCE_UPDATED, f"Updated sync status: {before_sync} -> {after_sync}"))
    if before_health and after_health and before_health != after_health:
        events.append(
            AppEvent("Normal", RESOURCE_UPDATED, f"Updated health status: {before_health} -> {after_health}")
        )
    return events


def resource_deleted(what: str) -> AppEvent:
    return AppEvent("Normal", RESOURCE_DELETED, f"Deleted resource {what}")
