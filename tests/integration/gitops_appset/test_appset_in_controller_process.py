"""The ApplicationSet controller inside the controller process that `rollouts controller` assembles
(``rollouts.controller.run.build_operator``): beside the Application controller, reading Git through its
RepoServer, and refreshed by its push webhook — Argo CD's webhook handler refreshes ApplicationSets whose git
generators read the pushed repository as well as Applications (Argo CD docs: applicationset/Generators-Git.md,
"Webhook Configuration").

With the periodic requeue and resync set to an hour, only the webhook can bring a pushed folder in.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from gitops.controller.application_sets import AppSetControllerOptions
from gitops.controller.controller import AppControllerOptions
from kube.client import KubeClient, load_api_client
from kube.errors import NotFound
from kube.resources import APPLICATION_SETS, APPLICATIONS
from rollouts.controller.controller import ControllerOptions
from sandbox.cluster import SandboxThread
from tests.git_servers import WorkRepository
from tests.gitops_harness import free_port, wait_for
from tests.rollout_harness import ControllerThread, load_decide

REPO_ROOT = Path(__file__).resolve().parents[3]
NAMESPACE = "argocd"
HOUR = 3600.0


@pytest.fixture
def sandbox() -> Iterator[SandboxThread]:
    with SandboxThread(crd_dirs=[REPO_ROOT / "crds"], simulate_workloads=False,
                       namespaces=("default", NAMESPACE)) as thread:
        yield thread


def application_exists(client: KubeClient, name: str) -> bool:
    try:
        client.get(APPLICATIONS, NAMESPACE, name)
    except NotFound:
        return False
    return True


def post_push(port: int, repo_url: str, changed: list[str]) -> str:
    body = json.dumps({"ref": "refs/heads/main", "before": "0" * 40, "after": "1" * 40,
                       "repository": {"clone_url": repo_url, "html_url": repo_url, "default_branch": "main"},
                       "commits": [{"id": "1" * 40, "added": changed, "removed": [], "modified": []}]}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/webhook", data=body,
                                     headers={"Content-Type": "application/json", "X-GitHub-Event": "push"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return str(json.loads(response.read())["message"])


def test_a_push_webhook_refreshes_the_applicationsets_reading_the_pushed_repository(
    sandbox: SandboxThread, tmp_path: Path
) -> None:
    repo = WorkRepository(tmp_path / "apps-repo")
    repo.commit({"apps/blog/cm.yaml": "kind: ConfigMap\n"}, "one app")
    kubeconfig = sandbox.write_kubeconfig(tmp_path / "kubeconfig")
    port = free_port()
    controller = ControllerThread(
        kubeconfig, ControllerOptions(workers=1, metrics_port=0, analysis_workers=0), load_decide(),
        AppControllerOptions(namespace=NAMESPACE, workers=2, poll_seconds=0, webhook_port=port,
                             webhook_address="127.0.0.1", cache_dir=tmp_path / "cache"),
        AppSetControllerOptions(namespace=NAMESPACE, requeue_seconds=HOUR, resync_seconds=HOUR),
    )
    client = KubeClient(load_api_client(str(kubeconfig)))
    controller.start()
    try:
        operator = controller.operator
        assert operator.application_sets is not None and operator.applications is not None
        assert operator.application_sets.git is operator.applications.repo_server  # Git cached once for both
        client.create(APPLICATION_SETS, NAMESPACE, {
            "apiVersion": "argoproj.io/v1alpha1", "kind": "ApplicationSet",
            "metadata": {"name": "dirs", "namespace": NAMESPACE},
            "spec": {
                "generators": [{"git": {"repoURL": repo.url, "revision": "HEAD",
                                        "directories": [{"path": "apps/*"}]}}],
                "template": {"metadata": {"name": "{{path.basename}}"}, "spec": {
                    "project": "default",
                    "source": {"repoURL": repo.url, "targetRevision": "HEAD", "path": "{{path}}"},
                    "destination": {"server": "https://kubernetes.default.svc", "namespace": "{{path.basename}}"},
                }},
            },
        })
        wait_for(lambda: application_exists(client, "blog"), "the first folder's Application")

        repo.commit({"apps/news/cm.yaml": "kind: ConfigMap\n"}, "a second app")
        answer = post_push(port, repo.url, ["apps/news/cm.yaml"])
        # The blog Application (same repository and branch, no manifest-generate-paths) and the ApplicationSet.
        assert answer == "2 application(s) refreshed"
        wait_for(lambda: application_exists(client, "news"), "the pushed folder's Application")
    finally:
        controller.stop()
        client.close()
