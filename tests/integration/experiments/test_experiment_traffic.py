"""An experiment step with a weighted template under the real controllers and the sandbox's mesh: the simulated
clients' requests reach the experiment's own Service with the template's share while the Experiment runs (Argo:
the share comes out of the stable's, the canary keeps the last setWeight), and all of them go back to the stable
and canary Services when the step ends."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from kube.resources import EXPERIMENTS, VIRTUAL_SERVICES
from tests.integration.rollouts.test_ingress_and_gateway_routing import mesh_rates, shares
from tests.rollout_harness import RolloutCluster, load_decide, reviews_objects, route_weights

REVIEWS = "reviews"
WEIGHTED_EXPERIMENT_STEP: dict[str, Any] = {
    "experiment": {"templates": [{"name": "try", "specRef": "canary", "weight": 30}]}
}


@pytest.fixture(scope="module")
def mesh_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RolloutCluster]:
    running = RolloutCluster(tmp_path_factory.mktemp("experiment-traffic"), ready_delay=0.1, mesh=True)
    running.start(load_decide())
    try:
        yield running
    finally:
        running.stop()


def test_the_mesh_serves_the_experiment_its_share_while_it_runs_and_none_after(mesh_cluster: RolloutCluster) -> None:
    cluster = mesh_cluster
    namespace = cluster.new_namespace("experiment-traffic")
    cluster.apply_all(namespace, reviews_objects(steps=[{"setWeight": 20}, WEIGHTED_EXPERIMENT_STEP]))
    stable = str(cluster.wait_for_phase(namespace, REVIEWS, "Healthy")["stableRS"])
    cluster.set_image(namespace, REVIEWS, "reviews:v2")
    new = str(cluster.wait_for(
        lambda: (h := cluster.status(namespace, REVIEWS).get("currentPodHash")) not in (None, stable) and h,
        "the new revision",
    ))
    experiment = f"{REVIEWS}-{new}-2-1"
    experiment_service = f"{experiment}-try"

    during = {"reviews-stable": 0.5, "reviews-canary": 0.2, experiment_service: 0.3}
    cluster.wait_for(lambda: shares(mesh_rates(cluster, namespace)) == during, f"the mesh splitting {during}")
    additional = cluster.wait_for(
        lambda: (cluster.status(namespace, REVIEWS)["canary"].get("weights") or {}).get("additional"),
        "status.canary.weights.additional",
    )
    assert [(entry["serviceName"], entry["weight"]) for entry in additional] == [(experiment_service, 30)]

    cluster.patch(EXPERIMENTS, namespace, experiment, {"spec": {"terminate": True}})

    cluster.wait_for(
        lambda: (s := cluster.status(namespace, REVIEWS)).get("stableRS") == new and s.get("phase") == "Healthy",
        "the Rollout promoted after its experiment",
    )
    after = {"reviews-stable": 1.0, "reviews-canary": 0.0}
    cluster.wait_for(lambda: shares(mesh_rates(cluster, namespace)) == after, f"the mesh back to {after}")
    virtual_service = cluster.must_get(VIRTUAL_SERVICES, namespace, REVIEWS)
    assert route_weights(virtual_service) == {"reviews-stable": 100, "reviews-canary": 0}
