"""Kubernetes Events about the objects a controller manages, posted in the background.

An Event is a record for people (``kubectl describe``, ``rollouts get``), not state the controller reads back,
so posting one never holds up or fails a reconcile: each is posted on its own task, and a failure is logged and
counted, nothing more.

As client-go's recorder does, an Event that repeats one posted recently (same object, type, reason and
message — a Service still missing, say) bumps that Event's ``count`` and ``lastTimestamp`` instead of adding
another object.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import socket
import time
from collections import OrderedDict
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Protocol

from kube.client import AsyncKubeClient
from kube.errors import KubeError, NotFound
from kube.json_data import JsonObject
from kube.resources import EVENTS
from kube.timestamps import format_time

logger = logging.getLogger(__name__)


# Argo Rollouts' controller posts every Event, about Rollouts and AnalysisRuns alike, as this component.
COMPONENT: Final = "rollouts-controller"
# The API server refuses longer messages on events.k8s.io; core/v1 is laxer but kubectl truncates anyway.
MAX_MESSAGE_LENGTH: Final = 1024
# client-go aggregates repeats within 10 minutes and remembers 4096 of them.
REPEAT_WINDOW_SECONDS: Final = 600.0
REMEMBERED_EVENTS: Final = 4096

_RepeatKey = tuple[str, str, str, str, str]


class EventContent(Protocol):
    """What an Event says; the controllers' own event records (frozen dataclasses) have these fields."""

    @property
    def type(self) -> str: ...  # Normal or Warning

    @property
    def reason(self) -> str: ...

    @property
    def message(self) -> str: ...


class EventCounter(Protocol):
    """Where posted Events are counted (``rollout_events_total``)."""

    def count_event(self, namespace: str, name: str, event_type: str, reason: str) -> None: ...


@dataclass
class _Posted:
    """An Event posted recently: where it is, how often it happened, and the post still in flight for it."""

    namespace: str
    name: str
    count: int
    at: float
    task: asyncio.Task[None] | None = None


