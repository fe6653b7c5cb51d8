"""Fields a manifest sets that its kind does not have: what Argo's ``lint`` refuses by strict decoding.

The models keep unknown fields (so a manifest round-trips, and a newer Argo field is not lost on its way through
the controller); lint is where a typo such as ``progressDeadlineSecond`` must be caught, because the API server
keeps it and every controller reading the typed object ignores it.
"""

from __future__ import annotations

import difflib
import json
from typing import Any

from pydantic import BaseModel

from kube.issues import FieldIssue, field_name

# Kubernetes' own parts: ObjectMeta has many fields the models do not name (managedFields, selfLink, …), and the
# status is the controller's to write, not the author's.
_NOT_WALKED = frozenset({"metadata", "status"})


def unknown_fields(model: BaseModel) -> list[FieldIssue]:
    """Every field set in a parsed top-level object (below its ``metadata`` and ``status``) that its model does
    not know, at its camelCase path, with the nearest known name when one is close."""
    found: list[FieldIssue] = []
    pending: list[tuple[str, Any]] = [("", model)]
    while pending:  # a work list, not recursion: a manifest is as deep as its author made it
        path, value = pending.pop()
        if isinstance(value, BaseModel):
            known = _aliases(value)
            for name in sorted(value.model_extra or {}):
                found.append(FieldIssue(_join(path, name), _unknown_message(name, known)))
            for field_name, field in type(value).model_fields.items():
                alias = field.alias or field_name
                if not path and alias in _NOT_WALKED:
                    continue
                if field_name in value.model_fields_set:
                    pending.append((_join(path, alias), getattr(value, field_name)))
        elif isinstance(value, list):
            pending.extend((f"{path}[{index}]", item) for index, item in enumerate(value))
        elif isinstance(value, dict):
            pending.extend((_join(path, str(key)), item) for key, item in value.items() if isinstance(item, BaseModel))
    return sorted(found, key=lambda issue: issue.path)


def _aliases(model: BaseModel) -> list[str]:
    return [field.alias or name for name, field in type(model).model_fields.items()]


def _join(path: str, name: str) -> str:
    shown = field_name(name)
    return f"{path}.{shown}" if path else shown


def _unknown_message(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.8)
    hint = f'; did you mean "{close[0]}"?' if close else ""
    return f"unknown field {json.dumps(name, ensure_ascii=True)}{hint}"
