"""`rollouts proj windows list` against a sandbox holding an AppProject with windows and two Applications."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cli.main import _register_commands, app
from sandbox.cluster import SandboxThread, write_kubeconfig

REPO = Path(__file__).resolve().parents[3]
APPLICATIONS = ("argoproj.io", "v1alpha1", "applications")
APP_PROJECTS = ("argoproj.io", "v1alpha1", "appprojects")
ALWAYS = "* * * * *"  # a window starting every minute is active at any moment
NEVER_NOW = "0 0 29 2 *"  # 29 February only: inactive on any day this test can run but one

_register_commands()


@pytest.fixture(scope="module")
def kubeconfig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with SandboxThread(crd_dirs=[REPO / "crds"], simulate_workloads=False, namespaces=("default", "argocd")) as sandbox:
        sandbox.emulator.create_object(*APP_PROJECTS, {
            "apiVersion": "argoproj.io/v1alpha1", "kind": "AppProject",
            "metadata": {"name": "team-a", "namespace": "argocd"},
            "spec": {"sourceRepos": ["*"], "destinations": [{"server": "*", "namespace": "*"}], "syncWindows": [
                {"kind": "deny", "schedule": ALWAYS, "duration": "1h", "namespaces": ["prod"], "manualSync": True},
                {"kind": "allow", "schedule": NEVER_NOW, "duration": "1h", "applications": ["batch-*"]},
            ]},
        }, namespace="argocd")
        for name, namespace in (("web", "prod"), ("batch-nightly", "jobs"), ("other", "dev")):
            application: dict[str, Any] = {
                "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
                "metadata": {"name": name, "namespace": "argocd"},
                "spec": {"project": "team-a" if name != "other" else "default",
                         "source": {"repoURL": "https://example.invalid/repo.git", "path": "."},
                         "destination": {"server": "https://kubernetes.default.svc", "namespace": namespace}},
            }
            sandbox.emulator.create_object(*APPLICATIONS, application, namespace="argocd")
        yield write_kubeconfig(tmp_path_factory.mktemp("proj") / "kubeconfig", sandbox.url)


def run(kubeconfig: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["proj", "windows", "list", *args, "--kubeconfig", str(kubeconfig)])
    return result.exit_code, result.output


def test_the_table_shows_each_window_and_whether_it_is_active(kubeconfig: Path) -> None:
    code, output = run(kubeconfig, "team-a")
    assert code == 0, output
    lines = output.splitlines()
    assert lines[0].split() == ["ID", "STATUS", "KIND", "SCHEDULE", "DURATION", "APPLICATIONS", "NAMESPACES",
                                "CLUSTERS", "MANUALSYNC", "TIMEZONE"]
    assert lines[1].split()[:3] == ["0", "Active", "deny"] and "Enabled" in lines[1]
    assert lines[2].split()[:3] == ["1", "Inactive", "allow"] and "batch-*" in lines[2]


def test_each_application_of_the_project_says_what_may_sync_now(kubeconfig: Path) -> None:
    _, output = run(kubeconfig, "team-a")
    assert "web (windows 0): automated sync: blocked by sync window; manual sync: allowed" in output
    assert ("batch-nightly (windows 1): automated sync: blocked by sync window; manual sync: blocked by sync "
            "window") in output
    assert "other" not in output  # another project's Application


def test_one_application_with_app(kubeconfig: Path) -> None:
    _, output = run(kubeconfig, "team-a", "--app", "web")
    assert "web (windows 0)" in output and "batch-nightly" not in output


def test_a_missing_project_is_one_error_line(kubeconfig: Path) -> None:
    code, output = run(kubeconfig, "nope")
    assert code == 1
    assert 'AppProject "nope" not found in namespace "argocd"' in output
