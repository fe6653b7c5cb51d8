"""Istio traffic routing as pure functions: from a Rollout, the VirtualServices and DestinationRule it names, and
the desired canary weight and pod-template hashes, the JSON merge patches that make Istio route that way.

Two modes, chosen by the Rollout (``trafficRouting.istio.destinationRule`` set or not):

* host-level — route destinations are told apart by their short host (the text before the first ``.``), which
  must be ``canaryService`` or ``stableService`` (or, with ``pingPong``, the ping or pong Service in its current
  role: ``rollouts.traffic.ping_pong``);
* subset-level — destinations are told apart by ``subset`` (``canarySubsetName``/``stableSubsetName``), and the
  DestinationRule's two subsets get the ``rollouts-pod-template-hash`` label that selects each side's pods.

In every managed route the canary destination gets the canary weight, the stable one the rest, and any other
destination is dropped, so the weights always sum to 100. An experiment step's templates with a ``weight`` are
additional destinations (their Services by host, in both modes), whose shares come out of the stable's as Argo's
do; they are dropped like any other once the request no longer names them. Everything else in a route is kept as
it was. Nothing is read or written here: the caller fetches the objects and carries out the patches (see
``virtual_service_location`` for where each VirtualService lives).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from kube.json_data import JsonObject
from kube.resources import DESTINATION_RULES, VIRTUAL_SERVICES
from rollouts.models import (
    CanaryStrategy,
    IstioDestinationRule,
    IstioTrafficRouting,
    IstioVirtualService,
    Rollout,
    TCPRoute,
    TLSRoute,
)
from rollouts.plan import Patch
from rollouts.traffic.ping_pong import routed_services
from rollouts.traffic.router import MeshRouting, RoutingResult, mesh_routing

if TYPE_CHECKING:  # annotations only; a separate import keeps this module's imports as they were
    from rollouts.traffic.router import WeightDestination

HASH_LABEL = "rollouts-pod-template-hash"
MANAGED_BY_ANNOTATION = "argo-rollouts.argoproj.io/managed-by-rollouts"

Side = Literal["canary", "stable"]
SIDES: tuple[Side, ...] = ("canary", "stable")
RouteKind = Literal["http", "tls", "tcp"]
ROUTE_KINDS: tuple[RouteKind, ...] = ("http", "tls", "tcp")


def desired_weights(canary_weight: int) -> tuple[int, int]:
    """(canary, stable) weights for a requested canary weight: clamped to 0..100, summing to 100."""
    canary = min(max(canary_weight, 0), 100)
    return canary, 100 - canary


def virtual_service_location(spec_name: str, namespace: str) -> tuple[str, str]:
    """(namespace, name) of a VirtualService the Rollout names as ``name`` or ``name.namespace``.

    As in Argo Rollouts, only the first two dot-separated parts count, so ``reviews.prod.svc.cluster.local`` is
    ``reviews`` in ``prod``; without a namespace part the VirtualService is in the Rollout's ``namespace``.
    """
    name, _, rest = spec_name.partition(".")
    return rest.split(".")[0] or namespace, name


# A TLS or TCP route as the Rollout names it.
_SpecRoute = TypeVar("_SpecRoute", TLSRoute, TCPRoute)


def istio_routing_of(rollout: Rollout) -> MeshRouting[IstioTrafficRouting] | str:
    """The Rollout's canary strategy and its Istio traffic routing, or the problem when it has none."""
    found = mesh_routing(rollout, lambda routing: routing.istio)
    if found is None:
        return f'Rollout "{rollout.name}" has no Istio traffic routing (spec.strategy.canary.trafficRouting.istio)'
    return found


