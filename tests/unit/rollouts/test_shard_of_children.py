"""A sharded controller acts on a Rollout and everything it drives in one replica: an AnalysisRun or Experiment
belongs to the shard of the Rollout that controls it (through its Experiment for an Experiment's run).

Every child's own name is in another shard (of 8) than its Rollout's, so a child sharded by its own name fails."""

from __future__ import annotations

from typing import Any

import pytest

from kube.object_meta import ObjectKey
from kube.sharding import shard_of
from rollouts.controller.shards import owner_shard, rollout_shard

SHARDS = 8
NAMESPACE = "shop"


def controlled_by(kind: str, name: str) -> dict[str, Any]:
    return {"metadata": {"ownerReferences": [{"kind": kind, "name": name, "controller": True, "uid": "u"}]}}


EXPERIMENTS = {ObjectKey(NAMESPACE, "reviews-exp"): controlled_by("Rollout", "reviews"),
               ObjectKey(NAMESPACE, "lone-exp"): {"metadata": {}}}
RUNS = {
    ObjectKey(NAMESPACE, "reviews-6f9c-2"): controlled_by("Rollout", "reviews"),
    ObjectKey(NAMESPACE, "reviews-exp-canary"): controlled_by("Experiment", "reviews-exp"),
    ObjectKey(NAMESPACE, "lone-exp-canary"): controlled_by("Experiment", "lone-exp"),
    ObjectKey(NAMESPACE, "by-hand"): {"metadata": {}},
    # An owner that is not the controller does not count.
    ObjectKey(NAMESPACE, "adopted"): {"metadata": {"ownerReferences": [{"kind": "Rollout", "name": "reviews"}]}},
}


@pytest.mark.parametrize(
    ("run", "root"),
    [
        ("reviews-6f9c-2", "reviews"),
        ("reviews-exp-canary", "reviews"),
        ("lone-exp-canary", "lone-exp"),
        ("by-hand", "by-hand"),
        ("adopted", "adopted"),
        ("gone-from-the-cache", "gone-from-the-cache"),
    ],
)
def test_an_analysis_run_is_in_the_shard_of_the_rollout_that_drives_it(run: str, root: str) -> None:
    shard = owner_shard(SHARDS, RUNS.get, EXPERIMENTS)
    assert shard(ObjectKey(NAMESPACE, run)) == shard_of(NAMESPACE, root, SHARDS)


@pytest.mark.parametrize(("experiment", "root"), [("reviews-exp", "reviews"), ("lone-exp", "lone-exp")])
def test_an_experiment_is_in_the_shard_of_its_rollout(experiment: str, root: str) -> None:
    shard = owner_shard(SHARDS, EXPERIMENTS.get, EXPERIMENTS)
    assert shard(ObjectKey(NAMESPACE, experiment)) == shard_of(NAMESPACE, root, SHARDS)


def test_a_rollout_key_is_in_the_shard_of_its_name() -> None:
    # shop/reviews: FNV-1a 0xbb1e493b, mod 8 = 3 (tests/unit/test_sharding.py)
    assert rollout_shard(SHARDS)(ObjectKey(NAMESPACE, "reviews")) == 3
