"""Kubernetes Events about the objects a controller manages, posted in the background.

An Event is a record for people (``kubectl describe``, ``rollouts get``), not state the controller reads back,
so posting one never holds up or fails a reconcile: each is posted on its own task, and a failure is logged and
counted, nothing more.

Repeats are folded as client-go's EventCorrelator folds them (``tools/record/events_cache.go``):

- an Event that repeats one posted recently (same object, type, reason and message — a Service still missing,
  say) bumps that Event's ``count``, ``lastTimestamp`` and ``series`` (``count``, ``lastObservedTime``, as
  events/v1's EventSeries) instead of adding another object;
- similar Events (same object, type and reason, another message) are posted as they are until ten distinct
  messages were seen within ten minutes; from then on they fold into one Event whose message says
  "(combined from similar events): " and the latest message.

A fold is written at most once per ``series_interval`` per Event: repeats in between only raise the count the next
write carries (client-go's events/v1 recorder holds a series' repeats in memory the same way); ``flush_held`` and
``drain`` write what is held. The interval is 0 unless a controller asks for one: then only the repeats queued
behind an Event's previous write fold into its next.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import socket
import time
from collections import OrderedDict
from collections.abc import Callable, Coroutine
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
# client-go's EventAggregator: similar Events (one object, type and reason) become one after this many distinct
# messages within the repeat window.
SIMILAR_EVENTS_BEFORE_COMBINING: Final = 10
COMBINED_PREFIX: Final = "(combined from similar events): "
# The shortest time between two writes of one Event's repeats, for a controller that holds repeats while busy.
SERIES_INTERVAL_SECONDS: Final = 10.0

_RepeatKey = tuple[str, str, str, str, str]
_AggregateKey = tuple[str, str, str, str, str]


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


@dataclass(frozen=True)
class _Content:
    """An Event's content as posted (the message may be the combined one)."""

    type: str
    reason: str
    message: str


@dataclass(eq=False)  # compared and hashed by identity: the held repeats are a set of these
class _Posted:
    """An Event posted recently: where it is, how often it happened, the post still in flight for it, and the
    repeats not yet written (``count`` above ``written``)."""

    namespace: str
    name: str
    count: int
    at: float
    subject: tuple[str, str] = ("", "")  # the object the Event is about (namespace, name)
    task: asyncio.Task[None] | None = None
    written: int = 1
    written_at: float = 0.0
    message: str = ""
    observed: datetime | None = None
    source: tuple[JsonObject, _Content] | None = None  # what to create again should the Event be gone
    held: asyncio.TimerHandle | None = None  # the write of held repeats, when the interval ends
    queued: bool = False  # a write of the repeats is queued behind the object's other posts


@dataclass
class _Similar:
    """The distinct messages of one object's Events of one type and reason, within the repeat window."""

    messages: set[str]
    at: float


