"""Which changes of a generated Application call for another pass of its ApplicationSet.

Argo CD's ApplicationSet controller watches the Applications it owns through a predicate
(``shouldRequeueForApplication`` in ``applicationset/controllers/applicationset_controller.go``): a pass follows a
change of what the ApplicationSet writes (spec, labels, annotations, finalizers) or of what its status reports
(sync status, health status, the operation's phase and start), and nothing else. Without it every status patch the
Application controller makes — several per Application while a thousand of them sync — would regenerate and
re-plan the whole set.

``owned_fields_changed`` tells the two apart: a change the ApplicationSet must correct is worth a pass at once, a
change it only reports can wait for the next one.
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


def owned_fields_changed(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> bool:
    """Whether what the ApplicationSet writes (spec, labels, annotations, finalizers), or what decides whether it
    owns the Application or is deleting it, differs — or the Application was not seen before."""
    if old is None:
        return True
    if (old.get("spec") or None) != (new.get("spec") or None):
        return True
    return any(_meta(old, field) != _meta(new, field)
               for field in ("annotations", "labels", "finalizers", "ownerReferences", "deletionTimestamp"))


def application_change_requeues(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> bool:
    """Whether the change from ``old`` (None: not seen before) to ``new`` calls for a pass of the ApplicationSet
    that owns the Application."""
    if owned_fields_changed(old, new):
        return True
    assert old is not None
    # What status.resources reports.
    if _status(old, "sync", "status") != _status(new, "sync", "status"):
        return True
    if _status(old, "health", "status") != _status(new, "health", "status"):
        return True
    old_operation, new_operation = _status(old, "operationState"), _status(new, "operationState")
    if old_operation is not None and new_operation is not None:
        return any(old_operation.get(key) != new_operation.get(key) for key in ("phase", "startedAt"))
    return False


# Fields the API server changes on every write, whatever was written.
_WRITE_BOOKKEEPING = ("resourceVersion", "managedFields")


def appset_change_requeues(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> bool:
    """Whether a change of the ApplicationSet itself calls for a pass: anything but its status — controller-runtime's
    generation and annotation predicates together. Its own status patch is the controller's echo; a pass for it
    would patch the status again as soon as an Application moved, and so on without end while a thousand sync."""
    if old is None:
        return True

    def without_status(appset: Mapping[str, Any]) -> dict[str, Any]:
        metadata = {key: value for key, value in (appset.get("metadata") or {}).items()
                    if key not in _WRITE_BOOKKEEPING}
        return {**{key: value for key, value in appset.items() if key != "status"}, "metadata": metadata}

    return without_status(old) != without_status(new)


def status_requeue_delay(minimum: float, last_pass_seconds: float | None, share: float) -> float:
    """How long a status-only change waits for its pass: at least ``minimum``, and long enough that passes made for
    such changes alone take at most ``share`` of the time (a pass of ``last_pass_seconds``, then the wait). The
    cost of a pass grows with the Applications the set generates; without this bound a large set that changes
    continuously would be regenerated continuously."""
    if last_pass_seconds is None or last_pass_seconds <= 0 or not 0 < share < 1:
        return minimum
    return max(minimum, last_pass_seconds * (1 - share) / share)
