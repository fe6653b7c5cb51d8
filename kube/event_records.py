"""The Event a pure decision asks for: its type, Argo's reason and the message.

Decisions return these as plain data; the controllers hand them to ``kube.events.EventRecorder``, which posts them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

EventType = Literal["Normal", "Warning"]


@dataclass(frozen=True)
class EventRecord:
    """A Kubernetes Event about the object a decision is for, with Argo's reason names (``RolloutPaused``,
    ``MetricFailed``, ``AnalysisRunSuccessful``, …)."""

    type: EventType
    reason: str
    message: str
