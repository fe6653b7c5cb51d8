"""The mesh-neutral contract between a strategy and a traffic router.

A strategy asks a router to send a share of the Rollout's traffic to its canary (``set_weight``), to add or drop a
managed route that sends requests with certain headers to the canary (``set_header_route``) or mirrors a share of
matching requests to it (``set_mirror_route``), to drop every managed route (``remove_managed_routes``), and to say
whether the mesh routes the weight it was asked for (``verify_weight``).

Every method is pure: a request holding the Rollout and the snapshot of the mesh objects it names goes in; the
patches that make the mesh route that way (only what differs from what was observed), or the problems that
prevent it, come out. A router with problems writes nothing: half-routed traffic is worse than none. Which router
a Rollout uses is chosen by ``rollouts.traffic.registry``; ``rollouts.traffic.sequencing`` chains several requests
in one pass.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Generic, Protocol, TypeVar

from rollouts.models import CanaryStrategy, Rollout, SetHeaderRoute, SetMirrorRoute, TrafficRouting
from rollouts.plan import Write

if TYPE_CHECKING:  # the snapshot names mesh objects by rollouts.traffic.istio's rules, which import this module
    from rollouts.snapshot import RolloutSnapshot

# The canary steps a router may or may not carry out, as the manifest spells them.
HEADER_ROUTE_STEP: Final = "setHeaderRoute"
MIRROR_ROUTE_STEP: Final = "setMirrorRoute"
# An experiment step's template ``weight``: the router sends that share to the experiment's own Service.
EXPERIMENT_WEIGHT: Final = "experiment.templates[].weight"


_Mesh = TypeVar("_Mesh")


@dataclass(frozen=True)
class MeshRouting(Generic[_Mesh]):
    """The parts of a Rollout's spec a router reads, once they are known to be there: the canary strategy, its
    ``trafficRouting`` and the router's own part of that (``mesh``: e.g. ``routing.istio``)."""

    strategy: CanaryStrategy
    routing: TrafficRouting
    mesh: _Mesh


def mesh_routing(rollout: Rollout, mesh: Callable[[TrafficRouting], _Mesh | None]) -> MeshRouting[_Mesh] | None:
    """A canary Rollout's strategy, its ``trafficRouting`` and the part of it a router reads (``mesh``), or None
    when any of them is not set."""
    strategy = rollout.spec.strategy.canary
    routing = strategy.traffic_routing if strategy is not None else None
    part = mesh(routing) if routing is not None else None
    if strategy is None or routing is None or part is None:
        return None
    return MeshRouting(strategy, routing, part)


@dataclass(frozen=True)
class WeightDestination:
    """A share of traffic for a Service besides the canary and the stable one (Argo's WeightDestination): an
    experiment template's Service and the pod-template hash of its ReplicaSet."""

    service_name: str
    pod_template_hash: str | None
    weight: int


@dataclass(frozen=True)
class RouterRequest:
    """What every request to a router carries: the Rollout and ``snapshot``, the mesh objects it names as observed
    (its VirtualServices and DestinationRule, Ingresses, HTTPRoutes: those that exist, by the names the spec uses)."""

    rollout: Rollout
    snapshot: RolloutSnapshot


@dataclass(frozen=True)
class WeightRequest(RouterRequest):
    """Route ``canary_weight`` % of ``rollout``'s traffic to the pods of ``canary_hash``, each ``additional``
    destination its weight, and the rest to ``stable_hash``'s (Argo takes the additional shares from the stable's)."""

    canary_weight: int
    canary_hash: str | None
    stable_hash: str | None
    additional: tuple[WeightDestination, ...] = ()


@dataclass(frozen=True)
class HeaderRouteRequest(RouterRequest):
    """Make the managed route ``route.name`` send requests matching ``route.match`` to the canary; an empty
    ``match`` removes the route (Argo's ``setHeaderRoute`` without ``match``)."""

    route: SetHeaderRoute


@dataclass(frozen=True)
class MirrorRouteRequest(RouterRequest):
    """Make the managed route ``route.name`` mirror ``route.percentage`` % (default 100) of requests matching
    ``route.match`` to the canary, while they are still answered as the weights say; an empty ``match`` removes it."""

    route: SetMirrorRoute


@dataclass(frozen=True)
class ManagedRoutesRequest(RouterRequest):
    """Drop every route the Rollout manages (``trafficRouting.managedRoutes``) from the mesh."""


@dataclass(frozen=True)
class RoutingResult:
    """What routing a request takes.

    ``writes`` holds only what differs from what was observed (empty at rest); when ``problems`` is non-empty,
    ``writes`` is empty. ``current_weight`` is the canary weight the mesh routes now, as observed (None when it
    cannot be told, and for requests other than a weight).
    """

    writes: tuple[Write, ...]
    problems: tuple[str, ...]
    current_weight: int | None = None

    @classmethod
    def of(cls, writes: Sequence[Write], problems: Sequence[str], current_weight: int | None = None) -> RoutingResult:
        """The result of a request that found ``problems`` while it built ``writes``: any problem withholds every
        write, since half-routed traffic is worse than none."""
        return cls(writes=() if problems else tuple(writes), problems=tuple(problems), current_weight=current_weight)


@dataclass(frozen=True)
class ObjectRouting:
    """What routing takes for one of the objects a Rollout names for its weight (an HTTPRoute, a stable Ingress):
    the writes to make, the problems found, and the canary weight it routes now, as observed (None when unknown)."""

    writes: tuple[Write, ...] = ()
    problems: tuple[str, ...] = ()
    current_weight: int | None = None


def route_each(names: Sequence[str], route: Callable[[str], ObjectRouting]) -> RoutingResult:
    """Route each named object in turn: all their writes (none when any has a problem), all their problems, and the
    current weight as the first object routes it (the one Argo reads it from)."""
    routed = [route(name) for name in names]
    return RoutingResult.of(
        [write for one in routed for write in one.writes],
        [problem for one in routed for problem in one.problems],
        routed[0].current_weight if routed else None,
    )


@dataclass(frozen=True)
class WeightVerification:
    """Whether the mesh, as observed, routes the weight asked for: ``verified`` is None when it cannot be told
    (the objects are missing or malformed); ``mismatches`` names each place that routes another weight."""

    verified: bool | None
    mismatches: tuple[str, ...] = ()


class TrafficRouter(Protocol):
    """One mesh's way of splitting traffic between a Rollout's canary and stable pods."""

    @property
    def name(self) -> str:
        """How the manifest names this router: its ``trafficRouting`` field, e.g. ``istio``."""
        ...

    @property
    def steps(self) -> frozenset[str]:
        """The managed-route steps (``HEADER_ROUTE_STEP``, ``MIRROR_ROUTE_STEP``) this router carries out, and
        ``EXPERIMENT_WEIGHT`` when it routes ``WeightRequest.additional``."""
        ...

    def set_weight(self, request: WeightRequest) -> RoutingResult:
        """The patches (or problems) that route ``request.canary_weight`` % to the canary."""
        ...

    def set_header_route(self, request: HeaderRouteRequest) -> RoutingResult:
        """The patches (or problems) that add, change or remove the managed header route."""
        ...

    def set_mirror_route(self, request: MirrorRouteRequest) -> RoutingResult:
        """The patches (or problems) that add, change or remove the managed mirror route."""
        ...

    def remove_managed_routes(self, request: ManagedRoutesRequest) -> RoutingResult:
        """The patches that drop every managed route (none when there are none)."""
        ...

    def verify_weight(self, request: WeightRequest) -> WeightVerification:
        """Whether the observed mesh objects route ``request.canary_weight`` % to the canary."""
        ...
