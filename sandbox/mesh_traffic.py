"""The mesh simulator's decisions, without I/O: where each VirtualService sends traffic, and how much of it fails.

`plan_routes` turns VirtualServices, Services, DestinationRules and ready pods into `RoutePlan`s: for each HTTP
route that simulated clients reach, the request rate of each destination and the pods behind it.
`TrafficSimulator` turns those plans and an elapsed time into `RequestBatch`es — whole requests, spread
round-robin over a destination's pods, failing at the rate of each pod's `VersionProfile`.

Counts are exact rather than random: fractional requests and errors are carried over to the next tick, so a
destination with 5 requests per second gets 5 ± 1 per second and a 40 % profile fails 40 % of its requests
within a tick or two. Only latencies are random, from a generator seeded per run.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

JsonDict = dict[str, Any]
ServiceKey = tuple[str, str]
"""(namespace, name) of a Service."""

DEFAULT_CLUSTER_DOMAIN: Final = "cluster.local"
# Envoy's response flags: "-" for none, UH for no healthy upstream host, NC for no such upstream cluster.
FLAG_NONE: Final = "-"
FLAG_NO_HEALTHY_UPSTREAM: Final = "UH"
FLAG_NO_CLUSTER: Final = "NC"
UNKNOWN: Final = "unknown"
# Keys of an HTTP match that a plain request from the simulated clients (any path and method, but no
# particular headers, query parameters, authority, source or port) can satisfy. A match with any other key —
# a header, say, as in Argo Rollouts' setHeaderRoute — is opt-in traffic that these clients never send.
_PLAIN_MATCH_KEYS: Final = frozenset({"name", "uri", "ignoreUriCase", "method"})


@dataclass(frozen=True)
class VersionProfile:
    """How a version behaves: the fraction of its requests that fail with 503, and its latency.

    Each request's latency is drawn uniformly from latency_ms ± latency_jitter_ms (never below 0).
    """

    error_rate: float = 0.0
    latency_ms: float = 20.0
    latency_jitter_ms: float = 5.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.error_rate <= 1.0:
            raise ValueError(f"error_rate must be between 0 and 1, not {self.error_rate}")
        if self.latency_ms < 0 or self.latency_jitter_ms < 0:
            raise ValueError("latency_ms and latency_jitter_ms must not be negative")


@dataclass(frozen=True, kw_only=True)
class Endpoint:
    """A ready pod, with the workload metadata Istio's telemetry reports for it."""

    namespace: str
    name: str
    uid: str
    labels: Mapping[str, str]
    images: tuple[str, ...]
    workload: str
    app: str
    version: str
    canonical_service: str
    canonical_revision: str


@dataclass(frozen=True)
class Destination:
    """One weighted destination of a route, resolved to a Service and the ready pods it selects."""

    key: tuple[str, ...]
    """Stable across re-plans while the route and destination stay: it keys the carried counts."""
    service_namespace: str
    service_name: str
    service_fqdn: str
    subset: str
    requests_per_second: float
    endpoints: tuple[Endpoint, ...]
    failure_flag: str
    """FLAG_NONE when the destination can be served; else why every request to it fails (UH, NC)."""


@dataclass(frozen=True, kw_only=True)
class RoutePlan:
    """The traffic of one HTTP route of one VirtualService."""

    namespace: str
    virtual_service: str
    route: str
    destinations: tuple[Destination, ...]


@dataclass(frozen=True)
class RequestBatch:
    """Requests of one tick with the same outcome: to one destination and pod (None: no pod), one code."""

    destination: Destination
    endpoint: Endpoint | None
    response_code: str
    response_flags: str
    latencies_ms: tuple[float, ...]


# -- pods --


def is_pod_ready(pod: Mapping[str, Any]) -> bool:
    """Running, Ready and not being deleted: what an endpoints controller would publish."""
    if (pod.get("metadata") or {}).get("deletionTimestamp"):
        return False
    status = pod.get("status") or {}
    if status.get("phase") != "Running":
        return False
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or ())


