"""Gateway API routing through the router interface, as Argo Rollouts' gatewayAPI plugin documents it: the
Rollout names its HTTPRoute in ``plugins["argoproj-labs/gatewayAPI"]`` and the canary and stable backendRefs of the
route's rules get the canary weight and the rest."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from kube.merge_patch import apply_merge_patch
from kube.resources import HTTP_ROUTES
from rollouts.models import Rollout, SetHeaderRoute
from rollouts.plan import Patch
from rollouts.snapshot import RolloutSnapshot, referenced_objects
from rollouts.traffic.gateway_api import GatewayApiRouter, http_route_references
from rollouts.traffic.router import HeaderRouteRequest, ManagedRoutesRequest, RoutingResult, WeightRequest
from tests.web_canary import web_canary

T0 = datetime(2026, 1, 1, tzinfo=UTC)
ROUTER = GatewayApiRouter()
PLUGIN = "argoproj-labs/gatewayAPI"


def manifest(config: Any, managed_routes: tuple[str, ...] = ()) -> dict[str, Any]:
    routing = {"plugins": {PLUGIN: config}, "managedRoutes": [{"name": name} for name in managed_routes]}
    return web_canary(routing, namespace="shop")


def rollout(config: Any = None, managed_routes: tuple[str, ...] = ()) -> Rollout:
    return Rollout.model_validate(
        manifest(config if config is not None else {"httpRoute": "web-route"}, managed_routes)
    )


def ref(name: str, weight: int | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"name": name, "port": 80}
    if weight is not None:
        body["weight"] = weight
    return body


def http_route(*rules: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": "web-route", "namespace": "shop", "resourceVersion": "5"},
        "spec": {"parentRefs": [{"name": "gateway"}], "hostnames": ["web.example.com"], "rules": list(rules)},
    }


def weighed(result: RoutingResult, observed: dict[str, Any]) -> list[Any]:
    assert result.problems == ()
    (write,) = result.writes
    assert isinstance(write, Patch) and write.kind == HTTP_ROUTES and write.namespace == "shop"
    assert write.patch["metadata"] == {"resourceVersion": "5"}
    rules: list[Any] = apply_merge_patch(observed, write.patch)["spec"]["rules"]
    return rules


def test_the_canary_backend_ref_gets_the_weight_and_the_stable_one_the_rest() -> None:
    route = http_route({"backendRefs": [ref("web-stable", 100), ref("web-canary", 0)]})
    snapshot = RolloutSnapshot(rollout={}, now=T0, http_routes={"web-route": route})
    result = ROUTER.set_weight(WeightRequest(rollout(), snapshot, 30, "new", "old"))
    assert result.current_weight == 0
    assert weighed(result, route) == [{"backendRefs": [ref("web-stable", 70), ref("web-canary", 30)]}]


def test_rules_routing_something_else_are_left_alone() -> None:
    other = {"matches": [{"path": {"type": "PathPrefix", "value": "/admin"}}], "backendRefs": [ref("admin")]}
    route = http_route(other, {"backendRefs": [ref("web-stable"), ref("web-canary")]})
    snapshot = RolloutSnapshot(rollout={}, now=T0, http_routes={"web-route": route})
    result = ROUTER.set_weight(WeightRequest(rollout(), snapshot, 50, "new", "old"))
    assert result.current_weight == 1  # the Gateway API's default weight
    assert weighed(result, route) == [other, {"backendRefs": [ref("web-stable", 50), ref("web-canary", 50)]}]


def test_an_unchanged_weight_writes_nothing() -> None:
    route = http_route({"backendRefs": [ref("web-stable", 80), ref("web-canary", 20)]})
    snapshot = RolloutSnapshot(rollout={}, now=T0, http_routes={"web-route": route})
    assert ROUTER.set_weight(WeightRequest(rollout(), snapshot, 20, "", "")) == RoutingResult(
        writes=(), problems=(), current_weight=20
    )


def test_a_missing_http_route_or_one_without_both_services_is_a_problem() -> None:
    missing = ROUTER.set_weight(WeightRequest(rollout(), RolloutSnapshot(rollout={}, now=T0), 20, "", ""))
    assert missing.problems == ('HTTPRoute "web-route" not found in namespace "shop"',)
    lonely = http_route({"backendRefs": [ref("web-stable")]})
    snapshot = RolloutSnapshot(rollout={}, now=T0, http_routes={"web-route": lonely})
    assert ROUTER.set_weight(WeightRequest(rollout(), snapshot, 20, "", "")).problems == (
        'HTTPRoute "web-route" has no rule with backendRefs to both the stableService "web-stable" '
        'and the canaryService "web-canary"',
    )


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"httpRoute": "a"}, (("a",), "shop")),
        (
            {"httpRoutes": [{"name": "a"}, {"name": "b", "useHeaderRoutes": True}], "namespace": "edge"},
            (("a", "b"), "edge"),
        ),
        ({}, "trafficRouting.plugins.argoproj-labs/gatewayAPI must name an HTTPRoute in httpRoute or httpRoutes"),
        (
            {"httpRoute": 3},
            "trafficRouting.plugins.argoproj-labs/gatewayAPI.httpRoute must be the name of an HTTPRoute",
        ),
    ],
)
def test_the_plugin_configuration_names_the_http_routes(config: dict[str, Any], expected: Any) -> None:
    found = http_route_references(config, "shop")
    assert (found if isinstance(found, str) else (found.names, found.namespace)) == expected


def test_the_controller_observes_the_http_routes_the_plugin_names() -> None:
    config = {"httpRoutes": [{"name": "a"}], "namespace": "edge"}
    assert referenced_objects(manifest(config)).http_routes == (("a", "edge"),)


def test_verify_weight_compares_every_weighed_rule() -> None:
    route = http_route({"backendRefs": [ref("web-stable", 60), ref("web-canary", 40)]})
    snapshot = RolloutSnapshot(rollout={}, now=T0, http_routes={"web-route": route})
    assert ROUTER.verify_weight(WeightRequest(rollout(), snapshot, 40, None, None)).verified is True
    assert ROUTER.verify_weight(WeightRequest(rollout(), snapshot, 10, None, None)).mismatches == (
        'HTTPRoute "web-route" rules[0] routes 40 to the canary, not 10',
    )


def header(name: str, value: dict[str, str] | None = None) -> SetHeaderRoute:
    match = [{"headerName": "X-Beta", "headerValue": value}] if value is not None else []
    return SetHeaderRoute.model_validate({"name": name, "match": match})


WEIGHED_RULE = {"backendRefs": [ref("web-stable", 80), ref("web-canary", 20)]}


@pytest.mark.parametrize(
    ("value", "header_match"),
    [
        ({"exact": "yes"}, {"name": "X-Beta", "type": "Exact", "value": "yes"}),
        ({"regex": "v[0-9]+"}, {"name": "X-Beta", "type": "RegularExpression", "value": "v[0-9]+"}),
        ({"prefix": "v1."}, {"name": "X-Beta", "type": "RegularExpression", "value": "^v1\\..*"}),
    ],
)
def test_a_header_route_is_a_named_rule_first_sending_matching_requests_to_the_canary(
    value: dict[str, str], header_match: dict[str, str]
) -> None:
    route = http_route(WEIGHED_RULE)
    snapshot = RolloutSnapshot(rollout={}, now=T0, http_routes={"web-route": route})
    result = ROUTER.set_header_route(
        HeaderRouteRequest(rollout(managed_routes=("beta",)), snapshot, header("beta", value))
    )
    assert weighed(result, route) == [
        {"name": "beta", "matches": [{"headers": [header_match]}], "backendRefs": [{"name": "web-canary", "port": 80}]},
        WEIGHED_RULE,
    ]


def test_weights_leave_the_header_rule_alone_and_removal_drops_it() -> None:
    header_rule = {
        "name": "beta",
        "matches": [{"headers": [{"name": "X-Beta", "type": "Exact", "value": "yes"}]}],
        "backendRefs": [{"name": "web-canary", "port": 80}],
    }
    route = http_route(header_rule, WEIGHED_RULE)
    snapshot = RolloutSnapshot(rollout={}, now=T0, http_routes={"web-route": route})
    managed = rollout(managed_routes=("beta",))
    assert weighed(ROUTER.set_weight(WeightRequest(managed, snapshot, 50, "", "")), route) == [
        header_rule,
        {"backendRefs": [ref("web-stable", 50), ref("web-canary", 50)]},
    ]
    assert weighed(ROUTER.remove_managed_routes(ManagedRoutesRequest(managed, snapshot)), route) == [WEIGHED_RULE]
    assert weighed(ROUTER.set_header_route(HeaderRouteRequest(managed, snapshot, header("beta"))), route) == [
        WEIGHED_RULE
    ]


def test_header_routes_go_only_to_http_routes_that_take_them() -> None:
    config = {"httpRoutes": [{"name": "web-route"}]}
    route = http_route(WEIGHED_RULE)
    snapshot = RolloutSnapshot(rollout={}, now=T0, http_routes={"web-route": route})
    result = ROUTER.set_header_route(
        HeaderRouteRequest(rollout(config, managed_routes=("beta",)), snapshot, header("beta", {"exact": "1"}))
    )
    assert result.problems == (
        "trafficRouting.plugins.argoproj-labs/gatewayAPI names no HTTPRoute for header routes: set httpRoute, "
        "or useHeaderRoutes: true",
    )
