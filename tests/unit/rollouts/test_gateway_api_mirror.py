"""``setMirrorRoute`` through the Gateway API: a managed HTTPRoute rule whose ``RequestMirror`` filter copies the
matching requests to the canary Service, while its backendRefs (a copy of the weighed rule's) answer them as the
weights say — what Argo's Istio router does with a VirtualService mirror route, in Gateway API terms (HTTPRoute
``filters[].requestMirror``, ``percent`` from Gateway API 1.2)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from rollouts.models import Rollout, SetMirrorRoute
from rollouts.snapshot import RolloutSnapshot
from rollouts.traffic.router import ManagedRoutesRequest, MirrorRouteRequest, WeightRequest
from rollouts.validation import validate_rollout
from tests.unit.rollouts.test_gateway_api_router import (
    ROUTER,
    WEIGHED_RULE,
    http_route,
    manifest,
    ref,
    rollout,
    weighed,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
MANAGED = rollout(managed_routes=("shadow",))


def mirror(match: list[dict[str, Any]], percentage: int | None = None) -> SetMirrorRoute:
    body: dict[str, Any] = {"name": "shadow", "match": match}
    if percentage is not None:
        body["percentage"] = percentage
    return SetMirrorRoute.model_validate(body)


def snapshot_of(route: dict[str, Any]) -> RolloutSnapshot:
    return RolloutSnapshot(rollout={}, now=T0, http_routes={"web-route": route})


def mirror_rule(matches: list[dict[str, Any]], refs: list[dict[str, Any]], percent: int | None) -> dict[str, Any]:
    request_mirror: dict[str, Any] = {"backendRef": {"name": "web-canary", "port": 80}}
    if percent is not None:
        request_mirror["percent"] = percent
    return {
        "name": "shadow",
        "matches": matches,
        "filters": [{"type": "RequestMirror", "requestMirror": request_mirror}],
        "backendRefs": refs,
    }


@pytest.mark.parametrize(
    ("match", "expected"),
    [
        ([{"method": {"exact": "GET"}}], [{"method": "GET"}]),
        ([{"path": {"exact": "/cart"}}], [{"path": {"type": "Exact", "value": "/cart"}}]),
        ([{"path": {"regex": "/cart/[0-9]+"}}], [{"path": {"type": "RegularExpression", "value": "/cart/[0-9]+"}}]),
        # Istio's uri prefix is a string prefix; PathPrefix would only match whole path elements.
        ([{"path": {"prefix": "/api/v1"}}], [{"path": {"type": "RegularExpression", "value": "^/api/v1.*"}}]),
        (
            [{"headers": {"X-Shadow": {"exact": "on"}}, "method": {"exact": "POST"}}],
            [{"method": "POST", "headers": [{"name": "X-Shadow", "type": "Exact", "value": "on"}]}],
        ),
        (
            [{"method": {"exact": "GET"}}, {"method": {"exact": "HEAD"}}],
            [{"method": "GET"}, {"method": "HEAD"}],
        ),
    ],
)
def test_a_mirror_route_is_a_named_rule_first_mirroring_matching_requests_to_the_canary(
    match: list[dict[str, Any]], expected: list[dict[str, Any]]
) -> None:
    route = http_route(WEIGHED_RULE)

    result = ROUTER.set_mirror_route(MirrorRouteRequest(MANAGED, snapshot_of(route), mirror(match)))

    assert weighed(result, route) == [mirror_rule(expected, WEIGHED_RULE["backendRefs"], None), WEIGHED_RULE]


def test_the_percentage_is_the_request_mirror_percent() -> None:
    route = http_route(WEIGHED_RULE)

    result = ROUTER.set_mirror_route(
        MirrorRouteRequest(MANAGED, snapshot_of(route), mirror([{"method": {"exact": "GET"}}], percentage=35))
    )

    rules = weighed(result, route)
    assert rules[0]["filters"] == [
        {"type": "RequestMirror", "requestMirror": {"backendRef": {"name": "web-canary", "port": 80}, "percent": 35}}
    ]


def test_the_mirror_rule_follows_the_weights_and_goes_with_the_managed_routes() -> None:
    shadow = mirror_rule([{"method": "GET"}], WEIGHED_RULE["backendRefs"], 50)
    route = http_route(shadow, WEIGHED_RULE)
    snapshot = snapshot_of(route)

    rules = weighed(ROUTER.set_weight(WeightRequest(MANAGED, snapshot, 60, "new", "old")), route)

    assert [r["backendRefs"] for r in rules] == [[ref("web-stable", 40), ref("web-canary", 60)]] * 2
    assert weighed(ROUTER.remove_managed_routes(ManagedRoutesRequest(MANAGED, snapshot)), route) == [WEIGHED_RULE]
    assert weighed(ROUTER.set_mirror_route(MirrorRouteRequest(MANAGED, snapshot, mirror([]))), route) == [
        WEIGHED_RULE
    ]


def test_an_http_route_without_a_weighed_rule_gets_no_mirror_rule() -> None:
    route = http_route({"backendRefs": [ref("web-stable")]})

    request = MirrorRouteRequest(MANAGED, snapshot_of(route), mirror([{"method": {"exact": "GET"}}]))

    result = ROUTER.set_mirror_route(request)

    assert result.writes == ()
    assert result.problems == ('HTTPRoute "web-route" has no weighed rule with the canaryService "web-canary"',)


@pytest.mark.parametrize("method", [{"prefix": "G"}, {"regex": "GET|HEAD"}])
def test_a_method_pattern_is_an_invalid_spec_naming_the_field(method: dict[str, str]) -> None:
    body = manifest({"httpRoute": "web-route"}, ("shadow",))
    step = {"setMirrorRoute": {"name": "shadow", "match": [{"method": method}]}}
    body["spec"]["strategy"]["canary"]["steps"] = [step]

    issues = [str(issue) for issue in validate_rollout(Rollout.model_validate(body))]

    assert issues == [
        "spec.strategy.canary.steps[0].setMirrorRoute.match[0].method: must be exact with the Gateway API (it has no "
        "method patterns)"
    ]
