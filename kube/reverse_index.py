"""Reverse indexes: each key filed with the set of members under it (an owner's dependents, an object's
interested Applications), kept without empty sets so that an index does not grow with the objects gone.

Every cache of the controllers and of the emulator keeps such indexes; these functions are their only edits.
"""

from __future__ import annotations

from collections.abc import Set
from typing import TypeVar

K = TypeVar("K")
M = TypeVar("M")


def add_member(index: dict[K, set[M]], key: K, member: M) -> None:
    """File ``member`` under ``key``."""
    index.setdefault(key, set()).add(member)


def discard_member(index: dict[K, set[M]], key: K, member: M) -> None:
    """Take ``member`` out of ``key``'s set, and drop the set once it is empty."""
    members = index.get(key)
    if members is not None:
        members.discard(member)
        if not members:
            del index[key]


def move_member(index: dict[K, set[M]], member: M, old: Set[K], new: Set[K]) -> None:
    """Refile ``member``, filed under the keys ``old``, under the keys ``new``."""
    for key in old - new:
        discard_member(index, key, member)
    for key in new - old:
        add_member(index, key, member)


def replace_edges(forward: dict[M, frozenset[K]], backward: dict[K, set[M]], source: M, targets: frozenset[K]) -> None:
    """Make ``targets`` what ``source`` points at, in a two-way index: ``forward`` maps each source to its targets,
    ``backward`` each target to the sources pointing at it."""
    move_member(backward, source, forward.get(source, frozenset()), targets)
    if targets:
        forward[source] = targets
    else:
        forward.pop(source, None)
