"""Indexed in-memory object storage with a global resourceVersion, per-type event history and watch fan-out.

Objects are plain dicts and are never mutated once stored: a write stores a new dict (sharing unchanged
branches with the previous one). Events and in-flight responses can therefore hold references without copying.
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from kube.reverse_index import move_member
from sandbox.emulator.resources import StorageKey

EventType = Literal["ADDED", "MODIFIED", "DELETED"]
Obj = dict[str, Any]

CLUSTER = ""  # the namespace bucket of cluster-scoped objects


@dataclass(frozen=True, slots=True)
class WatchEvent:
    rv: int
    type: EventType
    object: Obj
    previous: Obj | None  # the state before a modification; watchers with selectors need both sides


class Subscriber(Protocol):
    # Offered under the store's lock, in resourceVersion order (writers take a version and store the object
    # under one hold of the lock), from whichever thread wrote; a subscriber may rely on that order.
    def offer(self, event: WatchEvent) -> None: ...

    def close(self) -> None: ...


class HistoryExpired(Exception):
    """The requested resourceVersion is older than the retained event history."""

    def __init__(self, requested: int, oldest: int) -> None:
        super().__init__(f"too old resource version: {requested} ({oldest})")
        self.requested = requested
        self.oldest = oldest


def meta(obj: Obj) -> dict[str, Any]:
    metadata: dict[str, Any] = obj.get("metadata") or {}
    return metadata


def owner_uids(obj: Obj) -> set[str]:
    refs = meta(obj).get("ownerReferences") or []
    return {ref["uid"] for ref in refs if isinstance(ref, dict) and "uid" in ref}


class ObjectStore:
    """Objects by (group, plural) → namespace → name, plus the indexes the API's rules need.

    Every public method takes the store's re-entrant lock, so a write from another thread (a simulator
    bypassing HTTP) cannot interleave with a request being served on the emulator's loop.
    """

    def __init__(self, history_limit: int = 10_000) -> None:
        self.lock = threading.RLock()
        self.history_limit = history_limit
        self._rv = 0
        self._buckets: dict[StorageKey, dict[str, dict[str, Obj]]] = {}
        self._history: dict[StorageKey, collections.deque[WatchEvent]] = {}
        self._compacted_rv: dict[StorageKey, int] = {}
        self._subscribers: dict[StorageKey, set[Subscriber]] = {}
        self._by_uid: dict[str, tuple[StorageKey, str, str]] = {}
        self._dependents: dict[str, set[str]] = {}  # owner uid → uids of objects naming it as an owner

    # ----------------------------------------------------------------------------------------- versions

    @property
    def resource_version(self) -> int:
        return self._rv

    def next_resource_version(self) -> int:
        with self.lock:
            self._rv += 1
            return self._rv

    # ------------------------------------------------------------------------------------------ reading

    def get(self, key: StorageKey, namespace: str, name: str) -> Obj | None:
        bucket = self._buckets.get(key)
        if bucket is None:
            return None
        names = bucket.get(namespace)
        return None if names is None else names.get(name)

    def iter_objects(self, key: StorageKey, namespace: str | None) -> Iterator[Obj]:
        """Objects of one type, in one namespace or all; a snapshot, so callers may write while iterating."""
        with self.lock:
            bucket = self._buckets.get(key)
            if not bucket:
                return iter(())
            if namespace is not None:
                return iter(list((bucket.get(namespace) or {}).values()))
            return iter([obj for names in bucket.values() for obj in names.values()])

    def count(self, key: StorageKey, namespace: str | None = None) -> int:
        bucket = self._buckets.get(key) or {}
        if namespace is not None:
            return len(bucket.get(namespace) or {})
        return sum(len(names) for names in bucket.values())

    def storage_keys(self) -> list[StorageKey]:
        return list(self._buckets)

    def namespace_is_empty(self, namespace: str) -> bool:
        return not any(bucket.get(namespace) for bucket in self._buckets.values())

    def locate(self, uid: str) -> tuple[StorageKey, str, str] | None:
        return self._by_uid.get(uid)

    def dependents_of(self, uid: str) -> list[tuple[StorageKey, str, str]]:
        with self.lock:
            located = (self._by_uid.get(dep) for dep in self._dependents.get(uid, ()))
            return [loc for loc in located if loc is not None]

    # ------------------------------------------------------------------------------------------ writing

    def put(self, key: StorageKey, obj: Obj, event: EventType, previous: Obj | None) -> None:
        """Store ``obj`` (its metadata already carries a fresh resourceVersion) and announce it."""
        metadata = meta(obj)
        namespace, name, uid = metadata.get("namespace") or CLUSTER, metadata["name"], metadata.get("uid")
        with self.lock:
            self._buckets.setdefault(key, {}).setdefault(namespace, {})[name] = obj
            if uid:
                self._by_uid[uid] = (key, namespace, name)
                move_member(self._dependents, uid, owner_uids(previous) if previous else set(), owner_uids(obj))
            self._announce(key, WatchEvent(int(metadata["resourceVersion"]), event, obj, previous))

    def remove(self, key: StorageKey, namespace: str, name: str, final: Obj) -> None:
        """Drop the object; ``final`` is its last state stamped with the deletion's resourceVersion."""
        with self.lock:
            names = self._buckets.get(key, {}).get(namespace)
            if names is None or names.pop(name, None) is None:
                return
            if not names:
                del self._buckets[key][namespace]
            uid = meta(final).get("uid")
            if uid:
                self._by_uid.pop(uid, None)
                move_member(self._dependents, uid, owner_uids(final), set())
            self._announce(key, WatchEvent(int(meta(final)["resourceVersion"]), "DELETED", final, None))

    def drop_type(self, key: StorageKey) -> None:
        """Forget a whole resource type (its CRD was deleted): silently, and end its watches."""
        with self.lock:
            for names in self._buckets.pop(key, {}).values():
                for obj in names.values():
                    uid = meta(obj).get("uid")
                    if uid:
                        self._by_uid.pop(uid, None)
                        move_member(self._dependents, uid, owner_uids(obj), set())
            self._history.pop(key, None)
            self._compacted_rv[key] = self._rv
            for subscriber in self._subscribers.pop(key, set()):
                subscriber.close()

    def _announce(self, key: StorageKey, event: WatchEvent) -> None:
        history = self._history.get(key)
        if history is None:
            history = self._history[key] = collections.deque()
        if len(history) >= self.history_limit:
            self._compacted_rv[key] = history.popleft().rv
        history.append(event)
        for subscriber in list(self._subscribers.get(key, ())):
            subscriber.offer(event)

    # ----------------------------------------------------------------------------------------- watching

    def subscribe(self, key: StorageKey, subscriber: Subscriber, since: int | None) -> list[WatchEvent]:
        """Register a watcher; return the retained events after ``since`` for it to replay first.

        Raises :class:`HistoryExpired` if events after ``since`` have already been dropped.
        """
        with self.lock:
            replay: list[WatchEvent] = []
            if since is not None:
                oldest = self._compacted_rv.get(key, 0)
                if since < oldest:
                    raise HistoryExpired(since, oldest)
                # Newest first, stopping at ``since``: a watch resumed from a recent version costs little.
                for event in reversed(self._history.get(key, ())):
                    if event.rv <= since:
                        break
                    replay.append(event)
                replay.reverse()
            self._subscribers.setdefault(key, set()).add(subscriber)
            return replay

    def watch_count(self, key: StorageKey) -> int:
        return len(self._subscribers.get(key, ()))

    def unsubscribe(self, key: StorageKey, subscriber: Subscriber) -> None:
        with self.lock:
            subscribers = self._subscribers.get(key)
            if subscribers is not None:
                subscribers.discard(subscriber)

    def close_all_watches(self, which: Callable[[Subscriber], bool] | None = None) -> None:
        """End every subscription, or only those ``which`` picks (the others go on receiving events)."""
        with self.lock:
            subscribers = [sub for subs in self._subscribers.values() for sub in subs if which is None or which(sub)]
            for subs in self._subscribers.values():
                subs.difference_update(subscribers)
        for subscriber in subscribers:
            subscriber.close()
