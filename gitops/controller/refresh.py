"""When an Application's source is looked at again (Argo CD's "refresh"), and how thoroughly. Pure.

- a periodic refresh every ``timeout.reconciliation`` (180 s) plus up to ``jitter`` seconds, so a thousand
  Applications created together do not all ask Git at the same instant;
- ``argocd.argoproj.io/refresh: normal`` (resolve the revision again) or ``hard`` (also bypass the render cache),
  removed by the controller once done;
- a push webhook, which marks the Applications it concerns like a ``normal`` refresh;
- a changed source (spec) — nothing rendered from the old source is reused.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, Final

from kube.json_data import JsonObject

REFRESH_ANNOTATION: Final = "argocd.argoproj.io/refresh"


class Depth(Enum):
    """How thoroughly a pass looks at the source again: not at all (it compares with the last render), ``normal``
    (resolve the revision and render again), ``hard`` (also bypass the render cache)."""

    NONE = "none"
    NORMAL = "normal"
    HARD = "hard"


@dataclass(frozen=True)
class RefreshNeed:
    """How thoroughly to look at the source again, and why (for the log)."""

    depth: Depth
    reason: str


def requested_refresh(app: JsonObject) -> str | None:
    """``normal`` or ``hard`` when the annotation asks for a refresh; anything else is no request."""
    annotations = (app.get("metadata") or {}).get("annotations") or {}
    value = str(annotations.get(REFRESH_ANNOTATION) or "").strip().lower()
    return value if value in ("normal", "hard") else None


def source_fingerprint(app: JsonObject) -> str:
    """A digest of what the manifests are generated from (sources, destination namespace, the app's name), so a
    spec edit invalidates the previous render."""
    spec = app.get("spec") or {}
    material = {
        "source": spec.get("source"),
        "sources": spec.get("sources"),
        "namespace": (spec.get("destination") or {}).get("namespace"),
        "name": (app.get("metadata") or {}).get("name"),
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


def refresh_need(
    app: JsonObject,
    *,
    rendered_fingerprint: str | None,
    seconds_since_render: float | None,
    poll_seconds: float,
    pushed: bool,
) -> RefreshNeed:
    """Whether this pass resolves and renders again, or compares with what the last render produced."""
    requested = requested_refresh(app)
    if requested is not None:
        return RefreshNeed(Depth(requested), f"{requested} refresh requested")
    if rendered_fingerprint is None or seconds_since_render is None:
        return RefreshNeed(Depth.NORMAL, "first comparison")
    if rendered_fingerprint != source_fingerprint(app):
        return RefreshNeed(Depth.NORMAL, "source changed")
    if pushed:
        return RefreshNeed(Depth.NORMAL, "push webhook")
    if poll_seconds > 0 and seconds_since_render >= poll_seconds:
        return RefreshNeed(Depth.NORMAL, "periodic refresh")
    return RefreshNeed(Depth.NONE, "")


def poll_delay(name: str, poll_seconds: float, jitter_seconds: float) -> float:
    """The delay before the next periodic refresh: the period plus a jitter fixed per Application (from its name)
    so refreshes spread out but each Application keeps a steady rhythm."""
    if poll_seconds <= 0:
        return 0.0
    if jitter_seconds <= 0:
        return poll_seconds
    fraction = int(hashlib.sha256(name.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return poll_seconds + fraction * jitter_seconds


def annotation_removal(app: Mapping[str, Any]) -> JsonObject | None:
    """The merge patch that removes the refresh annotation once the refresh is done (``None`` without one)."""
    annotations = (app.get("metadata") or {}).get("annotations") or {}
    if REFRESH_ANNOTATION not in annotations:
        return None
    return {"metadata": {"annotations": {REFRESH_ANNOTATION: None}}}
