"""A bounded cache of rendered manifests: least recently used entries go first once either the entry count or the
total size (the manifests' JSON bytes) passes its limit. Entries are stored as JSON, so every hit hands out a fresh
copy the caller may change freely."""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass

from gitops.resources import JsonObject


@dataclass(frozen=True)
class CachedRender:
    """What a render produced: the tool that made it and its manifests (as JSON text)."""

    source_type: str
    payload: bytes

    @property
    def manifests(self) -> list[JsonObject]:
        """A fresh copy of the manifests."""
        manifests: list[JsonObject] = json.loads(self.payload)
        return manifests


class RenderCache:
    """LRU over (repository, revision, path, source parameters, …) keys, bounded in entries and bytes."""

    def __init__(self, *, max_entries: int = 1024, max_bytes: int = 256 << 20) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._entries: OrderedDict[Hashable, CachedRender] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def size_bytes(self) -> int:
        """The bytes the cached manifests take."""
        return self._bytes

    def get(self, key: Hashable) -> CachedRender | None:
        """The cached render for ``key`` (now the most recently used), or None."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry

    def put(self, key: Hashable, source_type: str, manifests: list[JsonObject]) -> None:
        """Remember a render; one larger than the whole budget is not kept."""
        payload = json.dumps(manifests, separators=(",", ":")).encode()
        with self._lock:
            previous = self._entries.pop(key, None)
            if previous is not None:
                self._bytes -= len(previous.payload)
            if len(payload) > self.max_bytes or self.max_entries <= 0:
                return
            self._entries[key] = CachedRender(source_type, payload)
            self._bytes += len(payload)
            while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
                _, evicted = self._entries.popitem(last=False)
                self._bytes -= len(evicted.payload)
