"""A sandbox with a kubeconfig, and a client on a kubeconfig, each held for the life of a fixture (``with``)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kube.client import KubeClient
from sandbox.cluster import SandboxThread


@contextlib.contextmanager
def running_sandbox(kubeconfig_dir: Path, **options: Any) -> Iterator[tuple[SandboxThread, Path]]:
    """A sandbox started with ``options`` and a kubeconfig for it written into ``kubeconfig_dir``; stopped on
    leaving."""
    running = SandboxThread(**options)
    running.start()
    try:
        yield running, running.write_kubeconfig(kubeconfig_dir / "kubeconfig.yaml")
    finally:
        running.stop()


@contextlib.contextmanager
def kube_client(kubeconfig: Path) -> Iterator[KubeClient]:
    """A client on ``kubeconfig``, closed on leaving."""
    kube = KubeClient.from_kubeconfig(str(kubeconfig))
    try:
        yield kube
    finally:
        kube.close()
