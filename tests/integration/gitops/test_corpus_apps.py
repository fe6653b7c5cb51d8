"""Argo CD's own example applications (argoproj/argocd-example-apps, in the shared corpus) sync to Synced and Healthy:
a directory, a Kustomize overlay, a Helm chart, sync waves and PreSync/PostSync hooks. The corpus is copied into a
temporary Git repository, as a user would fork it; the tests skip when the corpus is absent."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

_REPO_ROOT = str(Path(__file__).resolve().parents[3])
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

from kube.client import KubeClient  # noqa: E402
from kube.resources import APPLICATIONS  # noqa: E402
from tests.conformance.corpus import CORPUS_ENV, corpus_dir  # noqa: E402
from tests.gitops_harness import (  # noqa: E402
    APP_NAMESPACE,
    AppControllerThread,
    GitRepo,
    application,
    make_repo,
    wait_synced_healthy,
)

EXAMPLES = corpus_dir() / "argocd-example-apps"
# The apps that need no external service (no registry, no plugin, no remote chart repository).
SELF_CONTAINED = ("guestbook", "kustomize-guestbook", "helm-guestbook", "sync-waves", "pre-post-sync")

pytestmark = pytest.mark.skipif(
    not EXAMPLES.is_dir(),
    reason=f"argocd-example-apps not found at {EXAMPLES}: these tests need the shared corpus beside the repository "
    f"(or {CORPUS_ENV})",
)


@pytest.fixture(scope="module")
def examples_repo(tmp_path_factory: pytest.TempPathFactory) -> GitRepo:
    repo = make_repo(tmp_path_factory.mktemp("corpus"))
    for app in SELF_CONTAINED:
        repo.copy_tree(EXAMPLES / app, app)
    repo.commit({}, "argocd-example-apps")
    return repo


@pytest.mark.parametrize("path", SELF_CONTAINED)
def test_an_argo_cd_example_app_syncs_to_synced_and_healthy(
    client: KubeClient, controller: AppControllerThread, namespace: str, examples_repo: GitRepo, path: str
) -> None:
    name = f"{namespace}-{path}"
    client.create(APPLICATIONS, APP_NAMESPACE, application(name, examples_repo.url, path, namespace=namespace))
    status = wait_synced_healthy(client, name, timeout=120)
    assert status["operationState"]["phase"] == "Succeeded"
    assert status["resources"], "the app deployed nothing"
