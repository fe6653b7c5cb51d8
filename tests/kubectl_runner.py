"""Running the kubectl binary against a served emulator, for conformance tests."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import yaml

KUBECTL = shutil.which("kubectl")
MISSING_REASON = "the kubectl binary is not on PATH"

Kubectl = Callable[..., subprocess.CompletedProcess[str]]


def kubectl_for(url: str, directory: Path) -> Kubectl:
    """A kubectl runner for the API at ``url`` (kubeconfig and cache in ``directory``, namespace default).

    The runner raises AssertionError with kubectl's stderr when ``check`` and kubectl fails.
    """
    kubeconfig = directory / "kubeconfig"
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
        assert KUBECTL is not None, MISSING_REASON
        command = [KUBECTL, f"--kubeconfig={kubeconfig}", f"--cache-dir={directory / 'cache'}", *args]
        result = subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({result.returncode}): {result.stderr}")
        return result

    return run
