"""Which shard an object belongs to, and how the replicas of a sharded controller share the shards' Leases (pure).

A sharded controller splits its objects into ``M`` shards by a stable hash of ``<namespace>/<name>``: 32-bit
FNV-1a (http://www.isthe.com/chongo/tech/comp/fnv/, offset basis 2166136261, prime 16777619) over the UTF-8 bytes,
modulo ``M``. FNV-1a, not Python's ``hash``: that one is salted per process (PYTHONHASHSEED), so two replicas
would disagree on every assignment. FNV-1a is unsalted, the same in every language and on every machine, and
cheap enough to compute on every watch event.

Each shard has a Lease (``<name>-shard-<i>``). ``plan_shards`` decides, from what a replica observed of every
shard's Lease, which free shards it tries to take, which of its own it hands over, and from whom it asks for one.
A replica asks by writing its identity into the Lease's ``spec.preferredHolder`` (the field Kubernetes'
coordinated leader election uses for "the holder should yield to this candidate"); the holder sees it at its
next renewal and releases the Lease. Replicas balance that way to at most one shard apart: a replica asks only
from a holder with at least two shards more than its own.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

FNV_OFFSET_BASIS: Final = 0x811C9DC5
FNV_PRIME: Final = 0x01000193
MAX_SHARDS: Final = 64
"""Each shard costs every replica a Lease read per retry period; beyond this the reads outweigh the sharing."""


def fnv1a_32(data: bytes) -> int:
    """The 32-bit FNV-1a hash of ``data``."""
    value = FNV_OFFSET_BASIS
    for byte in data:
        value = ((value ^ byte) * FNV_PRIME) & 0xFFFFFFFF
    return value


def shard_of(namespace: str, name: str, shards: int) -> int:
    """The shard (0 … ``shards`` - 1) the object ``namespace/name`` belongs to."""
    if shards < 1:
        raise ValueError(f"the number of shards must be at least 1, got {shards}")
    return fnv1a_32(f"{namespace}/{name}".encode()) % shards


def shard_lease_name(lease_name: str, shard: int) -> str:
    """The Lease of ``shard``: ``<lease_name>-shard-<shard>`` (``rollouts-controller-shard-0``)."""
    return f"{lease_name}-shard-{shard}"


@dataclass(frozen=True)
class ShardView:
    """What a replica observed of one shard's Lease.

    ``holder`` is "" when nobody holds it (never taken, released, or its holder let it expire); ``preferred`` is
    its ``spec.preferredHolder`` ("" when none); ``unchanged_for`` is how long (seconds, on the observer's clock)
    the record has stayed as it is.
    """

    shard: int
    holder: str
    preferred: str = ""
    unchanged_for: float = 0.0


@dataclass(frozen=True)
class ShardPlan:
    """What a replica does in one round: try to take ``take``, hand ``hand_over`` to the replicas that asked, and
    ask for ``request`` (its holder's identity in ``request_from``)."""

    take: tuple[int, ...] = ()
    hand_over: tuple[int, ...] = ()
    request: int | None = None
    request_from: str = ""


def plan_shards(views: Sequence[ShardView], me: str, lease_duration: float) -> ShardPlan:
    """One round of a replica's part in sharing the shards, from what it observed of every shard's Lease.

    - hand over a shard it holds whose Lease prefers another replica (that replica asked for it);
    - take a free shard while it holds fewer than its fair share, ``ceil(shards / replicas)``, counting the
      replicas that hold a shard and itself — unless the free Lease prefers another replica that asked for it,
      which has ``lease_duration`` to take it before anyone may (it may have died meanwhile);
    - with no free shard to take, ask for one from the replica holding the most, when it holds at least two more
      than this one (so that two replicas never trade one shard back and forth), and only when no request of its
      own is pending.
    """
    held = Counter(view.holder for view in views if view.holder)
    mine = held[me]
    replicas = len(set(held) | {me})
    fair_share = math.ceil(len(views) / replicas)
    hand_over = tuple(v.shard for v in views if v.holder == me and v.preferred not in ("", me))
    mine -= len(hand_over)
    take: list[int] = []
    for view in views:
        if view.holder or mine + len(take) >= fair_share:
            continue
        if view.preferred in ("", me) or view.unchanged_for >= lease_duration:
            take.append(view.shard)
    if take or hand_over:
        return ShardPlan(take=tuple(take), hand_over=hand_over)
    if any(view.preferred == me and view.holder != me for view in views):
        return ShardPlan()  # asked already: wait for the answer
    others = [(count, holder) for holder, count in held.items() if holder != me]
    if not others:
        return ShardPlan()
    # The most loaded holder (ties: the smallest identity, so that every replica picks the same one).
    count, holder = min(others, key=lambda item: (-item[0], item[1]))
    if count - mine < 2:
        return ShardPlan()
    shard = max(v.shard for v in views if v.holder == holder)
    return ShardPlan(request=shard, request_from=holder)

