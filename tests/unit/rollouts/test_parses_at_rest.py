"""The controller keeps a Rollout's parse only while the Rollout may need it soon: a pass that finds a Healthy
Rollout with nothing to do and no timer drops it (the next look is a resync, or a spec change that is a new version
and a new parse anyway). At 10,000 Rollouts at rest the parses were ~24 KB each, ~100 MB held between resyncs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

import pytest

from kube.client import AsyncKubeClient
from kube.events import EventRecorder
from kube.resources import ROLLOUTS
from rollouts.controller.cache import ObjectCache, RolloutKey
from rollouts.controller.executor import PlanExecutor
from rollouts.controller.metrics import ControllerMetrics
from rollouts.controller.reconciler import Reconciler
from rollouts.plan import Plan
from rollouts.snapshot import RolloutSnapshot

NOW = datetime(2026, 1, 1, tzinfo=UTC)
KEY = RolloutKey("shop", "reviews")


class RefusingClient:
    """No pass in these tests writes: any request is a failure of the test."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"unexpected request: {name}")


def rollout(phase: str) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "metadata": {"name": "reviews", "namespace": "shop", "uid": "ro-1", "resourceVersion": "7", "generation": 1},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "reviews"}},
            "template": {"metadata": {"labels": {"app": "reviews"}},
                         "spec": {"containers": [{"name": "reviews", "image": "reviews:v1"}]}},
            "strategy": {"canary": {"steps": [{"setWeight": 20}, {"pause": {"duration": "1m"}}]}},
        },
        "status": {"phase": phase},
    }


def reconciler(phase: str, plan: Plan) -> Reconciler:
    cache = ObjectCache()
    cache.observe(ROLLOUTS, None, rollout(phase))
    client = cast(AsyncKubeClient, RefusingClient())
    executor = PlanExecutor(client, cache, EventRecorder(client))

    def decide(snapshot: RolloutSnapshot) -> Plan:
        return plan

    return Reconciler(cache=cache, executor=executor, metrics=ControllerMetrics(), decide=decide, clock=lambda: NOW)


@pytest.mark.parametrize(
    ("phase", "plan", "kept"),
    [
        ("Healthy", Plan(), 0),  # settled: only a resync or a new version looks again
        ("Healthy", Plan(requeue_after=30.0), 1),  # a timer due (a scale-down delay): looked at again soon
        ("Paused", Plan(), 1),  # waiting for a promotion
        ("Progressing", Plan(), 1),  # waiting for its ReplicaSet's pods
    ],
    ids=["healthy-and-idle", "healthy-with-a-timer", "paused", "progressing"],
)
async def test_a_parse_is_kept_only_for_a_rollout_not_at_rest(phase: str, plan: Plan, kept: int) -> None:
    passing = reconciler(phase, plan)
    await passing.reconcile(KEY)
    assert len(passing.parsed) == kept


async def test_a_rollout_at_rest_is_parsed_again_at_its_next_pass() -> None:
    passing = reconciler("Healthy", Plan())
    await passing.reconcile(KEY)
    await passing.reconcile(KEY)
    assert (passing.parsed.hits, passing.parsed.misses) == (0, 2)

