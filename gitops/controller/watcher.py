"""List-then-watch of one resource type on a thread of its own, as client-go's reflector does: the initial list is
delivered as one batch, then every watch event; a watch the server ends is resumed from the last resourceVersion,
and one that is too old (410 Gone) starts over with a fresh list."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Final

from kube.client import KubeClient
from kube.errors import ApiError, KubeError, Unreachable
from kube.json_data import JsonObject
from kube.resources import ResourceKind

logger = logging.getLogger(__name__)


WATCH_TIMEOUT_SECONDS: Final = 300
RETRY_SECONDS: Final = 1.0

ListHandler = Callable[[ResourceKind, list[JsonObject]], None]
EventHandler = Callable[[ResourceKind, str, JsonObject], None]


class Watcher:
    """One list+watch loop; ``synced`` is set once the first list has been delivered."""

    def __init__(
        self,
        client: KubeClient,
        kind: ResourceKind,
        *,
        on_list: ListHandler,
        on_event: EventHandler,
        namespace: str | None = None,
        label_selector: str | None = None,
    ) -> None:
        self.client = client
        self.kind = kind
        self.namespace = namespace
        self.label_selector = label_selector
        self._on_list = on_list
        self._on_event = on_event
        self.synced = threading.Event()
        self.failed: str | None = None
        # The last failure when it was the server not answering (or refusing our credentials), not the type.
        self.connection_error: str | None = None
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"watch {kind.plural}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop after the current watch request ends (the thread is a daemon; nothing waits for it)."""
        self._stopped.set()

    @property
    def stopped(self) -> bool:
        return self._stopped.is_set()

    def _run(self) -> None:
        resource_version = ""
        while not self._stopped.is_set():
            try:
                if not resource_version:
                    items, resource_version = self.client.list_page(
                        self.kind, self.namespace, label_selector=self.label_selector
                    )
                    self._on_list(self.kind, [self.kind.manifest(item) for item in items])
                    self.failed = None
                    self.connection_error = None
                    self.synced.set()
                resource_version = self._watch(resource_version)
            except ApiError as error:
                if error.code == 410:
                    resource_version = ""
                    continue
                self._fail(error)
                resource_version = ""
            except KubeError as error:
                self._fail(error)
                resource_version = ""
            except Exception:  # a bug in a handler must not end the watch silently
                logger.exception("watch of %s failed", self.kind.plural)
                resource_version = ""
                self._stopped.wait(RETRY_SECONDS)

    def _fail(self, error: Exception) -> None:
        message = f"cannot watch {self.kind.plural}.{self.kind.group or 'core'}: {error}"
        if self.failed != message:
            logger.warning("%s", message)
        self.failed = message
        unauthorized = isinstance(error, ApiError) and error.code == 401
        self.connection_error = str(error) if isinstance(error, Unreachable) or unauthorized else None
        # A kind that cannot be listed (no permission, CRD gone) counts as synced-empty so nobody waits forever.
        self.synced.set()
        self._stopped.wait(RETRY_SECONDS)

    def _watch(self, resource_version: str) -> str:
        """Deliver events until the server ends the watch; the resourceVersion to resume from ('' to relist)."""
        for event in self.client.watch(
            self.kind,
            self.namespace,
            resource_version=resource_version,
            label_selector=self.label_selector,
            timeout_seconds=WATCH_TIMEOUT_SECONDS,
        ):
            if self._stopped.is_set():
                return resource_version
            event_type = str(event.get("type") or "")
            obj = event.get("object") or {}
            if event_type == "ERROR":
                # 410 Gone arrives as an ERROR event whose object is a Status.
                return "" if obj.get("code") == 410 else resource_version
            if event_type == "BOOKMARK":
                resource_version = str((obj.get("metadata") or {}).get("resourceVersion") or resource_version)
                continue
            manifest = self.kind.manifest(dict(obj))
            resource_version = str((manifest.get("metadata") or {}).get("resourceVersion") or resource_version)
            self._on_event(self.kind, event_type, manifest)
        return resource_version
