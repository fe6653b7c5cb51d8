"""Argo's ping-pong Services (``spec.strategy.canary.pingPong``): which of the two serves the stable version, which
the canary, and when they swap roles. Pure, and mesh-neutral: a router weighs the two Services' hosts through
``routed_services`` exactly as it weighs ``canaryService`` and ``stableService``.

Argo's rules, as its controller carries them out:

* ``status.canary.stablePingPong`` names the stable side. ``ping`` means the ping Service is stable; anything
  else (``pong``, or nothing yet) means the pong Service is stable, so on a first deploy the ping Service is the
  "canary" Service that gets the first revision's pods.
* While an update is under way the canary-role Service is pointed at the new ReplicaSet, at once (it carries no
  traffic yet); the stable-role Service is left as it is.
* When the update completes (the stable ReplicaSet changes), ``stablePingPong`` flips: the Service that served the
  canary, now selecting the new stable pods, is the stable one; no selector changes. With all steps done the
  router had routed 100 % to that Service's host; after the flip it routes 0 % to the canary role (the old side),
  which is the same split.
* An abort routes the traffic back to the stable role; the canary-role Service keeps the aborted pods (weight 0).
* A Service that still carries traffic is never re-pointed: when a new revision arrives while the canary role
  still has weight (an update replaced mid-way), the weight goes to 0 first and the selector moves in a later
  pass, once the mesh routes nothing to it (Argo waits for the weight to be verified before it reuses the
  Service).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from rollouts.models import CanaryStrategy, PingPong

PING: Final = "ping"
PONG: Final = "pong"
Side = Literal["ping", "pong"]


@dataclass(frozen=True)
class PingPongRoles:
    """The Service that serves the stable version and the one that serves the canary, and which side is stable."""

    stable_service: str
    canary_service: str
    stable_side: Side


def stable_side(stable_ping_pong: str | None) -> Side:
    """The side ``status.canary.stablePingPong`` says is stable: ``ping`` only when it says so (Argo's
    IsStablePing), ``pong`` otherwise, including before the first deploy."""
    return PING if stable_ping_pong == PING else PONG


def roles(ping_pong: PingPong, stable_ping_pong: str | None) -> PingPongRoles:
    """Which Service serves which role, given the recorded stable side."""
    side = stable_side(stable_ping_pong)
    if side == PING:
        return PingPongRoles(ping_pong.ping_service, ping_pong.pong_service, side)
    return PingPongRoles(ping_pong.pong_service, ping_pong.ping_service, side)


def side_after_promotion(stable_ping_pong: str | None) -> Side:
    """The stable side once an update completes: the side that served the canary (Argo's promoteStable)."""
    return PONG if stable_side(stable_ping_pong) == PING else PING


def stable_ping_pong_status(
    canary: CanaryStrategy,
    *,
    observed: str | None,
    observed_stable_hash: str | None,
    new_stable_hash: str | None,
) -> str | None:
    """``status.canary.stablePingPong`` after a pass: flipped when the pass made another ReplicaSet the stable one,
    the recorded side otherwise (kept as written, even once ``pingPong`` is removed, as Argo keeps it)."""
    if canary.ping_pong is None or not new_stable_hash or new_stable_hash == observed_stable_hash:
        return observed
    return side_after_promotion(observed)


def routed_services(canary: CanaryStrategy, stable_ping_pong: str | None) -> tuple[str | None, str | None]:
    """(canary, stable) Services whose hosts a host-level router weighs: ``canaryService``/``stableService`` when
    either is named, else the ping-pong Services in their current roles (Argo's GetStableAndCanaryServices for
    routers other than ALB)."""
    if canary.ping_pong is None or canary.canary_service or canary.stable_service:
        return canary.canary_service, canary.stable_service
    current = roles(canary.ping_pong, stable_ping_pong)
    return current.canary_service, current.stable_service


def may_repoint_canary_service(*, selects_target: bool, carries_traffic: bool) -> bool:
    """Whether the canary-role Service may be pointed at the new ReplicaSet now: it already selects it, or the
    router sends nothing to its host (re-pointing a Service that carries traffic would hand that traffic to pods
    that are not up yet)."""
    return selects_target or not carries_traffic


__all__ = [
    "PING",
    "PONG",
    "PingPongRoles",
    "may_repoint_canary_service",
    "roles",
    "routed_services",
    "side_after_promotion",
    "stable_ping_pong_status",
    "stable_side",
]
