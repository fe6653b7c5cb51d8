"""Istio routing as pure functions: a Rollout, the VirtualServices and DestinationRule it names, and a desired
weight in; the merge patches that make Istio route that way out. Fixtures are inline objects shaped like the
ones in Argo Rollouts' own examples."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kube.merge_patch import apply_merge_patch
from kube.resources import DESTINATION_RULES, VIRTUAL_SERVICES
from rollouts.models import Rollout
from rollouts.traffic.istio import (
    HASH_LABEL,
    MANAGED_BY_ANNOTATION,
    desired_weights,
    route_traffic,
    traffic_weights_status,
    virtual_service_location,
)
from rollouts.traffic.router import RoutingResult

NS = "default"
CANARY_SVC = "reviews-canary"
STABLE_SVC = "reviews-stable"


# --- fixtures as data ----------------------------------------------------------------------------


def make_rollout(
    istio: dict[str, Any],
    *,
    canary_service: str | None = CANARY_SVC,
    stable_service: str | None = STABLE_SVC,
    managed_routes: list[str] | None = None,
    name: str = "reviews",
) -> Rollout:
    canary: dict[str, Any] = {"trafficRouting": {"istio": istio}, "steps": [{"setWeight": 20}, {"pause": {}}]}
    if canary_service is not None:
        canary["canaryService"] = canary_service
    if stable_service is not None:
        canary["stableService"] = stable_service
    if managed_routes is not None:
        canary["trafficRouting"]["managedRoutes"] = [{"name": route} for route in managed_routes]
    return Rollout.from_dict(
        {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Rollout",
            "metadata": {"name": name, "namespace": NS},
            "spec": {
                "selector": {"matchLabels": {"app": "reviews"}},
                "template": {
                    "metadata": {"labels": {"app": "reviews"}},
                    "spec": {"containers": [{"name": "reviews", "image": "reviews:v2"}]},
                },
                "strategy": {"canary": canary},
            },
        }
    )


def host_rollout(vs_name: str = "reviews", routes: list[str] | None = None, **more: Any) -> Rollout:
    entry: dict[str, Any] = {"name": vs_name}
    if routes is not None:
        entry["routes"] = routes
    return make_rollout({"virtualService": entry}, **more)


def subset_rollout(routes: list[str] | None = None, additional: list[str] | None = None) -> Rollout:
    rule: dict[str, Any] = {"name": "reviews-destrule", "canarySubsetName": "canary", "stableSubsetName": "stable"}
    if additional is not None:
        rule["additionalSubsetNames"] = additional
    entry: dict[str, Any] = {"name": "reviews"}
    if routes is not None:
        entry["routes"] = routes
    return make_rollout({"virtualService": entry, "destinationRule": rule}, canary_service=None, stable_service=None)


def dest(host: str, weight: int | None = None, subset: str | None = None, **extra: Any) -> dict[str, Any]:
    destination: dict[str, Any] = {"host": host}
    if subset is not None:
        destination["subset"] = subset
    destination.update(extra)
    entry: dict[str, Any] = {"destination": destination}
    if weight is not None:
        entry["weight"] = weight
    return entry


def http_route(name: str | None, *destinations: dict[str, Any], **extra: Any) -> dict[str, Any]:
    route: dict[str, Any] = {} if name is None else {"name": name}
    route.update(extra)
    route["route"] = list(destinations)
    return route


def primary(canary: int = 0, stable: int = 100, name: str | None = "primary") -> dict[str, Any]:
    return http_route(name, dest(STABLE_SVC, stable), dest(CANARY_SVC, canary))


def virtual_service(
    name: str = "reviews",
    *,
    http: list[dict[str, Any]] | None = None,
    tls: list[dict[str, Any]] | None = None,
    tcp: list[dict[str, Any]] | None = None,
    namespace: str = NS,
    resource_version: str = "7",
) -> dict[str, Any]:
    spec: dict[str, Any] = {"hosts": [name], "gateways": ["reviews-gateway"]}
    for field, routes in (("http", http), ("tls", tls), ("tcp", tcp)):
        if routes is not None:
            spec[field] = routes
    return {
        "apiVersion": "networking.istio.io/v1alpha3",
        "kind": "VirtualService",
        "metadata": {"name": name, "namespace": namespace, "resourceVersion": resource_version},
        "spec": spec,
    }


def destination_rule(
    subsets: list[dict[str, Any]] | None = None, annotations: dict[str, str] | None = None
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": "reviews-destrule", "namespace": NS, "resourceVersion": "3"}
    if annotations is not None:
        metadata["annotations"] = annotations
    return {
        "apiVersion": "networking.istio.io/v1alpha3",
        "kind": "DestinationRule",
        "metadata": metadata,
        "spec": {
            "host": "reviews",
            "subsets": subsets
            if subsets is not None
            else [
                {"name": "stable", "labels": {"app": "reviews"}},
                {"name": "canary", "labels": {"app": "reviews"}},
            ],
        },
    }


def subset_vs(canary: int = 0, stable: int = 100) -> dict[str, Any]:
    return virtual_service(
        http=[
            http_route(
                "primary",
                dest("reviews", stable, subset="stable"),
                dest("reviews", canary, subset="canary"),
            )
        ]
    )


def route(
    rollout: Rollout,
    virtual_services: dict[str, dict[str, Any]],
    weight: int,
    *,
    rule: dict[str, Any] | None = None,
    canary_hash: str | None = "abc123",
    stable_hash: str | None = "def456",
) -> RoutingResult:
    return route_traffic(
        rollout=rollout,
        namespace=NS,
        virtual_services=virtual_services,
        destination_rule=rule,
        canary_weight=weight,
        canary_hash=canary_hash,
        stable_hash=stable_hash,
    )


def only_write(result: RoutingResult) -> dict[str, Any]:
    assert result.problems == ()
    assert len(result.writes) == 1
    return result.writes[0].patch


def weights(route: dict[str, Any]) -> list[tuple[str, int]]:
    """(host or subset, weight) of each destination, in order."""
    return [
        (entry["destination"].get("subset") or entry["destination"]["host"], entry["weight"])
        for entry in route["route"]
    ]


def patched(obj: dict[str, Any], result: RoutingResult, name: str) -> dict[str, Any]:
    """``obj`` after the patch the result makes to the object called ``name``."""
    for write in result.writes:
        if write.name == name:
            return apply_merge_patch(obj, write.patch)  # type: ignore[no-any-return]
    return obj


# --- host-level -----------------------------------------------------------------------------------


def test_host_level_route_sends_the_canary_weight_to_the_canary_service_and_the_rest_to_stable() -> None:
    result = route(host_rollout(routes=["primary"]), {"reviews": virtual_service(http=[primary()])}, 20)

    assert result.problems == ()
    assert len(result.writes) == 1
    write = result.writes[0]
    assert (write.kind, write.namespace, write.name, write.subresource) == (VIRTUAL_SERVICES, NS, "reviews", None)
    assert write.patch == {
        "metadata": {"resourceVersion": "7"},
        "spec": {"http": [http_route("primary", dest(STABLE_SVC, 80), dest(CANARY_SVC, 20))]},
    }


def test_only_the_named_routes_are_weighted() -> None:
    other = http_route("other", dest("ratings", 100))
    vs = virtual_service(http=[other, primary(name="first"), primary(name="second")])

    patch = only_write(route(host_rollout(routes=["first", "second"]), {"reviews": vs}, 30))

    http = patch["spec"]["http"]
    assert http[0] == other
    assert weights(http[1]) == weights(http[2]) == [(STABLE_SVC, 70), (CANARY_SVC, 30)]


def test_with_routes_omitted_the_only_http_route_is_weighted() -> None:
    vs = virtual_service(http=[primary(name=None)])

    patch = only_write(route(host_rollout(), {"reviews": vs}, 40))

    assert weights(patch["spec"]["http"][0]) == [(STABLE_SVC, 60), (CANARY_SVC, 40)]


def test_with_routes_omitted_two_http_routes_are_a_problem() -> None:
    vs = virtual_service(http=[primary(name="a"), primary(name="b")])

    result = route(host_rollout(), {"reviews": vs}, 40)

    assert result.writes == ()
    assert result.problems == ('VirtualService "reviews" has 2 HTTP routes: name the ones to manage in routes',)
    assert result.current_weight is None


def test_managed_routes_do_not_count_when_routes_are_omitted() -> None:
    header = http_route("header-route", dest(CANARY_SVC, 100), match=[{"headers": {"x-canary": {"exact": "yes"}}}])
    vs = virtual_service(http=[header, primary()])

    patch = only_write(route(host_rollout(managed_routes=["header-route"]), {"reviews": vs}, 10))

    assert patch["spec"]["http"][0] == header
    assert weights(patch["spec"]["http"][1]) == [(STABLE_SVC, 90), (CANARY_SVC, 10)]


def test_a_managed_mirror_route_keeps_the_weights_of_the_weighted_routes() -> None:
    mirror = http_route(
        "mirror-route",
        dest(STABLE_SVC, 100),
        dest(CANARY_SVC, 0),
        match=[{"method": {"exact": "GET"}}],
        mirror={"host": CANARY_SVC},
        mirrorPercentage={"value": 50.0},
    )
    vs = virtual_service(http=[mirror, primary()])

    patch = only_write(route(host_rollout(routes=["primary"], managed_routes=["mirror-route"]), {"reviews": vs}, 25))

    assert (
        weights(patch["spec"]["http"][0]) == weights(patch["spec"]["http"][1]) == [(STABLE_SVC, 75), (CANARY_SVC, 25)]
    )
    assert patch["spec"]["http"][0]["mirror"] == {"host": CANARY_SVC}


def test_a_tls_route_is_matched_by_port_and_sni_hosts() -> None:
    tls_match = {"match": [{"port": 3000, "sniHosts": ["reviews.example.com", "localhost"]}]}
    other_tls = {"match": [{"port": 3000, "sniHosts": ["ratings.example.com"]}], "route": [dest("ratings", 100)]}
    vs = virtual_service(
        http=[primary()],
        tls=[other_tls, {**tls_match, "route": [dest(STABLE_SVC, 100), dest(CANARY_SVC, 0)]}],
    )
    rollout = make_rollout(
        {
            "virtualService": {
                "name": "reviews",
                "routes": ["primary"],
                "tlsRoutes": [{"port": 3000, "sniHosts": ["localhost", "reviews.example.com"]}],
            }
        }
    )

    patch = only_write(route(rollout, {"reviews": vs}, 10))

    assert patch["spec"]["tls"][0] == other_tls
    assert patch["spec"]["tls"][1]["match"] == tls_match["match"]
    assert weights(patch["spec"]["tls"][1]) == [(STABLE_SVC, 90), (CANARY_SVC, 10)]
    assert weights(patch["spec"]["http"][0]) == [(STABLE_SVC, 90), (CANARY_SVC, 10)]


def test_routes_are_not_checked_on_a_virtual_service_with_only_tls_routes() -> None:
    """Argo checks ``routes`` against the HTTP routes only when the VirtualService has ``spec.http``."""
    tls_route = {
        "match": [{"port": 3000, "sniHosts": ["reviews.example.com"]}],
        "route": [dest(STABLE_SVC, 100), dest(CANARY_SVC, 0)],
    }
    vs = virtual_service(tls=[tls_route])
    rollout = make_rollout(
        {
            "virtualService": {
                "name": "reviews",
                "routes": ["primary"],
                "tlsRoutes": [{"port": 3000, "sniHosts": ["reviews.example.com"]}],
            }
        }
    )

    patch = only_write(route(rollout, {"reviews": vs}, 10))

    assert weights(patch["spec"]["tls"][0]) == [(STABLE_SVC, 90), (CANARY_SVC, 10)]
    assert "http" not in patch["spec"]


def test_a_tls_route_with_other_sni_hosts_is_a_problem() -> None:
    vs = virtual_service(
        tls=[{"match": [{"port": 3000, "sniHosts": ["a.example.com"]}], "route": [dest(STABLE_SVC), dest(CANARY_SVC)]}]
    )
    rollout = make_rollout(
        {"virtualService": {"name": "reviews", "tlsRoutes": [{"port": 3000, "sniHosts": ["b.example.com"]}]}}
    )

    result = route(rollout, {"reviews": vs}, 10)

    assert result.writes == ()
    assert result.problems == (
        'VirtualService "reviews" has no TLS route matching port 3000 and sniHosts ["b.example.com"]',
    )


def test_a_tcp_route_is_matched_by_port_and_a_tcp_only_virtual_service_needs_no_http_route() -> None:
    other_tcp = {"match": [{"port": 5432}], "route": [dest("postgres", 100)]}
    ours = {"match": [{"port": 3000}], "route": [dest(STABLE_SVC, 100), dest(CANARY_SVC, 0)]}
    vs = virtual_service(tcp=[other_tcp, ours])
    rollout = make_rollout({"virtualService": {"name": "reviews", "tcpRoutes": [{"port": 3000}]}})

    patch = only_write(route(rollout, {"reviews": vs}, 60))

    assert patch["spec"] == {"tcp": [other_tcp, {**ours, "route": [dest(STABLE_SVC, 40), dest(CANARY_SVC, 60)]}]}


def test_every_listed_virtual_service_is_weighted() -> None:
    rollout = make_rollout(
        {"virtualServices": [{"name": "vsvc1", "routes": ["primary"]}, {"name": "vsvc2", "routes": ["secondary"]}]}
    )
    services = {
        "vsvc1": virtual_service("vsvc1", http=[primary()]),
        "vsvc2": virtual_service("vsvc2", http=[primary(name="secondary")]),
    }

    result = route(rollout, services, 5)

    assert result.problems == ()
    assert [write.name for write in result.writes] == ["vsvc1", "vsvc2"]
    for write in result.writes:
        assert weights(write.patch["spec"]["http"][0]) == [(STABLE_SVC, 95), (CANARY_SVC, 5)]


def test_a_virtual_service_named_twice_gets_one_patch_with_both_routes() -> None:
    rollout = make_rollout(
        {"virtualServices": [{"name": "reviews", "routes": ["first"]}, {"name": "reviews", "routes": ["second"]}]}
    )
    vs = virtual_service(http=[primary(name="first"), primary(name="second")])

    patch = only_write(route(rollout, {"reviews": vs}, 50))

    assert [weights(r) for r in patch["spec"]["http"]] == [[(STABLE_SVC, 50), (CANARY_SVC, 50)]] * 2


def test_a_name_dot_namespace_virtual_service_is_patched_in_that_namespace() -> None:
    vs = virtual_service("reviews", http=[primary()], namespace="other-ns")

    result = route(host_rollout("reviews.other-ns", routes=["primary"]), {"reviews.other-ns": vs}, 20)

    assert result.problems == ()
    assert [(write.namespace, write.name) for write in result.writes] == [("other-ns", "reviews")]


@pytest.mark.parametrize(
    ("spec_name", "expected"),
    [
        ("reviews", (NS, "reviews")),
        ("reviews.other-ns", ("other-ns", "reviews")),
        ("reviews.prod.svc.cluster.local", ("prod", "reviews")),
    ],
)
def test_virtual_service_location_reads_name_dot_namespace(spec_name: str, expected: tuple[str, str]) -> None:
    assert virtual_service_location(spec_name, NS) == expected


def test_destinations_are_matched_by_short_host() -> None:
    fqdn = http_route(
        "primary",
        dest(f"{STABLE_SVC}.{NS}.svc.cluster.local", 100),
        dest(f"{CANARY_SVC}.{NS}.svc.cluster.local", 0),
    )

    patch = only_write(route(host_rollout(routes=["primary"]), {"reviews": virtual_service(http=[fqdn])}, 15))

    assert [entry["weight"] for entry in patch["spec"]["http"][0]["route"]] == [85, 15]
    assert patch["spec"]["http"][0]["route"][1]["destination"]["host"] == f"{CANARY_SVC}.{NS}.svc.cluster.local"


def test_a_third_destination_is_removed() -> None:
    vs = virtual_service(http=[http_route("primary", dest(STABLE_SVC, 80), dest("intruder", 10), dest(CANARY_SVC, 10))])

    patch = only_write(route(host_rollout(routes=["primary"]), {"reviews": vs}, 10))

    assert weights(patch["spec"]["http"][0]) == [(STABLE_SVC, 90), (CANARY_SVC, 10)]


def test_an_out_of_band_50_50_is_reverted() -> None:
    vs = virtual_service(http=[primary(canary=50, stable=50)])

    patch = only_write(route(host_rollout(routes=["primary"]), {"reviews": vs}, 10))

    assert weights(patch["spec"]["http"][0]) == [(STABLE_SVC, 90), (CANARY_SVC, 10)]


def test_nothing_is_written_when_the_weights_are_already_right() -> None:
    vs = virtual_service(http=[primary(canary=10, stable=90)])

    result = route(host_rollout(routes=["primary"]), {"reviews": vs}, 10)

    assert result == RoutingResult(writes=(), problems=(), current_weight=10)


def test_a_zero_weight_is_written_rather_than_left_out() -> None:
    vs = virtual_service(http=[http_route("primary", dest(STABLE_SVC), dest(CANARY_SVC))])

    patch = only_write(route(host_rollout(routes=["primary"]), {"reviews": vs}, 0))

    assert patch["spec"]["http"][0]["route"] == [dest(STABLE_SVC, 100), dest(CANARY_SVC, 0)]


def test_every_other_field_of_routes_and_destinations_is_kept_in_order() -> None:
    rich = {
        "name": "primary",
        "match": [{"uri": {"prefix": "/api"}}],
        "route": [
            {"destination": {"host": STABLE_SVC, "port": {"number": 8080}}, "weight": 100, "headers": {"x": {}}},
            {"destination": {"host": CANARY_SVC, "port": {"number": 8080}}, "weight": 0},
        ],
        "retries": {"attempts": 3, "perTryTimeout": "2s"},
        "timeout": "10s",
        "headers": {"request": {"set": {"x-env": "prod"}}},
        "mirror": {"host": "shadow"},
    }
    vs = virtual_service(http=[rich])

    patch = only_write(route(host_rollout(routes=["primary"]), {"reviews": vs}, 20))

    new = patch["spec"]["http"][0]
    assert list(new) == list(rich)
    assert {key: value for key, value in new.items() if key != "route"} == {
        key: value for key, value in rich.items() if key != "route"
    }
    assert new["route"] == [
        {"destination": {"host": STABLE_SVC, "port": {"number": 8080}}, "weight": 80, "headers": {"x": {}}},
        {"destination": {"host": CANARY_SVC, "port": {"number": 8080}}, "weight": 20},
    ]
    assert vs["spec"]["http"][0] == rich, "the observed object is not modified"


# --- problems -------------------------------------------------------------------------------------


def test_a_missing_virtual_service_is_a_problem_and_stops_every_write() -> None:
    rollout = make_rollout(
        {"virtualServices": [{"name": "vsvc1", "routes": ["primary"]}, {"name": "reviews", "routes": ["primary"]}]}
    )

    result = route(rollout, {"vsvc1": virtual_service("vsvc1", http=[primary()])}, 20)

    assert result.writes == ()
    assert result.problems == ('VirtualService "reviews" not found in namespace "default"',)
    assert result.current_weight == 0


def test_a_missing_route_is_a_problem() -> None:
    result = route(host_rollout(routes=["primary"]), {"reviews": virtual_service(http=[primary(name="main")])}, 20)

    assert result.writes == ()
    assert result.problems == ('VirtualService "reviews" has no HTTP route named "primary"',)


@pytest.mark.parametrize(
    ("destinations", "problem"),
    [
        (
            [dest(STABLE_SVC, 100)],
            'route "primary" of VirtualService "reviews" has no destination for canary service "reviews-canary"',
        ),
        (
            [dest(CANARY_SVC, 100)],
            'route "primary" of VirtualService "reviews" has no destination for stable service "reviews-stable"',
        ),
        (
            [dest(STABLE_SVC, 50), dest(CANARY_SVC, 25), dest(CANARY_SVC, 25, port={"number": 81})],
            'route "primary" of VirtualService "reviews" has 2 destinations for canary service "reviews-canary": '
            "keep one, or the weights would not sum to 100",
        ),
    ],
)
def test_a_route_needs_exactly_one_canary_and_one_stable_destination(
    destinations: list[dict[str, Any]], problem: str
) -> None:
    vs = virtual_service(http=[http_route("primary", *destinations)])

    result = route(host_rollout(routes=["primary"]), {"reviews": vs}, 20)

    assert result.writes == ()
    assert result.problems == (problem,)


def test_an_unnamed_route_is_named_by_its_position_in_problems() -> None:
    vs = virtual_service(http=[http_route(None, dest(STABLE_SVC, 100))])

    result = route(host_rollout(), {"reviews": vs}, 20)

    assert result.problems == (
        'route spec.http[0] of VirtualService "reviews" has no destination for canary service "reviews-canary"',
    )


def test_host_level_routing_needs_both_services() -> None:
    result = route(host_rollout(routes=["primary"], canary_service=None), {"reviews": virtual_service()}, 20)

    assert result.writes == ()
    assert result.problems == (
        "canaryService is required for Istio host-level routing (or set trafficRouting.istio.destinationRule)",
    )


def test_a_rollout_without_istio_routing_is_a_problem() -> None:
    rollout = host_rollout()
    rollout.spec.strategy.canary.traffic_routing.istio = None  # type: ignore[union-attr]

    result = route(rollout, {}, 20)

    assert result.writes == ()
    assert result.problems == (
        'Rollout "reviews" has no Istio traffic routing (spec.strategy.canary.trafficRouting.istio)',
    )


# --- weights --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("requested", "canary", "stable"), [(-10, 0, 100), (0, 0, 100), (37, 37, 63), (150, 100, 0)])
def test_the_canary_weight_is_clamped_to_0_to_100(requested: int, canary: int, stable: int) -> None:
    assert desired_weights(requested) == (canary, stable)
    vs = virtual_service(http=[primary(canary=1, stable=99)])

    patch = only_write(route(host_rollout(routes=["primary"]), {"reviews": vs}, requested))

    assert weights(patch["spec"]["http"][0]) == [(STABLE_SVC, stable), (CANARY_SVC, canary)]


@pytest.mark.parametrize(
    ("http", "current"),
    [
        ([primary(canary=30, stable=70)], 30),
        ([http_route("primary", dest(CANARY_SVC), dest(STABLE_SVC))], 0),
        ([http_route("primary", dest(CANARY_SVC))], 100),
        ([http_route("primary", dest(STABLE_SVC, 100))], None),
        ([primary(name="main")], None),
    ],
)
def test_current_weight_is_the_canary_weight_observed_in_the_first_managed_route(
    http: list[dict[str, Any]], current: int | None
) -> None:
    result = route(host_rollout(routes=["primary"]), {"reviews": virtual_service(http=http)}, 20)

    assert result.current_weight == current


def test_current_weight_comes_from_the_first_virtual_service_named() -> None:
    rollout = make_rollout({"virtualServices": [{"name": "vsvc1"}, {"name": "vsvc2"}]})
    services = {
        "vsvc1": virtual_service("vsvc1", http=[primary(canary=40, stable=60)]),
        "vsvc2": virtual_service("vsvc2", http=[primary(canary=10, stable=90)]),
    }

    assert route(rollout, services, 40).current_weight == 40
    assert route(rollout, {"vsvc2": services["vsvc2"]}, 40).current_weight is None


def test_traffic_weights_status_names_services_and_hashes() -> None:
    status = traffic_weights_status(rollout=host_rollout(), canary_weight=120, canary_hash="abc", stable_hash=None)

    assert status == {
        "canary": {"weight": 100, "serviceName": CANARY_SVC, "podTemplateHash": "abc"},
        "stable": {"weight": 0, "serviceName": STABLE_SVC},
    }


# --- subset-level ---------------------------------------------------------------------------------


def test_subset_level_weights_subsets_and_labels_the_destination_rule() -> None:
    result = route(subset_rollout(routes=["primary"]), {"reviews": subset_vs()}, 10, rule=destination_rule())

    assert result.problems == ()
    rule_write, vs_write = result.writes
    assert (rule_write.kind, rule_write.namespace, rule_write.name) == (DESTINATION_RULES, NS, "reviews-destrule")
    assert rule_write.patch == {
        "metadata": {"annotations": {MANAGED_BY_ANNOTATION: "reviews"}, "resourceVersion": "3"},
        "spec": {
            "subsets": [
                {"name": "stable", "labels": {"app": "reviews", HASH_LABEL: "def456"}},
                {"name": "canary", "labels": {"app": "reviews", HASH_LABEL: "abc123"}},
            ]
        },
    }
    assert vs_write.kind == VIRTUAL_SERVICES
    assert weights(vs_write.patch["spec"]["http"][0]) == [("stable", 90), ("canary", 10)]


def test_subset_level_at_rest_writes_nothing() -> None:
    rule = destination_rule(
        [
            {"name": "stable", "labels": {"app": "reviews", HASH_LABEL: "def456"}},
            {"name": "canary", "labels": {"app": "reviews", HASH_LABEL: "abc123"}},
        ],
        annotations={MANAGED_BY_ANNOTATION: "reviews"},
    )

    result = route(subset_rollout(), {"reviews": subset_vs(canary=10, stable=90)}, 10, rule=rule)

    assert result == RoutingResult(writes=(), problems=(), current_weight=10)


def test_an_unknown_or_empty_hash_leaves_that_subset_label_alone() -> None:
    rule = destination_rule(
        [
            {"name": "stable", "labels": {"app": "reviews", HASH_LABEL: "old"}},
            {"name": "canary"},
        ],
        annotations={MANAGED_BY_ANNOTATION: "reviews"},
    )

    result = route(subset_rollout(), {"reviews": subset_vs()}, 0, rule=rule, canary_hash=None, stable_hash="")

    assert result == RoutingResult(writes=(), problems=(), current_weight=0)


def test_additional_and_other_subsets_are_kept_untouched() -> None:
    experiment = {"name": "experiment", "labels": {HASH_LABEL: "exp789"}, "trafficPolicy": {"tls": {"mode": "MUTUAL"}}}
    rule = destination_rule(
        [{"name": "stable", "labels": {}}, experiment, {"name": "canary", "trafficPolicy": {"x": 1}}]
    )

    patch = route(subset_rollout(additional=["experiment"]), {"reviews": subset_vs()}, 0, rule=rule).writes[0].patch

    assert patch["spec"]["subsets"] == [
        {"name": "stable", "labels": {HASH_LABEL: "def456"}},
        experiment,
        {"name": "canary", "trafficPolicy": {"x": 1}, "labels": {HASH_LABEL: "abc123"}},
    ]


def test_subset_destinations_of_another_host_are_not_ours() -> None:
    vs = virtual_service(
        http=[
            http_route(
                "primary",
                dest("reviews", 90, subset="stable"),
                dest("ratings", 0, subset="canary"),
                dest("reviews.default.svc.cluster.local", 10, subset="canary"),
            )
        ]
    )

    result = route(subset_rollout(), {"reviews": vs}, 10, rule=destination_rule())

    assert result.problems == ()
    assert result.writes[1].patch["spec"]["http"][0]["route"] == [
        dest("reviews", 90, subset="stable"),
        dest("reviews.default.svc.cluster.local", 10, subset="canary"),
    ]


@pytest.mark.parametrize(
    ("rule", "problem"),
    [
        (None, 'DestinationRule "reviews-destrule" not found in namespace "default"'),
        (
            destination_rule([{"name": "stable"}]),
            'DestinationRule "reviews-destrule" has no subset "canary" (canarySubsetName)',
        ),
        (
            destination_rule(annotations={MANAGED_BY_ANNOTATION: "ratings"}),
            'DestinationRule "reviews-destrule" is managed by Rollout "ratings" '
            f"(annotation {MANAGED_BY_ANNOTATION}); remove the annotation if that Rollout no longer uses it",
        ),
    ],
)
def test_destination_rule_problems_stop_every_write(rule: dict[str, Any] | None, problem: str) -> None:
    result = route(subset_rollout(), {"reviews": subset_vs()}, 10, rule=rule)

    assert result.writes == ()
    assert result.problems == (problem,)
    assert result.current_weight == 0


def test_a_subset_route_without_the_canary_subset_is_a_problem() -> None:
    vs = virtual_service(http=[http_route("primary", dest("reviews", 100, subset="stable"))])

    result = route(subset_rollout(), {"reviews": vs}, 10, rule=destination_rule())

    assert result.problems == (
        'route "primary" of VirtualService "reviews" has no destination for canary subset "canary" of host "reviews"',
    )


# --- properties -----------------------------------------------------------------------------------


@st.composite
def routed_scenarios(draw: st.DrawFn) -> tuple[Rollout, dict[str, Any], dict[str, Any] | None, list[int]]:
    """A valid Rollout + VirtualService (+ DestinationRule): some weighted routes, some left alone."""
    by_subset = draw(st.booleans())
    weight_or_none = st.one_of(st.none(), st.integers(0, 100))
    extras = st.dictionaries(st.sampled_from(["timeout", "retries", "headers", "fault"]), st.text(max_size=3))

    def side(name: str) -> dict[str, Any]:
        if by_subset:
            return dest(draw(st.sampled_from(["reviews", "reviews.default.svc.cluster.local"])), subset=name)
        service = CANARY_SVC if name == "canary" else STABLE_SVC
        return dest(draw(st.sampled_from([service, f"{service}.{NS}.svc.cluster.local"])))

    def weighted_route(name: str | None) -> dict[str, Any]:
        destinations = [side("canary"), side("stable")]
        destinations += [dest(f"other-{i}") for i in range(draw(st.integers(0, 2)))]
        destinations = draw(st.permutations(destinations))
        for entry in destinations:
            weight = draw(weight_or_none)
            if weight is not None:
                entry["weight"] = weight
        return http_route(name, *destinations, **draw(extras))

    count = draw(st.integers(1, 4))
    names = [f"route-{i}" for i in range(count)]
    weighted = draw(st.lists(st.sampled_from(names), min_size=1, max_size=count, unique=True))
    omit_routes = len(weighted) == 1 and count == 1 and draw(st.booleans())
    http = [
        weighted_route(None if omit_routes else name)
        if name in weighted
        else http_route(name, dest("ratings", 100), **draw(extras))
        for name in names
    ]
    entry: dict[str, Any] = {"name": "reviews"}
    if not omit_routes:
        entry["routes"] = weighted
    tcp = None
    if draw(st.booleans()):
        tcp = [{"match": [{"port": 3000}], "route": [side("stable"), side("canary")]}]
        entry["tcpRoutes"] = [{"port": 3000}]
    vs = virtual_service(http=http, tcp=tcp)
    rule = None
    if by_subset:
        istio = {
            "virtualService": entry,
            "destinationRule": {"name": "reviews-destrule", "canarySubsetName": "canary", "stableSubsetName": "stable"},
        }
        rollout = make_rollout(istio, canary_service=None, stable_service=None)
        rule = destination_rule()
    else:
        rollout = make_rollout({"virtualService": entry})
    indexes = [names.index(name) for name in weighted]
    return rollout, vs, rule, indexes


def _is_canary(destination: dict[str, Any]) -> bool:
    """The canary side of a scenario's route: the canary subset, or the canary Service by short or full name."""
    return destination.get("subset") == "canary" or destination["host"].split(".")[0] == CANARY_SVC


