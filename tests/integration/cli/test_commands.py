"""The rollout commands against a sandbox cluster: the patches they send, what they print, how they exit.

No controller runs: each test creates a Rollout, its ReplicaSets and pods directly, writes their status through
the /status subresource, and plays the controller itself (from a thread) where a command waits for a change.
Every object is created "a week ago" (the emulator's clock is set back), so ages print as 7d.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cli.main import app
from sandbox.cluster import SandboxThread, write_kubeconfig
from tests.cli_cluster import WEEK_AGO, Cluster, assert_one_line_error, later, namespace_cluster

REPO = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent
_namespaces = count(1)


@pytest.fixture
def cluster(sandbox: SandboxThread, tmp_path: Path) -> Cluster:
    return namespace_cluster(sandbox, tmp_path, f"shop-{next(_namespaces)}")


def frames(output: str) -> list[str]:
    """The frames of a `get rollout -w` run into a pipe: each a full picture, separated by a blank line."""
    parts = output.split("\n\nName:")
    return [("" if i == 0 else "Name:") + part + ("\n" if i < len(parts) - 1 else "") for i, part in enumerate(parts)]


# -- get rollout -------------------------------------------------------------------------------------------------

PAUSED_STATUS = {"phase": "Paused", "message": "CanaryPauseStep", "currentStepIndex": 1, "controllerPause": True,
                 "pauseConditions": [{"reason": "CanaryPauseStep", "startTime": WEEK_AGO}]}


def family_text(namespace: str, *, status: str, message: str | None, step: str, set_weight: str, actual: str,
                canary_pod: str = "✔ Running", stable: str = "5c6f7b8d9") -> str:
    """`get rollout checkout` for Cluster.canary_family, with the parts a test changes filled in."""
    promoted = stable == "7d9b8c6f5"
    images = ("envoy:1 (stable)", "shop:v1", "shop:v2 (stable)") if promoted else (
        "envoy:1 (canary, stable)", "shop:v1 (stable)", "shop:v2 (canary)")
    new_tag, old_tag = ("stable", "") if promoted else ("canary", "stable")
    # The STATUS column is as wide as its widest cell.
    width = max(len(status), len(canary_pod), len("• ScaledDown"))
    ready = "2/2" if "Running" in canary_pod else "0/2"
    lines = [
        "Name:            checkout",
        f"Namespace:       {namespace}",
        f"Status:          {status}",
        *([f"Message:         {message}"] if message else []),
        "Strategy:        Canary",
        f"  Step:          {step}",
        f"  SetWeight:     {set_weight}",
        f"  ActualWeight:  {actual}",
        f"Images:          {images[0]}",
        f"                 {images[1]}",
        f"                 {images[2]}",
        "Replicas:",
        "  Desired:       3",
        "  Current:       3",
        "  Updated:       1",
        "  Ready:         3",
        "  Available:     3",
        "",
        f"NAME                                 KIND        {'STATUS':<{width}}  AGE  INFO",
        f"⟳ checkout                           Rollout     {status:<{width}}  7d",
        "├──# revision:3",
        f"│  └──⧉ checkout-7d9b8c6f5           ReplicaSet  {'✔ Healthy':<{width}}  7d   {new_tag}",
        f"│     └──□ checkout-7d9b8c6f5-g5h6i  Pod         {canary_pod:<{width}}  7d   ready:{ready}",
        "├──# revision:2",
        f"│  └──⧉ checkout-5c6f7b8d9           ReplicaSet  {'✔ Healthy':<{width}}  7d   {old_tag}",
        f"│     ├──□ checkout-5c6f7b8d9-a1b2c  Pod         {'✔ Running':<{width}}  7d   ready:2/2",
        f"│     └──□ checkout-5c6f7b8d9-d3e4f  Pod         {'✔ Running':<{width}}  7d   ready:2/2",
        "└──# revision:1",
        f"   └──⧉ checkout-6b5d4c3f2           ReplicaSet  {'• ScaledDown':<{width}}  7d",
    ]
    return "\n".join(line.rstrip() for line in lines) + "\n"


def test_get_rollout_prints_the_header_and_tree(cluster: Cluster) -> None:
    cluster.canary_family("checkout", PAUSED_STATUS)
    result = cluster.run("get", "rollout", "checkout")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert result.stdout == f"""\
Name:            checkout
Namespace:       {cluster.namespace}
Status:          ॥ Paused
Message:         CanaryPauseStep
Strategy:        Canary
  Step:          1/3
  SetWeight:     20
  ActualWeight:  33
