"""Parameter sets: what a generator yields for one Application, in the shape each template mode reads.

Go-template mode keeps nested values (``.path.basename``); the default mode reads flat string keys
(``path.basename``), so nested objects are flattened with dots and list items by index, and every value is
printed as Go prints it (``true``, ``3``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gitops.appset.go_template import go_string

Params = dict[str, Any]


def flatten(value: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Nested maps and lists as dotted string keys: ``{"a": {"b": [1]}}`` → ``{"a.b.0": "1"}``."""
    flat: dict[str, str] = {}
    for key, item in value.items():
        name = f"{prefix}{key}"
        if isinstance(item, Mapping):
            flat.update(flatten(item, f"{name}."))
        elif isinstance(item, list):
            flat.update(flatten({str(index): element for index, element in enumerate(item)}, f"{name}."))
        else:
            flat[name] = go_string(item)
    return flat


def lookup(params: Mapping[str, Any], dotted: str) -> Any:
    """A value by flat key, or by dotted path into nested values (for merge keys and selectors in both modes)."""
    if dotted in params:
        return params[dotted]
    value: Any = params
    for part in dotted.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value
