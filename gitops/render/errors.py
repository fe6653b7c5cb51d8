"""The one exception the renderers raise."""

from __future__ import annotations

from gitops.sources.urls import strip_userinfo_in_text


class RenderError(Exception):
    """A source that cannot be rendered; the message names the file (and line) or the field at fault.

    Every URL in the message loses its ``user:password@``: a kustomization's remote bases and a chart's dependency
    repositories may carry credentials, and kustomize and Helm echo them in their errors.
    """

    def __init__(self, message: str) -> None:
        super().__init__(strip_userinfo_in_text(message))
