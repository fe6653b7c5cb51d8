"""`rollouts demo --scenario gitops` end to end, as a user runs it: the canary of examples/canary-analysis/ delivered
from a local Git repository by the Application controller inside the real `rollouts controller` process — the
first sync through its PreSync hook, wave -1 and PostSync hook, a good commit promoted after a push webhook, a bad
one aborted with the Application Degraded. The demo itself fails (exit 1) when the controller logged an error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sandbox.prometheus import PrometheusNotInstalled, find_prometheus_binary

pytestmark = pytest.mark.prometheus

REPO = Path(__file__).resolve().parents[2]
DEMO = [sys.executable, "-c", "from cli.main import main; main()", "demo", "--scenario", "gitops", "--speed", "4",
        "--plain"]
DEMO_TIMEOUT = 180


@pytest.fixture(scope="module")
def demo_output() -> tuple[int, str]:
    try:
        find_prometheus_binary()
    except PrometheusNotInstalled as error:
        pytest.skip(f"the demo needs Prometheus: {error}")
    done = subprocess.run(DEMO, cwd=REPO, capture_output=True, text=True, timeout=DEMO_TIMEOUT, check=False)
    return done.returncode, done.stdout + done.stderr


def test_the_gitops_demo_ends_as_expected(demo_output: tuple[int, str]) -> None:
    code, output = demo_output
    assert code == 0, output[-4000:]
    assert "Every scenario ended as expected." in output


def test_the_first_sync_runs_the_presync_hook_then_wave_minus_one_then_the_postsync_hook(
    demo_output: tuple[int, str],
) -> None:
    _, output = demo_output
    lines = output.splitlines()

    def first(fragment: str) -> int:
        return next(i for i, line in enumerate(lines) if fragment in line)

    presync = first("Job reviews-migrate hook PreSync Succeeded")
    configmap = first("sync Sync: ConfigMap reviews-settings")
    rollout = first("sync Sync: Rollout reviews Succeeded")
    postsync = first("hook PostSync Succeeded")
    assert presync < configmap < rollout < postsync


def test_each_commit_is_announced_by_the_push_webhook(demo_output: tuple[int, str]) -> None:
    _, output = demo_output
    assert output.count("push webhook: 1 application(s) refreshed") == 2


def test_the_bad_commit_leaves_the_application_degraded(demo_output: tuple[int, str]) -> None:
    _, output = demo_output
    assert "the Application after the bad commit: Synced, Degraded" in output
