"""The live objects the Applications manage, kept current by one watch per resource type (Argo CD's cluster cache).

A type is watched from the moment an Application's manifests (or its recorded resources) use it; its first list
completes before any Application is compared against it, so nothing is decided from a half-filled cache. Objects
are indexed by the Application that tracks them and by key, so assembling one Application's live state costs only
its own objects. A change to an object queues the Applications that track it or whose manifests name it.

Thread-safe: watch threads write, the controller's event loop reads; one lock guards the indexes.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

from gitops.controller.api_resources import ApiResources
from gitops.controller.watcher import Watcher
from gitops.resources import ResourceKey
from kube.client import KubeClient
from kube.deleted_objects import DeletedObjects
from kube.json_data import JsonObject
from kube.resources import ResourceKind
from kube.reverse_index import add_member, discard_member, replace_edges

logger = logging.getLogger(__name__)

Owner = Callable[[JsonObject], "str | None"]
ChangeListener = Callable[[set[str]], None]

# How long a pass waits for a new type's first list before comparing without it (the list retries meanwhile).
SYNC_TIMEOUT_SECONDS: Final = 30.0
# Fields no comparison or health check reads; dropping them keeps the cache's memory per object small.
_DROPPED_METADATA: Final = ("managedFields",)


class LiveCache:
    """Objects of every watched type, by key, by tracking Application, and the Applications interested in a key."""

    def __init__(self, client: KubeClient, resources: ApiResources, owner: Owner, on_change: ChangeListener) -> None:
        self._client = client
        self._resources = resources
        self._owner = owner
        self._on_change = on_change
        self._lock = threading.Lock()
        self._objects: dict[ResourceKey, JsonObject] = {}
        self._owners: dict[ResourceKey, str] = {}
        self._by_app: dict[str, set[ResourceKey]] = {}
        self._interested: dict[ResourceKey, set[str]] = {}
        self._targets: dict[str, frozenset[ResourceKey]] = {}
        self._watchers: dict[tuple[str, str], Watcher] = {}
        self._by_kind: dict[tuple[str, str], set[ResourceKey]] = {}
        self._by_namespace: dict[str, set[ResourceKey]] = {}
        # What a DELETED event removed: the late answer to one of our writes must not bring it back (the cache
        # would then call a deleted object live, and self-heal would never re-create it).
        self._deleted = DeletedObjects()
        # Applications that monitor orphans: any change to an untracked object of the namespace queues them.
        self._namespace_watchers: dict[str, set[str]] = {}
        self._watched_namespace: dict[str, str] = {}

    # -- watching ----------------------------------------------------------------------------------------

    def ensure_watched(self, kinds: Iterable[ResourceKind], *, timeout: float = SYNC_TIMEOUT_SECONDS) -> list[str]:
        """Start watching each type not watched yet and wait for its first list (blocking); the failures, as
        messages, of types that could not be listed."""
        started: list[Watcher] = []
        with self._lock:
            for kind in kinds:
                slot = (kind.group, kind.kind)
                if slot in self._watchers:
                    started.append(self._watchers[slot])
                    continue
                watcher = Watcher(self._client, kind, on_list=self._listed, on_event=self._event)
                self._watchers[slot] = watcher
                watcher.start()
                started.append(watcher)
        failures = []
        for watcher in started:
            if not watcher.synced.wait(timeout):
                failures.append(f"{watcher.kind.plural}.{watcher.kind.group or 'core'}: first list still pending")
            elif watcher.failed is not None:
                failures.append(watcher.failed)
        return failures

    def watched_kinds(self) -> list[ResourceKind]:
        with self._lock:
            return [watcher.kind for watcher in self._watchers.values()]

    def connection_error(self) -> str | None:
        """Why the cluster stopped answering, as the last failed list or watch said; ``None`` while it answers."""
        with self._lock:
            watchers = list(self._watchers.values())
        return next((watcher.connection_error for watcher in watchers if watcher.connection_error), None)

    def stop(self) -> None:
        with self._lock:
            for watcher in self._watchers.values():
                watcher.stop()

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

    # -- watch callbacks (watch threads) ----------------------------------------------------------------

    def _listed(self, kind: ResourceKind, items: list[JsonObject]) -> None:
        changed: set[str] = set()
        with self._lock:
            slot = (kind.group, kind.kind)
            fresh = {ResourceKey.of(item) for item in items}
            for key in list(self._by_kind.get(slot, ())):
                if key not in fresh:
                    changed |= self._apps_of(key)
                    self._remove(key)
        for item in items:
            changed |= self._store(item, notify=False)
        if changed:
            self._on_change(changed)

    def _event(self, kind: ResourceKind, event_type: str, obj: JsonObject) -> None:
        key = ResourceKey.of(obj)
        if event_type == "DELETED":
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
