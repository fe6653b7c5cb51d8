"""Istio managed routes and weight verification as pure functions: the HTTP routes a Rollout adds to its
VirtualServices for ``setHeaderRoute`` and ``setMirrorRoute`` steps, their removal, and the check that the observed
VirtualServices route the weight asked for.

Argo Rollouts' semantics (its Istio traffic router):

* a managed route is named as the step names it, and must be listed in ``trafficRouting.managedRoutes``;
* managed routes come before every other HTTP route, in ``managedRoutes`` order, so that Istio (which takes the
  first route that matches) tries them first;
* a header route sends every request matching one of its header matches to the canary destination of the
  weighted route (weight 100);
* a mirror route answers matching requests exactly as the weighted route does (a copy of its destinations, kept in
  step with the weights by ``route_traffic``) and mirrors ``percentage`` % of them to the canary;
* a step without ``match`` removes its route; completing or aborting the update removes them all.

The weighted route is the one ``route_traffic`` weighs (named in ``routes``, or the only unmanaged HTTP route).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from kube.json_data import JsonObject
from kube.merge_patch import json_copy
from kube.resources import VIRTUAL_SERVICES
from rollouts.models import (
    HeaderRoutingMatch,
    IstioVirtualService,
    Rollout,
    RouteMatch,
    StringMatch,
)
from rollouts.plan import Patch
from rollouts.traffic.istio import (
    ROUTE_KINDS,
    RouteKind,
    desired_weights,
    istio_routing_of,
    istio_sides,
    observed_canary_weight,
    resource_version,
    route_name,
    tcp_route_indexes,
    tls_route_indexes,
    unmanaged_http_route_indexes,
    virtual_service_location,
    virtual_services_by_name,
)
from rollouts.traffic.router import HeaderRouteRequest, MirrorRouteRequest, RoutingResult, WeightVerification

# Argo's default for a setMirrorRoute without percentage: mirror every matching request.
DEFAULT_MIRROR_PERCENTAGE = 100


# An edit of one VirtualService's HTTP routes: (spec name, routes, index of the weighted route, its canary
# destination) → the new routes, or the problems that prevent them.
_HttpEdit = Callable[[str, list[Any], int, JsonObject], tuple[list[Any], list[str]]]


def header_route_patches(request: HeaderRouteRequest) -> RoutingResult:
    """The patches that add (or replace, or with no ``match`` remove) the managed header route ``route.name``."""
    route = request.route
    name = route.name or ""

    def edit(spec_name: str, http: list[Any], weighted: int, canary: JsonObject) -> tuple[list[Any], list[str]]:
        new_route: JsonObject = {
            "name": name,
            "match": [_header_match(match) for match in route.match],
            "route": [{"destination": json_copy(canary), "weight": 100}],
        }
        return _with_route(http, new_route), []

    return _managed_route_patches(request, name, bool(route.match), edit)


def mirror_route_patches(request: MirrorRouteRequest) -> RoutingResult:
    """The patches that add (or replace, or with no ``match`` remove) the managed mirror route ``route.name``."""
    route = request.route
    name = route.name or ""
    percentage = DEFAULT_MIRROR_PERCENTAGE if route.percentage is None else route.percentage

    def edit(spec_name: str, http: list[Any], weighted: int, canary: JsonObject) -> tuple[list[Any], list[str]]:
        weighted_route = http[weighted]
        new_route: JsonObject = {
            "name": name,
            "match": [_route_match(match) for match in route.match],
            # The mirrored requests are still answered by whoever the weights send them to.
            "route": json_copy(weighted_route.get("route")),
            "mirror": json_copy(canary),
            "mirrorPercentage": {"value": float(percentage)},
        }
        return _with_route(http, new_route), []

    return _managed_route_patches(request, name, bool(route.match), edit)


def _managed_route_patches(
    request: HeaderRouteRequest | MirrorRouteRequest, name: str, matches: bool, edit: _HttpEdit
) -> RoutingResult:
    """A managed route step: ``edit`` the VirtualServices' HTTP routes, or, for a step without ``match``, remove
    the route ``name`` (Argo's way of ending a header or mirror route)."""
    rollout = request.rollout
    namespace = rollout.namespace or "default"
    virtual_services = request.snapshot.virtual_services
    if not matches:
        return managed_routes_removal(
            rollout=rollout, namespace=namespace, virtual_services=virtual_services, names=(name,)
        )
    return _edit_http_routes(rollout, namespace, virtual_services, request.snapshot.destination_rule, name, edit)


def managed_routes_removal(
    *,
    rollout: Rollout,
    namespace: str,
    virtual_services: Mapping[str, JsonObject],
    names: Sequence[str] | None = None,
) -> RoutingResult:
    """The patches that drop the managed routes ``names`` (all of ``managedRoutes`` when None) from every
    VirtualService the Rollout names; a VirtualService that is gone has nothing to drop."""
    parts = istio_routing_of(rollout)
    if isinstance(parts, str):
        return RoutingResult(writes=(), problems=(parts,))
    doomed = set(parts.routing.managed_route_names if names is None else names)
    groups, problems = virtual_services_by_name(rollout.name, parts.mesh)
    if problems:
        return RoutingResult(writes=(), problems=tuple(problems))
    writes: list[Patch] = []
    for spec_name in groups:
        observed = virtual_services.get(spec_name)
        http = _http_of(observed)
        if observed is None or http is None:
            continue
        kept = [route for route in http if route_name(route) not in doomed]
        if len(kept) != len(http):
            writes.append(_http_patch(spec_name, namespace, observed, kept))
    return RoutingResult(writes=tuple(writes), problems=())


def verify_virtual_service_weights(
    *,
    rollout: Rollout,
    virtual_services: Mapping[str, JsonObject],
    destination_rule: JsonObject | None,
    canary_weight: int,
) -> WeightVerification:
    """Whether every route the Rollout weighs, in every VirtualService it names, gives the canary
    ``canary_weight`` % as observed; None when a VirtualService or its routes cannot be read."""
    parts = istio_routing_of(rollout)
    if isinstance(parts, str):
        return WeightVerification(verified=None, mismatches=(parts,))
    sides, side_problems = istio_sides(
        parts.strategy, parts.mesh, destination_rule, rollout.status.canary.stable_ping_pong
    )
    groups, group_problems = virtual_services_by_name(rollout.name, parts.mesh)
    if sides is None or side_problems or group_problems:
        return WeightVerification(verified=None, mismatches=tuple(side_problems + group_problems))
    wanted, _ = desired_weights(canary_weight)
    mismatches: list[str] = []
    for spec_name, entries in groups.items():
        observed = virtual_services.get(spec_name)
        if observed is None:
            return WeightVerification(verified=None, mismatches=(f'VirtualService "{spec_name}" not found',))
        spec = observed.get("spec")
        lists: dict[RouteKind, list[Any]] = {
            kind: value if isinstance(spec, dict) and isinstance(value := spec.get(kind), list) else []
            for kind in ROUTE_KINDS
        }
        weighed, problems = _weighed_routes(spec_name, entries, lists, parts.routing.managed_route_names)
        if problems:
            return WeightVerification(verified=None, mismatches=tuple(problems))
        for kind, index in weighed:
            seen = observed_canary_weight(lists[kind], index, sides)
            if seen is None:
                return WeightVerification(
                    verified=None,
                    mismatches=(f'VirtualService "{spec_name}" spec.{kind}[{index}] has no readable canary weight',),
                )
            if seen != wanted:
                label = route_name(lists[kind][index]) if kind == "http" else None
                where = f'route "{label}"' if label else f"spec.{kind}[{index}]"
                mismatches.append(
                    f'{where} of VirtualService "{spec_name}" routes {seen} % to the canary, not {wanted}'
                )
    return WeightVerification(verified=not mismatches, mismatches=tuple(mismatches))


# --- shared --------------------------------------------------------------------------------------


def _edit_http_routes(
    rollout: Rollout,
    namespace: str,
    virtual_services: Mapping[str, JsonObject],
    destination_rule: JsonObject | None,
    name: str,
    edit: _HttpEdit,
) -> RoutingResult:
    """Apply ``edit`` to the HTTP routes of every VirtualService the Rollout names that has a weighted HTTP route."""
    parts = istio_routing_of(rollout)
    if isinstance(parts, str):
        return RoutingResult(writes=(), problems=(parts,))
    managed_names = parts.routing.managed_route_names
    if name not in managed_names:
        # Validation reports it with the step's path; this keeps the router safe when called on its own.
        return RoutingResult(writes=(), problems=(f'route "{name}" is not in trafficRouting.managedRoutes',))
    sides, problems = istio_sides(
        parts.strategy, parts.mesh, destination_rule, rollout.status.canary.stable_ping_pong
    )
    groups, group_problems = virtual_services_by_name(rollout.name, parts.mesh)
    problems += group_problems
    writes: list[Patch] = []
    for spec_name, entries in groups.items() if sides is not None else ():
        assert sides is not None
        observed = virtual_services.get(spec_name)
        vs_namespace, vs_name = virtual_service_location(spec_name, namespace)
        if observed is None:
            problems.append(f'VirtualService "{vs_name}" not found in namespace "{vs_namespace}"')
            continue
        http = _http_of(observed)
        if http is None:
            problems.append(f'VirtualService "{spec_name}" has a spec.http that is not a list')
            continue
        weighted: int | None = None
        for entry in entries:
            indexes, index_problems = unmanaged_http_route_indexes(spec_name, entry, http, managed_names)
            problems += index_problems
            if indexes and weighted is None:
                weighted = indexes[0]
        if weighted is None:
            continue  # a TLS- or TCP-only VirtualService has no HTTP route to add to
        destinations = http[weighted].get("route") if isinstance(http[weighted], dict) else None
        canary = next(
            (d for d in destinations or () if sides.side_of(d) == "canary"),
            None,
        )
        if canary is None or not isinstance(canary.get("destination"), dict):
            problems.append(f'VirtualService "{spec_name}" has no destination for {sides.describe("canary")}')
            continue
        new_http, edit_problems = edit(spec_name, json_copy(http), weighted, canary["destination"])
        problems += edit_problems
        ordered = _managed_first(new_http, managed_names)
        if ordered != http:
            writes.append(_http_patch(spec_name, namespace, observed, ordered))
    return RoutingResult.of(writes, problems)


def _weighed_routes(
    spec_name: str,
    entries: Sequence[IstioVirtualService],
    lists: Mapping[RouteKind, list[Any]],
    managed_names: Sequence[str],
) -> tuple[list[tuple[RouteKind, int]], list[str]]:
    """(kind, index) of every route ``route_traffic`` weighs, or the problems that keep them from being told."""
    found: list[tuple[RouteKind, int]] = []
    problems: list[str] = []
    for entry in entries:
        selections: list[tuple[RouteKind, tuple[list[int], list[str]]]] = [
            ("http", unmanaged_http_route_indexes(spec_name, entry, lists["http"], managed_names)),
            ("tls", tls_route_indexes(spec_name, entry.tls_routes, lists["tls"])),
            ("tcp", tcp_route_indexes(spec_name, entry.tcp_routes, lists["tcp"])),
        ]
        for kind, (indexes, selection_problems) in selections:
            problems += selection_problems
            found += [(kind, index) for index in indexes]
    return found, problems


def _http_of(observed: JsonObject | None) -> list[Any] | None:
    spec = observed.get("spec") if observed is not None else None
    http = spec.get("http") if isinstance(spec, dict) else None
    if http is None:
        return []
    return http if isinstance(http, list) else None


def _with_route(http: list[Any], new_route: JsonObject) -> list[Any]:
    """``http`` with the route of the same name replaced by ``new_route`` (or ``new_route`` added first)."""
    name = new_route["name"]
    if any(route_name(route) == name for route in http):
        return [new_route if route_name(route) == name else route for route in http]
    return [new_route, *http]


def _managed_first(http: list[Any], managed_names: Sequence[str]) -> list[Any]:
    """Managed routes first, in ``managedRoutes`` order, then the others as they were."""
    rank = {name: position for position, name in enumerate(managed_names)}
    managed = sorted(
        (route for route in http if route_name(route) in rank), key=lambda route: rank[route_name(route) or ""]
    )
    return managed + [route for route in http if route_name(route) not in rank]


def _http_patch(spec_name: str, namespace: str, observed: JsonObject, http: list[Any]) -> Patch:
    vs_namespace, vs_name = virtual_service_location(spec_name, namespace)
    body: JsonObject = {"spec": {"http": http}}
    version = resource_version(observed)
    if version is not None:
        # A concurrent edit fails with 409 Conflict rather than being overwritten from a stale copy.
        body = {"metadata": {"resourceVersion": version}, **body}
    return Patch(kind=VIRTUAL_SERVICES, namespace=vs_namespace, name=vs_name, patch=body)


def _string_match(match: StringMatch | None) -> JsonObject:
    if match is None:
        return {}
    for key, value in (("exact", match.exact), ("prefix", match.prefix), ("regex", match.regex)):
        if value is not None:
            return {key: value}
    return {}


def _header_match(match: HeaderRoutingMatch) -> JsonObject:
    return {"headers": {match.header_name: _string_match(match.header_value)}}


def _route_match(match: RouteMatch) -> JsonObject:
    istio_match: JsonObject = {}
    if match.method is not None:
        istio_match["method"] = _string_match(match.method)
    if match.path is not None:
        istio_match["uri"] = _string_match(match.path)
    if match.headers:
        istio_match["headers"] = {name: _string_match(value) for name, value in match.headers.items()}
    return istio_match
