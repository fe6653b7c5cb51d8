"""Validation findings that name the field path, as lint and InvalidSpec conditions print them."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pydantic import ValidationError


@dataclass(frozen=True)
class FieldIssue:
    """One thing wrong with a manifest, at a camelCase field path like ``spec.strategy.canary.steps[0]``."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


def field_name(name: str) -> str:
    """A field name as a path shows it: as written, or JSON-quoted when it has a space, a colon, a quote, a
    bracket (which would read as a list index) or a character one cannot see (``"\\ufeffselector"``), so that a
    message never hides what the key really is."""
    if name and name.isprintable() and not any(character in name for character in ' :"[]'):
        return name
    return json.dumps(name)


def field_path(location: Iterable[str | int]) -> str:
    """``('spec', 'steps', 0, 'setWeight')`` → ``spec.steps[0].setWeight``."""
    text = ""
    for part in location:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            shown = field_name(part)
            text += f".{shown}" if text else shown
    return text


def issues_from_validation_error(error: ValidationError) -> list[FieldIssue]:
    """Field issues from pydantic's errors, without pydantic's union and validator location parts."""
    found: list[FieldIssue] = []
    for detail in error.errors(include_url=False):
        location = [
            part
            for part in detail["loc"]
            if not (isinstance(part, str) and (part in {"int", "str", "float", "bool"} or "[" in part))
        ]
        message = str(detail["msg"]).removeprefix("Value error, ")
        found.append(FieldIssue(field_path(location), message))
    return _deduplicated(found)


def _deduplicated(items: Sequence[FieldIssue]) -> list[FieldIssue]:
    seen: set[FieldIssue] = set()
    unique: list[FieldIssue] = []
    for item in items:
        if item not in seen:
            seen.add(item)
            unique.append(item)
    return unique


def summarize(issues: Sequence[FieldIssue]) -> str:
    """One message for a status condition: every issue, separated by '; '."""
    return "; ".join(str(issue) for issue in issues)