Images:          envoy:1 (canary, stable)
                 shop:v1 (stable)
                 shop:v2 (canary)
Replicas:
  Desired:       3
  Current:       3
  Updated:       1
  Ready:         3
  Available:     3

NAME                                 KIND        STATUS        AGE  INFO
⟳ checkout                           Rollout     ॥ Paused      7d
├──# revision:3
│  └──⧉ checkout-7d9b8c6f5           ReplicaSet  ✔ Healthy     7d   canary
│     └──□ checkout-7d9b8c6f5-g5h6i  Pod         ✔ Running     7d   ready:2/2
├──# revision:2
│  └──⧉ checkout-5c6f7b8d9           ReplicaSet  ✔ Healthy     7d   stable
│     ├──□ checkout-5c6f7b8d9-a1b2c  Pod         ✔ Running     7d   ready:2/2
│     └──□ checkout-5c6f7b8d9-d3e4f  Pod         ✔ Running     7d   ready:2/2
└──# revision:1
   └──⧉ checkout-6b5d4c3f2           ReplicaSet  • ScaledDown  7d
"""
    # The aliases of Argo's plugin, and colour never into a pipe.
    assert cluster.run("get", "ro", "checkout").stdout == result.stdout
    assert "\x1b[" not in result.stdout


def test_get_rollout_watch_redraws_on_changes_and_ends_when_healthy(cluster: Cluster) -> None:
    cluster.canary_family("checkout", {
        "phase": "Progressing", "message": "more replicas need to be updated", "currentStepIndex": 0})
    cluster.set_pod_state("checkout-7d9b8c6f5-g5h6i", "creating")
    controller = later(
        0.8,
        # A pod becomes ready: the watch on pods alone must redraw.
        lambda: cluster.set_pod_state("checkout-7d9b8c6f5-g5h6i", "running"),
        lambda: cluster.set_status("checkout", {"phase": "Paused", "message": "CanaryPauseStep", "currentStepIndex": 1,
                                                "pauseConditions": [{"reason": "CanaryPauseStep",
                                                                     "startTime": WEEK_AGO}]}),
        lambda: cluster.set_status("checkout", {"phase": "Healthy", "message": None, "currentStepIndex": 3,
                                                "pauseConditions": None, "stableRS": "7d9b8c6f5"}),
        # Never drawn: the command has ended at Healthy.
        lambda: cluster.set_status("checkout", {"phase": "Degraded", "message": "too late"}),
        gap=0.6,
    )
    result = cluster.run("get", "rollout", "checkout", "--watch", "--timeout-seconds", "20")
    controller.join()
    assert result.exit_code == 0, result.output  # ended at Healthy: a timeout exits 1
    ns = cluster.namespace
    assert frames(result.stdout) == [
        family_text(ns, status="◌ Progressing", message="more replicas need to be updated", step="0/3",
                    set_weight="20", actual="33", canary_pod="◌ ContainerCreating"),
        family_text(ns, status="◌ Progressing", message="more replicas need to be updated", step="0/3",
                    set_weight="20", actual="33"),
        family_text(ns, status="॥ Paused", message="CanaryPauseStep", step="1/3", set_weight="20", actual="33"),
        family_text(ns, status="✔ Healthy", message=None, step="3/3", set_weight="100", actual="100",
                    stable="7d9b8c6f5"),
    ]


def test_get_rollout_watch_ends_when_degraded(cluster: Cluster) -> None:
    cluster.canary_family("checkout", {"phase": "Progressing", "message": "more replicas need to be updated",
                                       "currentStepIndex": 0})
    controller = later(0.5, lambda: cluster.set_status("checkout", {
        "phase": "Degraded", "message": "RolloutAborted: Rollout aborted update to revision 3", "abort": True}))
    result = cluster.run("get", "rollout", "checkout", "-w", "--timeout-seconds", "20")
    controller.join()
    assert result.exit_code == 0, result.output
    last = frames(result.stdout)[-1]
    assert "Status:          ✖ Degraded\n" in last
    assert "Message:         RolloutAborted: Rollout aborted update to revision 3\n" in last
    assert "  SetWeight:     0\n" in last


def test_get_rollout_watch_coalesces_bursts_of_changes(cluster: Cluster) -> None:
    """Twenty status writes within a few milliseconds are drawn as at most a couple of frames, not twenty."""
    cluster.canary_family("checkout", {"phase": "Progressing", "message": "step 0", "currentStepIndex": 0})
    burst = [lambda i=i: cluster.set_status("checkout", {"message": f"step {i}"}) for i in range(1, 21)]
    healthy = lambda: cluster.set_status("checkout", {"phase": "Healthy", "message": None})  # noqa: E731
    controller = later(0.5, *burst, healthy, gap=0.005)
    result = cluster.run("get", "rollout", "checkout", "-w", "--timeout-seconds", "20")
    controller.join()
    assert result.exit_code == 0, result.output
    drawn = frames(result.stdout)
    assert 2 <= len(drawn) <= 5, [frame.splitlines()[3] for frame in drawn]
    assert "Status:          ✔ Healthy\n" in drawn[-1]


def test_get_rollout_watch_of_a_finished_rollout_draws_once(cluster: Cluster) -> None:
    cluster.canary_family("checkout", {"phase": "Healthy", "currentStepIndex": 3, "stableRS": "7d9b8c6f5"})
    result = cluster.run("get", "rollout", "checkout", "-w")
    assert result.exit_code == 0, result.output
    assert len(frames(result.stdout)) == 1


# -- list rollouts ------------------------------------------------------------------------------------------------


def test_list_rollouts_in_the_context_namespace_and_everywhere(cluster: Cluster) -> None:
    cluster.canary_family("checkout", PAUSED_STATUS)
    cluster.create_rollout("cart", steps=[], status={"phase": "Healthy", "replicas": 3, "readyReplicas": 3,
                                                     "updatedReplicas": 3, "availableReplicas": 3})
    result = cluster.run("list", "rollouts")
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "NAME        STRATEGY   STATUS        STEP  SET-WEIGHT  READY  DESIRED  UP-TO-DATE  AVAILABLE\n"
        "cart        Canary     Healthy       -     100         3/3    3        3           3\n"
        "checkout    Canary     Paused        1/3   20          3/3    3        1           3\n"
    )
    everywhere = cluster.run("list", "rollouts", "-A")
    assert everywhere.exit_code == 0, everywhere.output
    assert f"{cluster.namespace:<9}  checkout    Canary     Paused        1/3   20          3/3" in everywhere.stdout
    assert everywhere.stdout.startswith("NAMESPACE  NAME        STRATEGY   STATUS")


def test_list_rollouts_of_an_empty_namespace(cluster: Cluster) -> None:
    result = cluster.run("list", "rollouts")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr == f'No rollouts found in namespace "{cluster.namespace}".\n'


# -- mutations: exactly Argo's patches --------------------------------------------------------------------------


def test_promote_clears_pause_conditions_through_the_status_subresource(
    cluster: Cluster, sent_patches: list[Any]
) -> None:
    cluster.canary_family("checkout", PAUSED_STATUS)
    result = cluster.run("promote", "checkout")
    assert (result.exit_code, result.stdout) == (0, "rollout 'checkout' promoted\n")
    assert sent_patches == [("rollouts", "status", "merge", {"status": {"pauseConditions": None}})]
    status = cluster.rollout("checkout")["status"]
    assert "pauseConditions" not in status
    assert status["currentStepIndex"] == 1  # the controller moves the index once it sees the pause is gone
    served = [(r.verb, r.resource, r.subresource) for r in cluster.emulator.requests if r.verb == "patch"]
    assert served[-1] == ("patch", "rollouts", "status")


def test_promote_of_a_manually_paused_rollout_unpauses_the_spec_after_the_status(
    cluster: Cluster, sent_patches: list[Any]
) -> None:
    cluster.canary_family("checkout", PAUSED_STATUS, paused=True)
    assert cluster.run("promote", "checkout").exit_code == 0
    assert sent_patches == [
        ("rollouts", "status", "merge", {"status": {"pauseConditions": None}}),
        ("rollouts", None, "merge", {"spec": {"paused": False}}),
    ]
    rollout = cluster.rollout("checkout")
    assert rollout["spec"]["paused"] is False
    assert "pauseConditions" not in rollout["status"]


def test_promote_skips_a_step_in_progress(cluster: Cluster, sent_patches: list[Any]) -> None:
    cluster.canary_family("checkout", {"phase": "Progressing", "currentStepIndex": 2},
                          steps=[{"setWeight": 20}, {"pause": {}}, {"analysis": {"templates": []}}, {"setWeight": 60}])
    assert cluster.run("promote", "checkout").exit_code == 0
    assert sent_patches == [("rollouts", "status", "merge", {"status": {"pauseConditions": None,
                                                                          "currentStepIndex": 3}})]
    assert cluster.rollout("checkout")["status"]["currentStepIndex"] == 3


def test_promote_full(cluster: Cluster, sent_patches: list[Any]) -> None:
    cluster.canary_family("checkout", PAUSED_STATUS)
    result = cluster.run("promote", "checkout", "--full")
    assert (result.exit_code, result.stdout) == (0, "rollout 'checkout' fully promoted\n")
    assert sent_patches == [("rollouts", "status", "merge", {"status": {"promoteFull": True}})]
    assert cluster.rollout("checkout")["status"]["promoteFull"] is True


def test_promote_full_of_a_promoted_rollout_sends_nothing(cluster: Cluster, sent_patches: list[Any]) -> None:
    cluster.canary_family("checkout", {"phase": "Healthy", "stableRS": "7d9b8c6f5"})
    result = cluster.run("promote", "checkout", "--full")
    assert (result.exit_code, result.stdout) == (0, "rollout 'checkout' is already fully promoted\n")
    assert sent_patches == []


def test_abort_and_retry(cluster: Cluster, sent_patches: list[Any]) -> None:
    cluster.canary_family("checkout", PAUSED_STATUS)
    aborted = cluster.run("abort", "checkout")
    assert (aborted.exit_code, aborted.stdout) == (0, "rollout 'checkout' aborted\n")
    assert cluster.rollout("checkout")["status"]["abort"] is True
    retried = cluster.run("retry", "rollout", "checkout")
    assert (retried.exit_code, retried.stdout) == (0, "rollout 'checkout' retried\n")
    assert cluster.rollout("checkout")["status"]["abort"] is False
    assert sent_patches == [
        ("rollouts", "status", "merge", {"status": {"abort": True}}),
        ("rollouts", "status", "merge", {"status": {"abort": False}}),
    ]


def test_pause(cluster: Cluster, sent_patches: list[Any]) -> None:
    cluster.canary_family("checkout", {"phase": "Progressing", "currentStepIndex": 0})
    result = cluster.run("pause", "checkout")
    assert (result.exit_code, result.stdout) == (0, "rollout 'checkout' paused\n")
    assert sent_patches == [("rollouts", None, "merge", {"spec": {"paused": True}})]
    assert cluster.rollout("checkout")["spec"]["paused"] is True


def test_restart_in_a_while(cluster: Cluster, sent_patches: list[Any]) -> None:
    cluster.canary_family("checkout", {"phase": "Healthy"})
    before = datetime.now(UTC).replace(microsecond=0)
    result = cluster.run("restart", "checkout", "--in", "30s")
    assert (result.exit_code, result.stdout) == (0, "rollout 'checkout' restarts in 30s\n")
    [(resource, subresource, patch_type, patch)] = sent_patches
    assert (resource, subresource, patch_type, list(patch["spec"])) == ("rollouts", None, "merge", ["restartAt"])
    restart_at = datetime.strptime(cluster.rollout("checkout")["spec"]["restartAt"], "%Y-%m-%dT%H:%M:%S%z")
    assert before + timedelta(seconds=30) <= restart_at <= before + timedelta(seconds=32)


def test_undo_to_the_previous_revision(cluster: Cluster, sent_patches: list[Any]) -> None:
    cluster.canary_family("checkout", PAUSED_STATUS)
    result = cluster.run("undo", "checkout")
    assert (result.exit_code, result.stdout) == (0, "rollout 'checkout' undo (to revision 2)\n")
    restored = {"metadata": {"labels": {"app": "checkout"}},
                "spec": {"containers": [{"name": "app", "image": "shop:v1"}, {"name": "proxy", "image": "envoy:1"}]}}
    assert sent_patches == [("rollouts", None, "json", [{"op": "replace", "path": "/spec/template",
                                                          "value": restored}])]
    assert cluster.rollout("checkout")["spec"]["template"] == restored


def test_undo_to_a_given_revision_and_to_one_that_does_not_exist(cluster: Cluster) -> None:
    cluster.canary_family("checkout", PAUSED_STATUS)
    assert cluster.run("undo", "checkout", "--to-revision", "1").exit_code == 0
    assert cluster.rollout("checkout")["spec"]["template"]["spec"]["containers"][0]["image"] == "shop:v0"
    # Back at revision 1's template: undoing to it again changes nothing.
    again = cluster.run("undo", "checkout", "--to-revision", "1")
    assert again.stdout == "skipped rollback (current template already matches revision 1)\n"
    assert_one_line_error(cluster.run("undo", "checkout", "--to-revision", "7"),
                          'revision 7 of rollout "checkout" not found (its revisions: 1, 2, 3)')


def test_set_image(cluster: Cluster, sent_patches: list[Any]) -> None:
    cluster.canary_family("checkout", {"phase": "Healthy"})
    result = cluster.run("set", "image", "checkout", "proxy=envoy:2")
    assert (result.exit_code, result.stdout) == (0, 'rollout "checkout" image updated\n')
    assert sent_patches == [("rollouts", None, "json", [
        {"op": "test", "path": "/spec/template/spec/containers/1/name", "value": "proxy"},
        {"op": "replace", "path": "/spec/template/spec/containers/1/image", "value": "envoy:2"},
    ])]
    containers = cluster.rollout("checkout")["spec"]["template"]["spec"]["containers"]
    assert containers == [{"name": "app", "image": "shop:v2"}, {"name": "proxy", "image": "envoy:2"}]
    assert cluster.run("set", "image", "checkout", "*=shop:v3").exit_code == 0
    images = [c["image"] for c in cluster.rollout("checkout")["spec"]["template"]["spec"]["containers"]]
    assert images == ["shop:v3", "shop:v3"]


def test_set_image_names_the_containers_when_none_matches(cluster: Cluster, sent_patches: list[Any]) -> None:
    cluster.canary_family("checkout", {"phase": "Healthy"})
    assert_one_line_error(cluster.run("set", "image", "checkout", "web=shop:v3"),
                          'container "web" not found in rollout "checkout" (its containers: app, proxy)')
    assert sent_patches == []


# -- status --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "line", "exit_code"),
    [
        ({"phase": "Healthy"}, "Healthy", 0),
        ({"phase": "Progressing", "message": "more replicas need to be updated"},
         "Progressing - more replicas need to be updated", 0),
        (PAUSED_STATUS, "Paused - CanaryPauseStep", 0),
        ({"phase": "Degraded", "message": "RolloutAborted: metric failed"}, "Degraded - RolloutAborted: metric failed",
         1),
    ],
)
def test_status_without_watch_prints_once_and_exits_by_phase(
    cluster: Cluster, status: dict[str, Any], line: str, exit_code: int
) -> None:
    cluster.canary_family("checkout", status)
    result = cluster.run("status", "checkout", "--no-watch")
    assert (result.exit_code, result.stdout) == (exit_code, line + "\n")
    if exit_code:
        assert result.stderr == 'error: rollout "checkout" is Degraded: RolloutAborted: metric failed\n'


def test_status_watches_until_healthy(cluster: Cluster) -> None:
    cluster.canary_family("checkout", {"phase": "Progressing", "message": "more replicas need to be updated"})
    controller = later(
        0.4,
        lambda: cluster.set_status("checkout", {"readyReplicas": 2}),  # nothing shown changes: no line
        lambda: cluster.set_status("checkout", PAUSED_STATUS),
        lambda: cluster.set_status("checkout", {"phase": "Progressing", "message": "waiting for all steps to complete",
                                                "pauseConditions": None, "controllerPause": None}),
        lambda: cluster.set_status("checkout", {"phase": "Healthy", "message": None}),
    )
    result = cluster.run("status", "checkout", "--timeout", "20s")
    controller.join()
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "Progressing - more replicas need to be updated\n"
        "Paused - CanaryPauseStep\n"
        "Progressing - waiting for all steps to complete\n"
        "Healthy\n"
    )


def test_status_watch_exits_1_when_degraded(cluster: Cluster) -> None:
    cluster.canary_family("checkout", {"phase": "Progressing", "message": "more replicas need to be updated"})
    controller = later(0.4, lambda: cluster.set_status("checkout", {"phase": "Degraded",
                                                                    "message": "RolloutAborted: metric failed"}))
    result = cluster.run("status", "checkout", "-w")
    controller.join()
    assert result.exit_code == 1
    assert result.stdout.splitlines()[-1] == "Degraded - RolloutAborted: metric failed"
    assert result.stderr == 'error: rollout "checkout" is Degraded: RolloutAborted: metric failed\n'


def test_status_watch_times_out(cluster: Cluster) -> None:
    cluster.canary_family("checkout", PAUSED_STATUS)
    started = time.monotonic()
    result = cluster.run("status", "checkout", "--timeout", "1s")
    assert time.monotonic() - started >= 0.9  # it waited for the timeout
    assert result.exit_code == 1
    assert result.stdout == "Paused - CanaryPauseStep\n"
    assert result.stderr == 'error: timed out after 1s waiting for rollout "checkout" to finish (it is Paused)\n'


# -- errors: one line, exit 1, no traceback --------------------------------------------------------------------

ALL_COMMANDS = [
    ("get", "rollout", "{name}"), ("get", "rollout", "{name}", "-w"), ("status", "{name}"), ("promote", "{name}"),
    ("promote", "{name}", "--full"), ("abort", "{name}"), ("retry", "rollout", "{name}"), ("pause", "{name}"),
    ("restart", "{name}"), ("undo", "{name}"), ("set", "image", "{name}", "app=shop:v9"),
]


@pytest.mark.parametrize("command", ALL_COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_a_missing_rollout(cluster: Cluster, command: tuple[str, ...]) -> None:
    result = cluster.run(*(part.format(name="nope") for part in command))
    assert_one_line_error(result, f'rollout "nope" not found in namespace "{cluster.namespace}"')


def test_a_missing_namespace(cluster: Cluster) -> None:
    cluster.canary_family("checkout", PAUSED_STATUS)
    result = cluster.run("get", "rollout", "checkout", "-n", "nowhere")
    assert_one_line_error(result, 'namespace "nowhere" not found (rollout "checkout")')


def test_namespace_flag_overrides_the_context(cluster: Cluster, sandbox: SandboxThread, tmp_path: Path) -> None:
    cluster.canary_family("checkout", PAUSED_STATUS)
    elsewhere = sandbox.write_kubeconfig(tmp_path / "default-ns", namespace="default")
    result = CliRunner().invoke(app, ["status", "checkout", "--no-watch", "--kubeconfig", str(elsewhere),
                                      "-n", cluster.namespace])
    assert (result.exit_code, result.stdout) == (0, "Paused - CanaryPauseStep\n")


def test_an_unreachable_cluster(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nobody listens on any more
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", f"http://127.0.0.1:{port}")
    result = CliRunner().invoke(app, ["get", "rollout", "checkout", "--kubeconfig", str(kubeconfig)])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith(f"error: cannot reach the Kubernetes API at http://127.0.0.1:{port}: ")
    assert result.stderr.count("\n") == 1


def test_a_kubeconfig_that_does_not_exist(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["status", "checkout", "--kubeconfig", str(tmp_path / "missing")])
    assert_one_line_error(result, f'kubeconfig "{tmp_path / "missing"}" does not exist')


@pytest.mark.parametrize("content", ["just: [text", "apiVersion: v1\nkind: Config\n", "- a list\n"])
def test_a_kubeconfig_that_is_not_one(tmp_path: Path, content: str) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(content)
    result = CliRunner().invoke(app, ["list", "rollouts", "--kubeconfig", str(kubeconfig)])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)


def test_an_unknown_context(cluster: Cluster) -> None:
    result = cluster.run("list", "rollouts", "--context", "prod")
    assert_one_line_error(result, f'context "prod" not found in kubeconfig "{cluster.kubeconfig}" '
                                  "(its contexts: sandbox)")


# -- entry points ---------------------------------------------------------------------------------------------


def test_console_script_reports_errors_without_a_traceback(tmp_path: Path) -> None:
    result = subprocess.run([str(BIN / "rollouts"), "get", "rollout", "checkout", "--kubeconfig",
                             str(tmp_path / "missing")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr == f'error: kubeconfig "{tmp_path / "missing"}" does not exist\n'
    assert result.stdout == ""


def test_kubectl_plugin_entry_point_exists() -> None:
    result = subprocess.run([str(BIN / "kubectl-rollouts"), "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    for command in ("get", "list", "promote", "abort", "retry", "pause", "undo", "restart", "set", "status"):
        assert command in result.stdout


@pytest.mark.kubectl
def test_kubectl_rollouts_version(tmp_path: Path) -> None:
    kubectl = shutil.which("kubectl")
    assert kubectl is not None
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
           "KUBECONFIG": str(tmp_path / "none")}
    result = subprocess.run([kubectl, "rollouts", "version"], capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("kubectl-rollouts: v")
    short = subprocess.run([kubectl, "rollouts", "version", "--short"], capture_output=True, text=True, timeout=60,
                           env=env)
    assert short.stdout.count("\n") == 1
