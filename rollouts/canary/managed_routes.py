"""The canary steps ``setHeaderRoute`` and ``setMirrorRoute``: which managed routes the mesh should hold where the
Rollout stands in its steps, and the router calls that put them there along with the canary weight.

Argo Rollouts sets a managed route when the Rollout reaches its step, keeps it until a later step of the same name
changes or (without ``match``) removes it, and removes every managed route once the update is over: promoted, past
its last step, or aborted. Derived from the steps and the index alone, the wanted routes are the same whatever
pass computes them, so a controller restarted mid-update, or a new revision that starts again at step 0, converges
on the same routes (a route no step up to the index sets is removed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rollouts.models import CanaryStep, SetHeaderRoute, SetMirrorRoute
from rollouts.plan import Write
from rollouts.traffic.router import (
    HeaderRouteRequest,
    ManagedRoutesRequest,
    MirrorRouteRequest,
    RoutingResult,
    TrafficRouter,
    WeightRequest,
)
from rollouts.traffic.sequencing import combined_writes, snapshot_after

ManagedRoute = SetHeaderRoute | SetMirrorRoute


@dataclass(frozen=True)
class WantedRoutes:
    """The managed routes the mesh should hold: ``routes`` (latest step per name, in step order) and the declared
    names no step up to the index sets, to ``clear``; or ``remove_all`` once the update is over."""

    routes: tuple[ManagedRoute, ...] = ()
    clear: tuple[str, ...] = ()
    remove_all: bool = False


def wanted_routes(
    steps: Sequence[CanaryStep], index: int | None, managed_route_names: Sequence[str], *, finished: bool
) -> WantedRoutes:
    """The managed routes for a Rollout at step ``index`` (0-based; the step at the index counts, as it completes
    at once); ``finished`` when the update is promoted or aborted."""
    if finished or index is None or index >= len(steps):
        return WantedRoutes(remove_all=True)
    latest: dict[str, ManagedRoute | None] = {}
    for step in steps[: index + 1]:
        route: ManagedRoute | None = step.set_header_route or step.set_mirror_route
        if route is None or not route.name:
            continue
        # A later step of the same name replaces the route (or, without match, removes it); moving the name to
        # the end keeps the routes in the order their steps last touched them.
        latest.pop(route.name, None)
        latest[route.name] = route if route.match else None
    routes = tuple(route for route in latest.values() if route is not None)
    kept = {route.name for route in routes}
    return WantedRoutes(routes=routes, clear=tuple(name for name in managed_route_names if name not in kept))


def route_for_step(router: TrafficRouter, weight: WeightRequest, wanted: WantedRoutes) -> RoutingResult:
    """Route the canary weight, then the managed routes, each call seeing the mesh as the previous one leaves it;
    one write per object. Any problem and nothing is written."""
    weighted = router.set_weight(weight)
    if weighted.problems:
        return weighted
    writes: tuple[Write, ...] = weighted.writes
    problems: list[str] = []
    snapshot = snapshot_after(weight.snapshot, writes)
    results: list[RoutingResult] = []
    rollout = weight.rollout
    if wanted.remove_all:
        results.append(router.remove_managed_routes(ManagedRoutesRequest(rollout, snapshot)))
    for name in wanted.clear:
        # A header request without match removes the route of that name, whichever step made it.
        results.append(router.set_header_route(HeaderRouteRequest(rollout, snapshot, SetHeaderRoute(name=name))))
        snapshot = snapshot_after(snapshot, results[-1].writes)
    for route in wanted.routes:
        if isinstance(route, SetHeaderRoute):
            results.append(router.set_header_route(HeaderRouteRequest(rollout, snapshot, route)))
        else:
            results.append(router.set_mirror_route(MirrorRouteRequest(rollout, snapshot, route)))
        snapshot = snapshot_after(snapshot, results[-1].writes)
    for result in results:
        problems += result.problems
        writes = combined_writes(writes, result.writes)
    if problems:
        return RoutingResult(writes=(), problems=tuple(problems), current_weight=weighted.current_weight)
    return RoutingResult(writes=writes, problems=(), current_weight=weighted.current_weight)