def route_traffic(
    *,
    rollout: Rollout,
    namespace: str,
    virtual_services: Mapping[str, JsonObject],
    destination_rule: JsonObject | None,
    canary_weight: int,
    canary_hash: str | None,
    stable_hash: str | None,
    additional: Sequence[WeightDestination] = (),
) -> RoutingResult:
    """The patches that make the Rollout's VirtualServices (and DestinationRule) send ``canary_weight`` % to the canary
    and each ``additional`` destination its weight, taken from the stable's share.

    ``virtual_services`` is keyed exactly as the Rollout spells each name (``reviews`` or ``reviews.other-ns``);
    ``destination_rule`` is the observed DestinationRule (in ``namespace``) or None when it does not exist.
    """
    parts = istio_routing_of(rollout)
    if isinstance(parts, str):
        return RoutingResult(writes=(), problems=(parts,), current_weight=None)
    strategy, routing, istio = parts.strategy, parts.routing, parts.mesh

    canary, stable = desired_weights(canary_weight)
    stable -= sum(destination.weight for destination in additional)
    weights: dict[Side, int] = {"canary": canary, "stable": stable}
    sides, problems = istio_sides(strategy, istio, destination_rule, rollout.status.canary.stable_ping_pong)
    groups, group_problems = virtual_services_by_name(rollout.name, istio)
    problems += group_problems
    problems += _additional_weight_problems(canary, additional)

    writes: list[Patch] = []
    current_weight: int | None = None
    rule = istio.destination_rule
    if rule is not None and sides is not None and sides.by_subset:
        patch, rule_problems = _destination_rule_patch(
            rollout.name, rule, destination_rule, namespace, canary_hash, stable_hash
        )
        problems += rule_problems
        # Labels first: a subset must select the right pods before weight is moved onto it.
        writes += [patch] if patch is not None else []
    if sides is not None:
        for position, (spec_name, entries) in enumerate(groups.items()):
            routed = _route_virtual_service(
                spec_name,
                entries,
                virtual_services.get(spec_name),
                namespace=namespace,
                managed_route_names=routing.managed_route_names,
                sides=sides,
                weights=weights,
                additional=additional,
            )
            problems += routed.problems
            writes += [routed.patch] if routed.patch is not None else []
            if position == 0:
                current_weight = routed.current_weight

    return RoutingResult.of(writes, problems, current_weight)


def traffic_weights_status(
    *, rollout: Rollout, canary_weight: int, canary_hash: str | None, stable_hash: str | None
) -> JsonObject:
    """``status.canary.weights`` (wire form) for a canary weight routed by ``route_traffic``; as in Argo, the
    Services named are ``canaryService`` and ``stableService`` (none with ping-pong Services, whose roles
    ``status.canary.stablePingPong`` gives)."""
    strategy = rollout.spec.strategy.canary
    canary, stable = desired_weights(canary_weight)

    def destination(weight: int, service: str | None, pod_hash: str | None) -> JsonObject:
        entry: JsonObject = {"weight": weight}
        if service:
            entry["serviceName"] = service
        if pod_hash:
            entry["podTemplateHash"] = pod_hash
        return entry

    return {
        "canary": destination(canary, strategy.canary_service if strategy else None, canary_hash),
        "stable": destination(stable, strategy.stable_service if strategy else None, stable_hash),
    }


# --- telling canary from stable ------------------------------------------------------------------


@dataclass(frozen=True)
class Sides:
    """How a route destination is recognised as the canary or the stable one."""

    by_subset: bool
    canary: str
    """The canary's DestinationRule subset (subset-level routing) or Service (host-level): what a destination's
    ``subset``, or short ``host``, is compared with; ``stable`` likewise."""
    stable: str
    # Subset-level: the DestinationRule's service (short host); a same-named subset of another service is not ours.
    host: str | None = None

    def side_of(self, destination: Any) -> Side | None:
        target = destination.get("destination") if isinstance(destination, dict) else None
        if not isinstance(target, dict):
            return None
        host = target.get("host")
        short_host = _short_host(host) if isinstance(host, str) else None
        if self.by_subset:
            if self.host is not None and short_host != self.host:
                return None
            key = target.get("subset")
        else:
            key = short_host
        if key == self.canary:
            return "canary"
        if key == self.stable:
            return "stable"
        return None

    def describe(self, side: Side) -> str:
        name = self.canary if side == "canary" else self.stable
        if not self.by_subset:
            return f'{side} service "{name}"'
        return f'{side} subset "{name}"' + (f' of host "{self.host}"' if self.host else "")


def _short_host(host: str) -> str:
    # `reviews-canary.default.svc.cluster.local` and `reviews-canary` are the same Service to a Rollout.
    return host.split(".", 1)[0]


