"""A Gateway API canary with a ``setMirrorRoute`` step, end to end in the sandbox with its mesh simulator: the real
controller adds the managed rule with a ``RequestMirror`` filter to the canary Service, the requests that rule
catches are still answered as the weights say (the simulated clients' split does not move), and the rule goes when
the update completes. (The mesh simulator does not send mirrored copies.)"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from kube.resources import HTTP_ROUTES
from tests.integration.rollouts.test_ingress_and_gateway_routing import (
    mesh_rates,
    rollout,
    service,
    shares,
    wait_paused_at,
    wait_promoted,
)
from tests.rollout_harness import RolloutCluster, load_decide


@pytest.fixture(scope="module")
def mesh_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RolloutCluster]:
    running = RolloutCluster(tmp_path_factory.mktemp("gateway-mirror"), ready_delay=0.1, mesh=True)
    running.start(load_decide())
    try:
        yield running
    finally:
        running.stop()


def test_a_gateway_api_mirror_step_adds_a_request_mirror_rule_that_keeps_the_weights(
    mesh_cluster: RolloutCluster,
) -> None:
    cluster = mesh_cluster
    namespace = cluster.new_namespace("gateway-mirror")
    backend_refs = [{"name": "web-stable", "port": 80, "weight": 100}, {"name": "web-canary", "port": 80, "weight": 0}]
    http_route = {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": "web-route"},
        "spec": {"parentRefs": [{"name": "gateway"}], "rules": [{"backendRefs": backend_refs}]},
    }
    routing = {
        "plugins": {"argoproj-labs/gatewayAPI": {"httpRoute": "web-route", "namespace": namespace}},
        "managedRoutes": [{"name": "shadow"}],
    }
    steps = [
        {"setWeight": 30},
        {"setMirrorRoute": {"name": "shadow", "percentage": 50, "match": [{"method": {"exact": "GET"}}]}},
        {"pause": {}},
    ]
    cluster.apply_all(namespace, [service("web-stable"), service("web-canary"), http_route, rollout(routing, steps)])
    first = cluster.wait_for_phase(namespace, "web", "Healthy")
    cluster.set_image(namespace, "web", "web:v2")

    def rules() -> list[dict[str, Any]]:
        return list(cluster.must_get(HTTP_ROUTES, namespace, "web-route")["spec"]["rules"])

    wait_paused_at(cluster, namespace, 2)
    shadow, weighed = rules()
    assert (shadow["name"], shadow["matches"]) == ("shadow", [{"method": "GET"}])
    assert shadow["filters"] == [
        {"type": "RequestMirror", "requestMirror": {"backendRef": {"name": "web-canary", "port": 80}, "percent": 50}}
    ]
    assert shadow["backendRefs"] == weighed["backendRefs"] == [
        {"name": "web-stable", "port": 80, "weight": 70},
        {"name": "web-canary", "port": 80, "weight": 30},
    ]
    cluster.wait_for(
        lambda: shares(mesh_rates(cluster, namespace)) == {"web-stable": 0.7, "web-canary": 0.3},
        "the mesh answering mirrored and plain requests by the weights",
    )

    cluster.promote(namespace, "web")
    wait_promoted(cluster, namespace, str(first["stableRS"]))
    cluster.wait_for(lambda: len(rules()) == 1, "the mirror rule gone with the update")
    at_rest = [{"name": "web-stable", "port": 80, "weight": 100}, {"name": "web-canary", "port": 80, "weight": 0}]
    cluster.wait_for(lambda: rules()[0]["backendRefs"] == at_rest, "every request back on the stable Service")
