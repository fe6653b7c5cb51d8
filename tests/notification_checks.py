"""What the notification tests read of a notification controller and of the objects it notified about."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from kube.object_meta import ObjectKey
from notifications.controller import NotificationController
from notifications.state import NOTIFIED_ANNOTATION


def pending_about(notifier: NotificationController, key: ObjectKey) -> list[object]:
    """The deliveries pending about ``key`` (read from the test's thread: a copy, taken in one step, of a set that
    belongs to the controller's thread)."""
    return [identity for identity in frozenset(notifier.delivery.pending)
            if isinstance(identity, tuple) and identity[0] == key]


def notified_keys(obj: Mapping[str, Any]) -> dict[str, int]:
    """The state keys the object's ``notified.notifications.argoproj.io`` annotation records, as the test reads
    them (plain JSON, independent of ``notifications.state``'s parsing)."""
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    state: dict[str, int] = json.loads(annotations.get(NOTIFIED_ANNOTATION) or "{}")
    return state