def istio_sides(
    strategy: CanaryStrategy,
    istio: IstioTrafficRouting,
    destination_rule: JsonObject | None,
    stable_ping_pong: str | None = None,
) -> tuple[Sides | None, list[str]]:
    """How the routes' destinations are told apart; host-level, the canary and stable hosts are the Services
    ``routed_services`` names (the ping-pong Services in the roles ``stable_ping_pong`` gives them, if used)."""
    rule = istio.destination_rule
    if rule is None:
        canary_service, stable_service = routed_services(strategy, stable_ping_pong)
        missing = [
            name for name, value in (("canaryService", canary_service), ("stableService", stable_service)) if not value
        ]
        if missing:
            return None, [
                f"{name} is required for Istio host-level routing (or set trafficRouting.istio.destinationRule)"
                for name in missing
            ]
        assert canary_service is not None and stable_service is not None
        if canary_service == stable_service:
            return None, [f'canaryService and stableService must differ (both are "{canary_service}")']
        return Sides(by_subset=False, canary=canary_service, stable=stable_service), []

    problems = [
        f"trafficRouting.istio.destinationRule.{name} is required"
        for name, value in (
            ("name", rule.name),
            ("canarySubsetName", rule.canary_subset_name),
            ("stableSubsetName", rule.stable_subset_name),
        )
        if not value
    ]
    if problems:
        return None, problems
    assert rule.canary_subset_name is not None and rule.stable_subset_name is not None
    if rule.canary_subset_name == rule.stable_subset_name:
        return None, [f'canarySubsetName and stableSubsetName must differ (both are "{rule.canary_subset_name}")']
    rule_spec = destination_rule.get("spec") if destination_rule is not None else None
    host = rule_spec.get("host") if isinstance(rule_spec, dict) else None
    return Sides(
        by_subset=True,
        canary=rule.canary_subset_name,
        stable=rule.stable_subset_name,
        host=_short_host(host) if isinstance(host, str) and host else None,
    ), []


def virtual_services_by_name(
    rollout_name: str, istio: IstioTrafficRouting
) -> tuple[dict[str, list[IstioVirtualService]], list[str]]:
    """The spec's VirtualService entries grouped by name, in the order first named.

    One VirtualService listed twice (say, once per route) must become one patch: two patches that each replace
    ``spec.http`` whole would undo each other.
    """
    entries = istio.all_virtual_services
    if not entries:
        return {}, [f'Rollout "{rollout_name}" names no VirtualService in trafficRouting.istio']
    groups: dict[str, list[IstioVirtualService]] = {}
    problems: list[str] = []
    for entry in entries:
        if entry.name:
            groups.setdefault(entry.name, []).append(entry)
        else:
            problems.append("a VirtualService in trafficRouting.istio has no name")
    return groups, problems


# --- VirtualService ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _RoutedVirtualService:
    patch: Patch | None
    problems: list[str]
    current_weight: int | None


def _route_virtual_service(
    spec_name: str,
    entries: Sequence[IstioVirtualService],
    observed: JsonObject | None,
    *,
    namespace: str,
    managed_route_names: Sequence[str],
    sides: Sides,
    weights: Mapping[Side, int],
    additional: Sequence[WeightDestination] = (),
) -> _RoutedVirtualService:
    vs_namespace, vs_name = virtual_service_location(spec_name, namespace)
    if observed is None:
        return _RoutedVirtualService(
            None, [f'VirtualService "{vs_name}" not found in namespace "{vs_namespace}"'], None
        )

    spec = observed.get("spec")
    spec = spec if isinstance(spec, dict) else {}
    observed_lists: dict[RouteKind, list[Any] | None] = {}
    problems: list[str] = []
    for kind in ROUTE_KINDS:
        value = spec.get(kind)
        if value is not None and not isinstance(value, list):
            problems.append(f'VirtualService "{spec_name}" has a spec.{kind} that is not a list')
            value = None
        observed_lists[kind] = value
    if problems:
        return _RoutedVirtualService(None, problems, None)
    # Copies, so the patch never shares nested objects with the caller's observed VirtualService.
    working: dict[RouteKind, list[Any]] = {kind: copy.deepcopy(observed_lists[kind] or []) for kind in ROUTE_KINDS}

    first_managed: tuple[RouteKind, int] | None = None
    managed: dict[RouteKind, dict[int, None]] = {kind: {} for kind in ROUTE_KINDS}
    for entry in entries:
        for kind, indexes, selection_problems in (
            ("http", *_http_selection(spec_name, entry, observed_lists["http"], working["http"], managed_route_names)),
            ("tls", *tls_route_indexes(spec_name, entry.tls_routes, working["tls"])),
            ("tcp", *tcp_route_indexes(spec_name, entry.tcp_routes, working["tcp"])),
        ):
            problems += selection_problems
            managed[kind].update(dict.fromkeys(indexes))
        if first_managed is None:
            first_managed = _first_route(managed)

    for kind in ROUTE_KINDS:
        for index in managed[kind]:
            route = working[kind][index]
            where = _where(spec_name, kind, index, route)
            working[kind][index], route_problems = _reweighed(route, sides, weights, where, additional)
            problems += route_problems

    # Argo keeps the weights of a mirror route it added (setMirrorRoute copies the weighted route) in step with the
    # weighted routes, so the mirrored requests are split like the rest; a managed route that is not such a copy is
    # the step logic's business and stays as it is.
    for index, route in enumerate(working["http"]):
        if index in managed["http"] or not _is_managed_mirror_route(route, managed_route_names):
            continue
        reweighed, mirror_problems = _reweighed(route, sides, weights, "", additional)
        if not mirror_problems:
            working["http"][index] = reweighed

    current_weight = None
    if first_managed is not None:
        kind, index = first_managed
        current_weight = observed_canary_weight(observed_lists[kind] or [], index, sides)
    if problems:
        return _RoutedVirtualService(None, problems, current_weight)

    changed = {kind: working[kind] for kind in ROUTE_KINDS if working[kind] != (observed_lists[kind] or [])}
    if not changed:
        return _RoutedVirtualService(None, [], current_weight)
    body: JsonObject = {"spec": changed}
    version = resource_version(observed)
    if version is not None:
        # A concurrent edit then fails with 409 Conflict instead of being overwritten by lists computed from a stale
        # copy; the next pass reads the new version and decides again.
        body = {"metadata": {"resourceVersion": version}, **body}
    patch = Patch(kind=VIRTUAL_SERVICES, namespace=vs_namespace, name=vs_name, patch=body)
    return _RoutedVirtualService(patch, [], current_weight)


