"""Event folding as client-go's EventCorrelator does it (``tools/record/events_cache.go``), with events/v1's series:
a repeat bumps the first Event's ``count`` and ``series``; ten distinct messages of one reason about one object
within ten minutes make the rest one combined Event; repeats within a series interval are written once."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Any, cast

from kube.client import AsyncKubeClient
from kube.errors import NotFound
from kube.events import COMBINED_PREFIX, SIMILAR_EVENTS_BEFORE_COMBINING, EventRecorder
from kube.resources import ResourceKind
from rollouts.plan import Event
from tests import waiting

MICRO_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
ROLLOUT = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "Rollout",
    "metadata": {"name": "reviews", "namespace": "shop", "uid": "ro-1", "resourceVersion": "7"},
}
PAUSED = Event("Normal", "RolloutPaused", "Rollout is paused (CanaryPauseStep)")


class EventSink:
    """Records Event creates and patches; a patch of an Event it was told is gone answers NotFound."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, Any]] = []
        self.gone: set[str] = set()

    async def create(self, kind: ResourceKind, namespace: str | None, body: Any) -> Any:
        self.calls.append(("create", body["metadata"]["name"], body))
        return body

    async def patch(self, kind: ResourceKind, namespace: str | None, name: str, patch: Any, **_: Any) -> Any:
        self.calls.append(("patch", name, patch))
        if name in self.gone:
            raise NotFound(404, "NotFound", f"events {name} not found")
        return patch

    def bodies(self, verb: str) -> list[Any]:
        return [body for call_verb, _, body in self.calls if call_verb == verb]


def recorder(sink: EventSink, series_interval: float = 600.0) -> EventRecorder:
    return EventRecorder(cast(AsyncKubeClient, sink), series_interval=series_interval)


def listened(events: EventRecorder) -> list[Any]:
    """What the recorder tells its listeners, in order."""
    told: list[Any] = []
    events.listeners.append(told.append)
    return told


async def emit_drained(events: EventRecorder, obj: dict[str, Any] = ROLLOUT, event: Event = PAUSED) -> None:
    """Emit one Event and wait until the writes it asks for are done."""
    events.emit(obj, event)
    await events.drain()


async def until(condition: Callable[[], bool]) -> None:
    """Until ``condition()`` holds; the timeout fails only a test whose write never comes."""
    await waiting.until(condition, "the Event's write", timeout=10)


async def test_repeats_within_the_series_interval_are_written_once_with_their_count() -> None:
    sink = EventSink()
    events = recorder(sink)
    for _ in range(4):
        events.emit(ROLLOUT, PAUSED)
    await asyncio.sleep(0)
    assert sink.bodies("patch") == []  # held: the interval since the post has not passed
    await events.drain()

    assert len(sink.bodies("create")) == 1
    [patch] = sink.bodies("patch")
    assert patch["count"] == patch["series"]["count"] == 4
    assert MICRO_TIME.match(patch["series"]["lastObservedTime"])
    assert patch["message"] == PAUSED.message
    assert sink.calls[1][1] == sink.calls[0][1]  # the patch is of the Event first posted


async def test_a_repeat_after_the_interval_is_written_at_once() -> None:
    sink = EventSink()
    events = recorder(sink, series_interval=0.0)
    await emit_drained(events)
    await emit_drained(events)
    await emit_drained(events)

    assert [patch["count"] for patch in sink.bodies("patch")] == [2, 3]


async def test_repeats_queued_behind_the_post_fold_into_one_write() -> None:
    sink = EventSink()
    events = recorder(sink, series_interval=0.0)
    for _ in range(3):
        events.emit(ROLLOUT, PAUSED)  # all before the post is sent
    await events.drain()

    assert [patch["count"] for patch in sink.bodies("patch")] == [3]


async def test_a_held_repeat_is_written_when_the_interval_ends() -> None:
    sink = EventSink()
    events = recorder(sink, series_interval=0.05)
    events.emit(ROLLOUT, PAUSED)
    events.emit(ROLLOUT, PAUSED)
    await until(lambda: bool(sink.bodies("patch")))
    assert sink.bodies("patch")[0]["count"] == 2
    await events.drain()
    assert events.idle


