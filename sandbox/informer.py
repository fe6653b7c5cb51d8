"""A list-and-watch cache of one resource type over the Kubernetes HTTP API, after client-go's informers.

One watch per resource type for the whole cluster. The first list fills the cache; the watch continues from
the list's resourceVersion; when the server answers 410 Gone (that version is too old) the cache is re-listed
and the differences are delivered as events, so handlers see a consistent stream whatever happened between.

Controllers write through the cache (`store`, `forget`) so that a pass right after a write sees that write
even before its watch event arrives; events older than what the cache holds are then ignored.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any, Final

import httpx

from kube.work_queue import cancel_tasks

logger = logging.getLogger(__name__)

JsonDict = dict[str, Any]
ObjectKey = tuple[str, str]
"""(namespace, name); the namespace is "" for cluster-scoped objects."""
EventHandler = Callable[[str, JsonDict, JsonDict | None], None]
"""Called with the event type (ADDED, MODIFIED, DELETED), the new object (the last state for DELETED) and the
previous cached object if there was one. Handlers run on the loop and must not block."""

WATCH_TIMEOUT_SECONDS: Final = 300
RETRY_DELAYS: Final = (0.05, 0.1, 0.2, 0.5, 1.0)


class WatchExpired(Exception):
    """The server no longer has the resourceVersion the watch asked for (410 Gone)."""


def object_key(obj: JsonDict) -> ObjectKey:
    metadata = obj.get("metadata") or {}
    return (metadata.get("namespace") or "", metadata.get("name") or "")


def _version(obj: JsonDict | None) -> int | None:
    """resourceVersion as an integer if it is one: opaque, but etcd's and the emulator's count up."""
    if obj is None:
        return None
    value = (obj.get("metadata") or {}).get("resourceVersion")
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _is_stale(incoming: JsonDict, cached: JsonDict | None) -> bool:
    new, old = _version(incoming), _version(cached)
    return new is not None and old is not None and new <= old


class Informer:
    """The cache of one resource type, kept current by a background watch."""

    def __init__(self, client: httpx.AsyncClient, path: str, handler: EventHandler, *, kind: str = "") -> None:
        self._client = client
        self._path = path
        self._handler = handler
        self._kind = kind or path.rsplit("/", 1)[-1]
        self._objects: dict[ObjectKey, JsonDict] = {}
        # uids deleted through this cache whose DELETED event is still due: late events must not revive them.
        self._tombstones: set[str] = set()
        self._resource_version = ""
        self._task: asyncio.Task[None] | None = None

    def __len__(self) -> int:
        return len(self._objects)

    def __iter__(self) -> Iterator[JsonDict]:
        return iter(list(self._objects.values()))

    def get(self, key: ObjectKey) -> JsonDict | None:
        return self._objects.get(key)

    async def start(self) -> None:
        """List once (errors propagate to the caller), then keep watching in the background."""
        await self._relist()
        self._task = asyncio.create_task(self._watch_forever(), name=f"watch {self._kind}")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            await cancel_tasks([task])

    def store(self, obj: JsonDict) -> None:
        """Record an object this process just wrote (the API's response) unless the cache has a newer one."""
        self._apply("MODIFIED", obj)

    def forget(self, obj: JsonDict) -> None:
        """Record that this process just deleted `obj`."""
        uid = (obj.get("metadata") or {}).get("uid")
        if uid:
            self._tombstones.add(uid)
        cached = self._objects.pop(object_key(obj), None)
        if cached is not None:
            self._handler("DELETED", cached, cached)

    # -- internals --

    def _apply(self, event_type: str, obj: JsonDict) -> None:
        key = object_key(obj)
        cached = self._objects.get(key)
        uid = (obj.get("metadata") or {}).get("uid")
        if event_type == "DELETED":
            self._tombstones.discard(uid)
            if cached is None or (uid and cached.get("metadata", {}).get("uid") != uid):
                return  # nothing cached, or a newer object of the same name replaced it
            del self._objects[key]
            self._handler("DELETED", obj, cached)
            return
        if uid in self._tombstones and not (obj.get("metadata") or {}).get("deletionTimestamp"):
            return
        if _is_stale(obj, cached):
            return
        self._objects[key] = obj
        self._handler("ADDED" if cached is None else "MODIFIED", obj, cached)

    async def _relist(self) -> None:
        response = await self._client.get(self._path)
        response.raise_for_status()
        body = response.json()
        listed = {object_key(item): item for item in body.get("items") or ()}
        self._tombstones.clear()
        for key in [key for key in self._objects if key not in listed]:
            gone = self._objects.pop(key)
            self._handler("DELETED", gone, gone)
        for item in listed.values():
            cached = self._objects.get(object_key(item))
            if cached is None or cached.get("metadata", {}).get("resourceVersion") != item.get("metadata", {}).get(
                "resourceVersion"
            ):
                self._objects[object_key(item)] = item
                self._handler("ADDED" if cached is None else "MODIFIED", item, cached)
        self._resource_version = (body.get("metadata") or {}).get("resourceVersion") or ""

    async def _watch_forever(self) -> None:
        failures = 0
        while True:
            try:
                await self._watch_once()
                failures = 0
            except WatchExpired:
                logger.debug(
                    "watch of %s expired at resourceVersion %s; re-listing",
                    self._kind,
                    self._resource_version,
                )
                await self._relist_with_retries()
            except (httpx.HTTPError, json.JSONDecodeError) as error:
                delay = RETRY_DELAYS[min(failures, len(RETRY_DELAYS) - 1)]
                failures += 1
                logger.debug("watch of %s failed (%s); retrying in %.2fs", self._kind, error, delay)
                await asyncio.sleep(delay)

    async def _relist_with_retries(self) -> None:
        for attempt in range(1_000_000):
            try:
                await self._relist()
                return
            except (httpx.HTTPError, json.JSONDecodeError) as error:
                delay = RETRY_DELAYS[min(attempt, len(RETRY_DELAYS) - 1)]
                logger.debug("list of %s failed (%s); retrying in %.2fs", self._kind, error, delay)
                await asyncio.sleep(delay)

    async def _watch_once(self) -> None:
        params = {
            "watch": "true",
            "allowWatchBookmarks": "true",
            "timeoutSeconds": str(WATCH_TIMEOUT_SECONDS),
        }
        if self._resource_version:
            params["resourceVersion"] = self._resource_version
        # No read timeout: a quiet watch legitimately sends nothing for minutes.
        timeout = httpx.Timeout(10.0, read=None)
        async with self._client.stream("GET", self._path, params=params, timeout=timeout) as response:
            if response.status_code == 410:
                raise WatchExpired()
            if response.status_code >= 400:
                await response.aread()
                response.raise_for_status()
            async for line in response.aiter_lines():
                if line.strip():
                    self._on_watch_line(line)

    def _on_watch_line(self, line: str) -> None:
        event = json.loads(line)
        event_type = event.get("type")
        obj = event.get("object") or {}
        if event_type == "ERROR":
            if obj.get("code") == 410:
                raise WatchExpired()
            raise httpx.HTTPError(f"watch of {self._kind} returned an error: {obj.get('message') or obj}")
        version = (obj.get("metadata") or {}).get("resourceVersion")
        if version:
            self._resource_version = version
        if event_type in ("ADDED", "MODIFIED", "DELETED"):
            self._apply(event_type, obj)