def _http_selection(
    spec_name: str,
    entry: IstioVirtualService,
    observed_http: list[Any] | None,
    http: Sequence[Any],
    managed_route_names: Sequence[str],
) -> tuple[list[int], list[str]]:
    """The HTTP routes to weigh, and the problems in choosing them. Argo checks ``routes`` against the HTTP
    routes only when the VirtualService has ``spec.http``: one with only the TLS or TCP routes the entry names
    has none to check."""
    if observed_http is None and (entry.tls_routes or entry.tcp_routes):
        return [], []
    return unmanaged_http_route_indexes(spec_name, entry, http, managed_route_names)


def unmanaged_http_route_indexes(
    spec_name: str, entry: IstioVirtualService, http: Sequence[Any], managed_route_names: Sequence[str]
) -> tuple[list[int], list[str]]:
    if entry.routes:
        indexes: list[int] = []
        problems: list[str] = []
        for name in entry.routes:
            index = next((i for i, route in enumerate(http) if route_name(route) == name), None)
            if index is None:
                problems.append(f'VirtualService "{spec_name}" has no HTTP route named "{name}"')
            else:
                indexes.append(index)
        return indexes, problems

    # Routes the Rollout adds itself (header and mirror steps) come and go, so they never count as "the" route.
    candidates = [i for i, route in enumerate(http) if route_name(route) not in managed_route_names]
    if len(candidates) == 1:
        return candidates, []
    if not candidates:
        if entry.tls_routes or entry.tcp_routes:
            # A TLS- or TCP-only VirtualService: nothing HTTP to weigh.
            return [], []
        return [], [f'VirtualService "{spec_name}" has no HTTP route to weigh: add one, or name tlsRoutes/tcpRoutes']
    return [], [f'VirtualService "{spec_name}" has {len(candidates)} HTTP routes: name the ones to manage in routes']


def tls_route_indexes(spec_name: str, wanted: Sequence[TLSRoute], tls: Sequence[Any]) -> tuple[list[int], list[str]]:
    def missing(spec_route: TLSRoute) -> str:
        hosts = ", ".join(f'"{host}"' for host in spec_route.sni_hosts)
        return (
            f'VirtualService "{spec_name}" has no TLS route matching {_port_text(spec_route.port)} '
            f"and sniHosts [{hosts}]"
        )

    return _matching_indexes(wanted, tls, _tls_route_matches, missing)


def tcp_route_indexes(spec_name: str, wanted: Sequence[TCPRoute], tcp: Sequence[Any]) -> tuple[list[int], list[str]]:
    def missing(spec_route: TCPRoute) -> str:
        return f'VirtualService "{spec_name}" has no TCP route matching {_port_text(spec_route.port)}'

    return _matching_indexes(wanted, tcp, _tcp_route_matches, missing)


