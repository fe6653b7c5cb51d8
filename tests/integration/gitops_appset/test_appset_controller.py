"""The ApplicationSet controller in the sandbox, reading real local Git repositories (file://).

Each test waits for an observable — an Application appearing or going, a condition — or for a finished pass of
the controller (its pass counter) before checking that something did not happen.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from gitops.controller.application_sets import AppSetController, AppSetControllerOptions
from gitops.repo_server import RepoServer
from kube.client import KubeClient
from kube.object_meta import ObjectKey
from kube.resources import APPLICATION_SETS, APPLICATIONS
from sandbox.cluster import SandboxThread
from tests.git_servers import WorkRepository

REPO_ROOT = Path(__file__).resolve().parents[3]
NAMESPACE = "argocd"
WAIT = 60.0


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxThread]:
    with SandboxThread(crd_dirs=[REPO_ROOT / "crds"], simulate_workloads=False,
                       namespaces=("default", NAMESPACE)) as thread:
        yield thread


class RunningController:
    """The controller on an event loop of its own thread, as the controller process runs it."""

    def __init__(self, client: KubeClient, repo_server: RepoServer) -> None:
        self.controller = AppSetController(client, repo_server,
                                           AppSetControllerOptions(namespace=NAMESPACE, requeue_seconds=3600))
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> RunningController:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.controller.start(), self.loop).result(WAIT)
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.controller.stop(), self.loop).result(WAIT)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(WAIT)

    def refresh(self, repo_url: str) -> None:
        asyncio.run_coroutine_threadsafe(self._refresh(repo_url), self.loop).result(WAIT)

    async def _refresh(self, repo_url: str) -> None:
        self.controller.refresh_repository(repo_url)

    def look_again(self, key: ObjectKey) -> None:
        """Queue the ApplicationSet and wait for a pass that started after now."""
        mark = self.controller.runner.passes.mark()
        self.loop.call_soon_threadsafe(self.controller.runner.add, key)
        assert self.controller.runner.passes.wait_for_pass(key, mark, WAIT), "the controller never looked"


def wait_for(predicate: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def appset(name: str, repo_url: str, **spec: Any) -> dict[str, Any]:
    body = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "ApplicationSet",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {
            "generators": [{"git": {"repoURL": repo_url, "revision": "HEAD", "directories": [{"path": "apps/*"}]}}],
            "template": {
                "metadata": {"name": f"{name}-{{{{path.basename}}}}"},
                "spec": {
                    "project": "default",
                    "source": {"repoURL": repo_url, "targetRevision": "HEAD", "path": "{{path}}"},
                    "destination": {"server": "https://kubernetes.default.svc", "namespace": "{{path.basename}}"},
                },
            },
        },
    }
    body["spec"].update(spec)
    return body


@pytest.fixture
def client(sandbox: SandboxThread, tmp_path: Path) -> Iterator[KubeClient]:
    from kube.client import load_api_client

    kubeconfig = sandbox.write_kubeconfig(tmp_path / "kubeconfig")
    found = KubeClient(load_api_client(str(kubeconfig)))
    yield found
    found.close()


def app_names(client: KubeClient, prefix: str) -> list[str]:
    """The generated Applications that exist and are not being deleted (with no Application controller running
    here, the cascade finalizer keeps a deleted one in Terminating)."""
    return sorted(app["metadata"]["name"] for app in client.list(APPLICATIONS, NAMESPACE)
                  if app["metadata"]["name"].startswith(prefix) and not app["metadata"].get("deletionTimestamp"))


def conditions(client: KubeClient, name: str) -> dict[str, dict[str, Any]]:
    found = client.get(APPLICATION_SETS, NAMESPACE, name)
    return {c["type"]: c for c in (found.get("status") or {}).get("conditions") or []}


def test_a_directory_pushed_and_removed_creates_and_deletes_its_application(
    client: KubeClient, tmp_path: Path
) -> None:
    repo = WorkRepository(tmp_path / "apps-repo")
    repo.commit({"apps/blog/cm.yaml": "kind: ConfigMap\n", "apps/shop/cm.yaml": "kind: ConfigMap\n",
                 "apps/.hidden/cm.yaml": "kind: ConfigMap\n"}, "two apps")
    with RunningController(client, RepoServer(tmp_path / "cache")) as running:
        client.create(APPLICATION_SETS, NAMESPACE, appset("dirs", repo.url))
        assert wait_for(lambda: app_names(client, "dirs-") == ["dirs-blog", "dirs-shop"], "two Applications")
        blog = client.get(APPLICATIONS, NAMESPACE, "dirs-blog")
        assert blog["spec"]["source"]["path"] == "apps/blog"
        assert blog["spec"]["destination"]["namespace"] == "blog"
        assert blog["metadata"]["ownerReferences"][0]["kind"] == "ApplicationSet"
        assert blog["metadata"]["finalizers"] == ["resources-finalizer.argocd.argoproj.io"]
        wait_for(lambda: conditions(client, "dirs").get("ResourcesUpToDate", {}).get("status") == "True",
                 "ResourcesUpToDate")

        repo.commit({"apps/news/cm.yaml": "kind: ConfigMap\n"}, "a third app")
        running.refresh(repo.url)  # what the push webhook does
        wait_for(lambda: "dirs-news" in app_names(client, "dirs-"), "the new folder's Application")

        repo.remove("apps/shop")
        repo.commit(message="shop removed")
        running.refresh(repo.url)
        wait_for(lambda: app_names(client, "dirs-") == ["dirs-blog", "dirs-news"], "the removed folder's app gone")
        # The pass that deletes writes its status after the delete: wait for it rather than race it.
        wait_for(lambda: sorted(entry["name"] for entry in client.get(APPLICATION_SETS, NAMESPACE, "dirs")["status"][
            "resources"]) == ["dirs-blog", "dirs-news"], "status.resources without the removed folder's Application")


def test_duplicate_names_create_nothing_and_say_why(client: KubeClient, tmp_path: Path) -> None:
    repo = WorkRepository(tmp_path / "dup-repo")
    repo.commit({"apps/a/cm.yaml": "kind: ConfigMap\n", "apps/b/cm.yaml": "kind: ConfigMap\n"}, "two apps")
    body = appset("dup", repo.url)
    body["spec"]["template"]["metadata"]["name"] = "dup-same"
    with RunningController(client, RepoServer(tmp_path / "cache")):
        client.create(APPLICATION_SETS, NAMESPACE, body)
        error = wait_for(lambda: conditions(client, "dup").get("ErrorOccurred"), "the error condition")
        assert error["status"] == "True"
        assert "duplicate name: dup-same" in error["message"]
        assert "path=apps/a" in error["message"] and "path=apps/b" in error["message"]
        assert app_names(client, "dup-") == []


def test_an_unreachable_repository_deletes_nothing(client: KubeClient, tmp_path: Path) -> None:
    repo = WorkRepository(tmp_path / "gone-repo")
    repo.commit({"apps/keep/cm.yaml": "kind: ConfigMap\n"}, "one app")
    with RunningController(client, RepoServer(tmp_path / "cache", timeout=10.0)) as running:
        client.create(APPLICATION_SETS, NAMESPACE, appset("gone", repo.url))
        wait_for(lambda: app_names(client, "gone-") == ["gone-keep"], "the Application")
        moved = tmp_path / "moved-away"
        repo.path.rename(moved)
        running.look_again(ObjectKey(NAMESPACE, "gone"))
        error = wait_for(lambda: conditions(client, "gone").get("ErrorOccurred", {}).get("status") == "True"
                         and conditions(client, "gone")["ErrorOccurred"], "the error condition")
        assert repo.url in error["message"] or "gone-repo" in error["message"]
        assert app_names(client, "gone-") == ["gone-keep"]


def test_create_only_leaves_existing_applications_alone(client: KubeClient, tmp_path: Path) -> None:
    repo = WorkRepository(tmp_path / "co-repo")
    repo.commit({"apps/web/cm.yaml": "kind: ConfigMap\n"}, "one app")
    with RunningController(client, RepoServer(tmp_path / "cache")) as running:
        client.create(APPLICATION_SETS, NAMESPACE, appset(
            "co", repo.url, syncPolicy={"applicationsSync": "create-only"}))
        wait_for(lambda: app_names(client, "co-") == ["co-web"], "the Application")
        client.patch(APPLICATIONS, NAMESPACE, "co-web", {"spec": {"project": "hand-edited"}})
        repo.remove("apps/web")
        repo.commit(message="removed")
        running.look_again(ObjectKey(NAMESPACE, "co"))
        assert client.get(APPLICATIONS, NAMESPACE, "co-web")["spec"]["project"] == "hand-edited"


def test_deleting_the_application_set_deletes_what_it_generated(client: KubeClient, tmp_path: Path) -> None:
    repo = WorkRepository(tmp_path / "del-repo")
    repo.commit({"apps/one/cm.yaml": "kind: ConfigMap\n"}, "one app")
    with RunningController(client, RepoServer(tmp_path / "cache")):
        client.create(APPLICATION_SETS, NAMESPACE, appset("del", repo.url))
        wait_for(lambda: app_names(client, "del-") == ["del-one"], "the Application")
        client.delete(APPLICATION_SETS, NAMESPACE, "del")
        wait_for(lambda: app_names(client, "del-") == [], "the Application deleted")
