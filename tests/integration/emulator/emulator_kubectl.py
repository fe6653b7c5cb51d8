"""kubectl against a served emulator, and the project's CRDs and `kubectl get` output as test data."""

from __future__ import annotations

import functools
import json
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

KUBECTL = shutil.which("kubectl")
REPO = Path(__file__).resolve().parents[3]

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

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
        result = subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({result.returncode}): {result.stderr}")
        return result

    return run


@functools.cache
def _crd_text(file_name: str) -> str:
    # Parsed once per session: the generated CRDs are large, and pure-Python YAML takes a second for them.
    loaded = yaml.load((REPO / "crds" / file_name).read_text(), Loader=_LOADER)
    return json.dumps(loaded)


def crd_manifest(file_name: str) -> dict[str, Any]:
    """A fresh copy of one of the project's committed CRDs (``argoproj.io_rollouts.yaml``)."""
    loaded: dict[str, Any] = json.loads(_crd_text(file_name))
    return loaded


def argo_crd_files() -> list[str]:
    """The file names of the project's CRDs in ``crds/``."""
    return sorted(path.name for path in (REPO / "crds").glob("argoproj.io_*.yaml"))


def table_rows(output: str) -> list[list[str]]:
    """``kubectl get`` output split into header and rows on runs of two or more spaces."""
    return [re.split(r"\s{2,}", line.strip()) for line in output.strip().splitlines()]