def _matching_indexes(
    wanted: Sequence[_SpecRoute],
    routes: Sequence[Any],
    matches: Callable[[Any, _SpecRoute], bool],
    missing: Callable[[_SpecRoute], str],
) -> tuple[list[int], list[str]]:
    """The indexes of the observed ``routes`` each ``wanted`` route matches, and a problem for each that matches
    none."""
    indexes: list[int] = []
    problems: list[str] = []
    for spec_route in wanted:
        found = [i for i, route in enumerate(routes) if matches(route, spec_route)]
        if not found:
            problems.append(missing(spec_route))
        indexes += found
    return indexes, problems


def _match_entries(route: Any) -> list[Any]:
    if not isinstance(route, dict):
        return []
    entries = route.get("match")
    if entries is None:
        # No match block reads as one match on no port, as Argo reads it, so `tcpRoutes: [{}]` finds such a route.
        return [{}]
    return entries if isinstance(entries, list) else []


def _tls_route_matches(route: Any, wanted: TLSRoute) -> bool:
    return any(
        isinstance(entry, dict)
        and entry.get("port") == wanted.port
        and _string_set(entry.get("sniHosts")) == set(wanted.sni_hosts)
        for entry in _match_entries(route)
    )


def _tcp_route_matches(route: Any, wanted: TCPRoute) -> bool:
    return any(isinstance(entry, dict) and entry.get("port") == wanted.port for entry in _match_entries(route))


def _string_set(value: Any) -> set[str]:
    return {item for item in value if isinstance(item, str)} if isinstance(value, list) else set()


def _port_text(port: int | None) -> str:
    return "no port" if port is None else f"port {port}"


def _first_route(managed: Mapping[RouteKind, Mapping[int, None]]) -> tuple[RouteKind, int] | None:
    for kind in ROUTE_KINDS:
        for index in managed[kind]:
            return kind, index
    return None


def route_name(route: Any) -> str | None:
    name = route.get("name") if isinstance(route, dict) else None
    return name if isinstance(name, str) else None


def _is_managed_mirror_route(route: Any, managed_route_names: Sequence[str]) -> bool:
    return isinstance(route, dict) and "mirror" in route and route_name(route) in managed_route_names


def _where(spec_name: str, kind: RouteKind, index: int, route: Any) -> str:
    name = route_name(route) if kind == "http" else None
    label = f'"{name}"' if name else f"spec.{kind}[{index}]"
    return f'route {label} of VirtualService "{spec_name}"'


def _reweighed(
    route: Any, sides: Sides, weights: Mapping[Side, int], where: str, additional: Sequence[WeightDestination] = ()
) -> tuple[Any, list[str]]:
    """The route with its canary and stable destinations weighted, each additional destination weighted (added
    when missing), and every other destination dropped."""
    if not isinstance(route, dict):
        return route, [f"{where} is not an object"]
    destinations = route.get("route")
    if not isinstance(destinations, list):
        destinations = []
    found: dict[Side, int] = {"canary": 0, "stable": 0}
    extra_weights = {destination.service_name: destination.weight for destination in additional}
    kept: list[Any] = []
    for destination in destinations:
        side = sides.side_of(destination)
        if side is None:
            host = _additional_host(destination)
            if host in extra_weights:
                kept.append({**destination, "weight": extra_weights.pop(host)})
            # Any other destination would take a share Argo's weights do not account for (or break the sum of 100).
            continue
        found[side] += 1
        # Assigning keeps the key where it was, so an unchanged destination compares equal and nothing is written.
        kept.append({**destination, "weight": weights[side]})
    # Argo appends the additional destinations a route lacks after the others, addressed by the Service's name.
    kept += [{"destination": {"host": host}, "weight": weight} for host, weight in extra_weights.items()]
    problems: list[str] = []
    for side in SIDES:
        if found[side] == 0:
            problems.append(f"{where} has no destination for {sides.describe(side)}")
        elif found[side] > 1:
            problems.append(
                f"{where} has {found[side]} destinations for {sides.describe(side)}: keep one, "
                "or the weights would not sum to 100"
            )
    if problems:
        return route, problems
    return {**route, "route": kept}, []


def _additional_weight_problems(canary: int, additional: Sequence[WeightDestination]) -> list[str]:
    """Why the additional destinations' weights cannot be routed beside ``canary``: one is negative, or the total
    is over 100."""
    problems = [
        f'the weight {d.weight} of Service "{d.service_name}" (an experiment template) is negative'
        for d in additional
        if d.weight < 0
    ]
    if canary + sum(d.weight for d in additional) > 100:
        shares = ", ".join(f"{d.service_name} {d.weight}" for d in additional)
        problems.append(f"the canary weight {canary} and the experiment weights ({shares}) exceed 100")
    return problems


