"""`rollouts app` against the sandbox with the Application controller running: argocd's verbs, columns and exit
codes (argocd CLI docs: argocd_app_diff.md "exit code 0 no diff, 1 diff, 2 error"; argocd_app_sync.md; argocd_app
rollback.md "rollback cannot be initiated when auto-sync is enabled")."""

from __future__ import annotations

import sys
from pathlib import Path

from typer.testing import CliRunner, Result

_REPO_ROOT = str(Path(__file__).resolve().parents[3])
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

from cli.main import _register_commands, app  # noqa: E402
from kube.client import KubeClient  # noqa: E402
from kube.resources import APPLICATIONS, CONFIGMAPS, DEPLOYMENTS  # noqa: E402
from sandbox.cluster import SandboxThread  # noqa: E402
from tests.gitops_harness import (  # noqa: E402
    APP_NAMESPACE,
    AppControllerThread,
    app_status,
    make_repo,
    wait_for,
)

_register_commands()
APPS = Path(__file__).parent / "apps"


def run(kubeconfig: Path, *args: str) -> Result:
    return CliRunner().invoke(app, ["app", *args, "--kubeconfig", str(kubeconfig)])


def test_create_diff_sync_history_rollback_and_delete(
    sandbox: tuple[SandboxThread, Path], client: KubeClient, controller: AppControllerThread, namespace: str,
    tmp_path: Path,
) -> None:
    kubeconfig = sandbox[1]
    repo = make_repo(tmp_path)
    repo.copy_tree(APPS / "guestbook", "guestbook")
    first = repo.commit({}, "guestbook")
    name = f"{namespace}-cli"
    created = run(kubeconfig, "create", name, "--repo", repo.url, "--path", "guestbook", "--revision", "main",
                  "--dest-namespace", namespace)
    assert created.exit_code == 0, created.output
    wait_for(lambda: app_status(client, name).get("sync", {}).get("status") == "OutOfSync", "OutOfSync")

    diff = run(kubeconfig, "diff", name)
    assert diff.exit_code == 1, diff.output
    assert f"===== apps/Deployment {namespace}/guestbook-ui ======" in diff.output

    synced = run(kubeconfig, "sync", name, "--timeout", "60")
    assert synced.exit_code == 0, synced.output
    assert synced.output.split()[:8] == ["GROUP", "KIND", "NAMESPACE", "NAME", "STATUS", "HEALTH", "HOOK", "MESSAGE"]
    assert "guestbook-ui" in synced.output
    assert "Phase:" in synced.output and "Succeeded" in synced.output

    wait = run(kubeconfig, "wait", name, "--timeout", "60")
    assert wait.exit_code == 0, wait.output
    assert run(kubeconfig, "diff", name).exit_code == 0

    got = run(kubeconfig, "get", name)
    assert got.exit_code == 0, got.output
    header = next(line for line in got.output.splitlines() if line.startswith("GROUP"))
    assert header.split() == ["GROUP", "KIND", "NAMESPACE", "NAME", "STATUS", "HEALTH", "HOOK", "MESSAGE"]
    sync_line = next(line for line in got.output.splitlines() if line.startswith("Sync Status:"))
    assert sync_line.split()[2:5] == ["Synced", "to", "main"]

    listed = run(kubeconfig, "list")
    assert name in listed.output and "Manual" in listed.output

    # A local working tree with an uncommitted change differs from the cluster.
    (repo.work / "guestbook" / "extra.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\ndata:\n  a: b\n")
    local = run(kubeconfig, "diff", name, "--local", str(repo.work / "guestbook"))
    assert local.exit_code == 1 and f"/ConfigMap {namespace}/extra" in local.output

    second = repo.commit({}, "extra ConfigMap")
    assert run(kubeconfig, "sync", name, "--timeout", "60").exit_code == 0
    assert client.get_or_none(CONFIGMAPS, namespace, "extra") is not None
    history = run(kubeconfig, "history", name)
    assert history.exit_code == 0
    assert [line.split()[0] for line in history.output.splitlines()[2:]] == ["0", "1"]
    assert first in history.output and second in history.output

    rolled = run(kubeconfig, "rollback", name, "0", "--prune", "--timeout", "60")
    assert rolled.exit_code == 0, rolled.output
    assert app_status(client, name)["sync"]["revision"] == first or client.get_or_none(
        CONFIGMAPS, namespace, "extra") is None
    wait_for(lambda: client.get_or_none(CONFIGMAPS, namespace, "extra") is None, "the rollback pruning extra")

    deleted = run(kubeconfig, "delete", name)
    assert deleted.exit_code == 0, deleted.output
    wait_for(lambda: client.get_or_none(APPLICATIONS, APP_NAMESPACE, name) is None, "the Application gone")
    assert client.get_or_none(DEPLOYMENTS, namespace, "guestbook-ui") is None


def test_rollback_is_refused_while_automated_sync_is_on(
    sandbox: tuple[SandboxThread, Path], client: KubeClient, controller: AppControllerThread, namespace: str,
    tmp_path: Path,
) -> None:
    repo = make_repo(tmp_path)
    repo.copy_tree(APPS / "guestbook", "guestbook")
    repo.commit({}, "guestbook")
    name = f"{namespace}-auto"
    assert run(sandbox[1], "create", name, "--repo", repo.url, "--path", "guestbook", "--dest-namespace", namespace,
               "--sync-policy", "automated").exit_code == 0
    refused = run(sandbox[1], "rollback", name, "0")
    assert refused.exit_code == 1
    assert "auto-sync is enabled" in refused.output


def test_a_failing_sync_exits_non_zero_with_the_phase(
    sandbox: tuple[SandboxThread, Path], client: KubeClient, controller: AppControllerThread, namespace: str,
    tmp_path: Path,
) -> None:
    bad_job = ("apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: fails\n  annotations:\n"
               "    argocd.argoproj.io/hook: PreSync\nspec:\n  backoffLimit: 0\n  template:\n    metadata:\n"
               "      annotations:\n        sandbox.rollouts/exit-code: \"2\"\n    spec:\n"
               "      restartPolicy: Never\n      containers:\n        - name: x\n          image: x:1\n")
    repo = make_repo(tmp_path, {"app/job.yaml": bad_job})
    name = f"{namespace}-fails"
    assert run(sandbox[1], "create", name, "--repo", repo.url, "--path", "app",
               "--dest-namespace", namespace).exit_code == 0
    result = run(sandbox[1], "sync", name, "--timeout", "60")
    assert result.exit_code == 1, result.output
    assert "Operation has completed with phase: Failed" in result.output


def test_diff_of_an_unknown_application_exits_2(sandbox: tuple[SandboxThread, Path], client: KubeClient) -> None:
    result = run(sandbox[1], "diff", "no-such-app")
    assert result.exit_code == 2
    assert 'application "no-such-app" not found' in result.output