class EventRecorder:
    """Posts core/v1 Events about objects without waiting for them."""

    def __init__(
        self, client: AsyncKubeClient, counter: EventCounter | None = None, *, component: str = COMPONENT
    ) -> None:
        self._client = client
        self._counter = counter
        self._component = component
        self._instance = socket.gethostname()
        self._pending: set[asyncio.Task[None]] = set()
        self._sequence = itertools.count()
        self._recent: OrderedDict[_RepeatKey, _Posted] = OrderedDict()
        # The last post about each object: the next one waits for it, so an object's Events reach the API server
        # in the order they happened (client-go's recorder posts them one after another too).
        self._tails: dict[tuple[str, str], asyncio.Task[None]] = {}
        self.failures = 0

    def emit(self, obj: JsonObject, event: EventContent) -> None:
        """Schedule the posting of an Event about ``obj`` on the running loop and return at once."""
        metadata = obj.get("metadata") or {}
        namespace, name = str(metadata.get("namespace") or "default"), str(metadata.get("name") or "")
        if self._counter is not None:
            self._counter.count_event(namespace, name, event.type, event.reason)
        logger.info("%s/%s: %s %s: %s", namespace, name, event.type, event.reason, event.message)
        now = datetime.now(UTC)
        key = (namespace, name, str(metadata.get("uid") or ""), event.reason, f"{event.type}:{event.message}")
        posted = self._recent.get(key)
        monotonic = time.monotonic()
        if posted is not None and monotonic - posted.at < REPEAT_WINDOW_SECONDS:
            posted.count += 1
            posted.at = monotonic
            self._recent.move_to_end(key)
            coroutine = self._bump(posted, posted.count, now, self.event_body(obj, event, now), posted.task)
        else:
            body = self.event_body(obj, event, now)
            posted = _Posted(namespace, body["metadata"]["name"], 1, monotonic)
            self._remember(key, posted)
            coroutine = self._create(body)
        subject = (namespace, name)
        ordered = _after(self._tails.get(subject), coroutine)
        task = asyncio.get_running_loop().create_task(ordered, name=f"event {event.reason}")
        posted.task = task
        self._tails[subject] = task
        self._pending.add(task)
        task.add_done_callback(lambda done: self._finished(posted, done, subject))

    def event_body(self, obj: JsonObject, event: EventContent, now: datetime) -> JsonObject:
        """A new Event object about ``obj`` (which must carry its apiVersion and kind, as watched objects do)."""
        metadata = obj.get("metadata") or {}
        name = str(metadata.get("name") or "")
        namespace = str(metadata.get("namespace") or "default")
        timestamp = format_time(now)
        involved = {
            "apiVersion": obj.get("apiVersion", ""),
            "kind": obj.get("kind", ""),
            "name": name,
            "namespace": namespace,
        }
        for field in ("uid", "resourceVersion"):
            if metadata.get(field):
                involved[field] = metadata[field]
        return {
            "metadata": {"name": self._unique_name(name), "namespace": namespace},
            "involvedObject": involved,
            "reason": event.reason,
            "message": event.message[:MAX_MESSAGE_LENGTH],
            "type": event.type,
            "source": {"component": self._component},
            "firstTimestamp": timestamp,
            "lastTimestamp": timestamp,
            "count": 1,
            "reportingComponent": self._component,
            "reportingInstance": self._instance,
        }

    @property
    def idle(self) -> bool:
        """No Event is being posted."""
        return not self._pending

    async def drain(self, timeout: float = 5.0) -> None:
        """Wait (up to ``timeout``) for Events still being posted, e.g. before shutting down."""
        pending = list(self._pending)
        if pending:
            await asyncio.wait(pending, timeout=timeout)

    def _unique_name(self, object_name: str) -> str:
        # As client-go's recorder: the object's name and the time in hex; the sequence number keeps two
        # Events of one nanosecond (a coarse clock) apart.
        return f"{object_name}.{time.time_ns() + next(self._sequence):x}"

    def _finished(self, posted: _Posted, task: asyncio.Task[None], subject: tuple[str, str]) -> None:
        self._pending.discard(task)
        if posted.task is task:
            posted.task = None
        if self._tails.get(subject) is task:
            del self._tails[subject]

    def _remember(self, key: _RepeatKey, posted: _Posted) -> None:
        self._recent[key] = posted
        self._recent.move_to_end(key)
        while len(self._recent) > REMEMBERED_EVENTS:
            self._recent.popitem(last=False)

    async def _create(self, body: JsonObject) -> None:
        try:
            await self._client.create(EVENTS, body["metadata"]["namespace"], body)
        except Exception as error:  # an Event is never worth failing for; say so and go on
            self._report(body["reason"], body["metadata"]["namespace"], error)

    async def _bump(
        self, posted: _Posted, count: int, now: datetime, fresh: JsonObject, before: asyncio.Task[None] | None
    ) -> None:
        if before is not None and not before.done():
            # The Event must exist before its count can go up (the earlier post reports its own failure).
            await asyncio.wait([before])
        patch = {"count": count, "lastTimestamp": format_time(now)}
        try:
            await self._client.patch(EVENTS, posted.namespace, posted.name, patch)
        except NotFound:
            # Expired (Events live an hour) or never created: start a new one.
            posted.name, posted.count = fresh["metadata"]["name"], 1
            await self._create(fresh)
        except Exception as error:  # as in _create
            self._report(fresh["reason"], posted.namespace, error)

    def _report(self, reason: str, namespace: str, error: Exception) -> None:
        self.failures += 1
        if isinstance(error, KubeError):
            logger.warning("could not post event %s in %s: %s", reason, namespace, error)
        else:
            logger.error("could not post event %s in %s", reason, namespace, exc_info=error)


async def _after(previous: asyncio.Task[None] | None, post: Coroutine[Any, Any, None]) -> None:
    """Post once the previous post about the same object is done (whatever its outcome: it reports its own)."""
    if previous is not None and not previous.done():
        try:
            await asyncio.wait([previous])
        except asyncio.CancelledError:
            post.close()  # never started: nothing to post, and no "never awaited" warning
            raise
    await post
