"""Istio managed routes (``setHeaderRoute``, ``setMirrorRoute``), their removal, and weight verification, through
the router interface. The expected VirtualServices are worked by hand from Argo Rollouts' documentation of header
based routing ("Traffic routing based on header values for Canary") and mirroring, and from its e2e manifest
``test/e2e/header-routing/istio-hr-host.yaml``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from kube.merge_patch import apply_merge_patch
from kube.resources import VIRTUAL_SERVICES
from rollouts.models import Rollout, SetHeaderRoute, SetMirrorRoute
from rollouts.plan import Patch
from rollouts.snapshot import RolloutSnapshot
from rollouts.traffic.istio_router import IstioRouter
from rollouts.traffic.router import (
    HeaderRouteRequest,
    ManagedRoutesRequest,
    MirrorRouteRequest,
    RoutingResult,
    WeightRequest,
)
from tests.unit.rollouts.test_istio import (
    CANARY_SVC,
    NS,
    STABLE_SVC,
    dest,
    destination_rule,
    host_rollout,
    http_route,
    make_rollout,
    primary,
    virtual_service,
)

ROUTER = IstioRouter()
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def rollout_with_routes(*names: str, routes: list[str] | None = None) -> Rollout:
    return host_rollout(routes=routes, managed_routes=list(names))


def snapshot_of(rollout: Rollout, vs: dict[str, Any], rule: dict[str, Any] | None = None) -> RolloutSnapshot:
    return RolloutSnapshot(
        rollout={"metadata": {"name": rollout.name, "namespace": NS}},
        now=T0,
        virtual_services={"reviews": vs},
        destination_rule=rule,
    )


def header(name: str, match: list[dict[str, Any]] | None = None) -> SetHeaderRoute:
    return SetHeaderRoute.model_validate({"name": name, **({"match": match} if match is not None else {})})


def mirror(name: str, match: list[dict[str, Any]] | None = None, percentage: int | None = None) -> SetMirrorRoute:
    body: dict[str, Any] = {"name": name}
    if match is not None:
        body["match"] = match
    if percentage is not None:
        body["percentage"] = percentage
    return SetMirrorRoute.model_validate(body)


def routed_http(result: RoutingResult, vs: dict[str, Any]) -> list[dict[str, Any]]:
    """The VirtualService's HTTP routes once the result's single patch is applied."""
    assert result.problems == ()
    assert len(result.writes) == 1
    write = result.writes[0]
    assert isinstance(write, Patch) and write.kind == VIRTUAL_SERVICES
    routes: list[dict[str, Any]] = apply_merge_patch(vs, write.patch)["spec"]["http"]
    return routes


FIREFOX = [{"headerName": "agent", "headerValue": {"regex": "firefox(.*)"}}]


def test_header_route_sends_matching_requests_to_the_canary_service_before_the_primary_route() -> None:
    rollout = rollout_with_routes("set-header-1", routes=["primary"])
    vs = virtual_service(http=[primary(20, 80)])
    result = ROUTER.set_header_route(
        HeaderRouteRequest(rollout, snapshot_of(rollout, vs), header("set-header-1", FIREFOX))
    )
    assert routed_http(result, vs) == [
        {
            "name": "set-header-1",
            "match": [{"headers": {"agent": {"regex": "firefox(.*)"}}}],
            "route": [{"destination": {"host": CANARY_SVC}, "weight": 100}],
        },
        primary(20, 80),
    ]


def test_each_header_match_is_an_alternative_match_of_the_route() -> None:
    rollout = rollout_with_routes("beta")
    vs = virtual_service(http=[primary()])
    matches = [
        {"headerName": "x-beta", "headerValue": {"exact": "yes"}},
        {"headerName": "agent", "headerValue": {"prefix": "curl/"}},
    ]
    result = ROUTER.set_header_route(HeaderRouteRequest(rollout, snapshot_of(rollout, vs), header("beta", matches)))
    assert routed_http(result, vs)[0]["match"] == [
        {"headers": {"x-beta": {"exact": "yes"}}},
        {"headers": {"agent": {"prefix": "curl/"}}},
    ]


def test_a_later_header_step_replaces_the_route_of_the_same_name_in_place() -> None:
    rollout = rollout_with_routes("set-header-1")
    firefox_route = http_route("set-header-1", dest(CANARY_SVC, 100), match=[{"headers": {"agent": {"regex": "x"}}}])
    vs = virtual_service(http=[firefox_route, primary(20, 80)])
    chrome = [{"headerName": "agent", "headerValue": {"regex": "chrome(.*)"}}]
    http = routed_http(
        ROUTER.set_header_route(HeaderRouteRequest(rollout, snapshot_of(rollout, vs), header("set-header-1", chrome))),
        vs,
    )
    assert [route["name"] for route in http] == ["set-header-1", "primary"]
    assert http[0]["match"] == [{"headers": {"agent": {"regex": "chrome(.*)"}}}]


def test_header_step_without_match_removes_its_route() -> None:
    rollout = rollout_with_routes("set-header-1")
    header_route = http_route("set-header-1", dest(CANARY_SVC, 100), match=[{"headers": {"agent": {"exact": "a"}}}])
    vs = virtual_service(http=[header_route, primary(40, 60)])
    result = ROUTER.set_header_route(HeaderRouteRequest(rollout, snapshot_of(rollout, vs), header("set-header-1")))
    assert routed_http(result, vs) == [primary(40, 60)]


def test_managed_routes_are_ordered_as_managed_routes_lists_them() -> None:
    # Argo orders the managed routes first, in the order of trafficRouting.managedRoutes, whatever order the
    # steps add them in.
    rollout = rollout_with_routes("first", "second")
    second = http_route("second", dest(CANARY_SVC, 100), match=[{"headers": {"b": {"exact": "1"}}}])
    vs = virtual_service(http=[second, primary()])
    http = routed_http(
        ROUTER.set_header_route(
            HeaderRouteRequest(
                rollout, snapshot_of(rollout, vs), header("first", [{"headerName": "a", "headerValue": {"exact": "1"}}])
            )
        ),
        vs,
    )
    assert [route["name"] for route in http] == ["first", "second", "primary"]


def test_header_route_in_subset_mode_targets_the_canary_subset_of_the_host() -> None:
    rule = {"name": "reviews-destrule", "canarySubsetName": "canary", "stableSubsetName": "stable"}
    rollout = make_rollout(
        {"virtualService": {"name": "reviews"}, "destinationRule": rule},
        canary_service=None,
        stable_service=None,
        managed_routes=["beta"],
    )
    subset_primary = http_route("primary", dest("reviews", 90, subset="stable"), dest("reviews", 10, subset="canary"))
    vs = virtual_service(http=[subset_primary])
    result = ROUTER.set_header_route(
        HeaderRouteRequest(
            rollout,
            snapshot_of(rollout, vs, destination_rule()),
            header("beta", [{"headerName": "x-beta", "headerValue": {"exact": "1"}}]),
        )
    )
    assert routed_http(result, vs)[0]["route"] == [
        {"destination": {"host": "reviews", "subset": "canary"}, "weight": 100}
    ]


def test_a_route_not_in_managed_routes_is_refused_and_nothing_is_written() -> None:
    rollout = rollout_with_routes("declared")
    vs = virtual_service(http=[primary()])
    result = ROUTER.set_header_route(
        HeaderRouteRequest(rollout, snapshot_of(rollout, vs), header("undeclared", FIREFOX))
    )
    assert result.writes == ()
    assert result.problems == ('route "undeclared" is not in trafficRouting.managedRoutes',)


def test_header_route_on_a_missing_virtual_service_is_a_problem() -> None:
    rollout = rollout_with_routes("beta")
    snapshot = RolloutSnapshot(rollout={}, now=T0, virtual_services={})
    result = ROUTER.set_header_route(HeaderRouteRequest(rollout, snapshot, header("beta", FIREFOX)))
    assert result.writes == ()
    assert result.problems == (f'VirtualService "reviews" not found in namespace "{NS}"',)


def test_an_unchanged_header_route_writes_nothing() -> None:
    rollout = rollout_with_routes("beta")
    vs = virtual_service(http=[primary()])
    first = ROUTER.set_header_route(HeaderRouteRequest(rollout, snapshot_of(rollout, vs), header("beta", FIREFOX)))
    routed = {**vs, "spec": {**vs["spec"], "http": routed_http(first, vs)}}
    again = ROUTER.set_header_route(HeaderRouteRequest(rollout, snapshot_of(rollout, routed), header("beta", FIREFOX)))
    assert again == RoutingResult(writes=(), problems=())


def test_mirror_route_copies_the_weighted_route_and_mirrors_a_percentage_to_the_canary() -> None:
    # Argo's examples/istio/istio-mirror.yaml step: mirror 50 % of POSTs under /color.
    rollout = rollout_with_routes("mirror-route", routes=["primary"])
    vs = virtual_service(http=[primary(0, 100)])
    step = mirror("mirror-route", [{"method": {"exact": "POST"}, "path": {"prefix": "/color"}}], percentage=50)
    result = ROUTER.set_mirror_route(MirrorRouteRequest(rollout, snapshot_of(rollout, vs), step))
    assert routed_http(result, vs) == [
        {
            "name": "mirror-route",
            "match": [{"method": {"exact": "POST"}, "uri": {"prefix": "/color"}}],
            "route": [dest(STABLE_SVC, 100), dest(CANARY_SVC, 0)],
            "mirror": {"host": CANARY_SVC},
            "mirrorPercentage": {"value": 50.0},
        },
        primary(0, 100),
    ]


def test_mirror_route_without_percentage_mirrors_everything_that_matches() -> None:
    rollout = rollout_with_routes("m")
    vs = virtual_service(http=[primary()])
    step = mirror("m", [{"headers": {"x-mirror": {"exact": "1"}}}])
    http = routed_http(ROUTER.set_mirror_route(MirrorRouteRequest(rollout, snapshot_of(rollout, vs), step)), vs)
    assert http[0]["mirrorPercentage"] == {"value": 100.0}
    assert http[0]["match"] == [{"headers": {"x-mirror": {"exact": "1"}}}]


def test_set_weight_keeps_a_mirror_route_in_step_with_the_weighted_route() -> None:
    rollout = rollout_with_routes("m", routes=["primary"])
    mirrored = http_route(
        "m",
        dest(STABLE_SVC, 100),
        dest(CANARY_SVC, 0),
        match=[{"method": {"exact": "GET"}}],
        mirror={"host": CANARY_SVC},
        mirrorPercentage={"value": 100.0},
    )
    vs = virtual_service(http=[mirrored, primary(0, 100)])
    result = ROUTER.set_weight(WeightRequest(rollout, snapshot_of(rollout, vs), 30, "new", "old"))
    http = routed_http(result, vs)
    assert http[0]["route"] == [dest(STABLE_SVC, 70), dest(CANARY_SVC, 30)]
    assert http[1] == primary(30, 70)


def test_remove_managed_routes_drops_every_managed_route_and_keeps_the_rest() -> None:
    rollout = rollout_with_routes("a", "b")
    vs = virtual_service(
        http=[
            http_route("a", dest(CANARY_SVC, 100), match=[{"headers": {"a": {"exact": "1"}}}]),
            http_route("b", dest(STABLE_SVC, 100), dest(CANARY_SVC, 0), mirror={"host": CANARY_SVC}),
            http_route("unmanaged-by-us", dest(STABLE_SVC, 100), match=[{"uri": {"prefix": "/admin"}}]),
            primary(0, 100),
        ]
    )
    result = ROUTER.remove_managed_routes(ManagedRoutesRequest(rollout, snapshot_of(rollout, vs)))
    assert [route["name"] for route in routed_http(result, vs)] == ["unmanaged-by-us", "primary"]


def test_remove_managed_routes_at_rest_writes_nothing() -> None:
    rollout = rollout_with_routes("a")
    vs = virtual_service(http=[primary()])
    assert ROUTER.remove_managed_routes(ManagedRoutesRequest(rollout, snapshot_of(rollout, vs))) == RoutingResult(
        writes=(), problems=()
    )


@pytest.mark.parametrize(
    ("observed_canary", "asked", "verified"),
    [(20, 20, True), (0, 20, False), (100, 100, True), (40, 0, False)],
)
def test_verify_weight_compares_the_observed_weighted_route_with_the_weight_asked_for(
    observed_canary: int, asked: int, verified: bool
) -> None:
    rollout = rollout_with_routes("beta", routes=["primary"])
    header_route = http_route("beta", dest(CANARY_SVC, 100), match=[{"headers": {"a": {"exact": "1"}}}])
    vs = virtual_service(http=[header_route, primary(observed_canary, 100 - observed_canary)])
    verification = ROUTER.verify_weight(WeightRequest(rollout, snapshot_of(rollout, vs), asked, None, None))
    assert verification.verified is verified
    if not verified:
        assert verification.mismatches == (
            f'route "primary" of VirtualService "reviews" routes {observed_canary} % to the canary, not {asked}',
        )


def test_verify_weight_cannot_tell_without_the_virtual_service() -> None:
    rollout = rollout_with_routes()
    snapshot = RolloutSnapshot(rollout={}, now=T0, virtual_services={})
    assert ROUTER.verify_weight(WeightRequest(rollout, snapshot, 10, None, None)).verified is None
