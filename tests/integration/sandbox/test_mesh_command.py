"""`rollouts sandbox --mesh`: the simulated mesh's metrics endpoint, announced and served."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROLLOUTS = [sys.executable, "-c", "from cli.main import main; main()"]


def test_the_mesh_metrics_url_is_printed_and_serves_istio_metrics(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig.yaml"
    process = subprocess.Popen(
        [*ROLLOUTS, "sandbox", "--kubeconfig", str(kubeconfig), "--mesh", "--mesh-profile", "web:2=0.5,80"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 20
        url = ""
        while not url:
            line = process.stdout.readline()
            assert line, f"rollouts sandbox ended early: {process.stderr.read() if process.stderr else ''}"
            assert time.monotonic() < deadline, "no mesh metrics URL printed"
            if line.startswith("Mesh metrics (Istio's) at "):
                url = line.rsplit(" ", 1)[-1].strip()
        response = httpx.get(url, timeout=5)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain")
        assert "# TYPE istio_requests_total counter" in response.text
        assert "# TYPE istio_request_duration_milliseconds histogram" in response.text
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=10)
    assert process.returncode == 0, stderr


def test_a_malformed_mesh_profile_is_one_line_and_status_one(tmp_path: Path) -> None:
    result = subprocess.run(
        [*ROLLOUTS, "sandbox", "--kubeconfig", str(tmp_path / "k.yaml"), "--mesh-profile", "web:2=lots"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("rollouts sandbox: --mesh-profile 'web:2=lots': expected IMAGE=ERROR_RATE[,LATENCY_MS]")
    assert not (tmp_path / "k.yaml").exists()
