"""Fixtures for the dashboard's tests against the sandbox: a sandbox (no controllers: these tests are about the
dashboard's own answers), a client on it, and a Rollout to point the routes at."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# tests/integration is not a package; the shared helpers live in the `tests` package at the repository root.
_REPO_ROOT = str(Path(__file__).resolve().parents[3])
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

from kube.client import KubeClient  # noqa: E402
from sandbox.cluster import SandboxThread  # noqa: E402
from tests.rollout_harness import CRD_DIR  # noqa: E402
from tests.running_sandbox import kube_client, running_sandbox  # noqa: E402


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SandboxThread, Path]]:
    with running_sandbox(tmp_path_factory.mktemp("kube"), crd_dirs=[CRD_DIR], namespaces=("default", "shop", "argocd"),
                         ready_delay=0.1) as running:
        yield running


@pytest.fixture(scope="module")
def client(sandbox: tuple[SandboxThread, Path]) -> Iterator[KubeClient]:
    with kube_client(sandbox[1]) as kube:
        yield kube


from tests.rollout_fixtures import cluster, namespace  # noqa: E402, F401  (fixtures, found by pytest by name)
