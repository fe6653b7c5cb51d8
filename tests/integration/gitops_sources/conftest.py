"""Fixtures for the source tests: a work repository with a first commit, and a RepoServer with a fresh cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops.repo_server import RepoServer
from tests.git_servers import WorkRepository, configmap


@pytest.fixture(autouse=True)
def isolated_git_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty global git config, so the machine's own does not change what the tests see."""
    config = tmp_path / "gitconfig"
    config.write_text("")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    return config


@pytest.fixture
def work(tmp_path: Path) -> WorkRepository:
    repo = WorkRepository(tmp_path / "served" / "app")
    repo.commit({"app/cm.yaml": configmap("app")}, "first")
    return repo


@pytest.fixture
def server(tmp_path: Path) -> RepoServer:
    return RepoServer(tmp_path / "cache", timeout=60.0)
