"""Istio behind the mesh-neutral router interface: VirtualService route weights (and DestinationRule subsets for
subset-level routing) from ``rollouts.traffic.istio``, managed header and mirror routes and weight verification
from ``rollouts.traffic.istio_routes``."""

from __future__ import annotations

from typing import Final

from rollouts.traffic.istio import route_traffic
from rollouts.traffic.istio_routes import (
    header_route_patches,
    managed_routes_removal,
    mirror_route_patches,
    verify_virtual_service_weights,
)
from rollouts.traffic.router import (
    EXPERIMENT_WEIGHT,
    HEADER_ROUTE_STEP,
    MIRROR_ROUTE_STEP,
    HeaderRouteRequest,
    ManagedRoutesRequest,
    MirrorRouteRequest,
    RoutingResult,
    WeightRequest,
    WeightVerification,
)

ISTIO: Final = "istio"


class IstioRouter:
    """Istio's router; holds no state, so one instance serves every Rollout."""

    name: str = ISTIO
    steps: frozenset[str] = frozenset({HEADER_ROUTE_STEP, MIRROR_ROUTE_STEP, EXPERIMENT_WEIGHT})

    def set_weight(self, request: WeightRequest) -> RoutingResult:
        return route_traffic(
            rollout=request.rollout,
            namespace=request.rollout.namespace or "default",
            virtual_services=request.snapshot.virtual_services,
            destination_rule=request.snapshot.destination_rule,
            canary_weight=request.canary_weight,
            canary_hash=request.canary_hash,
            stable_hash=request.stable_hash,
            additional=request.additional,
        )

    def set_header_route(self, request: HeaderRouteRequest) -> RoutingResult:
        return header_route_patches(request)

    def set_mirror_route(self, request: MirrorRouteRequest) -> RoutingResult:
        return mirror_route_patches(request)

    def remove_managed_routes(self, request: ManagedRoutesRequest) -> RoutingResult:
        return managed_routes_removal(
            rollout=request.rollout,
            namespace=request.rollout.namespace or "default",
            virtual_services=request.snapshot.virtual_services,
        )

    def verify_weight(self, request: WeightRequest) -> WeightVerification:
        return verify_virtual_service_weights(
            rollout=request.rollout,
            virtual_services=request.snapshot.virtual_services,
            destination_rule=request.snapshot.destination_rule,
            canary_weight=request.canary_weight,
        )
