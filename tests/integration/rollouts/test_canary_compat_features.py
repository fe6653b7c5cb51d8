"""Argo Rollouts canary features beyond steps and routing, under the real controller in the sandbox: the canary's
and the stable's pod metadata (and, as they land, the other fields of issue #16)."""

from __future__ import annotations

from typing import Any

from tests.rollout_harness import HASH_LABEL, RolloutCluster, reviews_objects

REVIEWS = "reviews"
JsonObject = dict[str, Any]


def objects_with(canary: JsonObject, **options: Any) -> list[JsonObject]:
    """The seed reviews objects, with extra ``strategy.canary`` fields on the Rollout."""
    documents = reviews_objects(**options)
    documents[-1]["spec"]["strategy"]["canary"].update(canary)
    return documents


def deploy(cluster: RolloutCluster, namespace: str, documents: list[JsonObject]) -> str:
    cluster.apply_all(namespace, documents)
    status = cluster.wait_for_phase(namespace, REVIEWS, "Healthy")
    return str(status["stableRS"])


def new_pod_hash(cluster: RolloutCluster, namespace: str, old: str) -> str:
    return str(
        cluster.wait_for(
            lambda: (h := cluster.status(namespace, REVIEWS).get("currentPodHash")) not in (None, old) and h,
            "a new pod-template hash",
        )
    )


def roles(cluster: RolloutCluster, namespace: str) -> dict[str, set[str]]:
    """{pod-template hash: the `role` labels its live pods carry}."""
    found: dict[str, set[str]] = {}
    for pod in cluster.pods(namespace):
        if pod["metadata"].get("deletionTimestamp"):
            continue
        labels = pod["metadata"].get("labels") or {}
        found.setdefault(labels.get(HASH_LABEL, ""), set()).add(labels.get("role", ""))
    return found


def test_canary_and_stable_pods_carry_their_metadata_and_it_moves_on_promotion(
    cluster: RolloutCluster, namespace: str
) -> None:
    documents = objects_with(
        {"canaryMetadata": {"labels": {"role": "canary"}}, "stableMetadata": {"labels": {"role": "stable"}}},
        steps=[{"setWeight": 20}, {"pause": {}}],
    )
    stable = deploy(cluster, namespace, documents)
    cluster.wait_for(lambda: roles(cluster, namespace).get(stable) == {"stable"}, "the stable pods labelled stable")
    cluster.set_image(namespace, REVIEWS, "reviews:v2")
    new = new_pod_hash(cluster, namespace, stable)
    cluster.wait_for(
        lambda: (found := roles(cluster, namespace)).get(new) == {"canary"} and found.get(stable) == {"stable"},
        "canary pods labelled canary beside the stable ones",
    )
    cluster.wait_for_phase(namespace, REVIEWS, "Paused")
    cluster.promote(namespace, REVIEWS)
    cluster.wait_for_phase(namespace, REVIEWS, "Healthy")
    cluster.wait_for(lambda: roles(cluster, namespace).get(new) == {"stable"}, "the promoted pods labelled stable")
