"""The shape every manifest, live object and patch has in this code base: a JSON object as Python's ``json``
module reads it. One alias, so that a reader (and mypy) knows a dict is a Kubernetes document, not a record."""

from __future__ import annotations

from typing import Any, TypeAlias

JsonObject: TypeAlias = dict[str, Any]
