"""The mesh simulator's routes through NGINX Ingresses and Gateway API HTTPRoutes, without I/O.

`plan_ingress_routes` follows NGINX's canary Ingresses: every path of a (non-canary) Ingress whose backend is a
Service gets `requests_per_second` per host; a canary Ingress (annotated `<prefix>/canary: "true"`) in the same
namespace with a path of the same host and path takes `canary-weight` out of `canary-weight-total` (default 100)
of those requests to its own backend. Header canaries (`canary-by-header`) only catch requests that carry the
header, which the simulated clients never send.

`plan_http_route_routes` follows HTTPRoutes: each rule a plain request reaches (no matches, or a match on path and
method only) gets `requests_per_second` per hostname, split over its Service backendRefs by their weights (the
Gateway API's default weight is 1).

Both produce the `RoutePlan`s of `sandbox.mesh_traffic`, named by the Ingress or HTTPRoute and the path or rule.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Final

from sandbox.mesh_traffic import (
    DEFAULT_CLUSTER_DOMAIN,
    DestinationRuleIndex,
    Endpoint,
    RoutePlan,
    ServiceKey,
    service_destination,
    split_rate,
)

CANARY_SUFFIX: Final = "/canary"
DEFAULT_WEIGHT_TOTAL: Final = 100
DEFAULT_BACKEND_WEIGHT: Final = 1
# HTTPRoute match keys a plain request (any path, any method, no particular headers or query) can satisfy.
_PLAIN_MATCH_KEYS: Final = frozenset({"path", "method"})

ServiceRoute = tuple[tuple[str, str, str], list[tuple[ServiceKey, float]]]
"""A route, as (namespace, router name, route name), and its Services, each with its requests per second."""


def _metadata(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    metadata = obj.get("metadata")
    return metadata if isinstance(metadata, Mapping) else {}


def _annotations(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    annotations = _metadata(obj).get("annotations")
    return annotations if isinstance(annotations, Mapping) else {}


def _annotation(obj: Mapping[str, Any], name: str) -> str | None:
    """The value of the canary annotation `name` under whichever prefix the Ingress uses."""
    for key, value in _annotations(obj).items():
        if str(key).endswith(f"/{name}"):
            return str(value)
    return None


def is_canary_ingress(ingress: Mapping[str, Any]) -> bool:
    return _annotation(ingress, "canary") == "true"


def canary_share(ingress: Mapping[str, Any]) -> float:
    """The fraction of a host's plain requests a canary Ingress takes: canary-weight / canary-weight-total."""
    try:
        weight = int(_annotation(ingress, "canary-weight") or 0)
        total = int(_annotation(ingress, "canary-weight-total") or DEFAULT_WEIGHT_TOTAL)
    except ValueError:
        return 0.0
    if total <= 0:
        return 0.0
    return min(max(weight / total, 0.0), 1.0)


