"""What was already sent about an object, kept in its ``notified.notifications.argoproj.io`` annotation as Argo's
notifications engine keeps it: a JSON map from a state key to the Unix time it was recorded.

A key is ``[<oncePer>:]<trigger>:<condition key>:<service>:<recipient>``. A key is recorded once the notification
was delivered, and removed when its condition stops holding (unless it has a ``oncePer`` value, which is kept so
the notification goes once per value). At most 100 keys are kept, the oldest dropped first.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from kube.json_data import decoded_json_object
from notifications.subscriptions import Destination

NOTIFIED_ANNOTATION: Final = "notified.notifications.argoproj.io"
MAX_KEPT: Final = 100


def state_key(trigger: str, condition: str, destination: Destination, once_per: str = "") -> str:
    """notifications-engine's ``StateItemKey``."""
    key = f"{trigger}:{condition}:{destination.service}:{destination.recipient}"
    return f"{once_per}:{key}" if once_per else key


def read_state(obj: Mapping[str, Any]) -> dict[str, int]:
    """The object's notified state; an unreadable annotation counts as empty, as in Argo."""
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    parsed = decoded_json_object(annotations.get(NOTIFIED_ANNOTATION)) or {}
    return {str(key): int(value) for key, value in parsed.items() if isinstance(value, int | float)}


def with_changes(state: Mapping[str, int], recorded: Mapping[str, int], forgotten: set[str]) -> dict[str, int]:
    """``state`` with ``recorded`` keys added, ``forgotten`` removed, and the oldest dropped beyond 100."""
    changed = {key: value for key, value in state.items() if key not in forgotten}
    changed.update(recorded)
    if len(changed) > MAX_KEPT:
        for key in sorted(changed, key=lambda item: (changed[item], item))[: len(changed) - MAX_KEPT]:
            del changed[key]
    return changed


def annotation_patch(state: Mapping[str, int]) -> dict[str, Any]:
    """The merge patch that writes ``state`` (removing the annotation when it is empty)."""
    value = json.dumps(dict(sorted(state.items())), separators=(",", ":")) if state else None
    return {"metadata": {"annotations": {NOTIFIED_ANNOTATION: value}}}
