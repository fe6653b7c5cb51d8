"""Hostile Rollout specs through the real controller (issue #15 item 5): an InvalidSpec condition naming the
field, and no handler exception (the harness fails a test during which the controller logged an error).

A spec that is not an object never reaches the controller here: the sandbox's API server refuses it against the
CRD's schema. Behind a CRD without one it would; ``tests/unit/rollouts/test_hostile_specs.py`` covers that path
(the decision, the cache's references and the metrics)."""

from __future__ import annotations

from typing import Any

from kube.resources import ROLLOUTS
from tests.rollout_harness import RolloutCluster, reviews_rollout

REVIEWS = "reviews"


def _invalid_spec_message(cluster: RolloutCluster, namespace: str) -> str:
    def invalid_spec() -> dict[str, Any] | None:
        conditions = cluster.status(namespace, REVIEWS).get("conditions") or []
        return next((c for c in conditions if c.get("type") == "InvalidSpec"), None)

    condition = cluster.wait_for(invalid_spec, "an InvalidSpec condition")
    return str(condition.get("message"))


def test_replicas_beyond_int32_get_invalid_spec_and_are_not_written_on(
    cluster: RolloutCluster, namespace: str
) -> None:
    rollout = reviews_rollout()
    rollout["spec"]["replicas"] = 2**31
    cluster.apply_all(namespace, [rollout])
    assert "spec.replicas: must be at most 2147483647" in _invalid_spec_message(cluster, namespace)
    cluster.wait_until_settled(namespace)
    assert cluster.replica_sets(namespace) == []
    assert cluster.must_get(ROLLOUTS, namespace, REVIEWS)["spec"]["replicas"] == 2**31