def _paths(ingress: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(host, path, backend Service name) of every path of an Ingress whose backend is a Service."""
    spec = ingress.get("spec")
    found: list[tuple[str, str, str]] = []
    rules = spec.get("rules") if isinstance(spec, Mapping) else None
    for rule in rules if isinstance(rules, list) else []:
        if not isinstance(rule, Mapping):
            continue
        host = str(rule.get("host") or "")
        http = rule.get("http")
        paths = http.get("paths") if isinstance(http, Mapping) else None
        for path in paths if isinstance(paths, list) else []:
            service = ((path.get("backend") or {}).get("service") or {}) if isinstance(path, Mapping) else {}
            if isinstance(service, Mapping) and service.get("name"):
                found.append((host, str(path.get("path") or "/"), str(service["name"])))
    return found


def _ingress_backends(ingresses: Sequence[Mapping[str, Any]], requests_per_second: float) -> Iterator[ServiceRoute]:
    """Every Ingress path's backends: the stable backend and, with a canary Ingress, the canary backend."""
    canaries: dict[tuple[str, str, str], tuple[str, float]] = {}
    for ingress in ingresses:
        if is_canary_ingress(ingress):
            namespace = str(_metadata(ingress).get("namespace") or "")
            for host, path, service in _paths(ingress):
                canaries[(namespace, host, path)] = (service, canary_share(ingress))
    for ingress in ingresses:
        if is_canary_ingress(ingress):
            continue
        namespace, name = str(_metadata(ingress).get("namespace") or ""), str(_metadata(ingress).get("name") or "")
        for host, path, service in _paths(ingress):
            canary = canaries.get((namespace, host, path))
            backends = [(service, 1.0 - (canary[1] if canary else 0.0))]
            if canary is not None:
                backends.append((canary[0], canary[1]))
            rates = [((namespace, backend), requests_per_second * share) for backend, share in backends]
            yield (namespace, name, f"{host}{path}"), rates


def _reached(rule: Mapping[str, Any]) -> bool:
    matches = rule.get("matches")
    if not isinstance(matches, list) or not matches:
        return True
    return any(isinstance(match, Mapping) and set(match) <= _PLAIN_MATCH_KEYS for match in matches)


def _service_refs(rule: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    refs = rule.get("backendRefs")
    return [
        ref
        for ref in (refs if isinstance(refs, list) else [])
        if isinstance(ref, Mapping)
        and ref.get("kind", "Service") == "Service"
        and ref.get("group", "") == ""
        and ref.get("name")
    ]


def _http_route_backends(routes: Sequence[Mapping[str, Any]], requests_per_second: float) -> Iterator[ServiceRoute]:
    """Every reached HTTPRoute rule's Service backends, weighted by their backendRef weights."""
    for http_route in routes:
        metadata = _metadata(http_route)
        namespace, name = str(metadata.get("namespace") or ""), str(metadata.get("name") or "")
        spec = http_route.get("spec")
        spec = spec if isinstance(spec, Mapping) else {}
        hostnames = spec.get("hostnames")
        rate = requests_per_second * max(1, len(hostnames) if isinstance(hostnames, list) else 0)
        for index, rule in enumerate(spec.get("rules") or []):
            if not isinstance(rule, Mapping) or not _reached(rule):
                continue
            refs = _service_refs(rule)
            rates = split_rate(rate, [_weight(ref) for ref in refs])
            backends = [((str(ref.get("namespace") or namespace), str(ref["name"])), share)
                        for ref, share in zip(refs, rates, strict=True)]
            yield (namespace, name, str(rule.get("name") or f"rules[{index}]")), backends


def _weight(ref: Mapping[str, Any]) -> float:
    weight = ref.get("weight", DEFAULT_BACKEND_WEIGHT)
    return float(weight) if isinstance(weight, int | float) and not isinstance(weight, bool) and weight >= 0 else 0.0


class ServiceRoutePlanner:
    """The `RoutePlan`s of one kind of router whose backends are plain Services: `backends` finds the kind's routes
    and the requests per second of each Service behind them. They name no subsets, so no DestinationRule applies."""

    def __init__(self, backends: Callable[[Sequence[Mapping[str, Any]], float], Iterable[ServiceRoute]]) -> None:
        self.backends = backends

    def __call__(
        self,
        routers: Iterable[Mapping[str, Any]],
        services: Mapping[ServiceKey, Mapping[str, Any]],
        endpoints_by_namespace: Mapping[str, Sequence[Endpoint]],
        *,
        requests_per_second: float,
        cluster_domain: str = DEFAULT_CLUSTER_DOMAIN,
    ) -> list[RoutePlan]:
        plans: list[RoutePlan] = []
        for (namespace, name, route_name), backends in self.backends(list(routers), requests_per_second):
            destinations = tuple(
                service_destination(
                    (namespace, name, route_name, str(position), service_key[1], ""),
                    service_key,
                    service_key[1],
                    "",
                    rate,
                    services,
                    DestinationRuleIndex(),
                    endpoints_by_namespace,
                    cluster_domain,
                )
                for position, (service_key, rate) in enumerate(backends)
            )
            plans.append(
                RoutePlan(namespace=namespace, virtual_service=name, route=route_name, destinations=destinations)
            )
        return plans


plan_ingress_routes: Final = ServiceRoutePlanner(_ingress_backends)
"""Every Ingress path's destinations: the stable backend and, with a canary Ingress, the canary backend."""
plan_http_route_routes: Final = ServiceRoutePlanner(_http_route_backends)
"""Every reached HTTPRoute rule's Service backends, weighted by their backendRef weights."""
