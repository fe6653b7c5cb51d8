"""Header- and mirror-based routing end to end: Argo Rollouts' own manifests ``test/e2e/header-routing/
istio-hr-host.yaml`` and ``examples/istio/istio-mirror.yaml`` run to completion in the sandbox under the real
controller, and their VirtualServices hold the managed routes exactly while the steps say so (Argo: the route named
in managedRoutes comes first, sends matching requests to the canary Service — or mirrors them to it — changes with a
later step of the same name, goes with a step without match, and every managed route goes when the update
completes)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kube.manifests import load_file
from kube.resources import VIRTUAL_SERVICES
from tests.conformance.corpus import corpus_dir, corpus_missing_reason
from tests.rollout_harness import RolloutCluster, route_weights

EXAMPLE = "test__e2e__header-routing__istio-hr-host.yaml"
VS = "rollouts-demo-vsvc"
ROLLOUT = "rollouts-demo"
HEADER_ROUTE = "set-header-1"


def example_documents(example: str = EXAMPLE) -> list[dict[str, Any]]:
    missing = corpus_missing_reason()
    if missing is not None:
        pytest.skip(missing)
    path = corpus_dir() / "argo-rollouts" / example
    if not path.is_file():
        pytest.skip(f"{path} is not in the corpus")
    documents = [copy.deepcopy(d.manifest) for d in load_file(path) if d.manifest is not None]
    # The Istio Gateway only admits outside traffic; the sandbox's mesh needs no ingress gateway object.
    documents = [d for d in documents if d.get("kind") != "Gateway"]
    for document in documents:
        if document.get("kind") == "VirtualService":
            # Istio serves every version alike; the harness creates VirtualServices at the storage version.
            document["apiVersion"] = VIRTUAL_SERVICES.api_version
    return documents


def http_routes(cluster: RolloutCluster, namespace: str) -> list[dict[str, Any]]:
    return list(cluster.must_get(VIRTUAL_SERVICES, namespace, VS)["spec"].get("http") or [])


def header_match(cluster: RolloutCluster, namespace: str) -> Any:
    """The headers the managed route matches, once it is the first route (None while it is not there)."""
    routes = http_routes(cluster, namespace)
    if not routes or routes[0].get("name") != HEADER_ROUTE:
        return None
    return routes[0]["match"]


def wait_for_paused_at(cluster: RolloutCluster, namespace: str, step: int) -> None:
    cluster.wait_for(
        lambda: (s := cluster.status(namespace, ROLLOUT)).get("currentStepIndex") == step
        and s.get("phase") == "Paused",
        f"paused at step {step}",
    )


def test_argo_header_routing_example_runs_to_completion(cluster: RolloutCluster, namespace: str) -> None:
    cluster.apply_all(namespace, example_documents())
    first = cluster.wait_for_phase(namespace, ROLLOUT, "Healthy")
    cluster.set_image(namespace, ROLLOUT, "nginx:1.20-alpine")

    wait_for_paused_at(cluster, namespace, 2)  # setWeight 20, setHeaderRoute firefox, then the pause
    firefox = [{"headers": {"agent": {"regex": "firefox(.*)"}}}]
    cluster.wait_for(lambda: header_match(cluster, namespace) == firefox, "the firefox header route, first")
    assert http_routes(cluster, namespace)[0]["route"] == [{"destination": {"host": "canary-service"}, "weight": 100}]
    assert route_weights(cluster.must_get(VIRTUAL_SERVICES, namespace, VS)) == {
        "stable-service": 80,
        "canary-service": 20,
    }

    cluster.promote(namespace, ROLLOUT)
    wait_for_paused_at(cluster, namespace, 4)
    chrome = [{"headers": {"agent": {"regex": "chrome(.*)"}}}]
    cluster.wait_for(lambda: header_match(cluster, namespace) == chrome, "the chrome header route replacing it")

    cluster.promote(namespace, ROLLOUT)
    wait_for_paused_at(cluster, namespace, 7)  # setWeight 40, setHeaderRoute without match, then the pause
    cluster.wait_for(
        lambda: [route.get("name") for route in http_routes(cluster, namespace)] == ["primary"],
        "the header route removed by the step without match",
    )

    cluster.promote(namespace, ROLLOUT)
    final = cluster.wait_for(
        lambda: (s := cluster.status(namespace, ROLLOUT)).get("phase") == "Healthy"
        and s.get("stableRS") not in (None, first["stableRS"])
        and s,
        "the new version promoted",
    )
    assert final["currentStepIndex"] == 8
    cluster.wait_for(
        lambda: route_weights(cluster.must_get(VIRTUAL_SERVICES, namespace, VS))
        == {"stable-service": 100, "canary-service": 0},
        "all traffic back on the stable Service",
    )
    assert [route.get("name") for route in http_routes(cluster, namespace)] == ["primary"]


def test_argo_mirror_example_runs_to_completion(cluster: RolloutCluster, namespace: str) -> None:
    vs, name = "istio-host-split-vsvc", "istio-host-split"
    cluster.apply_all(namespace, example_documents("examples__istio__istio-mirror.yaml"))
    first = cluster.wait_for_phase(namespace, name, "Healthy")
    cluster.set_image(namespace, name, "argoproj/rollouts-demo:blue")

    cluster.wait_for(
        lambda: (s := cluster.status(namespace, name)).get("currentStepIndex") == 2 and s.get("phase") == "Paused",
        "paused after the setMirrorRoute step",
    )
    routes = list(cluster.must_get(VIRTUAL_SERVICES, namespace, vs)["spec"]["http"])
    assert [route.get("name") for route in routes] == ["mirror-route", "primary"]
    assert routes[0]["match"] == [{"method": {"exact": "POST"}, "uri": {"prefix": "/color"}}]
    assert routes[0]["mirror"] == {"host": "istio-host-split-canary"}
    assert routes[0]["mirrorPercentage"] == {"value": 50.0}
    assert routes[0]["route"] == routes[1]["route"]  # mirrored requests are answered as the weights say

    cluster.promote(namespace, name)
    cluster.wait_for(
        lambda: (s := cluster.status(namespace, name)).get("phase") == "Healthy"
        and s.get("stableRS") not in (None, first["stableRS"]),
        "the new version promoted",
    )
    cluster.wait_for(
        lambda: [r.get("name") for r in cluster.must_get(VIRTUAL_SERVICES, namespace, vs)["spec"]["http"]]
        == ["primary"],
        "the mirror route removed at completion",
    )
