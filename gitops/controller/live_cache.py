"""The live objects the Applications manage, kept current by one watch per resource type (Argo CD's cluster cache).

A type is watched from the moment an Application's manifests (or its recorded resources) use it; its first list
completes before any Application is compared against it, so nothing is decided from a half-filled cache. Objects
are indexed by the Application that tracks them and by key, so assembling one Application's live state costs only
its own objects. A change to an object queues the Applications that track it or whose manifests name it.

The watches are ``kube.informer`` streams on the controller's event loop (the process's ``Informers``, or a remote
cluster's own); a type is added to them the first time a pass asks for it (``ensure_watched``, from the pass's
thread).

Thread-safe: the streams write on the event loop, the passes read on worker threads; one lock guards the indexes.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

import httpx

from gitops.resources import ResourceKey
from kube.deleted_objects import DeletedObjects
from kube.errors import ApiError
from kube.informer import Informer, Informers
from kube.json_data import JsonObject
from kube.resources import ResourceKind
from kube.reverse_index import add_member, discard_member, replace_edges

logger = logging.getLogger(__name__)

Owner = Callable[[JsonObject], "str | None"]
ChangeListener = Callable[[set[str]], None]

# How long a pass waits for a new type's first list before comparing without it (the list retries meanwhile).
SYNC_TIMEOUT_SECONDS: Final = 30.0
# Beyond that, how long the pass's thread waits for the event loop to answer at all (a loop that is stopping).
LOOP_MARGIN_SECONDS: Final = 5.0
# Fields no comparison or health check reads; dropping them keeps the cache's memory per object small.
_DROPPED_METADATA: Final = ("managedFields",)


class LiveCache:
    """Objects of every watched type, by key, by tracking Application, and the Applications interested in a key."""

    def __init__(
        self,
        informers: Informers,
        owner: Owner,
        on_change: ChangeListener,
        *,
        owns_informers: bool = False,
    ) -> None:
        """``informers``: where the types' streams are added (``owns_informers``: this cache's alone, started on
        first use and closed with their HTTP client by ``close``; else the process's, started by their owner)."""
        self._informers = informers
        self._owns_informers = owns_informers
        self._owner = owner
        self._on_change = on_change
        self._lock = threading.Lock()
        self._objects: dict[ResourceKey, JsonObject] = {}
        self._owners: dict[ResourceKey, str] = {}
        self._by_app: dict[str, set[ResourceKey]] = {}
        self._interested: dict[ResourceKey, set[str]] = {}
        self._targets: dict[str, frozenset[ResourceKey]] = {}
        self._by_kind: dict[tuple[str, str], set[ResourceKey]] = {}
        self._by_namespace: dict[str, set[ResourceKey]] = {}
        # What a DELETED event removed: the late answer to one of our writes must not bring it back (the cache
        # would then call a deleted object live, and self-heal would never re-create it).
        self._deleted = DeletedObjects()
        # Applications that monitor orphans: any change to an untracked object of the namespace queues them.
        self._namespace_watchers: dict[str, set[str]] = {}
        self._watched_namespace: dict[str, str] = {}
        # The streams, by (group, kind): touched on the event loop only. The opening is a task, so that passes
        # asking for one new type at once share its streams.
        self._opening: dict[tuple[str, str], asyncio.Task[list[Informer]]] = {}
        self._kinds: dict[tuple[str, str], ResourceKind] = {}  # guarded by the lock: read by any thread
        self._streams: list[Informer] = []  # guarded by the lock
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopped = False

    # -- watching ----------------------------------------------------------------------------------------

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """The event loop the streams run on (the controller's)."""
        self._loop = loop

    def ensure_watched(self, kinds: Iterable[ResourceKind], *, timeout: float = SYNC_TIMEOUT_SECONDS) -> list[str]:
        """Start watching each type not watched yet and wait for its first list, or its first failure (blocking:
        from a pass's thread, never from the event loop); the failures, as messages, of types that could not be
        listed."""
        wanted = list(kinds)
        loop = self._loop
        if not wanted:
            return []
        if loop is None or self._stopped:
            return [f"{_where(kind)}: not watched (the controller is not running)" for kind in wanted]
        if _running_loop() is loop:
            raise RuntimeError("LiveCache.ensure_watched waits for the event loop: call it from a pass's thread")
        try:
            future = asyncio.run_coroutine_threadsafe(self._watched(wanted, timeout), loop)
        except RuntimeError:  # the loop is closed
            return [f"{_where(kind)}: not watched (the controller is not running)" for kind in wanted]
        try:
            return future.result(timeout + LOOP_MARGIN_SECONDS)
        except (concurrent.futures.TimeoutError, concurrent.futures.CancelledError):
            future.cancel()
            return [f"{_where(kind)}: first list still pending" for kind in wanted]

    async def _watched(self, kinds: list[ResourceKind], timeout: float) -> list[str]:
        """On the loop: open the streams of the new types, then wait (until ``timeout``) for each first answer."""
        if self._owns_informers:
            await self._informers.start()
        deadline = asyncio.get_running_loop().time() + timeout
        failures: list[str] = []
        for kind in kinds:
            slot = (kind.group, kind.kind)
            opening = self._opening.get(slot)
            if opening is None:
                opening = asyncio.ensure_future(self._informers.add(kind, self._observe, namespaces=()))
                opening.add_done_callback(self._opened)
                self._opening[slot] = opening
                with self._lock:
                    self._kinds[slot] = kind
            try:
                remaining = max(0.0, deadline - asyncio.get_running_loop().time())
                streams = await asyncio.wait_for(asyncio.shield(opening), remaining)
                for informer in streams:
                    remaining = max(0.0, deadline - asyncio.get_running_loop().time())
                    await asyncio.wait_for(informer.answered.wait(), remaining)
                    if informer.error is not None:
                        failures.append(f"cannot watch {informer.where}: {informer.error}")
            except TimeoutError:
                failures.append(f"{_where(kind)}: first list still pending")
            except Exception as error:  # the streams closed (the controller stopping), or a join's list failed
                failures.append(f"cannot watch {_where(kind)}: {error}")
                if self._opening.get(slot) is opening and opening.done():
                    del self._opening[slot]  # the next pass that needs the type tries again
                    with self._lock:
                        self._kinds.pop(slot, None)
        return failures

    def _opened(self, opening: asyncio.Task[list[Informer]]) -> None:
        if opening.cancelled() or opening.exception() is not None:
            return
        with self._lock:
            self._streams.extend(opening.result())

    def watched_kinds(self) -> list[ResourceKind]:
        with self._lock:
            return list(self._kinds.values())

    def connection_error(self) -> str | None:
        """Why the cluster stopped answering, as the last failed list or watch said; ``None`` while it answers."""
        with self._lock:
            streams = list(self._streams)
        for informer in streams:
            error = informer.error
            if isinstance(error, httpx.TransportError) or (isinstance(error, ApiError) and error.code == 401):
                return str(error) or type(error).__name__
        return None

    def stop(self) -> None:
        """``close`` from any thread, without waiting for it."""
        self._stopped = True
        loop = self._loop
        if loop is not None and not loop.is_closed():
            try:
                asyncio.run_coroutine_threadsafe(self.close(), loop)
            except RuntimeError:  # closed meanwhile
                return

    async def close(self) -> None:
        """Stop watching, on the loop; idempotent. Its own informers are closed, with their HTTP client; the
        process's are not: they serve other controllers too (the streams this cache joined), and their owner closes
        every one of them."""
        self._stopped = True
        if self._owns_informers:
            await self._informers.stop()
            await self._informers.http.aclose()

    # -- reading -----------------------------------------------------------------------------------------

    def live_objects(self, app_name: str, keys: Iterable[ResourceKey]) -> dict[ResourceKey, JsonObject]:
        """Every cached object tracked to ``app_name`` plus those at ``keys`` (a target's key, tracked or not)."""
        with self._lock:
            found = {key: self._objects[key] for key in self._by_app.get(app_name, ())}
            for key in keys:
                obj = self._objects.get(key)
                if obj is not None:
                    found[key] = obj
            return found

    def objects_in_namespace(self, namespace: str) -> list[JsonObject]:
        """Every cached object of the namespace (of the types watched so far)."""
        with self._lock:
            return [self._objects[key] for key in self._by_namespace.get(namespace, ())]

    def tracked_keys(self, app_name: str) -> set[ResourceKey]:
        with self._lock:
            return set(self._by_app.get(app_name, ()))

    def get(self, key: ResourceKey) -> JsonObject | None:
        with self._lock:
            return self._objects.get(key)

    def __len__(self) -> int:
        with self._lock:
            return len(self._objects)

    # -- interest ----------------------------------------------------------------------------------------

    def set_targets(self, app_name: str, keys: Iterable[ResourceKey]) -> None:
        """Record which keys ``app_name``'s manifests name, so a change to them (even untracked) queues it."""
        with self._lock:
            replace_edges(self._targets, self._interested, app_name, frozenset(keys))

    def watch_namespace(self, app_name: str, namespace: str | None) -> None:
        """Queue ``app_name`` on a change to any untracked object of ``namespace`` (its orphans); None stops it."""
        with self._lock:
            before = self._watched_namespace.pop(app_name, None)
            if before is not None:
                discard_member(self._namespace_watchers, before, app_name)
            if namespace:
                self._watched_namespace[app_name] = namespace
                add_member(self._namespace_watchers, namespace, app_name)

    def forget_app(self, app_name: str) -> None:
        self.watch_namespace(app_name, None)
        self.set_targets(app_name, ())

    # -- writes the controller made ----------------------------------------------------------------------

    def record(self, obj: JsonObject) -> None:
        """The object as a write of ours returned it, so the next pass does not decide from the older copy."""
        self._store(obj, notify=False)

    def record_deleted(self, key: ResourceKey) -> None:
        """An object we deleted that the API answered as gone (no watch event may follow for a dry cache)."""
        with self._lock:
            self._remove(key)

    # -- the streams' observer (on the event loop) -------------------------------------------------------

    def _observe(self, event_type: str | None, obj: JsonObject) -> None:
        """One object as a stream delivered it: listed (``None``), added, modified or deleted."""
        if event_type == "DELETED":
            key = ResourceKey.of(obj)
            with self._lock:
                self._deleted.record(obj)
                apps = self._apps_of(key)
                self._remove(key)
            if apps:
                self._on_change(apps)
            return
        self._store(obj, notify=True)

    def _store(self, obj: JsonObject, *, notify: bool) -> set[str]:
        metadata = obj.get("metadata") or {}
        if any(field in metadata for field in _DROPPED_METADATA):
            obj = {**obj, "metadata": {k: v for k, v in metadata.items() if k not in _DROPPED_METADATA}}
        key = ResourceKey.of(obj)
        owner = self._owner(obj)
        with self._lock:
            if self._deleted.is_deleted(obj):
                return set()
            previous = self._objects.get(key)
            if previous is not None and _newer_or_same(previous, obj):
                return set()
            before = self._owners.get(key)
            if before is not None and before != owner:
                self._by_app.get(before, set()).discard(key)
            self._objects[key] = obj
            self._by_kind.setdefault((key.group, key.kind), set()).add(key)
            if key.namespace:
                self._by_namespace.setdefault(key.namespace, set()).add(key)
            if owner is not None:
                self._owners[key] = owner
                add_member(self._by_app, owner, key)
            else:
                self._owners.pop(key, None)
            apps = self._apps_of(key) | ({before} if before else set())
        if notify and apps:
            self._on_change(apps)
        return apps

    def _apps_of(self, key: ResourceKey) -> set[str]:
        apps = set(self._interested.get(key, ()))
        owner = self._owners.get(key)
        if owner is not None:
            apps.add(owner)
        elif key.namespace in self._namespace_watchers:
            apps |= self._namespace_watchers[key.namespace]
        return apps

    def _remove(self, key: ResourceKey) -> None:
        self._objects.pop(key, None)
        self._by_kind.get((key.group, key.kind), set()).discard(key)
        self._by_namespace.get(key.namespace, set()).discard(key)
        owner = self._owners.pop(key, None)
        if owner is not None:
            discard_member(self._by_app, owner, key)


def _newer_or_same(cached: Mapping[str, Any], incoming: Mapping[str, Any]) -> bool:
    """Whether the cached copy is at least as new as ``incoming`` (a watch event of our own write arriving after
    the write's answer was recorded); resourceVersions are compared as integers where both are."""
    old = str((cached.get("metadata") or {}).get("resourceVersion") or "")
    new = str((incoming.get("metadata") or {}).get("resourceVersion") or "")
    if old.isdigit() and new.isdigit():
        return int(old) >= int(new)
    return False


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:  # a worker thread: no loop runs there
        return None


def _where(kind: ResourceKind) -> str:
    return f"{kind.plural}.{kind.group or 'core'}"