def pod_workload_name(pod: Mapping[str, Any]) -> str:
    """The workload name Istio (1.22 and later) derives from a pod's controller.

    A ReplicaSet named `<name>-<hash>`, where the hash is the pod's `pod-template-hash` (a Deployment's) or
    `rollouts-pod-template-hash` (an Argo Rollout's) label, gives `<name>`; so a Rollout's stable and canary
    pods are one workload, told apart by service, subset or version label. Any other controller gives its own
    name; a pod without one, the pod's name.
    """
    metadata = pod.get("metadata") or {}
    labels = metadata.get("labels") or {}
    for ref in metadata.get("ownerReferences") or ():
        if not ref.get("controller"):
            continue
        owner = str(ref.get("name") or "")
        if ref.get("kind") == "ReplicaSet":
            for label in ("pod-template-hash", "rollouts-pod-template-hash"):
                suffix = f"-{labels.get(label, '')}"
                if labels.get(label) and owner.endswith(suffix):
                    return owner[: -len(suffix)]
        return owner
    return str(metadata.get("name") or "")


def endpoint_from_pod(pod: Mapping[str, Any]) -> Endpoint:
    """The pod's identity in telemetry; labels as Istio reads them, "unknown" (or "latest") when absent."""
    metadata = pod.get("metadata") or {}
    labels: dict[str, str] = {str(k): str(v) for k, v in (metadata.get("labels") or {}).items()}
    workload = pod_workload_name(pod)
    containers = (pod.get("spec") or {}).get("containers") or ()
    return Endpoint(
        namespace=str(metadata.get("namespace") or ""),
        name=str(metadata.get("name") or ""),
        uid=str(metadata.get("uid") or metadata.get("name") or ""),
        labels=labels,
        images=tuple(str(c.get("image") or "") for c in containers),
        workload=workload,
        app=labels.get("app.kubernetes.io/name") or labels.get("app") or UNKNOWN,
        version=labels.get("app.kubernetes.io/version") or labels.get("version") or UNKNOWN,
        canonical_service=(
            labels.get("service.istio.io/canonical-name")
            or labels.get("app.kubernetes.io/name")
            or labels.get("app")
            or workload
        ),
        canonical_revision=(
            labels.get("service.istio.io/canonical-revision")
            or labels.get("app.kubernetes.io/version")
            or labels.get("version")
            or "latest"
        ),
    )


def ready_endpoints(pods: Iterable[Mapping[str, Any]]) -> dict[str, list[Endpoint]]:
    """The ready pods by namespace, each namespace's sorted by name (the round-robin order)."""
    by_namespace: dict[str, list[Endpoint]] = {}
    for pod in pods:
        if is_pod_ready(pod):
            endpoint = endpoint_from_pod(pod)
            by_namespace.setdefault(endpoint.namespace, []).append(endpoint)
    for endpoints in by_namespace.values():
        endpoints.sort(key=lambda e: e.name)
    return by_namespace


# -- routes --
#
# VirtualServices and DestinationRules are read defensively: the sandbox's Istio CRDs keep whatever they are
# given, and one malformed object must not stop the traffic of the others.


def _mapping(obj: Any, key: str) -> Mapping[str, Any]:
    value = obj.get(key) if isinstance(obj, Mapping) else None
    return value if isinstance(value, Mapping) else {}


def _mappings(obj: Any, key: str) -> list[Mapping[str, Any]]:
    value = obj.get(key) if isinstance(obj, Mapping) else None
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def _strings(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, Mapping) else {}


def resolve_host(host: str, namespace: str, cluster_domain: str = DEFAULT_CLUSTER_DOMAIN) -> ServiceKey | None:
    """The Service a route host names, as Istio resolves Kubernetes hosts; None for any other host.

    `reviews` is the Service in the VirtualService's (or DestinationRule's) namespace; `reviews.prod`,
    `reviews.prod.svc` and `reviews.prod.svc.cluster.local` are the one in `prod`. Wildcards and external
    names (`reviews.example.com`) are not Kubernetes Services.
    """
    if not host or "*" in host:
        return None
    name, *rest = host.split(".")
    if not rest:
        return (namespace, name)
    suffix = rest[1:]
    if suffix in ([], ["svc"], ["svc", *cluster_domain.split(".")]):
        return (rest[0], name)
    return None


