"""Fixtures for the Rollout controller's integration tests: the sandbox with the real controller running in it."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# tests/integration is not a package, so only this directory is on sys.path when it runs alone; the shared
# harness lives in the `tests` package at the repository root.
_REPO_ROOT = str(Path(__file__).resolve().parents[3])
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

from tests.rollout_harness import RolloutCluster, load_decide  # noqa: E402


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
