"""The uids of objects a cache saw deleted, so that no late copy of them is stored again.

A cache fed by a watch and by the answers to its own writes can hear of one object out of order: a pass patches a
Rollout, the Rollout is deleted, the watch's DELETED event is applied, and only then is the patch's answer (the
object as it was just before the deletion) recorded. Stored, that copy would stay for ever: no further event comes
for an object that no longer exists, and every pass over it would write to nothing. A uid is never reused, so once
a DELETED event names it, any later copy with that uid is stale.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, Final

from kube.object_meta import uid_of

# Late copies arrive within a pass of the deletion; remembering the last this many deletions is ample and keeps
# the memory bounded (about 100 bytes a uid).
REMEMBERED_DELETIONS: Final = 10_000


class DeletedObjects:
    """A bounded memory of deleted objects' uids (oldest forgotten first)."""

    def __init__(self, capacity: int = REMEMBERED_DELETIONS) -> None:
        self._capacity = capacity
        self._uids: OrderedDict[str, None] = OrderedDict()

    def record(self, obj: Mapping[str, Any] | None) -> None:
        """Remember that ``obj`` (as the DELETED event or the cache held it) is gone."""
        uid = uid_of(obj) if obj is not None else None
        if uid is None:
            return
        self._uids[uid] = None
        self._uids.move_to_end(uid)
        while len(self._uids) > self._capacity:
            self._uids.popitem(last=False)

    def is_deleted(self, obj: Mapping[str, Any]) -> bool:
        """Whether ``obj`` is a copy of an object already seen deleted."""
        uid = uid_of(obj)
        return uid is not None and uid in self._uids