def _additional_host(destination: Any) -> str | None:
    """The short host of a destination that may be an additional one: a Service, without a subset."""
    target = destination.get("destination") if isinstance(destination, dict) else None
    if not isinstance(target, dict) or target.get("subset") or not isinstance(target.get("host"), str):
        return None
    return _short_host(target["host"])


def observed_canary_weight(routes: Sequence[Any], index: int, sides: Sides) -> int | None:
    route = routes[index] if index < len(routes) else None
    destinations = route.get("route") if isinstance(route, dict) else None
    if not isinstance(destinations, list):
        return None
    canary = next((d for d in destinations if sides.side_of(d) == "canary"), None)
    if canary is None:
        return None
    weight = canary.get("weight")
    if weight is None:
        # Istio's default: a lone destination takes everything, otherwise an unset weight is 0.
        return 100 if len(destinations) == 1 else 0
    if isinstance(weight, bool) or not isinstance(weight, int | float) or weight != int(weight):
        return None
    return int(weight)


def resource_version(obj: JsonObject) -> str | None:
    metadata = obj.get("metadata")
    version = metadata.get("resourceVersion") if isinstance(metadata, dict) else None
    return version if isinstance(version, str) and version else None


# --- DestinationRule -----------------------------------------------------------------------------


def _destination_rule_patch(
    rollout_name: str,
    rule: IstioDestinationRule,
    observed: JsonObject | None,
    namespace: str,
    canary_hash: str | None,
    stable_hash: str | None,
) -> tuple[Patch | None, list[str]]:
    """The patch that points the canary and stable subsets at their pod-template hashes and marks the rule as ours."""
    name = rule.name or ""
    if observed is None:
        return None, [f'DestinationRule "{name}" not found in namespace "{namespace}"']
    spec = observed.get("spec")
    subsets = spec.get("subsets") if isinstance(spec, dict) else None
    if not isinstance(subsets, list):
        subsets = []
    problems: list[str] = []
    subset_names = {subset.get("name") for subset in subsets if isinstance(subset, dict)}
    for field, subset_name in (
        ("canarySubsetName", rule.canary_subset_name),
        ("stableSubsetName", rule.stable_subset_name),
    ):
        if subset_name not in subset_names:
            problems.append(f'DestinationRule "{name}" has no subset "{subset_name}" ({field})')

    metadata = observed.get("metadata")
    annotations = metadata.get("annotations") if isinstance(metadata, dict) else None
    owner = annotations.get(MANAGED_BY_ANNOTATION) if isinstance(annotations, dict) else None
    if owner and owner != rollout_name:
        # Two Rollouts writing hashes into one rule would take turns pointing its subsets at each other's pods.
        problems.append(
            f'DestinationRule "{name}" is managed by Rollout "{owner}" (annotation {MANAGED_BY_ANNOTATION}); '
            "remove the annotation if that Rollout no longer uses it"
        )

    # An empty or unknown hash is skipped, not written: an empty label would select no pods at all.
    hashes = {rule.canary_subset_name: canary_hash, rule.stable_subset_name: stable_hash}
    new_subsets = copy.deepcopy(subsets)
    for subset in new_subsets:
        pod_hash = hashes.get(subset.get("name")) if isinstance(subset, dict) else None
        if not pod_hash:
            continue  # additionalSubsetNames and any other subset are left exactly as they are
        labels = subset.get("labels")
        if labels is not None and not isinstance(labels, dict):
            problems.append(f'DestinationRule "{name}" subset "{subset["name"]}" has labels that are not a map')
            continue
        subset["labels"] = {**(labels or {}), HASH_LABEL: pod_hash}
    if problems:
        return None, problems

    body: JsonObject = {}
    if new_subsets != subsets:
        body["spec"] = {"subsets": new_subsets}
    if owner != rollout_name:
        body["metadata"] = {"annotations": {MANAGED_BY_ANNOTATION: rollout_name}}
    if not body:
        return None, []
    version = resource_version(observed)
    if version is not None:
        body.setdefault("metadata", {})["resourceVersion"] = version
    return Patch(kind=DESTINATION_RULES, namespace=namespace, name=name, patch=body), []
