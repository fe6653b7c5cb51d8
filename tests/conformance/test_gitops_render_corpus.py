"""Argo CD's example applications (argoproj/argocd-example-apps in the shared corpus) rendered from a real Git
repository as the engine renders them, with the objects each should give worked out by hand from its files; and
`rollouts lint` over the whole example repository reports no false errors."""

from __future__ import annotations

import os
import shutil
import subprocess
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.conformance.corpus import CORPUS_ENV, corpus_dir

EXAMPLE_APPS = corpus_dir() / "argocd-example-apps"

if not EXAMPLE_APPS.is_dir():
    pytest.skip(
        f"shared corpus not found at {corpus_dir()}: rendering the Argo CD example apps needs its "
        f"argocd-example-apps/ (or set {CORPUS_ENV})",
        allow_module_level=True,
    )

import cli.crds  # noqa: E402 - a second command keeps `lint` a subcommand, as in the real CLI
import cli.lint  # noqa: E402, F401 - importing a command module registers it
from cli.main import app  # noqa: E402
from gitops.repo_server import RepoServer  # noqa: E402

needs_kustomize = pytest.mark.skipif(
    shutil.which("kubectl") is None and shutil.which("kustomize") is None, reason="needs kubectl or kustomize"
)


@pytest.fixture(scope="module")
def example_repo(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The example apps committed to a local Git repository (file://), as Argo CD would fetch them."""
    work = tmp_path_factory.mktemp("example-apps") / "repo"
    shutil.copytree(EXAMPLE_APPS, work, ignore=shutil.ignore_patterns(".git"))
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    for args in (["init", "--quiet", "--initial-branch=master"], ["add", "-A"], ["commit", "--quiet", "-m", "apps"]):
        subprocess.run(["git", *args], cwd=work, env=env, check=True, capture_output=True, timeout=120)
    return work.as_uri()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> RepoServer:
    return RepoServer(tmp_path_factory.mktemp("repo-server-cache"))


def rendered(server: RepoServer, url: str, app: str, **source: Any) -> tuple[str, list[tuple[str, str, str]]]:
    result = server.generate_manifests(
        {"repoURL": url, "targetRevision": "HEAD", "path": app, **source}, app_name=app, namespace="default"
    )
    objects = []
    for obj in result.manifests:
        metadata = obj["metadata"]
        hook = (metadata.get("annotations") or {}).get("argocd.argoproj.io/hook", "")
        objects.append((obj["kind"], metadata.get("name") or f"{metadata.get('generateName')}*", hook))
    return result.source_type, sorted(objects)


# Worked out from each directory's files: kinds, names (after namePrefix / the Helm fullname rule) and hooks.
EXPECTED: dict[str, tuple[str, list[tuple[str, str, str]]]] = {
    "guestbook": ("Directory", [("Deployment", "guestbook-ui", ""), ("Service", "guestbook-ui", "")]),
    "sync-waves": (
        "Directory",
        [
            ("Job", "maint-page-down", "Sync"),
            ("Job", "maint-page-up", "Sync"),
            ("Job", "upgrade-sql-schema*", "PreSync"),
            ("ReplicaSet", "backend", ""),
            ("ReplicaSet", "frontend", ""),
            ("Service", "backend", ""),
            ("Service", "frontend", ""),
        ],
    ),
    # The release name (the app name) contains the chart name, so the chart's fullname is the release name.
    "helm-guestbook": ("Helm", [("Deployment", "helm-guestbook", ""), ("Service", "helm-guestbook", "")]),
}

KUSTOMIZE_EXPECTED: dict[str, tuple[str, list[tuple[str, str, str]]]] = {
    "kustomize-guestbook": (
        "Kustomize",
        [("Deployment", "kustomize-guestbook-ui", ""), ("Service", "kustomize-guestbook-ui", "")],
    ),
    # Its own namePrefix on top of the base's: pre-post-sync-kustomize-…, and the two hook Jobs.
    "pre-post-sync": (
        "Kustomize",
        [
            ("Deployment", "pre-post-sync-kustomize-guestbook-ui", ""),
            ("Job", "pre-post-sync-after", "PostSync"),
            ("Job", "pre-post-sync-before", "PreSync"),
            ("Service", "pre-post-sync-kustomize-guestbook-ui", ""),
        ],
    ),
}


@pytest.mark.parametrize("app_path", sorted(EXPECTED))
def test_example_app_renders_as_argo_cd_would(server: RepoServer, example_repo: str, app_path: str) -> None:
    assert rendered(server, example_repo, app_path) == EXPECTED[app_path]


@needs_kustomize
@pytest.mark.parametrize("app_path", sorted(KUSTOMIZE_EXPECTED))
def test_example_kustomize_app_renders_as_argo_cd_would(server: RepoServer, example_repo: str, app_path: str) -> None:
    assert rendered(server, example_repo, app_path) == KUSTOMIZE_EXPECTED[app_path]


def test_helm_guestbook_production_values_make_a_load_balancer(server: RepoServer, example_repo: str) -> None:
    """values-production.yaml sets service.type LoadBalancer (the example's documented production override)."""
    result = server.generate_manifests(
        {"repoURL": example_repo, "path": "helm-guestbook", "helm": {"valueFiles": ["values-production.yaml"]}},
        app_name="helm-guestbook",
        namespace="default",
    )
    [service] = [obj for obj in result.manifests if obj["kind"] == "Service"]
    assert service["spec"]["type"] == "LoadBalancer"


def test_app_of_apps_chart_renders_one_application_per_example(server: RepoServer, example_repo: str) -> None:
    """apps/templates/applications.yaml makes 14 Applications from apps/values.yaml."""
    source_type, objects = rendered(server, example_repo, "apps")
    assert source_type == "Helm"
    assert [kind for kind, _, _ in objects] == ["Application"] * 14


@needs_kustomize
def test_lint_over_the_example_apps_reports_no_false_errors() -> None:
    """Before source directories were rendered, 19 inputs (Chart.yaml, values, kustomization.yaml, templates) were
    reported as documents with no kind. The two directories that need what lint cannot have are noted, not failed."""
    result = CliRunner().invoke(app, ["lint", str(EXAMPLE_APPS)])
    assert result.stdout == ""
    assert result.exit_code == 0
    assert result.stderr.endswith(" with errors\n") and ", 0 with errors" in result.stderr
    notes = [line for line in result.stderr.splitlines() if "note:" in line]
    assert [line.split("note: ")[1].split(" (")[0] for line in notes] == [
        str(EXAMPLE_APPS / "helm-dependency"),
        str(EXAMPLE_APPS / "plugins" / "kustomized-helm"),
    ]
