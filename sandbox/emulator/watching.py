"""Watch streams: per-request filtering of a type's events, bookmarks, timeouts, 410 on old versions."""

from __future__ import annotations

import asyncio
import collections
import json
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import aiohttp.web

from sandbox.emulator.selectors import FieldSelector, LabelSelector
from sandbox.emulator.status import ApiError
from sandbox.emulator.store import Obj, ObjectStore, WatchEvent, meta

_Item = tuple[str, Obj, int]  # (type, object, resourceVersion)


@dataclass(frozen=True, slots=True)
class WatchFilter:
    namespace: str | None = None
    name: str | None = None
    labels: LabelSelector = field(default_factory=LabelSelector)
    fields: FieldSelector = field(default_factory=FieldSelector)

    def matches(self, obj: Obj) -> bool:
        metadata = meta(obj)
        if self.namespace is not None and (metadata.get("namespace") or "") != self.namespace:
            return False
        if self.name is not None and metadata.get("name") != self.name:
            return False
        return self.labels.matches_object(obj) and self.fields.matches(obj)


class Watcher:
    """One watch request's queue of events. ``offer`` and ``close`` may be called from any thread.

    An object that starts or stops matching the selectors is announced as ADDED or DELETED to this
    watcher, as upstream does, so a client's cache never keeps objects the selector no longer covers.

    The store offers events under its lock, in resourceVersion order, from whichever thread wrote. They
    wait in an inbox in that order, and only the loop moves them on into ``queue``: at once for a write
    made on the loop, a moment later for one from another thread. Either way no event can overtake an
    earlier one, so a write made on the loop never hides a foreign thread's write still on its way.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, filter: WatchFilter) -> None:
        self._loop = loop
        self._thread = threading.get_ident()
        self.filter = filter
        self.queue: asyncio.Queue[_Item | None] = asyncio.Queue()
        # The newest resourceVersion queued, or the one the watch starts from: older events are replays.
        self.last_rv = 0
        # Offered but not yet queued (None ends the watch); deque appends and pops are thread-safe.
        self._inbox: collections.deque[_Item | None] = collections.deque()

    def translate(self, event: WatchEvent) -> str | None:
        matches_now = self.filter.matches(event.object)
        if event.type == "MODIFIED" and event.previous is not None:
            matched_before = self.filter.matches(event.previous)
            if matches_now and matched_before:
                return "MODIFIED"
            if matches_now:
                return "ADDED"
            return "DELETED" if matched_before else None
        return event.type if matches_now else None

    def offer(self, event: WatchEvent) -> None:
        kind = self.translate(event)
        if kind is not None:
            self._submit((kind, event.object, event.rv))

    def replay(self, events: Iterable[WatchEvent]) -> None:
        for event in events:
            self.offer(event)

    def close(self) -> None:
        self._submit(None)

    @property
    def idle(self) -> bool:
        """Nothing offered is still waiting to be streamed; ask under the store's lock, so no offer is under way."""
        return not self._inbox and self.queue.empty()

    def _submit(self, item: _Item | None) -> None:
        self._inbox.append(item)
        if threading.get_ident() == self._thread:
            self._deliver()
        else:
            self._loop.call_soon_threadsafe(self._deliver)

    def _deliver(self) -> None:
        # Runs on the loop only, so nothing else pops the inbox; the callbacks of foreign writes that find
        # it already emptied by a later delivery have nothing left to do.
        while self._inbox:
            item = self._inbox.popleft()
            if item is None:
                self.queue.put_nowait(None)
            elif item[2] > self.last_rv:
                # The inbox is in resourceVersion order, so an older version is only ever one this watcher
                # already has (history replayed at the start of the watch); nothing live is dropped.
                self.last_rv = item[2]
                self.queue.put_nowait(item)


@dataclass(frozen=True, slots=True)
class WatchOptions:
    api_version: str
    kind: str
    timeout: float | None = None
    bookmarks: bool = False
    bookmark_interval: float = 5.0
    initial_events_end: bool = False  # sendInitialEvents=true: a bookmark marks the end of the initial ADDEDs
    # What each event carries instead of the object, e.g. a one-row Table for ``kubectl get -w``.
    render: Callable[[Obj], Any] | None = None


