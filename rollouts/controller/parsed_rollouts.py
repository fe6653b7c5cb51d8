"""The controller's parsed Rollouts, the latest version of each: a pass over a version already parsed (the passes
a ReplicaSet's, a Pod's or a VirtualService's watch event asks for) reuses that parse and its validation instead of
doing both again.

One parse per Rollout (a new version replaces the old), and bounded, least recently used first out; a Rollout at
rest is not kept at all (``discard``): ten thousand settled Rollouts are passed over once a resync each, and
holding a parse for each (~24 KB; ``bench/results/scale-10000-profile.md``) between two resyncs costs more memory
than parsing again costs CPU.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Final

from kube.json_data import JsonObject
from rollouts.parsed import ParsedRollout, parse_rollout

# Parses kept: enough for every Rollout stepping at once in a large fleet, small beside the object cache.
DEFAULT_CAPACITY: Final = 4096


class ParsedRollouts:
    """Memoised ``parse_rollout``: the last version parsed of each Rollout, by uid (a manifest without a uid or a
    resourceVersion is parsed each time)."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self._capacity = capacity
        self._parsed: OrderedDict[str, tuple[str, ParsedRollout]] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._parsed)

    def parsed(self, manifest: JsonObject) -> ParsedRollout:
        """``manifest`` parsed and validated; the model comes from the cache when this version was parsed before."""
        metadata = manifest.get("metadata") or {}
        uid, version = metadata.get("uid"), metadata.get("resourceVersion")
        if not uid or not version:
            self.misses += 1
            return parse_rollout(manifest)
        key, version = str(uid), str(version)
        known = self._parsed.get(key)
        if known is not None and known[0] == version:
            self.hits += 1
            self._parsed.move_to_end(key)
            parse = known[1]
            # The same version may arrive as another dict (our write's answer, then its watch event): hand out
            # this manifest, so that the decision core sees the parse as one of the object it was given.
            return parse if parse.manifest is manifest else ParsedRollout(manifest, parse.rollout, parse.issues)
        self.misses += 1
        fresh = parse_rollout(manifest)
        self._parsed[key] = (version, fresh)
        self._parsed.move_to_end(key)
        while len(self._parsed) > self._capacity:
            self._parsed.popitem(last=False)
        return fresh

    def discard(self, manifest: JsonObject) -> None:
        """Forget the parse of ``manifest``'s Rollout (by uid), whichever version it was of."""
        uid = (manifest.get("metadata") or {}).get("uid")
        if uid:
            self._parsed.pop(str(uid), None)
