"""What changed in the sandbox and when, to the millisecond: a recorder of the emulator's stored changes.

A watch over HTTP tells a client that an object changed once the event has been encoded, sent and read; a demo
that times "the failing measurement was recorded → the canary's weight was 0" or a benchmark that times "the pause
expired → the next weight was written" wants the moment the emulator *stored* each write, with the object as
stored. `ChangeRecorder` subscribes to the emulator's object store in-process, like a watch that costs nothing: the
store offers every event of the chosen resource types, under its lock and in resourceVersion order, and the
recorder appends it with the wall-clock time (wall clock, so that it compares with the RFC 3339 times controllers
write into statuses).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sandbox.background import BlockingBackground
from sandbox.emulator import ApiEmulator
from sandbox.emulator.resources import StorageKey
from sandbox.emulator.store import WatchEvent


@dataclass(frozen=True, slots=True)
class Resource:
    """A resource type by its API coordinates, as `ApiEmulator.get_object` names it."""

    group: str
    version: str
    plural: str


@dataclass(frozen=True, slots=True)
class Change:
    """One stored write: when (`time.time()`), what (ADDED, MODIFIED, DELETED) and the object as stored.

    `object` is the store's own dict, which is never mutated once stored; treat it as read-only.
    """

    at: float
    type: str
    plural: str
    namespace: str
    name: str
    object: dict[str, Any]
    previous: dict[str, Any] | None


class ChangeRecorder(BlockingBackground):
    """Records every change of `resources` from `start()` (or `with`) until `stop()`; thread-safe.

    Offers come from whichever thread wrote (the emulator's loop for HTTP writes), so recording is only an append.
    Readers take `changes_since(index)` and may block on `wait(index, timeout)` for the next ones.
    """

    def __init__(
        self, emulator: ApiEmulator, resources: Iterable[Resource], *, clock: Callable[[], float] = time.time
    ) -> None:
        self._emulator = emulator
        self._keys: dict[StorageKey, str] = {}
        for resource in resources:
            spec = emulator.registry.get(resource.group, resource.version, resource.plural)
            if spec is None:
                raise ValueError(f"the sandbox serves no {resource.plural}.{resource.group}/{resource.version}")
            self._keys[spec.storage_key] = resource.plural
        self._clock = clock
        self._changes: list[Change] = []
        self._arrived = threading.Condition()
        self._subscribers: list[tuple[StorageKey, _Subscriber]] = []

    def start(self) -> None:
        if self._subscribers:
            raise RuntimeError("the recorder is already started")
        for key, plural in self._keys.items():
            subscriber = _Subscriber(self, plural)
            # since=None: no replay; only what is written from now on.
            self._emulator.store.subscribe(key, subscriber, None)
            self._subscribers.append((key, subscriber))

    def stop(self) -> None:
        for key, subscriber in self._subscribers:
            self._emulator.store.unsubscribe(key, subscriber)
        self._subscribers.clear()

    def __len__(self) -> int:
        return len(self._changes)

    def changes_since(self, index: int = 0) -> Sequence[Change]:
        """The changes recorded from position `index` on (positions only grow: pass `len(recorder)` to resume)."""
        return self._changes[index:]

    def wait(self, index: int, timeout: float | None) -> bool:
        """Block until more than `index` changes are recorded, or `timeout`; True if there are."""
        with self._arrived:
            return self._arrived.wait_for(lambda: len(self._changes) > index, timeout)

    def _record(self, plural: str, event: WatchEvent) -> None:
        metadata = event.object.get("metadata") or {}
        change = Change(
            at=self._clock(),
            type=event.type,
            plural=plural,
            namespace=str(metadata.get("namespace") or ""),
            name=str(metadata.get("name") or ""),
            object=event.object,
            previous=event.previous,
        )
        with self._arrived:
            self._changes.append(change)
            self._arrived.notify_all()


class _Subscriber:
    """The store's side of a recorder: one per resource type."""

    def __init__(self, recorder: ChangeRecorder, plural: str) -> None:
        self._recorder = recorder
        self._plural = plural

    def offer(self, event: WatchEvent) -> None:
        self._recorder._record(self._plural, event)

    def close(self) -> None:
        # The store ends watches when a CRD goes or the emulator closes them all; a recorder simply stops hearing.
        pass
