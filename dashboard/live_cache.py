"""What the dashboard shows, kept current from the cluster's watches: one list and one watch per kind (never per
object or per browser tab), through the CLI's ``cli.watching.Watches``, read with the caller's kubeconfig.

Secrets are never watched or read here: no secret value can reach a page from this cache.
"""

from __future__ import annotations

import asyncio
import threading
from typing import TYPE_CHECKING, Final

from cli.watching import Change, Watches, fold_change
from kube.errors import ApiError, KubeError
from kube.resources import ANALYSIS_RUNS, APPLICATIONS, EXPERIMENTS, PODS, REPLICASETS, ROLLOUTS, ResourceKind

if TYPE_CHECKING:
    from kube.client import KubeClient
    from kube.json_data import JsonObject

WATCHED_KINDS: Final = (ROLLOUTS, REPLICASETS, PODS, ANALYSIS_RUNS, EXPERIMENTS, APPLICATIONS)


def object_key(obj: JsonObject) -> str:
    """An object's identity in the cache: its UID, else namespace/name."""
    metadata = obj.get("metadata") or {}
    return str(metadata.get("uid") or f"{metadata.get('namespace', '')}/{metadata.get('name', '')}")


class LiveCache:
    """The watched kinds' objects in one namespace (or all, with ``namespace=None``), and a version number that
    grows with every change, which the event streams wait on."""

    def __init__(self, client: KubeClient, namespace: str | None = None) -> None:
        self.client = client
        self.namespace = namespace
        self._objects: dict[ResourceKind, dict[str, JsonObject]] = {kind: {} for kind in WATCHED_KINDS}
        # Why a kind is not shown (its CRD missing, no permission to list it), in the API's own words.
        self.unavailable: dict[ResourceKind, str] = {}
        self.failure: str | None = None
        self._version = 0
        self._lock = threading.Lock()
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        self._watches = Watches(client)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._drain, name="dashboard-watches", daemon=True)

    def start(self) -> None:
        """List every kind, start its watch from that list, and fold the changes in on a thread of its own."""
        for kind in WATCHED_KINDS:
            try:
                items, version = self.client.list_page(kind, self.namespace)
            except ApiError as error:
                self.unavailable[kind] = f"{kind.kind}s are not shown: {error}"
                continue
            self._objects[kind] = {object_key(item): kind.manifest(item) for item in items}
            self._watches.follow(kind, self.namespace or "", version)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._watches.close()

    @property
    def version(self) -> int:
        with self._lock:
            return self._version

    def objects(self, kind: ResourceKind, namespace: str | None = None) -> list[JsonObject]:
        """The cached objects of ``kind`` (in ``namespace`` when given), ordered by namespace and name."""
        with self._lock:
            items = list(self._objects[kind].values())
        if namespace is not None:
            items = [item for item in items if (item.get("metadata") or {}).get("namespace") == namespace]
        return sorted(items, key=lambda o: ((o.get("metadata") or {}).get("namespace", ""),
                                            (o.get("metadata") or {}).get("name", "")))

    def find(self, kind: ResourceKind, namespace: str, name: str) -> JsonObject | None:
        """One cached object by namespace and name."""
        for item in self.objects(kind, namespace):
            if (item.get("metadata") or {}).get("name") == name:
                return item
        return None

    def apply(self, change: Change) -> None:
        """Fold one watch change in and wake every stream waiting for a newer version."""
        with self._lock:
            fold_change(self._objects[change.kind], change, object_key)
        self._changed()

    def _changed(self) -> None:
        with self._lock:
            self._version += 1
            waiters = list(self._waiters)
        for loop, event in waiters:
            loop.call_soon_threadsafe(event.set)

    async def wait_newer(self, version: int, timeout: float) -> int:
        """The cache's version once it is newer than ``version``, or after ``timeout`` seconds (whichever is first)."""
        event = asyncio.Event()
        waiter = (asyncio.get_running_loop(), event)
        with self._lock:
            if self._version > version:
                return self._version
            self._waiters.add(waiter)
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            pass
        finally:
            with self._lock:
                self._waiters.discard(waiter)
        return self.version

    def _drain(self) -> None:
        while not self._stopping.is_set():
            try:
                change = self._watches.next(1.0)
            except KubeError as error:
                # The watches gave up (Watches retries with backoff first): say so on every page from now on.
                self.failure = f"the dashboard stopped following the cluster: {error}"
                self._changed()
                return
            if change is not None:
                self.apply(change)
