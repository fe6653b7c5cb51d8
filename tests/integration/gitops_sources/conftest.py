"""Fixtures for the source tests: a work repository with a first commit, and a RepoServer with a fresh cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops.repo_server import RepoServer
from tests.git_config import isolated_git_config  # noqa: F401  (a fixture, found by pytest by name)
from tests.git_servers import WorkRepository, configmap


@pytest.fixture
def work(tmp_path: Path) -> WorkRepository:
    repo = WorkRepository(tmp_path / "served" / "app")
    repo.commit({"app/cm.yaml": configmap("app")}, "first")
    return repo


@pytest.fixture
def server(tmp_path: Path) -> RepoServer:
    return RepoServer(tmp_path / "cache", timeout=60.0)
