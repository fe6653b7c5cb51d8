"""The mesh-neutral contract between a strategy and a traffic router: "send this share of the Rollout's traffic to
its canary". A router reads the mesh's own objects from the snapshot and answers with the patches that make the
mesh route that way, or the problems that prevent it (then it writes nothing: half-routed traffic is worse than
none). Which router a Rollout uses is chosen by ``rollouts.traffic.registry``.

Argo's routers also set header and mirror routes (``setHeaderRoute``, ``setMirrorRoute``) and verify weights; no
step of this project uses them yet, so the contract holds only what the strategies call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from rollouts.models import Rollout
from rollouts.plan import Patch

if TYPE_CHECKING:  # the snapshot names mesh objects by rollouts.traffic.istio's rules, which import this module
    from rollouts.snapshot import RolloutSnapshot


@dataclass(frozen=True)
class WeightRequest:
    """Route ``canary_weight`` % of ``rollout``'s traffic to the pods of ``canary_hash``, the rest to
    ``stable_hash``'s; ``snapshot`` holds the mesh objects the Rollout names, as observed."""

    rollout: Rollout
    snapshot: RolloutSnapshot
    canary_weight: int
    canary_hash: str | None
    stable_hash: str | None


@dataclass(frozen=True)
class RoutingResult:
    """What routing the desired weight takes.

    ``writes`` holds only what differs from what was observed (empty at rest); when ``problems`` is non-empty,
    ``writes`` is empty. ``current_weight`` is the canary weight the mesh routes now, as observed (None when it
    cannot be told).
    """

    writes: tuple[Patch, ...]
    problems: tuple[str, ...]
    current_weight: int | None


class TrafficRouter(Protocol):
    """One mesh's way of splitting traffic between a Rollout's canary and stable pods."""

    def set_weight(self, request: WeightRequest) -> RoutingResult:
        """The patches (or problems) that route ``request.canary_weight`` % to the canary."""
        ...
