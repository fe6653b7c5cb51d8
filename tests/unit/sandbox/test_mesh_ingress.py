"""The mesh simulator's routes through NGINX canary Ingresses and Gateway API HTTPRoutes: plain requests split by
``canary-weight`` (out of ``canary-weight-total``, default 100, as NGINX documents) and by HTTPRoute backendRef
weights (the Gateway API's default weight is 1), to the ready pods each Service selects."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.mesh_ingress import plan_http_route_routes, plan_ingress_routes
from sandbox.mesh_traffic import ready_endpoints
from tests.unit.sandbox.test_mesh_traffic import rollout_pod, service

HASH = "rollouts-pod-template-hash"
SERVICES = {
    ("default", "web-stable"): service("web-stable", {"app": "reviews", HASH: "v1"}),
    ("default", "web-canary"): service("web-canary", {"app": "reviews", HASH: "v2"}),
}
ENDPOINTS = ready_endpoints([rollout_pod("a", "v1"), rollout_pod("b", "v2")])


def ingress(name: str, backend: str, annotations: dict[str, str] | None = None) -> dict[str, Any]:
    path = {"path": "/", "pathType": "Prefix", "backend": {"service": {"name": backend, "port": {"number": 80}}}}
    return {
        "metadata": {"name": name, "namespace": "default", "annotations": annotations or {}},
        "spec": {"rules": [{"host": "web.example.com", "http": {"paths": [path]}}]},
    }


def rates(plans: list[Any]) -> dict[str, float]:
    return {d.service_name: d.requests_per_second for plan in plans for d in plan.destinations}


@pytest.mark.parametrize(
    ("annotations", "expected"),
    [
        (
            {"nginx.ingress.kubernetes.io/canary": "true", "nginx.ingress.kubernetes.io/canary-weight": "20"},
            {"web-stable": 80.0, "web-canary": 20.0},
        ),
        (
            {"custom.org/canary": "true", "custom.org/canary-weight": "250", "custom.org/canary-weight-total": "1000"},
            {"web-stable": 75.0, "web-canary": 25.0},
        ),
        (
            {"nginx.ingress.kubernetes.io/canary": "true", "nginx.ingress.kubernetes.io/canary-weight": "0"},
            {"web-stable": 100.0, "web-canary": 0.0},
        ),
    ],
)
def test_a_canary_ingress_takes_its_weight_of_the_hosts_requests(
    annotations: dict[str, str], expected: dict[str, float]
) -> None:
    plans = plan_ingress_routes(
        [ingress("web", "web-stable"), ingress("web-web-canary", "web-canary", annotations)],
        SERVICES,
        ENDPOINTS,
        requests_per_second=100.0,
    )
    assert rates(plans) == expected
    assert [d.endpoints[0].name for d in plans[0].destinations] == ["a", "b"]


def test_without_a_canary_ingress_the_stable_backend_takes_everything() -> None:
    plans = plan_ingress_routes([ingress("web", "web-stable")], SERVICES, ENDPOINTS, requests_per_second=10.0)
    assert rates(plans) == {"web-stable": 10.0}


def http_route(rules: list[dict[str, Any]]) -> dict[str, Any]:
    return {"metadata": {"name": "web", "namespace": "default"}, "spec": {"hostnames": ["web"], "rules": rules}}


def test_an_http_route_splits_plain_requests_by_backend_ref_weights() -> None:
    route = http_route([{"backendRefs": [{"name": "web-stable", "weight": 70}, {"name": "web-canary", "weight": 30}]}])
    assert rates(plan_http_route_routes([route], SERVICES, ENDPOINTS, requests_per_second=10.0)) == {
        "web-stable": 7.0,
        "web-canary": 3.0,
    }


def test_backend_refs_without_weights_share_equally_and_header_rules_get_no_plain_requests() -> None:
    header_rule = {"matches": [{"headers": [{"name": "x", "value": "1"}]}], "backendRefs": [{"name": "web-canary"}]}
    route = http_route([header_rule, {"backendRefs": [{"name": "web-stable"}, {"name": "web-canary"}]}])
    plans = plan_http_route_routes([route], SERVICES, ENDPOINTS, requests_per_second=10.0)
    assert [plan.route for plan in plans] == ["rules[1]"]
    assert rates(plans) == {"web-stable": 5.0, "web-canary": 5.0}