def service_fqdn(key: ServiceKey, cluster_domain: str = DEFAULT_CLUSTER_DOMAIN) -> str:
    return f"{key[1]}.{key[0]}.svc.{cluster_domain}"


def split_rate(rate: float, weights: Sequence[float]) -> list[float]:
    """`rate` shared in proportion to `weights`; all zeros when the weights are.

    Istio wants a route's weights to add up to 100 but routes by their proportions; so does this.
    """
    total = sum(w for w in weights if w > 0)
    if total <= 0:
        return [0.0 for _ in weights]
    return [rate * w / total if w > 0 else 0.0 for w in weights]


def route_weights(route: Sequence[Mapping[str, Any]]) -> list[float]:
    """A lone destination without a weight takes everything; otherwise a missing weight is 0, as in Istio."""
    if len(route) == 1 and route[0].get("weight") is None:
        return [100.0]
    weights: list[float] = []
    for entry in route:
        try:
            weights.append(max(0.0, float(entry.get("weight") or 0)))
        except (TypeError, ValueError):
            weights.append(0.0)
    return weights


def reached_by_plain_requests(http_route: Mapping[str, Any]) -> bool:
    """Whether simulated clients' requests (no particular headers or parameters) take this route."""
    matches = _mappings(http_route, "match")
    if not matches:
        return True
    return any(set(m) <= _PLAIN_MATCH_KEYS for m in matches)


