"""What one reconcile pass decides: the writes to make, the new status, the Events, and when to look again.

Decision functions build a Plan from an observed snapshot and `now`; the controller carries it out in order and
stops at the first failed write (the next pass sees what did happen and decides again).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kube.event_records import EventRecord
from kube.json_data import JsonObject as JsonObject  # re-exported: code written against this module keeps working
from kube.resources import ResourceKind


@dataclass(frozen=True)
class ObjectWrite:
    """What every write names: the kind of its object and the namespace (not used for a cluster-scoped kind)."""

    kind: ResourceKind
    namespace: str


@dataclass(frozen=True)
class Create(ObjectWrite):
    """Create an object (its body carries metadata.name and, where needed, ownerReferences)."""

    body: JsonObject


@dataclass(frozen=True)
class Patch(ObjectWrite):
    """A JSON merge patch of one object, or of its status/scale subresource."""

    name: str
    patch: JsonObject
    subresource: str | None = None


@dataclass(frozen=True)
class Delete(ObjectWrite):
    """Delete one object; one already gone is what was wanted (the controller takes NotFound as done)."""

    name: str


Write = Create | Patch | Delete


# The rollout controller's Events are the shared record; the name is kept for the code written against it.
Event = EventRecord


@dataclass(frozen=True)
class Plan:
    """The outcome of one decision.

    ``status_patch`` is the merge patch from the observed to the new status, or None when nothing changed — a
    resync of an object that needs nothing yields a Plan with no writes, no status patch and no events.
    ``requeue_after`` is the number of seconds until a timer (pause, delay, deadline) needs another look; None
    means only a change of an observed object can change the decision.
    """

    writes: tuple[Write, ...] = ()
    status: JsonObject = field(default_factory=dict)
    status_patch: JsonObject | None = None
    events: tuple[Event, ...] = ()
    requeue_after: float | None = None

    @property
    def is_noop(self) -> bool:
        return not self.writes and self.status_patch is None and not self.events
