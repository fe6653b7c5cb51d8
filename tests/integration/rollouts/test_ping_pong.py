"""A pingPong canary end to end in the sandbox, with its mesh simulator: ``examples/canary-ping-pong/`` under the real
controller. Argo's documented behaviour: the ping Service serves the first version; an update points the other
Service at the new pods and the Istio route weighs the two hosts step by step; when the update completes
``status.canary.stablePingPong`` flips and the next update uses the other Service; an abort sends everything back
to the stable Service. The simulated clients' requests follow the weights to the pods of each version, and
``rollouts get rollout`` marks the ReplicaSets ping and pong."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cli.main import _register_commands, app
from kube.manifests import load_manifests
from kube.resources import SERVICES, VIRTUAL_SERVICES
from rollouts.hashing import HASH_LABEL
from tests.rollout_harness import RolloutCluster, load_decide, route_weights

_register_commands()  # as the console script does before it runs `app` (and as the CLI's own tests do)

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "canary-ping-pong"
NAME, PING, PONG = "reviews", "reviews-ping", "reviews-pong"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RolloutCluster]:
    running = RolloutCluster(tmp_path_factory.mktemp("ping-pong"), ready_delay=0.1, mesh=True)
    running.start(load_decide())
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def namespace(cluster: RolloutCluster) -> str:
    return cluster.new_namespace()


def example_documents() -> list[dict[str, Any]]:
    documents = [document.manifest for document in load_manifests([EXAMPLE]) if document.manifest is not None]
    for document in documents:
        if document.get("kind") == "VirtualService":
            document["apiVersion"] = VIRTUAL_SERVICES.api_version  # the harness creates the storage version
    return documents


def selects(cluster: RolloutCluster, namespace: str, service: str) -> str | None:
    selector = cluster.must_get(SERVICES, namespace, service)["spec"].get("selector") or {}
    value = selector.get(HASH_LABEL)
    return str(value) if value is not None else None


def host_weights(cluster: RolloutCluster, namespace: str) -> dict[str, int]:
    return route_weights(cluster.must_get(VIRTUAL_SERVICES, namespace, NAME))


def served_shares(cluster: RolloutCluster, namespace: str) -> dict[str, float]:
    """The share of the simulated clients' requests each version's pods get (by pod-template hash), as the mesh
    plans them: a destination's requests are dealt evenly over the ready pods its Service selects."""
    rates: dict[str, float] = {}
    for plan in cluster.sandbox.mesh.traffic.routes:
        for destination in plan.destinations:
            if destination.service_namespace != namespace or not destination.endpoints:
                continue
            each = destination.requests_per_second / len(destination.endpoints)
            for endpoint in destination.endpoints:
                version = endpoint.labels.get(HASH_LABEL, "")
                rates[version] = rates.get(version, 0.0) + each
    total = sum(rates.values())
    return {version: round(rate / total, 2) for version, rate in rates.items() if rate} if total else {}


def wait_paused_at(cluster: RolloutCluster, namespace: str, step: int) -> dict[str, Any]:
    found: dict[str, Any] = cluster.wait_for(
        lambda: (
            (s := cluster.status(namespace, NAME)).get("currentStepIndex") == step and s.get("phase") == "Paused" and s
        ),
        f"paused at step {step}",
    )
    return found


def wait_promoted(cluster: RolloutCluster, namespace: str, old_hash: str) -> dict[str, Any]:
    found: dict[str, Any] = cluster.wait_for(
        lambda: (
            (s := cluster.status(namespace, NAME)).get("phase") == "Healthy"
            and s.get("stableRS") not in (None, old_hash)
            and s
        ),
        "the new version promoted",
    )
    return found


def tree_markers(cluster: RolloutCluster, namespace: str) -> dict[str, str]:
    """``rollouts get rollout``'s INFO column for each ReplicaSet row: hash → markers."""
    result = CliRunner().invoke(app, ["get", "rollout", NAME, "-n", namespace, "--kubeconfig", str(cluster.kubeconfig)])
    assert result.exit_code == 0, result.output
    markers: dict[str, str] = {}
    for line in result.stdout.splitlines():
        if " ReplicaSet " in line:
            name = line.split("⧉", 1)[1].split()[0]
            markers[name.rsplit("-", 1)[1]] = " ".join(line.split(" ReplicaSet ", 1)[1].split()[3:])
    return markers


