"""ApplicationSet status conditions as Argo CD sets them: ErrorOccurred, ParametersGenerated, ResourcesUpToDate."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from gitops.resources import JsonObject

UP_TO_DATE = "ApplicationSetUpToDate"
PARAMETERS_GENERATED = "Successfully generated parameters for all Applications"


def _condition(kind: str, status: str, reason: str, message: str) -> JsonObject:
    return {"type": kind, "status": status, "reason": reason, "message": message}


def appset_conditions(
    previous: Sequence[Mapping[str, Any]],
    *,
    generation_error: tuple[str, str] | None,
    write_errors: Mapping[str, str],
    now: str,
) -> list[JsonObject]:
    """The three conditions after one pass; ``lastTransitionTime`` moves only when a condition's status changes.

    ``generation_error`` is (reason, message) when parameters or templates failed; ``write_errors`` names the
    Applications that could not be created, updated or deleted.
    """
    if generation_error is not None:
        reason, message = generation_error
        fresh = [
            _condition("ErrorOccurred", "True", reason, message),
            _condition("ParametersGenerated", "False", "ErrorOccurred", message),
            _condition("ResourcesUpToDate", "False", "ErrorOccurred", message),
        ]
    elif write_errors:
        message = "; ".join(f"{name}: {problem}" for name, problem in sorted(write_errors.items()))
        fresh = [
            _condition("ErrorOccurred", "True", "ApplicationSetApplicationError", message),
            _condition("ParametersGenerated", "True", "ParametersGenerated", PARAMETERS_GENERATED),
            _condition("ResourcesUpToDate", "False", "ApplicationSetApplicationError", message),
        ]
    else:
        fresh = [
            _condition("ErrorOccurred", "False", UP_TO_DATE, "All applications have been generated successfully"),
            _condition("ParametersGenerated", "True", "ParametersGenerated", PARAMETERS_GENERATED),
            _condition("ResourcesUpToDate", "True", UP_TO_DATE, "All applications have been generated successfully"),
        ]
    before = {str(condition.get("type")): condition for condition in previous}
    for condition in fresh:
        old = before.get(condition["type"])
        if old is not None and old.get("status") == condition["status"] and old.get("lastTransitionTime"):
            condition["lastTransitionTime"] = old["lastTransitionTime"]
        else:
            condition["lastTransitionTime"] = now
    kept = [dict(condition) for kind, condition in before.items() if kind not in {c["type"] for c in fresh}]
    return fresh + kept
