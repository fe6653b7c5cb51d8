"""`rollouts demo` end to end, as a user runs it: the sandbox, the real controller process and a real Prometheus;
a good version promoted through every step, a bad one aborted by its analysis — and nothing left running after,
whether the demo finished or was interrupted."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sandbox.prometheus import PrometheusNotInstalled, find_prometheus_binary

pytestmark = pytest.mark.prometheus

REPO = Path(__file__).resolve().parents[2]
DEMO = [sys.executable, "-c", "from cli.main import main; main()", "demo"]
# Four times faster than the default: the four scenarios in about a minute (Prometheus takes 6 s of each start).
SPEED = "4"
# Only a guard against a demo that hangs, far above its usual time: a loaded machine must not fail it.
DEMO_TIMEOUT = 600


@pytest.fixture(autouse=True)
def prometheus_binary() -> None:
    try:
        find_prometheus_binary()
    except PrometheusNotInstalled as error:
        pytest.skip(f"the demo needs Prometheus: {error}")


def started_pids(output: str) -> list[int]:
    """The controller's and Prometheus's pids, as the demo announces them."""
    return [int(pid) for pid in re.findall(r"\(pid (\d+)\)", output)]


def assert_gone(pids: list[int]) -> None:
    deadline = time.monotonic() + 5
    for pid in pids:
        while True:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            assert time.monotonic() < deadline, f"process {pid} is still running after the demo ended"
            time.sleep(0.1)


def summary_rows(output: str) -> dict[str, list[str]]:
    rows = {}
    for line in output.splitlines():
        cells = line.split()
        if len(cells) >= 5 and cells[0] in ("good", "bad") and cells[1].startswith("reviews:"):
            rows[cells[0]] = cells[:5]
    return rows


def test_the_demo_promotes_the_good_version_and_rolls_back_the_bad_one() -> None:
    result = subprocess.run([*DEMO, "--scenario", "all", "--speed", SPEED], cwd=REPO, capture_output=True,
                            text=True, timeout=DEMO_TIMEOUT)
    output = result.stdout
    assert result.returncode == 0, output + result.stderr
    assert summary_rows(output) == {
        "good": ["good", "reviews:v2", "promoted", "promoted", "expected"],
        "bad": ["bad", "reviews:v3", "aborted", "aborted", "expected"],
    }
    assert "Every scenario ended as expected." in output
    # The live progress: each weight of the good version's steps, its measurements, the bad one's failure.
    for weight in (20, 50, 80):
        assert "[good t+" in output and f"canary weight {weight} %" in output
    assert re.search(r"\[good t\+ *[\d.]+s\] measurement success-rate = 1 +Successful", output)
    failure = re.search(r"\[bad t\+ *[\d.]+s\] measurement success-rate = (0\.\d+) +Failed", output)
    assert failure is not None and float(failure.group(1)) < 0.95
    # The abort says why: the metric, its value and the condition.
    assert re.search(r'abort message: .*Metric "success-rate" assessed Failed.*does not satisfy result\[0\] >= 0\.95',
                     output)
    assert "Traceback" not in result.stderr
    pids = started_pids(output)
    # A controller and a Prometheus for the good and bad scenarios, another pair for the GitOps one, and a
    # controller for the platform one (it measures nothing).
    assert len(pids) == 5
    assert_gone(pids)


def _default_interrupt() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_an_interrupted_demo_stops_everything_it_started() -> None:
    # A session of its own, so that the interrupt goes to its whole process group, as a terminal's Ctrl-C does; with
    # SIGINT's default disposition, as a terminal gives it (a pytest started as a shell's background job inherits
    # SIGINT ignored, and the demo would then ignore the interrupt as the shell asked).
    process = subprocess.Popen([*DEMO, "--scenario", "good", "--speed", SPEED], cwd=REPO, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True,
                               preexec_fn=_default_interrupt)
    output = ""
    try:
        assert process.stdout is not None
        for line in process.stdout:
            output += line
            if "canary weight 20 %" in line:
                break
        else:
            pytest.fail(f"the demo ended before its first weight step:\n{output}")
        os.killpg(process.pid, signal.SIGINT)
        rest, _ = process.communicate(timeout=60)
        output += rest
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130, output
    assert "interrupted; everything it started is stopped" in output
    assert "Traceback" not in output
    pids = started_pids(output)
    assert len(pids) == 2
    assert_gone(pids)