def reached_routes(virtual_service: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    """The VirtualService's HTTP routes that simulated clients reach, with each one's name (or index).

    The clients call every path the routes match on, so a route per path prefix gets traffic of its own; a
    route without conditions catches everything, so nothing after it is reached; routes on headers, query
    parameters, ports or source labels (header-based canary routes) get none.
    """
    reached: list[tuple[str, Mapping[str, Any]]] = []
    for index, http_route in enumerate(_mappings(_mapping(virtual_service, "spec"), "http")):
        if reached_by_plain_requests(http_route):
            reached.append((str(http_route.get("name") or index), http_route))
        if not _mappings(http_route, "match"):
            break
    return reached


@dataclass
class DestinationRuleIndex:
    """DestinationRule subsets by the Service their host resolves to."""

    subsets: dict[ServiceKey, dict[str, Mapping[str, str]]] = field(default_factory=dict)

    @classmethod
    def build(
        cls, rules: Iterable[Mapping[str, Any]], cluster_domain: str = DEFAULT_CLUSTER_DOMAIN
    ) -> DestinationRuleIndex:
        """When several rules name the same host, Istio uses one: here the one in the Service's namespace,
        else the first by namespace and name; a subset named twice in it keeps its first definition."""

        def order(rule: Mapping[str, Any]) -> tuple[str, str]:
            metadata = _mapping(rule, "metadata")
            return (str(metadata.get("namespace") or ""), str(metadata.get("name") or ""))

        chosen: dict[ServiceKey, Mapping[str, Any]] = {}
        for rule in sorted(rules, key=order):
            namespace = order(rule)[0]
            key = resolve_host(str(_mapping(rule, "spec").get("host") or ""), namespace, cluster_domain)
            if key is None:
                continue
            if key not in chosen or (namespace == key[0] and order(chosen[key])[0] != key[0]):
                chosen[key] = rule
        index = cls()
        for key, rule in chosen.items():
            subsets: dict[str, Mapping[str, str]] = {}
            for subset in _mappings(_mapping(rule, "spec"), "subsets"):
                name = str(subset.get("name") or "")
                if name and name not in subsets:
                    subsets[name] = _strings(subset.get("labels"))
            index.subsets[key] = subsets
        return index

    def labels(self, service: ServiceKey, subset: str) -> Mapping[str, str] | None:
        return self.subsets.get(service, {}).get(subset)


def select_endpoints(endpoints: Iterable[Endpoint], selector: Mapping[str, str]) -> tuple[Endpoint, ...]:
    return tuple(e for e in endpoints if all(e.labels.get(k) == v for k, v in selector.items()))


def plan_routes(
    virtual_services: Iterable[Mapping[str, Any]],
    services: Mapping[ServiceKey, Mapping[str, Any]],
    destination_rules: DestinationRuleIndex,
    endpoints_by_namespace: Mapping[str, Sequence[Endpoint]],
    *,
    requests_per_second: float,
    cluster_domain: str = DEFAULT_CLUSTER_DOMAIN,
) -> list[RoutePlan]:
    """Every reached HTTP route's destinations, with their request rates and ready pods.

    Each host of a VirtualService gets `requests_per_second` on each route it reaches. A destination whose
    host is no Service, or whose subset no DestinationRule defines, fails with NC; one whose Service selects
    no ready pod (or has no selector) fails with UH — Envoy's "no healthy upstream".
    """
    plans: list[RoutePlan] = []
    for vs in virtual_services:
        metadata, spec = _mapping(vs, "metadata"), _mapping(vs, "spec")
        namespace, name = str(metadata.get("namespace") or ""), str(metadata.get("name") or "")
        hosts = spec.get("hosts")
        rate = requests_per_second * max(1, len(hosts) if isinstance(hosts, list) else 0)
        for route_name, http_route in reached_routes(vs):
            route = _mappings(http_route, "route")
            rates = split_rate(rate, route_weights(route))
            destinations = []
            for position, (entry, share) in enumerate(zip(route, rates, strict=True)):
                target = _mapping(entry, "destination")
                host, subset = str(target.get("host") or ""), str(target.get("subset") or "")
                key = (namespace, name, route_name, str(position), host, subset)
                destinations.append(
                    service_destination(
                        key,
                        resolve_host(host, namespace, cluster_domain),
                        host,
                        subset,
                        share,
                        services,
                        destination_rules,
                        endpoints_by_namespace,
                        cluster_domain,
                    )
                )
            plans.append(
                RoutePlan(namespace=namespace, virtual_service=name, route=route_name, destinations=tuple(destinations))
            )
    return plans


def service_destination(
    key: tuple[str, ...],
    service_key: ServiceKey | None,
    host: str,
    subset: str,
    rate: float,
    services: Mapping[ServiceKey, Mapping[str, Any]],
    destination_rules: DestinationRuleIndex,
    endpoints_by_namespace: Mapping[str, Sequence[Endpoint]],
    cluster_domain: str,
) -> Destination:
    if service_key is None:
        # Not a Kubernetes Service: telemetry names the host as written.
        return Destination(key, UNKNOWN, host.split(".")[0], host, subset, rate, (), FLAG_NO_CLUSTER)
    fqdn = service_fqdn(service_key, cluster_domain)
    service = services.get(service_key)
    subset_labels = destination_rules.labels(service_key, subset) if subset else {}
    if service is None or subset_labels is None:
        return Destination(key, service_key[0], service_key[1], fqdn, subset, rate, (), FLAG_NO_CLUSTER)
    selector = _strings(_mapping(service, "spec").get("selector"))
    endpoints: tuple[Endpoint, ...] = ()
    if selector:  # a Service without a selector has hand-made Endpoints, which the sandbox has none of
        wanted = {**selector, **subset_labels}
        endpoints = select_endpoints(endpoints_by_namespace.get(service_key[0], ()), wanted)
    flag = FLAG_NONE if endpoints else FLAG_NO_HEALTHY_UPSTREAM
    return Destination(key, service_key[0], service_key[1], fqdn, subset, rate, endpoints, flag)


# -- requests --


def take_whole(carry: float, amount: float) -> tuple[int, float]:
    """Whole units out of `carry + amount`, and the fraction left to carry to the next time."""
    total = carry + amount
    whole = math.floor(total)
    return whole, total - whole


def round_robin(count: int, members: int, cursor: int) -> list[int]:
    """How many of `count` requests each of `members` gets when dealt one by one starting at `cursor`."""
    if members <= 0:
        return []
    base, extra = divmod(count, members)
    return [base + (1 if (i - cursor) % members < extra else 0) for i in range(members)]


class TrafficSimulator:
    """Deals each destination's requests to its pods and decides their outcomes and latencies.

    Keeps, per destination, the fractional request carried over and the round-robin position, and per pod
    the fractional error carried over; state of destinations and pods no longer planned is dropped.
    """

    RESPONSE_OK: Final = "200"
    RESPONSE_UNAVAILABLE: Final = "503"
    # Envoy answers a request with no upstream itself, at once.
    LOCAL_REPLY_LATENCY_MS: Final = 0.0
    # Carries start half-way, so that cumulative counts are rounded rather than truncated: a destination with
    # 1.25 requests per tick gets its first request on the first tick, not on the second.
    INITIAL_CARRY: Final = 0.5

    def __init__(
        self,
        *,
        profiles: Mapping[str, VersionProfile] | None = None,
        default_profile: VersionProfile | None = None,
        seed: int = 0,
    ) -> None:
        self.profiles: dict[str, VersionProfile] = dict(profiles or {})
        self.default_profile = default_profile if default_profile is not None else VersionProfile()
        self._rng = random.Random(seed)
        self._routes: list[RoutePlan] = []
        self._request_carry: dict[tuple[str, ...], float] = {}
        self._cursor: dict[tuple[str, ...], int] = {}
        self._error_carry: dict[str, float] = {}

    @property
    def routes(self) -> list[RoutePlan]:
        return self._routes

    def set_profile(self, image: str, profile: VersionProfile) -> None:
        self.profiles[image] = profile

    def profile_for(self, endpoint: Endpoint) -> VersionProfile:
        """The profile of the pod's first container image that has one; else the default."""
        for image in endpoint.images:
            profile = self.profiles.get(image)
            if profile is not None:
                return profile
        return self.default_profile

    def set_routes(self, routes: Sequence[RoutePlan]) -> None:
        self._routes = list(routes)
        destinations = {d.key for r in self._routes for d in r.destinations}
        pods = {e.uid for r in self._routes for d in r.destinations for e in d.endpoints}
        for state in (self._request_carry, self._cursor):
            for key in [k for k in state if k not in destinations]:
                del state[key]
        for uid in [u for u in self._error_carry if u not in pods]:
            del self._error_carry[uid]

    def tick(self, elapsed: float) -> list[RequestBatch]:
        """The requests of `elapsed` seconds of traffic on the current routes."""
        batches: list[RequestBatch] = []
        for route in self._routes:
            for destination in route.destinations:
                carried = self._request_carry.get(destination.key, self.INITIAL_CARRY)
                due = destination.requests_per_second * elapsed
                count, self._request_carry[destination.key] = take_whole(carried, due)
                if count > 0:
                    batches.extend(self._deal(destination, count))
        return batches

    def _deal(self, destination: Destination, count: int) -> list[RequestBatch]:
        if not destination.endpoints:
            latencies = (self.LOCAL_REPLY_LATENCY_MS,) * count
            return [RequestBatch(destination, None, self.RESPONSE_UNAVAILABLE, destination.failure_flag, latencies)]
        members = len(destination.endpoints)
        cursor = self._cursor.get(destination.key, 0) % members
        self._cursor[destination.key] = (cursor + count) % members
        batches = []
        for endpoint, share in zip(destination.endpoints, round_robin(count, members, cursor), strict=True):
            if share == 0:
                continue
            profile = self.profile_for(endpoint)
            errors, self._error_carry[endpoint.uid] = take_whole(
                self._error_carry.get(endpoint.uid, self.INITIAL_CARRY), share * profile.error_rate
            )
            errors = min(errors, share)
            for code, number in ((self.RESPONSE_UNAVAILABLE, errors), (self.RESPONSE_OK, share - errors)):
                if number > 0:
                    batches.append(
                        RequestBatch(destination, endpoint, code, FLAG_NONE, self._latencies(profile, number))
                    )
        return batches

    def _latencies(self, profile: VersionProfile, count: int) -> tuple[float, ...]:
        low = profile.latency_ms - profile.latency_jitter_ms
        high = profile.latency_ms + profile.latency_jitter_ms
        uniform = self._rng.uniform
        return tuple(max(0.0, uniform(low, high)) for _ in range(count))
