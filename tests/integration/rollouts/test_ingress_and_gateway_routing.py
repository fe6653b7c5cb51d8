"""Canaries through NGINX Ingress and the Gateway API, end to end in the sandbox with its mesh simulator: the real
controller creates and weighs the canary Ingress (Argo's NGINX router) or the HTTPRoute's backendRefs (Argo's
gatewayAPI plugin), the simulated clients' requests follow those weights, and the canary runs to completion."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from kube.resources import HTTP_ROUTES, INGRESSES
from tests.rollout_harness import RolloutCluster, load_decide
from tests.web_canary import web_canary

NGINX = "nginx.ingress.kubernetes.io"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RolloutCluster]:
    running = RolloutCluster(tmp_path_factory.mktemp("routers"), ready_delay=0.1, mesh=True)
    running.start(load_decide())
    try:
        yield running
    finally:
        running.stop()


def service(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]},
    }


def rollout(routing: dict[str, Any], steps: list[dict[str, Any]]) -> dict[str, Any]:
    return web_canary(routing, steps=steps, replicas=4)


def mesh_rates(cluster: RolloutCluster, namespace: str) -> dict[str, float]:
    """Requests per second the simulated clients send to each Service of the namespace, by the mesh's plans."""
    rates: dict[str, float] = {}
    for plan in cluster.sandbox.mesh.traffic.routes:
        for destination in plan.destinations:
            if destination.service_namespace == namespace:
                name = destination.service_name
                rates[name] = rates.get(name, 0.0) + destination.requests_per_second
    return rates


def shares(rates: dict[str, float]) -> dict[str, float]:
    total = sum(rates.values())
    return {name: round(rate / total, 2) for name, rate in rates.items()} if total else {}


def wait_paused_at(cluster: RolloutCluster, namespace: str, step: int) -> None:
    cluster.wait_for(
        lambda: (s := cluster.status(namespace, "web")).get("currentStepIndex") == step
        and s.get("phase") == "Paused",
        f"paused at step {step}",
    )


def wait_promoted(cluster: RolloutCluster, namespace: str, old_hash: str) -> dict[str, Any]:
    status: dict[str, Any] = cluster.wait_for(
        lambda: (s := cluster.status(namespace, "web")).get("phase") == "Healthy"
        and s.get("stableRS") not in (None, old_hash)
        and s,
        "the new version promoted",
    )
    return status


def test_an_nginx_canary_weighs_its_canary_ingress_routes_by_header_and_completes(
    cluster: RolloutCluster,
) -> None:
    namespace = cluster.new_namespace("nginx")
    path = {"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "web-stable", "port": {"number": 80}}}}
    stable_ingress = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": "web"},
        "spec": {"ingressClassName": "nginx", "rules": [{"host": "web.example.com", "http": {"paths": [path]}}]},
    }
    steps = [
        {"setWeight": 25},
        {"setHeaderRoute": {"name": "beta", "match": [{"headerName": "X-Beta", "headerValue": {"exact": "yes"}}]}},
        {"pause": {}},
        {"setWeight": 50},
        {"pause": {"duration": 1}},
    ]
    routing = {"nginx": {"stableIngress": "web"}, "managedRoutes": [{"name": "beta"}]}
    cluster.apply_all(
        namespace, [service("web-stable"), service("web-canary"), stable_ingress, rollout(routing, steps)]
    )
    first = cluster.wait_for_phase(namespace, "web", "Healthy")
    cluster.set_image(namespace, "web", "web:v2")

    wait_paused_at(cluster, namespace, 2)
    canary = cluster.must_get(INGRESSES, namespace, "web-web-canary")
    annotations = canary["metadata"]["annotations"]
    assert {key: annotations.get(key) for key in (f"{NGINX}/canary", f"{NGINX}/canary-weight")} == {
        f"{NGINX}/canary": "true",
        f"{NGINX}/canary-weight": "25",
    }
    assert (annotations[f"{NGINX}/canary-by-header"], annotations[f"{NGINX}/canary-by-header-value"]) == (
        "X-Beta",
        "yes",
    )
    assert canary["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"] == "web-canary"
    cluster.wait_for(
        lambda: shares(mesh_rates(cluster, namespace)) == {"web-stable": 0.75, "web-canary": 0.25},
        "the mesh sending a quarter of the requests to the canary Service",
    )

    cluster.promote(namespace, "web")
    wait_promoted(cluster, namespace, str(first["stableRS"]))
    final = cluster.wait_for(
        lambda: (a := cluster.must_get(INGRESSES, namespace, "web-web-canary")["metadata"]["annotations"])[
            f"{NGINX}/canary-weight"
        ]
        == "0"
        and a,
        "no weight left on the canary Ingress",
    )
    assert f"{NGINX}/canary-by-header" not in final  # managed routes go when the update completes
    cluster.wait_for(
        lambda: shares(mesh_rates(cluster, namespace)) == {"web-stable": 1.0, "web-canary": 0.0},
        "every request back on the stable Service",
    )


def test_a_gateway_api_canary_weighs_the_http_route_backend_refs_routes_by_header_and_completes(
    cluster: RolloutCluster,
) -> None:
    namespace = cluster.new_namespace("gateway")
    http_route = {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": "web-route"},
        "spec": {
            "parentRefs": [{"name": "gateway"}],
            "hostnames": ["web.example.com"],
            "rules": [
                {
                    "backendRefs": [
                        {"name": "web-stable", "port": 80, "weight": 100},
                        {"name": "web-canary", "port": 80, "weight": 0},
                    ]
                }
            ],
        },
    }
    routing = {
        "plugins": {"argoproj-labs/gatewayAPI": {"httpRoute": "web-route", "namespace": namespace}},
        "managedRoutes": [{"name": "beta"}],
    }
    steps = [
        {"setWeight": 30},
        {"setHeaderRoute": {"name": "beta", "match": [{"headerName": "X-Beta", "headerValue": {"exact": "yes"}}]}},
        {"pause": {}},
        {"setWeight": 60},
        {"pause": {"duration": 1}},
    ]
    cluster.apply_all(namespace, [service("web-stable"), service("web-canary"), http_route, rollout(routing, steps)])
    first = cluster.wait_for_phase(namespace, "web", "Healthy")
    cluster.set_image(namespace, "web", "web:v2")

    def rules() -> list[dict[str, Any]]:
        return list(cluster.must_get(HTTP_ROUTES, namespace, "web-route")["spec"]["rules"])

    def weights() -> dict[str, int]:
        return {ref["name"]: ref["weight"] for ref in rules()[-1]["backendRefs"]}

    wait_paused_at(cluster, namespace, 2)
    assert weights() == {"web-stable": 70, "web-canary": 30}
    assert rules()[0] == {
        "name": "beta",
        "matches": [{"headers": [{"name": "X-Beta", "type": "Exact", "value": "yes"}]}],
        "backendRefs": [{"name": "web-canary", "port": 80}],
    }
    cluster.wait_for(
        lambda: shares(mesh_rates(cluster, namespace)) == {"web-stable": 0.7, "web-canary": 0.3},
        "the mesh following the HTTPRoute's weights",
    )
    cluster.promote(namespace, "web")
    wait_promoted(cluster, namespace, str(first["stableRS"]))
    cluster.wait_for(lambda: weights() == {"web-stable": 100, "web-canary": 0}, "every request back on stable")
    assert len(rules()) == 1  # the header rule goes when the update completes