@settings(max_examples=300)
@given(scenario=routed_scenarios(), canary_weight=st.integers(-50, 150))
def test_weights_always_sum_to_100_and_a_second_pass_writes_nothing(
    scenario: tuple[Rollout, dict[str, Any], dict[str, Any] | None, list[int]], canary_weight: int
) -> None:
    rollout, vs, rule, indexes = scenario
    observed = copy.deepcopy(vs)
    # Argo's setWeight: the canary gets the requested percentage, held to 0..100, and the stable the rest.
    expected_canary = 0 if canary_weight < 0 else 100 if canary_weight > 100 else canary_weight

    first = route(rollout, {"reviews": vs}, canary_weight, rule=rule)

    assert first.problems == ()
    assert vs == observed, "the observed VirtualService is not modified"
    new_vs = patched(vs, first, "reviews")
    new_rule = patched(rule, first, "reviews-destrule") if rule is not None else None
    managed = [new_vs["spec"]["http"][i] for i in indexes] + new_vs["spec"].get("tcp", [])
    for managed_route in managed:
        route_weights = [entry["weight"] for entry in managed_route["route"]]
        assert len(route_weights) == 2
        assert all(isinstance(w, int) and 0 <= w <= 100 for w in route_weights)
        assert sum(route_weights) == 100
        canary_shares = [entry["weight"] for entry in managed_route["route"] if _is_canary(entry["destination"])]
        assert canary_shares == [expected_canary], (managed_route, canary_weight)
    for index, (before, after) in enumerate(zip(vs["spec"]["http"], new_vs["spec"]["http"], strict=True)):
        if index not in indexes:
            assert after == before
        assert {k: v for k, v in after.items() if k != "route"} == {k: v for k, v in before.items() if k != "route"}

    second = route(rollout, {"reviews": new_vs}, canary_weight, rule=new_rule)

    assert second == RoutingResult(writes=(), problems=(), current_weight=expected_canary)
