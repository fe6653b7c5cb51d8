"""Change events from API watches, for the commands that follow objects live (`get rollout -w`, `status`).

Each watched kind streams on a daemon thread of its own into one queue, so the command's thread waits on a single
``next(timeout)`` and can redraw, time out or finish without polling the API. A stream the server ends is resumed
from the last resourceVersion seen; one whose history expired (410 Gone) is replaced by a fresh list, delivered
as a RESYNC change; a stream that keeps failing hands its error to the command.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Final, Self, Unpack

from kube.errors import ApiError, KubeError, NotFound
from kube.resources import ResourceKind

if TYPE_CHECKING:
    from kube.client import KubeClient, Selectors
    from kube.json_data import JsonObject


@dataclass(frozen=True)
class Change:
    """ADDED, MODIFIED or DELETED ``obj`` of ``kind``; or RESYNC: ``items`` are now all the objects followed."""

    kind: ResourceKind
    type: str
    obj: JsonObject = field(default_factory=dict)
    items: tuple[JsonObject, ...] = ()


# The type of a Change whose items replace everything followed (a watch's history expired: a fresh list).
RESYNC: Final = "RESYNC"


def followed_object(change: Change) -> JsonObject | None:
    """The object a watch of one object (by name) sees after ``change``; None once it is gone (deleted, or absent
    from a resync's list)."""
    if change.type == "DELETED" or (change.type == RESYNC and not change.items):
        return None
    return change.items[0] if change.type == RESYNC else change.obj


def fold_change(table: dict[str, JsonObject], change: Change, key: Callable[[JsonObject], str]) -> None:
    """Fold one change of a followed kind into ``table`` (its objects by ``key``); a RESYNC replaces them all."""
    if change.type == RESYNC:
        table.clear()
        table.update((key(item), item) for item in change.items)
    elif change.type == "DELETED":
        table.pop(key(change.obj), None)
    else:
        table[key(change.obj)] = change.obj


def list_into(
    client: KubeClient, kind: ResourceKind, namespace: str, table: dict[str, JsonObject],
    key: Callable[[JsonObject], str], label_selector: str | None = None,
) -> str | None:
    """List ``kind`` into ``table`` (its objects by ``key``); the resourceVersion to watch it from, or None when the
    server does not serve the kind (its CRD is not installed: there are simply none to show)."""
    try:
        items, version = client.list_page(kind, namespace, label_selector=label_selector)
    except NotFound:
        return None
    table.update((key(item), kind.manifest(item)) for item in items)
    return version


# Server-side lifetime of one watch request; the thread reconnects after it, so it only bounds how long a
# thread blocked in a read can outlive the command.
WATCH_SECONDS: Final = 60
MAX_CONSECUTIVE_FAILURES: Final = 5


class Watches:
    """Watches on several kinds, merged into one stream of changes; use as a context manager."""

    def __init__(self, client: KubeClient) -> None:
        self._client = client
        self._changes: queue.Queue[Change | KubeError] = queue.Queue()
        self._stopping = threading.Event()

    def follow(
        self, kind: ResourceKind, namespace: str, resource_version: str, **selectors: Unpack[Selectors]
    ) -> None:
        """Stream changes of ``kind`` that happen after ``resource_version`` (from the list or get it follows)."""
        thread = threading.Thread(
            target=self._stream,
            args=(kind, namespace, resource_version, selectors),
            name=f"watch-{kind.plural}",
            daemon=True,  # a thread blocked reading a quiet stream must not keep the process alive
        )
        thread.start()

    def next(self, timeout: float | None) -> Change | None:
        """The next change, or None once ``timeout`` seconds pass without one; raises a watch's lasting failure."""
        try:
            item = self._changes.get(timeout=timeout) if timeout is None or timeout > 0 else self._changes.get_nowait()
        except queue.Empty:
            return None
        if isinstance(item, KubeError):
            raise item
        return item

    def close(self) -> None:
        self._stopping.set()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def _stream(self, kind: ResourceKind, namespace: str, resource_version: str, selectors: Selectors) -> None:
        failures = 0
        while not self._stopping.is_set():
            try:
                for event in self._client.watch(
                    kind,
                    namespace,
                    resource_version=resource_version,
                    timeout_seconds=WATCH_SECONDS,
                    **selectors,
                ):
                    if self._stopping.is_set():
                        return
                    failures = 0
                    event_type = str(event.get("type", ""))
                    obj = event.get("object") or {}
                    if event_type == "ERROR":
                        raise ApiError(int(obj.get("code") or 500), str(obj.get("reason", "")),
                                       str(obj.get("message", "")))
                    resource_version = str((obj.get("metadata") or {}).get("resourceVersion") or resource_version)
                    if event_type != "BOOKMARK":
                        self._changes.put(Change(kind, event_type, kind.manifest(obj)))
            except ApiError as error:
                if error.code == 410:
                    # Our resourceVersion fell out of the server's history: start over from a fresh list.
                    try:
                        items, resource_version = self._client.list_page(kind, namespace, **selectors)
                    except KubeError as list_error:
                        failures = self._failed(list_error, failures)
                        continue
                    self._changes.put(Change(kind, RESYNC, items=tuple(kind.manifest(i) for i in items)))
                    continue
                failures = self._failed(error, failures)
            except KubeError as error:
                failures = self._failed(error, failures)
            except Exception as error:  # a broken stream surfaces as whatever the transport raised
                failures = self._failed(KubeError(f"watch on {kind.plural} failed: {error}"), failures)

    def _failed(self, error: KubeError, failures: int) -> int:
        """Back off and retry; after too many failures in a row, hand the error to the command and stop."""
        failures += 1
        if failures >= MAX_CONSECUTIVE_FAILURES:
            self._changes.put(error)
            self._stopping.set()
        else:
            self._stopping.wait(min(0.2 * 2**failures, 3.0))
        return failures