def encode_event(kind: str, obj: Obj, api_version: str, render: Callable[[Obj], Any] | None = None) -> bytes:
    if obj.get("apiVersion") != api_version:
        obj = {**obj, "apiVersion": api_version}  # a CR stored under another served version of its CRD
    payload = obj if render is None else render(obj)
    return json.dumps({"type": kind, "object": payload}, separators=(",", ":")).encode() + b"\n"


def _bookmark(options: WatchOptions, rv: int, *, initial_end: bool = False) -> bytes:
    metadata: dict[str, Any] = {"resourceVersion": str(rv)}
    if initial_end:
        metadata["annotations"] = {"k8s.io/initial-events-end": "true"}
    obj = {"kind": options.kind, "apiVersion": options.api_version, "metadata": metadata}
    return json.dumps({"type": "BOOKMARK", "object": obj}, separators=(",", ":")).encode() + b"\n"


def _start_response() -> aiohttp.web.StreamResponse:
    response = aiohttp.web.StreamResponse(status=200)
    response.content_type = "application/json"
    response.headers["Cache-Control"] = "no-cache, private"
    return response


async def stream_error(raw_request: aiohttp.web.BaseRequest, error: ApiError) -> aiohttp.web.StreamResponse:
    """Upstream reports watch failures (410 Expired included) as an ERROR event in a 200 stream."""
    response = _start_response()
    await response.prepare(raw_request)
    event = {"type": "ERROR", "object": error.to_status()}
    await response.write(json.dumps(event).encode() + b"\n")
    await response.write_eof()
    return response


async def serve_watch(
    raw_request: aiohttp.web.BaseRequest,
    store: ObjectStore,
    watcher: Watcher,
    initial: list[Obj],
    options: WatchOptions,
    *,
    on_finish: Callable[[], None] | None = None,
) -> aiohttp.web.StreamResponse:
    """Stream ``initial`` as ADDED, then the watcher's queue, until timeout, shutdown or disconnect.

    The watcher must already be subscribed (and replayed), so no event falls between snapshot and stream.
    """
    loop = asyncio.get_running_loop()
    # The version the stream covers so far, for bookmarks: taken before the first await, while it is still
    # the version the watch was subscribed at (live events queued later are newer, and not yet written).
    sent_rv = watcher.last_rv or store.resource_version
    response = _start_response()
    try:
        await response.prepare(raw_request)
        for obj in initial:
            await response.write(encode_event("ADDED", obj, options.api_version, options.render))
        if options.initial_events_end:
            await response.write(_bookmark(options, sent_rv, initial_end=True))

        deadline = loop.time() + options.timeout if options.timeout else None
        next_bookmark = loop.time() + options.bookmark_interval if options.bookmarks else None
        while True:
            waits = [t - loop.time() for t in (deadline, next_bookmark) if t is not None]
            try:
                if waits:
                    item = await asyncio.wait_for(watcher.queue.get(), timeout=max(0.0, min(waits)))
                else:
                    item = await watcher.queue.get()
            except TimeoutError:
                now = loop.time()
                if deadline is not None and now >= deadline:
                    break
                if next_bookmark is not None and now >= next_bookmark:
                    next_bookmark = now + options.bookmark_interval
                    with store.lock:
                        # Only a watcher that has streamed every event up to the store's version may claim
                        # it; otherwise claim only what was written, so a client resuming misses nothing.
                        rv = store.resource_version if watcher.idle else sent_rv
                    if rv:
                        await response.write(_bookmark(options, rv))
                continue
            if item is None:
                break
            kind, obj, item_rv = item
            await response.write(encode_event(kind, obj, options.api_version, options.render))
            sent_rv = max(sent_rv, item_rv)
        await response.write_eof()
    except (ConnectionResetError, ConnectionError):
        pass  # the client went away; nothing to tell it
    finally:
        if on_finish is not None:
            on_finish()
    return response