def run_update(cluster: RolloutCluster, namespace: str, image: str, canary: str, stable: str) -> dict[str, Any]:
    """One update to ``image`` through both pauses; ``canary`` is the Service that takes the new pods."""
    before = cluster.status(namespace, NAME)
    cluster.set_image(namespace, NAME, image)
    paused = wait_paused_at(cluster, namespace, 1)
    new_hash, old_hash = paused["currentPodHash"], before["stableRS"]
    assert (selects(cluster, namespace, canary), selects(cluster, namespace, stable)) == (new_hash, old_hash)
    assert host_weights(cluster, namespace) == {stable: 75, canary: 25}
    cluster.wait_for(
        lambda: served_shares(cluster, namespace) == {old_hash: 0.75, new_hash: 0.25},
        "a quarter of the requests served by the new pods",
    )
    assert tree_markers(cluster, namespace)[new_hash] == f"canary,{canary.removeprefix(NAME + '-')}"

    cluster.promote(namespace, NAME)
    cluster.wait_for(
        lambda: served_shares(cluster, namespace) == {old_hash: 0.5, new_hash: 0.5},
        "half of the requests served by the new pods",
    )
    done = wait_promoted(cluster, namespace, old_hash)
    assert done["stableRS"] == new_hash
    cluster.wait_for(
        lambda: served_shares(cluster, namespace) == {new_hash: 1.0},
        "every request served by the new pods",
    )
    assert host_weights(cluster, namespace) == {canary: 100, stable: 0}
    assert selects(cluster, namespace, canary) == new_hash  # the Service that took the canary is now the stable one
    return done


def test_two_updates_swap_the_ping_and_pong_roles_and_the_mesh_follows(cluster: RolloutCluster, namespace: str) -> None:
    cluster.apply_all(namespace, example_documents())
    first = cluster.wait_for_phase(namespace, NAME, "Healthy")
    assert first["canary"]["stablePingPong"] == "ping"
    assert selects(cluster, namespace, PING) == first["stableRS"]
    cluster.wait_for(
        lambda: served_shares(cluster, namespace) == {first["stableRS"]: 1.0}, "the first version serving everything"
    )
    assert tree_markers(cluster, namespace)[first["stableRS"]] == "stable,ping"

    second = run_update(cluster, namespace, "reviews:v2", canary=PONG, stable=PING)
    assert second["canary"]["stablePingPong"] == "pong"
    assert tree_markers(cluster, namespace)[second["stableRS"]] == "stable,pong"

    third = run_update(cluster, namespace, "reviews:v3", canary=PING, stable=PONG)
    assert third["canary"]["stablePingPong"] == "ping"
    assert tree_markers(cluster, namespace)[third["stableRS"]] == "stable,ping"


def test_an_abort_sends_every_request_back_to_the_stable_service(cluster: RolloutCluster, namespace: str) -> None:
    cluster.apply_all(namespace, example_documents())
    first = cluster.wait_for_phase(namespace, NAME, "Healthy")
    cluster.set_image(namespace, NAME, "reviews:v2")
    paused = wait_paused_at(cluster, namespace, 1)
    new_hash = paused["currentPodHash"]
    cluster.wait_for(
        lambda: served_shares(cluster, namespace) == {first["stableRS"]: 0.75, new_hash: 0.25},
        "a quarter of the requests served by the canary",
    )

    cluster.abort(namespace, NAME)
    cluster.wait_for(
        lambda: served_shares(cluster, namespace) == {first["stableRS"]: 1.0},
        "every request back on the stable pods",
    )
    status = cluster.wait_for_phase(namespace, NAME, "Degraded")
    assert host_weights(cluster, namespace) == {PING: 100, PONG: 0}
    assert status["canary"]["stablePingPong"] == "ping"
    assert status["stableRS"] == first["stableRS"]
    assert selects(cluster, namespace, PING) == first["stableRS"]