class EventRecorder:
    """Posts core/v1 Events about objects without waiting for them."""

    def __init__(
        self,
        client: AsyncKubeClient,
        counter: EventCounter | None = None,
        *,
        component: str = COMPONENT,
        series_interval: float = 0.0,
    ) -> None:
        self._client = client
        self._series_interval = series_interval
        self._similar: OrderedDict[_AggregateKey, _Similar] = OrderedDict()
        self._counter = counter
        self._component = component
        self._instance = socket.gethostname()
        self._pending: set[asyncio.Task[None]] = set()
        self._sequence = itertools.count()
        self._recent: OrderedDict[_RepeatKey, _Posted] = OrderedDict()
        # The last post about each object: the next one waits for it, so an object's Events reach the API server
        # in the order they happened (client-go's recorder posts them one after another too).
        self._tails: dict[tuple[str, str], asyncio.Task[None]] = {}
        self._held: set[_Posted] = set()
        self.failures = 0
        self.listeners: list[Callable[[JsonObject], None]] = []
        """Called with each Event as the API server stored it (created, or its count raised), on the loop: a reader
        of this controller's own Events in the same process (the Rollout notifications) needs no watch of them."""

    def emit(self, obj: JsonObject, event: EventContent) -> None:
        """Schedule the posting of an Event about ``obj`` on the running loop and return at once."""
        metadata = obj.get("metadata") or {}
        namespace, name = str(metadata.get("namespace") or "default"), str(metadata.get("name") or "")
        if self._counter is not None:
            self._counter.count_event(namespace, name, event.type, event.reason)
        logger.info("%s/%s: %s %s: %s", namespace, name, event.type, event.reason, event.message)
        now = datetime.now(UTC)
        monotonic = time.monotonic()
        uid = str(metadata.get("uid") or "")
        similar_key = (namespace, name, uid, event.type, event.reason)
        folded_as, message = self._correlated(similar_key, event.message, monotonic)
        key = (namespace, name, uid, event.reason, f"{event.type}:{folded_as}")
        content = _Content(event.type, event.reason, message)
        posted = self._recent.get(key)
        subject = (namespace, name)
        if posted is not None and monotonic - posted.at < REPEAT_WINDOW_SECONDS:
            posted.count += 1
            posted.at = monotonic
            posted.message = content.message
            posted.observed = now
            posted.source = (obj, content)
            self._recent.move_to_end(key)
            self._write_repeats(posted, subject)
            return
        body = self.event_body(obj, content, now)
        posted = _Posted(namespace, body["metadata"]["name"], 1, monotonic, subject, written_at=monotonic)
        self._remember(key, posted)
        self._start(posted, subject, self._create(body), event.reason)

    def _correlated(self, similar_key: _AggregateKey, message: str, monotonic: float) -> tuple[str, str]:
        """What the Event folds by and the message it shows: its own message, or — once this object's Events of
        this type and reason carried ``SIMILAR_EVENTS_BEFORE_COMBINING`` distinct messages within the window, as
        client-go's EventAggregator counts them — one key for all and the combined message."""
        similar = self._similar.get(similar_key)
        if similar is None or monotonic - similar.at >= REPEAT_WINDOW_SECONDS:
            similar = _Similar(set(), monotonic)
        if len(similar.messages) < SIMILAR_EVENTS_BEFORE_COMBINING:
            similar.messages.add(message)
        similar.at = monotonic
        self._similar[similar_key] = similar
        self._similar.move_to_end(similar_key)
        while len(self._similar) > REMEMBERED_EVENTS:
            self._similar.popitem(last=False)
        if len(similar.messages) < SIMILAR_EVENTS_BEFORE_COMBINING:
            return message, message
        return COMBINED_PREFIX, COMBINED_PREFIX + message

    def _write_repeats(self, posted: _Posted, subject: tuple[str, str]) -> None:
        """Have the repeats written: at once when the Event's last write is an interval ago, else when it is;
        nothing more when a write is already queued or held (it carries the count as it is when it is sent)."""
        if posted.queued or posted.held is not None:
            return
        wait = posted.written_at + self._series_interval - time.monotonic()
        if wait > 0:
            posted.held = asyncio.get_running_loop().call_later(wait, self._release, posted, subject)
            self._held.add(posted)
            return
        self._queue_repeats(posted, subject)

    def _release(self, posted: _Posted, subject: tuple[str, str]) -> None:
        posted.held = None
        self._held.discard(posted)
        self._queue_repeats(posted, subject)

    def _queue_repeats(self, posted: _Posted, subject: tuple[str, str]) -> None:
        posted.queued = True
        self._start(posted, subject, self._bump(posted), "repeat")

    def _start(self, posted: _Posted, subject: tuple[str, str], post: Coroutine[Any, Any, None], what: str) -> None:
        ordered = _after(self._tails.get(subject), post)
        task = asyncio.get_running_loop().create_task(ordered, name=f"event {what}")
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
        """No Event is being posted, and no repeat is held for a later write."""
        return not self._pending and not self._held

    def flush_held(self) -> None:
        """Write the repeats held for later now (a controller whose work queue emptied has time for them)."""
        for posted in list(self._held):
            if posted.held is not None:
                posted.held.cancel()
                posted.held = None
            self._held.discard(posted)
            self._queue_repeats(posted, posted.subject)

    async def drain(self, timeout: float = 5.0) -> None:
        """Write the repeats held for later and wait (up to ``timeout``) for Events still being posted, e.g. before
        shutting down."""
        self.flush_held()
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
            created = await self._client.create(EVENTS, body["metadata"]["namespace"], body)
        except Exception as error:  # an Event is never worth failing for; say so and go on
            self._report(body["reason"], body["metadata"]["namespace"], error)
            return
        self._stored(created)

    async def _bump(self, posted: _Posted) -> None:
        """Write the count the Event has reached (its post is queued behind the Event's creation, so it exists)."""
        posted.queued = False
        source, observed = posted.source, posted.observed
        if source is None or observed is None or posted.count <= posted.written:
            return
        fresh = self.event_body(*source, observed)
        count = posted.count
        stamp = format_time(observed)
        patch = {
            "count": count,
            "lastTimestamp": stamp,
            "message": posted.message[:MAX_MESSAGE_LENGTH],
            "series": {"count": count, "lastObservedTime": format_micro_time(observed)},
        }
        posted.written, posted.written_at = count, time.monotonic()
        try:
            patched = await self._client.patch(EVENTS, posted.namespace, posted.name, patch)
        except NotFound:
            # Expired (Events live an hour) or never created: start a new one.
            posted.name, posted.count, posted.written = fresh["metadata"]["name"], 1, 1
            await self._create(fresh)
        except Exception as error:  # as in _create
            self._report(fresh["reason"], posted.namespace, error)
        else:
            # The stored Event still names the version of its first occurrence; its listeners are told the version
            # this repeat was recorded about, as client-go's recorder hands its sinks the object it was given.
            self._stored({**patched, "involvedObject": {**(patched.get("involvedObject") or {}),
                                                        **fresh["involvedObject"]}})

    def _stored(self, event: JsonObject) -> None:
        """Tell the listeners the Event as stored (a repeat: with the ``involvedObject`` it was recorded about)."""
        for listener in self.listeners:
            try:
                listener(event)
            except Exception:  # a reader's bug must not stop the Events of the controller
                logger.exception("an Event listener failed")

    def _report(self, reason: str, namespace: str, error: Exception) -> None:
        self.failures += 1
        if isinstance(error, KubeError):
            logger.warning("could not post event %s in %s: %s", reason, namespace, error)
        else:
            logger.error("could not post event %s in %s", reason, namespace, exc_info=error)


def format_micro_time(moment: datetime) -> str:
    """A MicroTime as the API server writes it (``series.lastObservedTime``): RFC 3339 in UTC with microseconds."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


async def _after(previous: asyncio.Task[None] | None, post: Coroutine[Any, Any, None]) -> None:
    """Post once the previous post about the same object is done (whatever its outcome: it reports its own)."""
    if previous is not None and not previous.done():
        try:
            await asyncio.wait([previous])
        except asyncio.CancelledError:
            post.close()  # never started: nothing to post, and no "never awaited" warning
            raise
    await post
