"""The one exception the renderers raise."""

from __future__ import annotations


class RenderError(Exception):
    """A source that cannot be rendered; the message names the file (and line) or the field at fault."""
