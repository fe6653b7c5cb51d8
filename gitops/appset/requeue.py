"""Which changes of a generated Application call for another pass of its ApplicationSet.

Argo CD's ApplicationSet controller watches the Applications it owns through a predicate
(``shouldRequeueForApplication`` in ``applicationset/controllers/applicationset_controller.go``): a pass follows a
change of what the ApplicationSet writes (spec, labels, annotations, finalizers) or of what its status reports
(sync status, health status, the operation's phase and start), and nothing else. Without it every status patch the
Application controller makes — several per Application while a thousand of them sync — would regenerate and
re-plan the whole set.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _meta(app: Mapping[str, Any], field: str) -> Any:
    # Argo CD compares with cmpopts.EquateEmpty: a missing map or list equals an empty one.
    return ((app.get("metadata") or {}).get(field)) or None


def _status(app: Mapping[str, Any], *path: str) -> Any:
    value: Any = app.get("status") or {}
    for key in path:
        value = value.get(key) if isinstance(value, Mapping) else None
    return value


def application_change_requeues(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> bool:
    """Whether the change from ``old`` (None: not seen before) to ``new`` calls for a pass of the ApplicationSet
    that owns the Application."""
    if old is None:
        return True
    if (old.get("spec") or None) != (new.get("spec") or None):
        return True
    # What the ApplicationSet writes, and what decides whether it owns the Application or is deleting it.
    for field in ("annotations", "labels", "finalizers", "ownerReferences", "deletionTimestamp"):
        if _meta(old, field) != _meta(new, field):
            return True
    # What status.resources reports.
    if _status(old, "sync", "status") != _status(new, "sync", "status"):
        return True
    if _status(old, "health", "status") != _status(new, "health", "status"):
        return True
    old_operation, new_operation = _status(old, "operationState"), _status(new, "operationState")
    if old_operation is not None and new_operation is not None:
        return any(old_operation.get(key) != new_operation.get(key) for key in ("phase", "startedAt"))
    return False
