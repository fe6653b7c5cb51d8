"""The event types of a Kubernetes watch stream, as the API server names them."""

from __future__ import annotations

from typing import Final

DELETED: Final = "DELETED"
"""The watch event of an object removed from the store (its last state is the event's object)."""
