"""Fixtures for the sync engine's integration tests: the sandbox (with the Job and workload simulators), a client,
a fresh destination namespace per test, and the Application controller running against it."""

from __future__ import annotations

import itertools
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

_REPO_ROOT = str(Path(__file__).resolve().parents[3])
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

from kube.client import KubeClient  # noqa: E402
from kube.resources import NAMESPACES  # noqa: E402
from sandbox.cluster import SandboxThread  # noqa: E402
from tests.gitops_harness import APP_NAMESPACE, CRDS_DIR, AppControllerThread, controller_options  # noqa: E402
from tests.running_sandbox import kube_client, running_sandbox  # noqa: E402

_counter = itertools.count()


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SandboxThread, Path]]:
    with running_sandbox(tmp_path_factory.mktemp("kube"), crd_dirs=[CRDS_DIR], namespaces=("default", APP_NAMESPACE),
                         ready_delay=0.1) as running:
        yield running


@pytest.fixture(scope="module")
def client(sandbox: tuple[SandboxThread, Path]) -> Iterator[KubeClient]:
    with kube_client(sandbox[1]) as kube:
        yield kube


@pytest.fixture
def namespace(client: KubeClient) -> str:
    """A fresh destination namespace per test, so tests sharing the sandbox never see each other's objects."""
    name = f"app-{next(_counter)}"
    client.create(NAMESPACES, None, {"metadata": {"name": name}})
    return name


@pytest.fixture
def controller(sandbox: tuple[SandboxThread, Path], tmp_path: Path) -> Iterator[AppControllerThread]:
    """The Application controller; the test fails if it logged an error (a hidden exception)."""
    running = AppControllerThread(sandbox[1], controller_options(tmp_path / "repo-cache")).start()
    try:
        yield running
    finally:
        running.stop()
    assert not running.errors.records, "the controller logged errors:\n" + "\n".join(running.errors.messages())
