"""`rollouts demo --scenario platform` end to end, as a user runs it: the example of examples/gitops-platform/ built
into two local repositories, the real `rollouts controller` process (Application and ApplicationSet controllers),
only the root Application applied. The demo fails (exit 1) when a step did not happen or the controller logged an
error (an ERROR line or a traceback)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DEMO = [sys.executable, "-c", "from cli.main import main; main()", "demo", "--scenario", "platform", "--plain"]
DEMO_TIMEOUT = 300


@pytest.fixture(scope="module")
def demo_output() -> tuple[int, str]:
    done = subprocess.run(DEMO, cwd=REPO, capture_output=True, text=True, timeout=DEMO_TIMEOUT, check=False)
    return done.returncode, done.stdout + done.stderr


def test_the_platform_demo_ends_as_expected(demo_output: tuple[int, str]) -> None:
    code, output = demo_output
    assert code == 0, output[-4000:]
    assert "Every scenario ended as expected." in output


def test_the_controller_logged_no_exception(demo_output: tuple[int, str]) -> None:
    _, output = demo_output
    assert "ok   the controller logged no error" in output
    assert "the controller logged:" not in output


@pytest.mark.parametrize("name", ["platform-root", "guestbook", "podinfo-staging", "podinfo-production",
                                  "podinfo-edge"])
def test_the_root_application_brings_every_application_synced_and_healthy(
    demo_output: tuple[int, str], name: str
) -> None:
    _, output = demo_output
    assert f"Application {name} created" in output
    assert f"Application {name}: Synced, Healthy" in output


def test_a_pushed_folder_is_created_synced_then_deleted_with_its_resources(demo_output: tuple[int, str]) -> None:
    _, output = demo_output
    lines = output.splitlines()

    def first(fragment: str) -> int:
        return next(i for i, line in enumerate(lines) if fragment in line)

    pushed = first("(apps/inventory: a new application); push webhook:")
    synced = first("Application inventory: Synced, Healthy")
    removed = first("(apps/inventory removed); push webhook:")
    deleted = first("Application inventory deleted")
    assert pushed < synced < removed < deleted
    assert "Deployment guestbook in team-a-inventory: deleted with its Application" in output


def test_preserve_resources_on_deletion_keeps_the_removed_folders_resources(demo_output: tuple[int, str]) -> None:
    _, output = demo_output
    assert "Application guestbook deleted; kept in team-a-guestbook: Deployment, ConfigMap" in output


def test_a_second_sandbox_as_a_second_cluster_gets_its_application(demo_output: tuple[int, str]) -> None:
    _, output = demo_output
    assert "ok   the second cluster (edge, a second sandbox) got its Application's objects" in output
    line = next(line for line in output.splitlines() if "Application podinfo-edge (destination name: edge)" in line)
    assert "Deployment podinfo in team-a-podinfo-edge on cluster edge" in line
    assert line.endswith("1 ready; on the local cluster: none")
