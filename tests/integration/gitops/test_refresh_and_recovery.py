"""Refresh on a push webhook (Argo CD docs: operator-manual/webhook.md), and recovery: a controller killed in the
middle of a sync resumes the same operation from status.operationState without creating anything twice
(gitops-engine's resumable sync)."""

from __future__ import annotations

import hashlib
import hmac
import json
import sys
import urllib.request
from pathlib import Path

_REPO_ROOT = str(Path(__file__).resolve().parents[3])
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

from kube.client import KubeClient  # noqa: E402
from kube.resources import APPLICATIONS, DEPLOYMENTS, SECRETS  # noqa: E402
from sandbox.cluster import SandboxThread  # noqa: E402
from sandbox.recorder import ChangeRecorder, Resource  # noqa: E402
from tests.gitops_harness import (  # noqa: E402
    APP_NAMESPACE,
    AppControllerThread,
    application,
    controller_options,
    free_port,
    make_repo,
    wait_for,
    wait_synced_healthy,
)

APPS = Path(__file__).parent / "apps"


def post_push(port: int, repo_url: str, changed: list[str], secret: str | None = None) -> int:
    body = json.dumps({
        "ref": "refs/heads/main", "before": "0" * 40, "after": "1" * 40,
        "repository": {"html_url": repo_url, "clone_url": repo_url, "default_branch": "main"},
        "commits": [{"added": [], "modified": changed, "removed": []}],
    }).encode()
    headers = {"Content-Type": "application/json", "X-GitHub-Event": "push"}
    if secret is not None:
        headers["X-Hub-Signature-256"] = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/webhook", data=body, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def test_a_push_webhook_refreshes_the_application_and_the_new_image_is_deployed(
    sandbox: tuple[SandboxThread, Path], client: KubeClient, namespace: str, tmp_path: Path
) -> None:
    port = free_port()
    # No periodic refresh: only the webhook can bring the new commit in.
    options = controller_options(tmp_path / "cache", webhook_port=port, webhook_address="127.0.0.1",
                                 poll_seconds=0.0)
    client.create(SECRETS, APP_NAMESPACE, {"metadata": {"name": "argocd-secret"},
                                           "stringData": {"webhook.github.secret": "hush"}})
    running = AppControllerThread(sandbox[1], options).start()
    try:
        repo = make_repo(tmp_path)
        repo.copy_tree(APPS / "guestbook", "guestbook")
        repo.commit({}, "guestbook")
        name = f"{namespace}-webhook"
        client.create(APPLICATIONS, APP_NAMESPACE, application(name, repo.url, "guestbook", namespace=namespace))
        wait_synced_healthy(client, name)
        text = (repo.work / "guestbook/ui-deployment.yaml").read_text().replace("demo:0.2", "demo:0.3")
        repo.commit({"guestbook/ui-deployment.yaml": text}, "new image")
        assert post_push(port, repo.url, ["guestbook/ui-deployment.yaml"], secret="wrong") == 401
        assert post_push(port, repo.url, ["guestbook/ui-deployment.yaml"], secret="hush") == 200

        def image() -> str:
            containers = client.get(DEPLOYMENTS, namespace, "guestbook-ui")["spec"]["template"]["spec"]["containers"]
            return str(containers[0]["image"])

        wait_for(lambda: image().endswith("demo:0.3"), "the pushed image deployed")
    finally:
        running.stop()
        client.delete(SECRETS, APP_NAMESPACE, "argocd-secret")
    assert not running.errors.records, running.errors.messages()


def test_a_controller_killed_mid_sync_resumes_the_operation_creating_each_resource_once(
    sandbox: tuple[SandboxThread, Path], client: KubeClient, namespace: str, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path)
    repo.copy_tree(APPS / "waves", "waves")
    repo.commit({}, "waves")
    resources = [Resource("batch", "v1", "jobs"), Resource("", "v1", "configmaps"), Resource("", "v1", "services"),
                 Resource("apps", "v1", "deployments")]
    name = f"{namespace}-restart"
    with ChangeRecorder(sandbox[0].emulator, resources) as recorder:
        first = AppControllerThread(sandbox[1], controller_options(tmp_path / "cache")).start()
        client.create(APPLICATIONS, APP_NAMESPACE, application(name, repo.url, "waves", namespace=namespace))

        def wave_zero_written() -> bool:
            return any(c.namespace == namespace and c.name == "backend" and c.plural == "services"
                       for c in recorder.changes_since(0))

        wait_for(wave_zero_written, "the first resource of wave 0 written", timeout=60)
        first.stop()
        second = AppControllerThread(sandbox[1], controller_options(tmp_path / "cache")).start()
        try:
            status = wait_synced_healthy(client, name)
        finally:
            second.stop()
    added: dict[tuple[str, str], int] = {}
    for change in recorder.changes_since(0):
        if change.namespace == namespace and change.type == "ADDED":
            added[(change.plural, change.name)] = added.get((change.plural, change.name), 0) + 1
    assert added == {("jobs", "migrate"): 1, ("configmaps", "settings"): 1, ("services", "backend"): 1,
                     ("deployments", "backend"): 1, ("deployments", "frontend"): 1, ("jobs", "smoke-test"): 1}
    assert client.get(DEPLOYMENTS, namespace, "backend")["metadata"]["generation"] == 1
    assert status["operationState"]["phase"] == "Succeeded"
    assert not first.errors.records and not second.errors.records
