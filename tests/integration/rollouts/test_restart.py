"""`spec.restartAt` under the real controller in the sandbox: pods are replaced a batch at a time, and availability
never drops below what `maxUnavailable` allows.

Argo's e2e TestRolloutRestart runs this Rollout (4 replicas, `maxUnavailable: 75%`): at most 3 pods may be down at
once, so at least 1 stays available throughout. The ReplicaSet's status lags behind the deletions, so the count
must come from the pods themselves.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

from kube.resources import PODS, ROLLOUTS
from rollouts.restarts import is_pod_available
from tests.rollout_harness import RolloutCluster

NAME = "rollout-restart"

JsonObject = dict[str, Any]


def restart_rollout() -> JsonObject:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "metadata": {"name": NAME},
        "spec": {
            "replicas": 4,
            "selector": {"matchLabels": {"app": NAME}},
            "template": {
                "metadata": {"labels": {"app": NAME}},
                "spec": {"containers": [{"name": NAME, "image": "nginx:1.19-alpine"}]},
            },
            "strategy": {"canary": {"maxUnavailable": "75%", "steps": [{"setWeight": 25}, {"pause": {}}]}},
        },
    }


def fewest_available(initial: list[JsonObject], changes: list[tuple[str, JsonObject]]) -> int:
    """The fewest available pods at any moment, replaying every stored change of the pods in order."""
    now = datetime.now(UTC)
    pods = {pod["metadata"]["name"]: pod for pod in initial}

    def available() -> int:
        return sum(
            1
            for pod in pods.values()
            if not pod["metadata"].get("deletionTimestamp") and is_pod_available(pod, 0, now)
        )

    fewest = available()
    for kind, pod in changes:
        if kind == "DELETED":
            pods.pop(pod["metadata"]["name"], None)
        else:
            pods[pod["metadata"]["name"]] = pod
        fewest = min(fewest, available())
    return fewest


def test_a_restart_keeps_one_of_four_pods_available_with_max_unavailable_75_percent(
    cluster: RolloutCluster, namespace: str
) -> None:
    cluster.apply_all(namespace, [restart_rollout()])
    cluster.wait_for_phase(namespace, NAME, "Healthy")
    cluster.wait_for(
        lambda: sum(1 for pod in cluster.list(PODS, namespace) if is_pod_available(pod, 0, datetime.now(UTC))) == 4,
        "4 available pods",
    )
    recorder = cluster.record(PODS, namespace)
    initial = cluster.list(PODS, namespace)
    # A whole second after every pod's creation (creation times have whole seconds).
    moment = datetime.fromtimestamp(math.ceil(datetime.now(UTC).timestamp()), UTC) + timedelta(seconds=1)
    restart_at = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    cluster.patch(ROLLOUTS, namespace, NAME, {"spec": {"restartAt": restart_at}})

    cluster.wait_for(
        lambda: cluster.status(namespace, NAME).get("restartedAt") == restart_at, "the restart recorded", timeout=60
    )
    remaining = {pod["metadata"]["name"] for pod in cluster.list(PODS, namespace)}
    assert not remaining & {pod["metadata"]["name"] for pod in initial}  # every pod was replaced
    assert fewest_available(initial, list(recorder.events)) >= 1
