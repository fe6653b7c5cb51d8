"""Running the kubectl binary against an emulator: a kubeconfig for its URL and a runner that checks the exit."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import yaml

KUBECTL = shutil.which("kubectl")
REPO = Path(__file__).resolve().parents[3]

Kubectl = Callable[..., subprocess.CompletedProcess[str]]


def kubectl_for(url: str, workdir: Path) -> Kubectl:
    """A kubectl runner bound to ``url`` (namespace ``default``); raises with stderr when a command fails."""
    kubeconfig = workdir / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "emulator", "cluster": {"server": url, "insecure-skip-tls-verify": True}}],
        "users": [{"name": "tester", "user": {"token": "not-checked"}}],
        "contexts": [{"name": "emulator", "context": {"cluster": "emulator", "user": "tester",
                                                      "namespace": "default"}}],
        "current-context": "emulator",
    }))

    def run(*args: str, stdin: str | None = None, check: bool = True,
            timeout: float = 30) -> subprocess.CompletedProcess[str]:
        assert KUBECTL is not None
        command = [KUBECTL, f"--kubeconfig={kubeconfig}", f"--cache-dir={workdir / 'cache'}", *args]
        result = subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=timeout, cwd=REPO)
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({result.returncode}): {result.stderr}")
        return result

    return run


def crd_manifest(file_name: str) -> dict[str, object]:
    """One of the project's committed CRDs (``crds/argoproj.io_rollouts.yaml``)."""
    loaded: dict[str, object] = yaml.safe_load((REPO / "crds" / file_name).read_text())
    return loaded


def table_rows(output: str) -> list[list[str]]:
    """``kubectl get`` output split into header and rows on runs of two or more spaces."""
    return [re.split(r"\s{2,}", line.strip()) for line in output.strip().splitlines()]