async def test_similar_events_are_posted_as_they_are_until_ten_distinct_messages() -> None:
    """client-go's EventAggregator (maxEvents 10, 10 minutes): the tenth distinct message of one reason about one
    object, and every one after it, fold into one Event that says it combines them."""
    sink = EventSink()
    events = recorder(sink, series_interval=0.0)
    for step in range(1, 13):
        events.emit(ROLLOUT, Event("Normal", "RolloutStepCompleted", f"Rollout step {step}/12 completed"))
    await events.drain()

    created = [body["message"] for body in sink.bodies("create")]
    assert created[: SIMILAR_EVENTS_BEFORE_COMBINING - 1] == [
        f"Rollout step {step}/12 completed" for step in range(1, SIMILAR_EVENTS_BEFORE_COMBINING)
    ]
    assert created[SIMILAR_EVENTS_BEFORE_COMBINING - 1:] == [f"{COMBINED_PREFIX}Rollout step 10/12 completed"]
    [patch] = sink.bodies("patch")
    assert patch["count"] == 3
    assert patch["message"] == f"{COMBINED_PREFIX}Rollout step 12/12 completed"


async def test_other_reasons_and_objects_are_not_combined() -> None:
    sink = EventSink()
    events = recorder(sink, series_interval=0.0)
    other = {**ROLLOUT, "metadata": {**ROLLOUT["metadata"], "name": "ratings", "uid": "ro-2"}}
    for step in range(1, SIMILAR_EVENTS_BEFORE_COMBINING):
        events.emit(ROLLOUT, Event("Normal", "RolloutStepCompleted", f"step {step}"))
    events.emit(ROLLOUT, Event("Normal", "TrafficWeightUpdated", "step 10"))
    events.emit(other, Event("Normal", "RolloutStepCompleted", "step 10"))
    await events.drain()

    assert not any(body["message"].startswith(COMBINED_PREFIX) for body in sink.bodies("create"))
    assert len(sink.bodies("create")) == SIMILAR_EVENTS_BEFORE_COMBINING + 1


async def test_a_repeat_of_an_event_that_is_gone_posts_it_again() -> None:
    sink = EventSink()
    events = recorder(sink, series_interval=0.0)
    await emit_drained(events)
    sink.gone.add(sink.calls[0][1])
    await emit_drained(events)

    assert [verb for verb, _, _ in sink.calls] == ["create", "patch", "create"]
    assert sink.bodies("create")[1]["message"] == PAUSED.message


async def test_held_repeats_are_written_when_flushed() -> None:
    """A controller whose queue has emptied writes what it held without waiting for the interval to end."""
    sink = EventSink()
    events = recorder(sink, series_interval=600.0)
    for _ in range(3):
        events.emit(ROLLOUT, PAUSED)
    await asyncio.sleep(0)
    assert not events.idle and sink.bodies("patch") == []

    events.flush_held()
    await until(lambda: events.idle)
    assert [patch["count"] for patch in sink.bodies("patch")] == [3]


async def test_without_an_interval_a_repeat_is_not_held() -> None:
    sink = EventSink()
    events = EventRecorder(cast(AsyncKubeClient, sink))
    await emit_drained(events)
    events.emit(ROLLOUT, PAUSED)
    await until(lambda: bool(sink.bodies("patch")))  # written without a flush or a drain
    assert [patch["count"] for patch in sink.bodies("patch")] == [2]


async def test_listeners_are_told_each_event_as_stored_created_then_counted() -> None:
    """What the API server answered to each write, in order: the Rollout notifications read them so."""
    sink = EventSink()
    events = recorder(sink, series_interval=0.0)
    told = listened(events)
    await emit_drained(events)
    await emit_drained(events)

    assert [event["count"] for event in told] == [1, 2]
    assert told[0]["reason"] == "RolloutPaused"


async def test_a_repeat_is_told_with_the_version_it_was_recorded_about() -> None:
    """The stored Event keeps the first occurrence's resourceVersion; the listeners (the Rollout notifier) learn the
    version of the repeat, so a notification renders the Rollout as it was when the repeat was recorded."""
    sink = EventSink()
    events = recorder(sink, series_interval=0.0)
    told = listened(events)
    await emit_drained(events)
    await emit_drained(events, {**ROLLOUT, "metadata": {**ROLLOUT["metadata"], "resourceVersion": "9"}})

    assert [(event["count"], event["involvedObject"]["resourceVersion"]) for event in told] == [(1, "7"), (2, "9")]


async def test_a_failed_write_tells_no_listener() -> None:
    sink = EventSink()
    events = recorder(sink, series_interval=0.0)
    told = listened(events)
    await emit_drained(events)
    sink.gone.add(sink.calls[0][1])

    async def refuse(kind: ResourceKind, namespace: str | None, body: Any) -> Any:
        raise NotFound(404, "NotFound", "namespaces shop not found")

    sink.create = refuse  # type: ignore[method-assign]
    await emit_drained(events)

    assert [event["count"] for event in told] == [1]
