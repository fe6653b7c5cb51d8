"""Kubernetes ``Status`` objects: the failures the emulator answers with, shaped as a real API server's."""

from __future__ import annotations

from typing import Any

# Real API servers word these messages exactly so; clients such as kubectl print them verbatim.
_UNKNOWN_RESOURCE = "the server could not find the requested resource"
_CONFLICT_SUFFIX = (
    "the object has been modified; please apply your changes to the latest version and try again"
)


def qualified(resource: str, group: str) -> str:
    """The resource as API error messages name it: ``configmaps``, ``deployments.apps``."""
    return f"{resource}.{group}" if group else resource


class ApiError(Exception):
    """A request the API refuses; rendered as a ``Status`` with ``code`` as the HTTP status."""

    def __init__(
        self,
        code: int,
        reason: str,
        message: str,
        *,
        name: str | None = None,
        group: str | None = None,
        kind: str | None = None,
        causes: list[dict[str, str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details: dict[str, Any] = {}
        if name is not None:
            self.details["name"] = name
        if group:
            self.details["group"] = group
        if kind is not None:
            self.details["kind"] = kind
        if causes:
            self.details["causes"] = causes

    def to_status(self) -> dict[str, Any]:
        status: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details:
            status["details"] = dict(self.details)
        return status


def success_status(*, name: str, group: str, resource: str, uid: str) -> dict[str, Any]:
    """What deleting a built-in that does not echo the object returns (``Status`` with ``Success``)."""
    details: dict[str, Any] = {"name": name, "kind": resource, "uid": uid}
    if group:
        details["group"] = group
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details}


def not_found(resource: str, name: str, group: str = "") -> ApiError:
    message = f'{qualified(resource, group)} "{name}" not found'
    return ApiError(404, "NotFound", message, name=name, group=group, kind=resource)


def unknown_resource() -> ApiError:
    return ApiError(404, "NotFound", _UNKNOWN_RESOURCE, kind="", name="")


def already_exists(resource: str, name: str, group: str = "") -> ApiError:
    return ApiError(
        409,
        "AlreadyExists",
        f'{qualified(resource, group)} "{name}" already exists',
        name=name,
        group=group,
        kind=resource,
    )


def conflict(resource: str, name: str, group: str = "", detail: str = _CONFLICT_SUFFIX) -> ApiError:
    return ApiError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {qualified(resource, group)} "{name}": {detail}',
        name=name,
        group=group,
        kind=resource,
    )


def apply_conflict(message: str, causes: list[dict[str, str]]) -> ApiError:
    """409 for a server-side apply that would change fields other managers own (one cause per field)."""
    return ApiError(409, "Conflict", message, causes=causes)


def invalid_options(kind: str, field: str, problem: str, cause: str) -> ApiError:
    """422 for request options upstream refuses (``PatchOptions.meta.k8s.io "" is invalid: ...``)."""
    return ApiError(
        422,
        "Invalid",
        f'{kind}.meta.k8s.io "" is invalid: {field}: {problem}',
        name="",
        group="meta.k8s.io",
        kind=kind,
        causes=[{"reason": cause, "message": problem, "field": field}],
    )


def invalid(kind: str, name: str, field: str, problem: str, group: str = "") -> ApiError:
    return ApiError(
        422,
        "Invalid",
        f'{kind}.{group} "{name}" is invalid: {field}: {problem}' if group else
        f'{kind} "{name}" is invalid: {field}: {problem}',
        name=name,
        group=group,
        kind=kind,
        causes=[{"reason": "FieldValueInvalid", "message": problem, "field": field}],
    )


def unprocessable(message: str) -> ApiError:
    """A 422 without a field to blame, e.g. a JSON patch ``test`` that failed."""
    return ApiError(422, "Invalid", message)


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def forbidden(resource: str, name: str, message: str, group: str = "") -> ApiError:
    return ApiError(
        403,
        "Forbidden",
        f'{qualified(resource, group)} "{name}" is forbidden: {message}',
        name=name,
        group=group,
        kind=resource,
    )


def unsupported_media_type(content_type: str, accepted: list[str]) -> ApiError:
    return ApiError(
        415,
        "UnsupportedMediaType",
        f"the body of the request was in an unknown format ({content_type or 'no Content-Type'})"
        f" - accepted media types include: {', '.join(accepted)}",
    )


def method_not_allowed() -> ApiError:
    message = "the server does not allow this method on the requested resource"
    return ApiError(405, "MethodNotAllowed", message)


def expired(message: str) -> ApiError:
    """410: a watch or continue token older than the history the server still holds."""
    return ApiError(410, "Expired", message)
