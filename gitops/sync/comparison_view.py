"""What the sync planner reads from a comparison (``gitops.compare.comparison.Comparison`` satisfies it).

Declared structurally so the planner does not import the comparison package: any object with these attributes
(the real comparison, or a test's) can be planned against.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from gitops.resources import JsonObject, ResourceKey


class ComparedResource(Protocol):
    """One resource as the comparison saw it."""

    @property
    def key(self) -> ResourceKey: ...
    @property
    def status(self) -> str: ...  # "Synced" | "OutOfSync" | "" (hooks)
    @property
    def hook(self) -> bool: ...
    @property
    def requires_pruning(self) -> bool: ...


class ComparisonView(Protocol):
    """The comparison's per-resource results, overall status and conditions (e.g. SharedResourceWarning)."""

    @property
    def resources(self) -> Sequence[ComparedResource]: ...
    @property
    def sync_status(self) -> str: ...
    @property
    def conditions(self) -> Sequence[JsonObject]: ...


SHARED_RESOURCE_WARNING = "SharedResourceWarning"


def modified_by_key(comparison: ComparisonView) -> dict[ResourceKey, bool]:
    """Whether each compared, non-hook resource differs from its target (OutOfSync), by key."""
    return {r.key: r.status != "Synced" for r in comparison.resources if not r.hook}


def shared_resource_messages(comparison: ComparisonView) -> list[str]:
    """The messages of the comparison's SharedResourceWarning conditions."""
    return [str(c.get("message", "")) for c in comparison.conditions if c.get("type") == SHARED_RESOURCE_WARNING]
