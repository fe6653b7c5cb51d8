"""Argo Rollouts' workloadRef example (`examples/workload-ref/workload-ref.yaml`) runs in the sandbox under the real
controller.

The example is a Deployment at 0 replicas and a Rollout of 5 that names it in `workloadRef` (no template of its own,
no `scaleDown`: `never`), with the steps `setWeight: 20` and `pause: {duration: 10s}` (shortened to 1 s here). As
Argo's docs/migrating.md describes it: the Rollout runs the Deployment's pod template, and "to perform an update, the
change should be made to the Pod template field of the Deployment" — the Rollout then takes the new template through
its steps to Healthy. The Deployment itself is never scaled by the Rollout (scaleDown never).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kube.manifests import load_file
from kube.resources import DEPLOYMENTS
from tests.conformance.corpus import corpus_dir, corpus_missing_reason
from tests.rollout_harness import RolloutCluster, load_decide

_MISSING = corpus_missing_reason()
if _MISSING is not None:
    pytest.skip(_MISSING, allow_module_level=True)

EXAMPLE = corpus_dir() / "argo-rollouts" / "examples__workload-ref__workload-ref.yaml"
NAME = "rollout-ref-deployment"
TIMEOUT = 30.0


def load_example() -> list[dict[str, Any]]:
    if not EXAMPLE.is_file():
        pytest.skip(f"{EXAMPLE} is not in the corpus")
    documents = [copy.deepcopy(d.manifest) for d in load_file(EXAMPLE) if d.manifest is not None]
    for document in documents:
        if document.get("kind") == "Rollout":
            for step in document["spec"]["strategy"]["canary"]["steps"]:
                if isinstance(step.get("pause"), dict) and step["pause"].get("duration") is not None:
                    step["pause"]["duration"] = 1
    return documents


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RolloutCluster]:
    decide = load_decide()
    running = RolloutCluster(Path(tmp_path_factory.mktemp("argo-workload-ref")), ready_delay=0.1)
    running.start(decide)
    try:
        yield running
    finally:
        running.stop()


def images_of(replica_set: dict[str, Any]) -> list[str]:
    return [c["image"] for c in replica_set["spec"]["template"]["spec"]["containers"]]


def test_workload_ref_runs_the_deployments_template_and_follows_its_changes(cluster: RolloutCluster) -> None:
    namespace = cluster.new_namespace("workload-ref")
    cluster.apply_all(namespace, load_example())
    first = cluster.wait_for_phase(namespace, NAME, "Healthy", timeout=TIMEOUT)
    stable = cluster.replica_set_for_hash(namespace, str(first["stableRS"]))
    assert stable is not None
    assert images_of(stable) == ["argoproj/rollouts-demo:blue"] and stable["spec"]["replicas"] == 5
    assert first["workloadObservedGeneration"] == "1"

    # An update is a change of the Deployment's pod template.
    containers = [{"name": "rollouts-demo", "image": "argoproj/rollouts-demo:yellow"}]
    cluster.patch(DEPLOYMENTS, namespace, NAME, {"spec": {"template": {"spec": {"containers": containers}}}})
    cluster.wait_for(
        lambda: cluster.status(namespace, NAME).get("currentPodHash") not in (None, first["stableRS"]),
        "a new revision from the Deployment's template",
    )
    final = cluster.wait_for(
        lambda: (s := cluster.status(namespace, NAME)).get("phase") == "Healthy"
        and s.get("stableRS") == s.get("currentPodHash")
        and s,
        "the new template promoted",
        timeout=TIMEOUT,
    )
    assert final["currentStepIndex"] == 2  # both steps ran
    promoted = cluster.replica_set_for_hash(namespace, str(final["stableRS"]))
    assert promoted is not None
    assert images_of(promoted) == ["argoproj/rollouts-demo:yellow"] and promoted["spec"]["replicas"] == 5
    assert "RolloutStepCompleted" in cluster.event_reasons(namespace)
    # scaleDown defaults to never: the Deployment keeps the 0 replicas it was given.
    assert cluster.must_get(DEPLOYMENTS, namespace, NAME)["spec"]["replicas"] == 0
    rollout = cluster.rollout(namespace, NAME)
    assert "template" not in rollout["spec"]  # nothing of the Deployment is written into the Rollout
