"""Argo Rollouts' blue-green example (`examples/rollout-bluegreen.yaml`) runs in the sandbox under the real controller.

The example is applied exactly as written (the Rollout and its two Services). Once the first version is Healthy
behind both Services, its image is changed: the new version comes up behind the preview Service while the active one
keeps the old, the Rollout pauses (`autoPromotionEnabled: false`), and `rollouts promote` switches the active Service.
The old version then waits out the default 30 s scale-down delay (checked through its annotation, not waited for).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kube.manifests import load_file
from kube.resources import REPLICASETS, SERVICES
from tests.conformance.corpus import corpus_dir, corpus_missing_reason
from tests.rollout_harness import HASH_LABEL, RolloutCluster, load_decide

_MISSING = corpus_missing_reason()
if _MISSING is not None:
    pytest.skip(_MISSING, allow_module_level=True)

EXAMPLE = corpus_dir() / "argo-rollouts" / "examples__rollout-bluegreen.yaml"
TIMEOUT = 30.0
DEADLINE = "scale-down-deadline"


def load_example() -> list[dict[str, Any]]:
    if not EXAMPLE.is_file():
        pytest.skip(f"{EXAMPLE} is not in the corpus")
    return [copy.deepcopy(d.manifest) for d in load_file(EXAMPLE) if d.manifest is not None]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RolloutCluster]:
    decide = load_decide()
    running = RolloutCluster(Path(tmp_path_factory.mktemp("argo-bluegreen")), ready_delay=0.1)
    running.start(decide)
    try:
        yield running
    finally:
        running.stop()


def test_rollout_bluegreen_runs_through_preview_pause_promote(cluster: RolloutCluster) -> None:
    documents = load_example()
    rollout = next(d for d in documents if d["kind"] == "Rollout")
    name = rollout["metadata"]["name"]
    strategy = rollout["spec"]["strategy"]["blueGreen"]
    active, preview = strategy["activeService"], strategy["previewService"]
    namespace = cluster.new_namespace("bluegreen")

    def selects(service: str) -> str | None:
        return cluster.must_get(SERVICES, namespace, service)["spec"]["selector"].get(HASH_LABEL)

    cluster.apply_all(namespace, documents)
    first = cluster.wait_for_phase(namespace, name, "Healthy", timeout=TIMEOUT)
    blue = str(first["stableRS"])
    cluster.wait_for(lambda: selects(active) == blue and selects(preview) == blue, "both Services on the first version")

    image = rollout["spec"]["template"]["spec"]["containers"][0]["image"]
    cluster.set_image(namespace, name, f"{image.rpartition(':')[0]}:green")
    paused = cluster.wait_for_phase(namespace, name, "Paused", timeout=TIMEOUT, message="BlueGreenPause")
    green = str(paused["currentPodHash"])
    assert green != blue
    assert (selects(active), selects(preview)) == (blue, green)
    assert paused["stableRS"] == blue

    cluster.promote(namespace, name)
    done = cluster.wait_for_phase(namespace, name, "Healthy", timeout=TIMEOUT)
    assert done["stableRS"] == green
    assert (selects(active), selects(preview)) == (green, green)
    # The deadline may be written by the pass after the one that marked the Rollout Healthy: wait for it.
    old = cluster.wait_for(
        lambda: (rs := cluster.must_get(REPLICASETS, namespace, f"{name}-{blue}"))
        and DEADLINE in rs["metadata"]["annotations"] and rs,
        "the old version's scale-down deadline",
    )
    assert old["spec"]["replicas"] == rollout["spec"]["replicas"]
    assert "RolloutCompleted" in cluster.event_reasons(namespace)
