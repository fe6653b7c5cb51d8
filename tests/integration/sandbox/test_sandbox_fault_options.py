"""`rollouts sandbox --fault-rate/--fault-kinds/--fault-seed/--outage`: the faults reach clients of the process, and
unusable options are refused naming the option."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml

ROLLOUTS = [sys.executable, "-c", "from cli.main import main; main()"]


def sandbox_url(kubeconfig: Path, process: subprocess.Popen[str], timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while not kubeconfig.exists():
        assert process.poll() is None, process.communicate()[1]
        assert time.monotonic() < deadline, "rollouts sandbox wrote no kubeconfig in time"
        time.sleep(0.05)
    return str(yaml.safe_load(kubeconfig.read_text())["clusters"][0]["cluster"]["server"])


def test_faults_and_an_outage_reach_the_sandboxs_clients(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig.yaml"
    process = subprocess.Popen(
        [*ROLLOUTS, "sandbox", "--kubeconfig", str(kubeconfig), "--fault-rate", "1", "--fault-kinds", "throttle",
         "--fault-verbs", "list", "--fault-resources", "configmaps", "--fault-seed", "3", "--outage", "600@8"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = sandbox_url(kubeconfig, process)
        with httpx.Client(base_url=url, timeout=10) as http:
            throttled = http.get("/api/v1/namespaces/default/configmaps")
            assert (throttled.status_code, throttled.headers["Retry-After"]) == (429, "1")
            assert http.get("/api/v1/namespaces/default/secrets").status_code == 200
            deadline = time.monotonic() + 60
            while http.get("/api/v1/namespaces/default/secrets").status_code != 503:
                assert time.monotonic() < deadline, "the outage never began"
                time.sleep(0.2)
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=20)


@pytest.mark.parametrize(("args", "message"), [
    (["--fault-kinds", "explode", "--fault-rate", "0.1"], "--fault-kinds: explode not among"),
    (["--fault-verbs", "get"], "need a --fault-rate above 0"),
    (["--fault-rate", "0.1", "--fault-verbs", "fetch"], "fault verbs: fetch not among"),
    (["--outage", "soon"], "--outage 'soon': expected SECONDS@AFTER"),
])
def test_unusable_fault_options_are_refused_naming_the_option(tmp_path: Path, args: list[str], message: str) -> None:
    result = subprocess.run([*ROLLOUTS, "sandbox", "--kubeconfig", str(tmp_path / "k.yaml"), *args],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert message in result.stderr and "Traceback" not in result.stderr
