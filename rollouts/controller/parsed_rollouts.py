"""The controller's parsed Rollouts, one per (uid, resourceVersion): a pass over a version already parsed (the
passes a ReplicaSet's, a Pod's or a VirtualService's watch event asks for, and the echo of the controller's own
write) reuses that parse and its validation instead of doing both again.

Bounded, least recently used first out: a resting Rollout costs no memory here once busier ones push it out.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Final

from kube.json_data import JsonObject
from rollouts.parsed import ParsedRollout, parse_rollout

# Parses kept: enough for every Rollout stepping at once in a large fleet, small beside the object cache.
DEFAULT_CAPACITY: Final = 4096


class ParsedRollouts:
    """Memoised ``parse_rollout`` keyed by uid and resourceVersion (a manifest without either is parsed each time)."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self._capacity = capacity
        self._parsed: OrderedDict[tuple[str, str], ParsedRollout] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def parsed(self, manifest: JsonObject) -> ParsedRollout:
        """``manifest`` parsed and validated; the model comes from the cache when this version was parsed before."""
        metadata = manifest.get("metadata") or {}
        uid, version = metadata.get("uid"), metadata.get("resourceVersion")
        if not uid or not version:
            self.misses += 1
            return parse_rollout(manifest)
        key = (str(uid), str(version))
        known = self._parsed.get(key)
        if known is not None:
            self.hits += 1
            self._parsed.move_to_end(key)
            # The same version may arrive as another dict (our write's answer, then its watch event): hand out
            # this manifest, so that the decision core sees the parse as one of the object it was given.
            return known if known.manifest is manifest else ParsedRollout(manifest, known.rollout, known.issues)
        self.misses += 1
        fresh = parse_rollout(manifest)
        self._parsed[key] = fresh
        while len(self._parsed) > self._capacity:
            self._parsed.popitem(last=False)
        return fresh
