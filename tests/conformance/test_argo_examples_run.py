"""Argo Rollouts' own examples run to completion in the sandbox under the real controller.

Each example is applied as written, except that timed pauses are shortened to one second (the loaded dicts
are rewritten, the files are not). Once the first version is Healthy its image is changed, and the new
version is driven to Healthy: timed pauses expire on their own, indefinite ones are promoted the way
`rollouts promote` does (a blue-green rollout waiting before its promotion included).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kube.manifests import load_file
from kube.resources import DESTINATION_RULES, SERVICES, VIRTUAL_SERVICES
from tests.conformance.corpus import corpus_dir, corpus_missing_reason
from tests.rollout_harness import HASH_LABEL, RolloutCluster, load_decide, route_weights

_MISSING = corpus_missing_reason()
if _MISSING is not None:
    pytest.skip(_MISSING, allow_module_level=True)

EXAMPLES = corpus_dir() / "argo-rollouts"
SHORT_PAUSE_SECONDS = 1
TIMEOUT = 30.0


def load_example(file_name: str) -> list[dict[str, Any]]:
    path = EXAMPLES / file_name
    if not path.is_file():
        pytest.skip(f"{path} is not in the corpus")
    documents = [copy.deepcopy(d.manifest) for d in load_file(path) if d.manifest is not None]
    for document in documents:
        if document.get("kind") == "Rollout":
            shorten_pauses(document)
    return documents


def shorten_pauses(rollout: dict[str, Any]) -> None:
    for step in rollout["spec"]["strategy"].get("canary", {}).get("steps") or []:
        pause = step.get("pause")
        if isinstance(pause, dict) and pause.get("duration") is not None:
            pause["duration"] = SHORT_PAUSE_SECONDS


def drive_to_completion(cluster: RolloutCluster, namespace: str, name: str, old_hash: str) -> dict[str, Any]:
    """Wait for the new version to become the stable one, promoting indefinite pauses on the way."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        rollout = cluster.rollout(namespace, name)
        status = rollout.get("status") or {}
        steps = (rollout["spec"]["strategy"].get("canary") or {}).get("steps") or []
        current = status.get("currentPodHash")
        in_sync = str(status.get("observedGeneration")) == str(rollout["metadata"].get("generation"))
        promoted = current not in (None, old_hash) and status.get("stableRS") == current
        if in_sync and promoted and status.get("phase") == "Healthy":
            return dict(status)
        index = status.get("currentStepIndex")
        waiting = status.get("phase") == "Paused" and status.get("pauseConditions")
        if waiting and waits_for_promotion(steps, index):
            cluster.promote(namespace, name)
        if time.monotonic() > deadline:
            raise AssertionError(
                f"{namespace}/{name} did not complete within {TIMEOUT:g}s: phase={status.get('phase')!r} "
                f"message={status.get('message')!r} step={index!r} stableRS={status.get('stableRS')!r} "
                f"currentPodHash={current!r}"
            )
        time.sleep(0.05)


def waits_for_promotion(steps: list[dict[str, Any]], index: object) -> bool:
    """Whether a paused rollout waits for a person: an indefinite canary pause, or a blue-green one."""
    if not steps:
        return True  # blue-green: paused before promotion (autoPromotionEnabled: false)
    if not isinstance(index, int) or index >= len(steps):
        return False
    pause = steps[index].get("pause")
    return isinstance(pause, dict) and pause.get("duration") is None


def roll_out_new_image(cluster: RolloutCluster, namespace: str, file_name: str) -> tuple[str, str, str]:
    """Apply the example, wait for Healthy, change the image, drive it home; (rollout name, old hash, new hash)."""
    documents = load_example(file_name)
    rollout = next(d for d in documents if d["kind"] == "Rollout")
    name = rollout["metadata"]["name"]
    cluster.apply_all(namespace, documents)
    first = cluster.wait_for_phase(namespace, name, "Healthy", timeout=TIMEOUT)
    old_hash = str(first["stableRS"])
    image = rollout["spec"]["template"]["spec"]["containers"][0]["image"]
    cluster.set_image(namespace, name, f"{image.rpartition(':')[0]}:next")
    final = drive_to_completion(cluster, namespace, name, old_hash)
    return name, old_hash, str(final["stableRS"])


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RolloutCluster]:
    decide = load_decide()
    running = RolloutCluster(Path(tmp_path_factory.mktemp("argo-examples")), ready_delay=0.1)
    running.start(decide)
    try:
        yield running
    finally:
        running.stop()


def test_rollout_canary_runs_to_completion(cluster: RolloutCluster) -> None:
    namespace = cluster.new_namespace("canary")
    name, _, new_hash = roll_out_new_image(cluster, namespace, "examples__rollout-canary.yaml")
    replica_set = cluster.replica_set_for_hash(namespace, new_hash)
    assert replica_set is not None and replica_set["spec"]["replicas"] == 5
    assert cluster.status(namespace, name)["currentStepIndex"] == 8


def test_istio_host_split_runs_to_completion(cluster: RolloutCluster) -> None:
    namespace = cluster.new_namespace("host-split")
    _, _, new_hash = roll_out_new_image(cluster, namespace, "test__e2e__istio__istio-host-split.yaml")
    cluster.wait_for(
        lambda: route_weights(cluster.must_get(VIRTUAL_SERVICES, namespace, "istio-host-split-vsvc"))
        == {"istio-host-split-stable": 100, "istio-host-split-canary": 0},
        "all traffic on the stable host",
    )
    stable = cluster.must_get(SERVICES, namespace, "istio-host-split-stable")
    assert stable["spec"]["selector"][HASH_LABEL] == new_hash


def test_istio_subset_split_runs_to_completion(cluster: RolloutCluster) -> None:
    namespace = cluster.new_namespace("subset-split")
    _, _, new_hash = roll_out_new_image(cluster, namespace, "examples__istio__istio-subset-split.yaml")
    cluster.wait_for(
        lambda: route_weights(cluster.must_get(VIRTUAL_SERVICES, namespace, "istio-subset-split-vsvc"))
        == {"stable": 100, "canary": 0},
        "all traffic on the stable subset",
    )
    rule = cluster.must_get(DESTINATION_RULES, namespace, "istio-subset-split-destrule")
    subsets = {subset["name"]: subset["labels"].get(HASH_LABEL) for subset in rule["spec"]["subsets"]}
    assert subsets["stable"] == new_hash


def test_rollout_bluegreen_runs_to_completion(cluster: RolloutCluster) -> None:
    namespace = cluster.new_namespace("bluegreen")
    _, _, new_hash = roll_out_new_image(cluster, namespace, "examples__rollout-bluegreen.yaml")
    active = cluster.must_get(SERVICES, namespace, "rollout-bluegreen-active")
    assert active["spec"]["selector"][HASH_LABEL] == new_hash
