"""The mesh simulator's pure decisions: routes to pods, rates split by weight, exact request and error counts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import pytest

from sandbox.mesh_traffic import (
    FLAG_NO_CLUSTER,
    FLAG_NO_HEALTHY_UPSTREAM,
    FLAG_NONE,
    DestinationRuleIndex,
    Endpoint,
    RequestBatch,
    RoutePlan,
    TrafficSimulator,
    VersionProfile,
    endpoint_from_pod,
    is_pod_ready,
    plan_routes,
    pod_workload_name,
    reached_routes,
    ready_endpoints,
    resolve_host,
    round_robin,
    route_weights,
    split_rate,
    take_whole,
)

HASH = "rollouts-pod-template-hash"


def pod(
    name: str,
    labels: dict[str, str],
    *,
    image: str = "reviews:v1",
    ready: bool = True,
    namespace: str = "default",
    owner: str | None = None,
    owner_kind: str = "ReplicaSet",
    deleting: bool = False,
) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "name": name,
        "namespace": namespace,
        "uid": f"uid-{namespace}-{name}",
        "labels": labels,
    }
    if owner is not None:
        metadata["ownerReferences"] = [{"kind": owner_kind, "name": owner, "controller": True, "uid": f"uid-{owner}"}]
    if deleting:
        metadata["deletionTimestamp"] = "2024-01-01T00:00:00Z"
    return {
        "metadata": metadata,
        "spec": {"containers": [{"name": "app", "image": image}]},
        "status": {
            "phase": "Running" if ready else "Pending",
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
        },
    }


def rollout_pod(name: str, version_hash: str, **options: Any) -> dict[str, Any]:
    labels = {"app": "reviews", HASH: version_hash, "version": version_hash}
    return pod(name, labels, owner=f"reviews-{version_hash}", **options)


def service(name: str, selector: dict[str, str] | None, namespace: str = "default") -> dict[str, Any]:
    spec: dict[str, Any] = {"ports": [{"port": 80}]}
    if selector is not None:
        spec["selector"] = selector
    return {"metadata": {"name": name, "namespace": namespace}, "spec": spec}


def virtual_service(
    routes: list[dict[str, Any]], *, name: str = "reviews", hosts: tuple[str, ...] = ("reviews",)
) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": "default"}, "spec": {"hosts": list(hosts), "http": routes}}


def weighted(*destinations: tuple[str, int | None], subsets: tuple[str, ...] = ()) -> dict[str, Any]:
    route = []
    for index, (host, weight) in enumerate(destinations):
        entry: dict[str, Any] = {"destination": {"host": host}}
        if subsets:
            entry["destination"]["subset"] = subsets[index]
        if weight is not None:
            entry["weight"] = weight
        route.append(entry)
    return {"name": "primary", "route": route}


def destination_rule(host: str, subsets: dict[str, dict[str, str]], namespace: str = "default") -> dict[str, Any]:
    return {
        "metadata": {"name": f"{host}-rule", "namespace": namespace},
        "spec": {"host": host, "subsets": [{"name": n, "labels": labels} for n, labels in subsets.items()]},
    }


def plan(
    virtual_services: list[dict[str, Any]],
    services: list[dict[str, Any]],
    pods: list[dict[str, Any]],
    rules: Sequence[dict[str, Any]] = (),
    rate: float = 50.0,
) -> list[RoutePlan]:
    by_key = {(s["metadata"]["namespace"], s["metadata"]["name"]): s for s in services}
    return plan_routes(
        virtual_services,
        by_key,
        DestinationRuleIndex.build(rules),
        ready_endpoints(pods),
        requests_per_second=rate,
    )


CANARY_SERVICES = [
    service("reviews-stable", {"app": "reviews", HASH: "aaa"}),
    service("reviews-canary", {"app": "reviews", HASH: "bbb"}),
]
CANARY_PODS = [
    rollout_pod("reviews-aaa-1", "aaa"),
    rollout_pod("reviews-aaa-2", "aaa"),
    rollout_pod("reviews-aaa-3", "aaa"),
    rollout_pod("reviews-bbb-1", "bbb", image="reviews:v2"),
]


# -- weights --


def test_split_rate_follows_the_weights() -> None:
    assert split_rate(50.0, [90, 10]) == pytest.approx([45.0, 5.0])
    assert split_rate(50.0, [0, 100]) == [0.0, 50.0]
    assert split_rate(50.0, [1, 1, 2]) == pytest.approx([12.5, 12.5, 25.0])


def test_split_rate_of_weights_not_adding_to_100_uses_their_proportions() -> None:
    assert split_rate(60.0, [30, 30]) == pytest.approx([30.0, 30.0])


def test_split_rate_of_zero_or_negative_weights_is_nothing() -> None:
    assert split_rate(50.0, [0, 0]) == [0.0, 0.0]
    assert split_rate(50.0, [-5, 10]) == [0.0, 50.0]
    assert split_rate(50.0, []) == []


def test_a_lone_destination_without_weight_takes_everything_else_missing_weights_are_zero() -> None:
    assert route_weights([{"destination": {"host": "a"}}]) == [100.0]
    assert route_weights([{"destination": {"host": "a"}, "weight": 100}, {"destination": {"host": "b"}}]) == [
        100.0,
        0.0,
    ]
    assert route_weights([{"weight": "junk"}, {"weight": 5}]) == [0.0, 5.0]


# -- hosts and routes --


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("reviews", ("default", "reviews")),
        ("reviews.prod", ("prod", "reviews")),
        ("reviews.prod.svc", ("prod", "reviews")),
        ("reviews.prod.svc.cluster.local", ("prod", "reviews")),
        ("reviews.example.com", None),
        ("*.example.com", None),
        ("", None),
    ],
)
def test_hosts_resolve_to_services_as_istio_resolves_kubernetes_names(
    host: str, expected: tuple[str, str] | None
) -> None:
    assert resolve_host(host, "default") == expected


def test_simulated_clients_reach_uri_routes_and_the_catch_all_but_not_header_routes() -> None:
    vs = virtual_service(
        [
            {"name": "header-canary", "match": [{"headers": {"x-canary": {"exact": "yes"}}}], "route": []},
            {"name": "api", "match": [{"uri": {"prefix": "/api"}}], "route": []},
            {"name": "primary", "route": []},
            {"name": "unreachable", "route": []},
        ]
    )
    assert [name for name, _ in reached_routes(vs)] == ["api", "primary"]


def test_routes_without_names_are_named_by_position() -> None:
    vs = virtual_service([{"route": [{"destination": {"host": "reviews"}}]}])
    assert [name for name, _ in reached_routes(vs)] == ["0"]


# -- pods --


def test_only_running_ready_pods_not_being_deleted_are_endpoints() -> None:
    assert is_pod_ready(rollout_pod("a", "aaa"))
    assert not is_pod_ready(rollout_pod("a", "aaa", ready=False))
    assert not is_pod_ready(rollout_pod("a", "aaa", deleting=True))


@pytest.mark.parametrize(
    ("labels", "owner", "kind", "expected"),
    [
        ({"pod-template-hash": "6b7f"}, "web-6b7f", "ReplicaSet", "web"),  # a Deployment's pod
        ({HASH: "6b7f"}, "reviews-6b7f", "ReplicaSet", "reviews"),  # an Argo Rollout's pod (Istio 1.22+)
        ({}, "plain-rs", "ReplicaSet", "plain-rs"),
        ({HASH: "other"}, "reviews-6b7f", "ReplicaSet", "reviews-6b7f"),  # the hash is not the name's suffix
        ({}, "db", "StatefulSet", "db"),
        ({}, None, "", "lonely"),
    ],
)
def test_workload_names_follow_istio(labels: dict[str, str], owner: str | None, kind: str, expected: str) -> None:
    assert pod_workload_name(pod("lonely", labels, owner=owner, owner_kind=kind)) == expected


def test_endpoint_labels_default_as_istio_does() -> None:
    bare = endpoint_from_pod(pod("p", {}, owner="x"))
    assert (bare.app, bare.version, bare.canonical_service, bare.canonical_revision) == (
        "unknown",
        "unknown",
        "x",
        "latest",
    )
    labelled = endpoint_from_pod(pod("p", {"app": "reviews", "version": "v2"}, owner="x", image="reviews:v2"))
    assert (labelled.app, labelled.version, labelled.canonical_service, labelled.canonical_revision) == (
        "reviews",
        "v2",
        "reviews",
        "v2",
    )
    assert labelled.images == ("reviews:v2",)


# -- plans --


def test_hosts_resolve_through_services_to_the_ready_pods_their_selectors_pick() -> None:
    pods = [*CANARY_PODS, rollout_pod("reviews-bbb-2", "bbb", ready=False)]
    vs = virtual_service([weighted(("reviews-stable", 90), ("reviews-canary", 10))])
    (route,) = plan([vs], CANARY_SERVICES, pods)
    stable, canary = route.destinations
    assert [e.name for e in stable.endpoints] == ["reviews-aaa-1", "reviews-aaa-2", "reviews-aaa-3"]
    assert [e.name for e in canary.endpoints] == ["reviews-bbb-1"]  # the unready pod gets nothing
    assert (stable.requests_per_second, canary.requests_per_second) == pytest.approx((45.0, 5.0))
    assert canary.service_fqdn == "reviews-canary.default.svc.cluster.local"
    assert (canary.service_namespace, canary.service_name) == ("default", "reviews-canary")
    assert stable.failure_flag == canary.failure_flag == FLAG_NONE


def test_subsets_add_their_destination_rule_labels_to_the_service_selector() -> None:
    services = [service("reviews", {"app": "reviews"})]
    rule = destination_rule("reviews", {"stable": {HASH: "aaa"}, "canary": {HASH: "bbb"}})
    vs = virtual_service([weighted(("reviews", 80), ("reviews", 20), subsets=("stable", "canary"))])
    (route,) = plan([vs], services, CANARY_PODS, [rule])
    stable, canary = route.destinations
    assert len(stable.endpoints) == 3 and [e.name for e in canary.endpoints] == ["reviews-bbb-1"]
    assert (stable.subset, canary.subset) == ("stable", "canary")
    assert stable.service_fqdn == canary.service_fqdn == "reviews.default.svc.cluster.local"


def test_the_destination_rule_in_the_services_namespace_wins() -> None:
    services = [service("reviews", {"app": "reviews"})]
    elsewhere = destination_rule("reviews.default.svc.cluster.local", {"canary": {HASH: "aaa"}}, namespace="aaa")
    local = destination_rule("reviews", {"canary": {HASH: "bbb"}})
    vs = virtual_service([weighted(("reviews", None), subsets=("canary",))])
    (route,) = plan([vs], services, CANARY_PODS, [elsewhere, local])
    assert [e.name for e in route.destinations[0].endpoints] == ["reviews-bbb-1"]


def test_a_destination_without_ready_pods_fails_with_no_healthy_upstream() -> None:
    pods = [rollout_pod("reviews-bbb-1", "bbb", ready=False)]
    vs = virtual_service([weighted(("reviews-canary", 100))])
    (route,) = plan([vs], CANARY_SERVICES, pods)
    (canary,) = route.destinations
    assert canary.endpoints == () and canary.failure_flag == FLAG_NO_HEALTHY_UPSTREAM
    assert canary.service_fqdn == "reviews-canary.default.svc.cluster.local"


def test_a_service_without_selector_has_no_healthy_upstream() -> None:
    vs = virtual_service([weighted(("external", 100))])
    (route,) = plan([vs], [service("external", None)], CANARY_PODS)
    assert route.destinations[0].failure_flag == FLAG_NO_HEALTHY_UPSTREAM


def test_a_missing_service_subset_or_non_kubernetes_host_fails_with_no_cluster() -> None:
    services = [service("reviews", {"app": "reviews"})]
    vs = virtual_service(
        [
            {
                "route": [
                    {"destination": {"host": "nowhere"}, "weight": 40},
                    {"destination": {"host": "reviews", "subset": "undefined"}, "weight": 30},
                    {"destination": {"host": "api.example.com"}, "weight": 30},
                ]
            }
        ]
    )
    (route,) = plan([vs], services, CANARY_PODS)
    assert [d.failure_flag for d in route.destinations] == [FLAG_NO_CLUSTER] * 3
    assert [d.service_fqdn for d in route.destinations] == [
        "nowhere.default.svc.cluster.local",
        "reviews.default.svc.cluster.local",
        "api.example.com",
    ]


def test_pods_of_another_namespace_are_not_selected() -> None:
    pods = [rollout_pod("reviews-bbb-9", "bbb", namespace="other")]
    vs = virtual_service([weighted(("reviews-canary", 100))])
    (route,) = plan([vs], CANARY_SERVICES, pods)
    assert route.destinations[0].endpoints == ()


def test_each_host_of_a_virtual_service_gets_the_rate() -> None:
    vs = virtual_service([weighted(("reviews-stable", None))], hosts=("reviews", "reviews.example.com"))
    (route,) = plan([vs], CANARY_SERVICES, CANARY_PODS, rate=10.0)
    assert route.destinations[0].requests_per_second == 20.0


# -- counting --


def test_take_whole_carries_the_fraction() -> None:
    assert take_whole(0.5, 1.25) == (1, 0.75)
    assert take_whole(0.75, 1.25) == (2, 0.0)


def test_round_robin_deals_evenly_from_the_cursor() -> None:
    assert round_robin(7, 3, 0) == [3, 2, 2]
    assert round_robin(7, 3, 2) == [2, 2, 3]
    assert round_robin(2, 3, 2) == [1, 0, 1]
    assert round_robin(5, 0, 0) == []


def simulate(
    routes: list[RoutePlan], ticks: int, elapsed: float = 0.25, **options: Any
) -> tuple[TrafficSimulator, list[list[RequestBatch]]]:
    simulator = TrafficSimulator(**options)
    simulator.set_routes(routes)
    return simulator, [simulator.tick(elapsed) for _ in range(ticks)]


def counts(batches: list[RequestBatch]) -> Counter[tuple[str, str, str]]:
    totals: Counter[tuple[str, str, str]] = Counter()
    for b in batches:
        totals[(b.destination.service_name, b.endpoint.name if b.endpoint else "-", b.response_code)] += len(
            b.latencies_ms
        )
    return totals


def canary_routes(weights: tuple[int, int] = (90, 10)) -> list[RoutePlan]:
    vs = virtual_service([weighted(("reviews-stable", weights[0]), ("reviews-canary", weights[1]))])
    return plan([vs], CANARY_SERVICES, CANARY_PODS)


def test_request_counts_are_exact_over_time_and_within_one_per_tick() -> None:
    _, ticks = simulate(canary_routes(), ticks=40)  # 10 s at 50 rps: 450 stable, 50 canary
    per_service: Counter[str] = Counter()
    for batches in ticks:
        tick: Counter[str] = Counter()
        for (name, _, _), number in counts(batches).items():
            tick[name] += number
        assert abs(tick["reviews-canary"] - 1.25) < 1 and abs(tick["reviews-stable"] - 11.25) < 1
        per_service.update(tick)
    assert per_service == {"reviews-stable": 450, "reviews-canary": 50}


def test_requests_go_round_robin_over_the_pods() -> None:
    _, ticks = simulate(canary_routes(), ticks=40)
    stable: Counter[str] = Counter()
    for batches in ticks:
        for (name, pod_name, _), number in counts(batches).items():
            if name == "reviews-stable":
                stable[pod_name] += number
    assert stable == {"reviews-aaa-1": 150, "reviews-aaa-2": 150, "reviews-aaa-3": 150}


def test_a_bad_versions_error_fraction_is_exact_within_a_tick_or_two() -> None:
    bad = {"reviews:v2": VersionProfile(error_rate=0.4)}
    _, ticks = simulate(canary_routes((0, 100)), ticks=20, profiles=bad)  # the canary pod gets 12.5 per tick
    requests = errors = 0
    for batches in ticks:
        tick = counts(batches)
        requests += sum(tick.values())
        errors += tick[("reviews-canary", "reviews-bbb-1", "503")]
        assert abs(errors - 0.4 * requests) <= 1  # never more than one request off, at any tick
    assert (requests, errors) == (250, 100)


def test_good_versions_never_fail() -> None:
    _, ticks = simulate(canary_routes(), ticks=20)
    assert all(b.response_code == "200" and b.response_flags == FLAG_NONE for t in ticks for b in t)


def test_requests_to_a_destination_without_ready_pods_are_503_no_healthy_upstream() -> None:
    vs = virtual_service([weighted(("reviews-stable", 50), ("reviews-canary", 50))])
    routes = plan([vs], CANARY_SERVICES, CANARY_PODS[:3])  # the canary pod is not there
    _, ticks = simulate(routes, ticks=4)
    failed = [b for t in ticks for b in t if b.destination.service_name == "reviews-canary"]
    assert failed and all(b.endpoint is None for b in failed)
    assert {(b.response_code, b.response_flags) for b in failed} == {("503", FLAG_NO_HEALTHY_UPSTREAM)}
    assert sum(len(b.latencies_ms) for b in failed) == 25  # 25 rps for 1 s


def test_latencies_follow_the_profile_and_repeat_with_the_seed() -> None:
    slow = {"reviews:v2": VersionProfile(latency_ms=200.0, latency_jitter_ms=50.0)}
    _, first = simulate(canary_routes((0, 100)), ticks=8, profiles=slow, seed=7)
    _, again = simulate(canary_routes((0, 100)), ticks=8, profiles=slow, seed=7)
    latencies = [latency for t in first for b in t for latency in b.latencies_ms]
    assert len(latencies) == 100 and all(150.0 <= x <= 250.0 for x in latencies)
    assert latencies == [latency for t in again for b in t for latency in b.latencies_ms]


def test_a_profile_changed_at_runtime_applies_from_the_next_tick() -> None:
    simulator, _ = simulate(canary_routes((0, 100)), ticks=4)
    simulator.set_profile("reviews:v2", VersionProfile(error_rate=1.0))
    assert {b.response_code for b in simulator.tick(1.0)} == {"503"}


def test_the_first_profiled_image_of_a_pod_decides() -> None:
    simulator = TrafficSimulator(profiles={"sidecar:1": VersionProfile(error_rate=1.0)})
    endpoint = endpoint_from_pod(pod("p", {}))
    both = Endpoint(**{**endpoint.__dict__, "images": ("app:1", "sidecar:1")})
    assert simulator.profile_for(both).error_rate == 1.0
    assert simulator.profile_for(endpoint) == simulator.default_profile


def test_weights_moved_to_zero_stop_a_destinations_traffic() -> None:
    simulator, _ = simulate(canary_routes(), ticks=4)
    simulator.set_routes(canary_routes((100, 0)))
    batches = [b for _ in range(8) for b in simulator.tick(0.25)]
    assert {b.destination.service_name for b in batches} == {"reviews-stable"}


def test_state_of_destinations_no_longer_planned_is_dropped() -> None:
    simulator, _ = simulate(canary_routes(), ticks=4)
    simulator.set_routes([])
    assert simulator.tick(1.0) == []
    assert not simulator._request_carry and not simulator._cursor and not simulator._error_carry


def test_profiles_are_validated() -> None:
    with pytest.raises(ValueError):
        VersionProfile(error_rate=1.5)
    with pytest.raises(ValueError):
        VersionProfile(latency_ms=-1)


def test_malformed_virtual_services_and_rules_plan_what_they_can() -> None:
    broken = virtual_service(
        [
            {"name": "odd", "match": "everything", "route": [{"destination": "reviews-canary"}, "junk"]},
        ],
        name="broken",
    )
    broken["spec"]["hosts"] = "reviews"
    rule = {"metadata": {"name": "r", "namespace": "default"}, "spec": {"host": "reviews", "subsets": ["x", {}]}}
    fine = virtual_service([weighted(("reviews-canary", 100))])
    routes = plan([broken, {"spec": None}, fine], CANARY_SERVICES, CANARY_PODS, [rule, {"spec": 3}])
    assert [(r.virtual_service, [d.failure_flag for d in r.destinations]) for r in routes] == [
        ("broken", [FLAG_NO_CLUSTER]),
        ("reviews", [FLAG_NONE]),
    ]
