"""The fixtures of the Rollout controller's integration tests, shared by the folders that run it: the sandbox with
the real controller running in it, and a fresh namespace per test. A folder's conftest imports them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.rollout_harness import RolloutCluster, load_decide


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RolloutCluster]:
    decide = load_decide()
    running = RolloutCluster(tmp_path_factory.mktemp("rollouts"), ready_delay=0.1)
    running.start(decide)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def namespace(cluster: RolloutCluster) -> str:
    """A fresh namespace per test, so that scenarios sharing the cluster never see each other's objects."""
    return cluster.new_namespace()
