"""Errors of the I/O layer, with messages a person can act on."""

from __future__ import annotations


class KubeError(Exception):
    """Something went wrong talking to the Kubernetes API."""


class ConfigError(KubeError):
    """No usable kubeconfig or context."""


class Unreachable(KubeError):
    """The API server did not answer."""


class ApiError(KubeError):
    """The API server answered with an error Status."""

    def __init__(self, code: int, reason: str, message: str) -> None:
        super().__init__(message or reason or f"HTTP {code}")
        self.code = code
        self.reason = reason
        self.message = message


class NotFound(ApiError):
    """404: the object (or its namespace, or its resource type) does not exist."""


class Conflict(ApiError):
    """409: a stale resourceVersion or an object that already exists."""


def api_error(code: int, reason: str, message: str) -> ApiError:
    """The most specific error class for an HTTP status."""
    if code == 404:
        return NotFound(code, reason, message)
    if code == 409:
        return Conflict(code, reason, message)
    return ApiError(code, reason, message)
