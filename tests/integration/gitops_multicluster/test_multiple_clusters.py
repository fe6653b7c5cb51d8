"""One Application controller deploying to two clusters: the hub sandbox it runs against and a second sandbox
declared by an Argo CD cluster Secret (``argocd.argoproj.io/secret-type: cluster``: ``name``, ``server``,
``config``). Argo CD's documented behaviour (operator-manual/declarative-setup.md, "Clusters"): each Application
deploys to the cluster its destination names by ``server`` or ``name``; a cluster that cannot be reached marks only
its own Applications ``Unknown`` with a ``ComparisonError``, and they recover once it answers again."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

_REPO_ROOT = str(Path(__file__).resolve().parents[3])
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

from cli.main import _register_commands, app  # noqa: E402
from kube.client import KubeClient  # noqa: E402
from kube.resources import APPLICATIONS, CONFIGMAPS, DEPLOYMENTS, SECRETS  # noqa: E402
from sandbox.cluster import SandboxThread  # noqa: E402
from tests.gitops_harness import (  # noqa: E402
    APP_NAMESPACE,
    CRDS_DIR,
    AppControllerThread,
    GitRepo,
    application,
    controller_options,
    free_port,
    make_repo,
    wait_for,
    wait_synced_healthy,
)
from tests.running_sandbox import kube_client, running_sandbox  # noqa: E402

TOKEN = "edge-token-7c1d"  # the credential the cluster Secret holds: never to be seen in any status
WEB = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx:1.27}]}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {cluster: CLUSTER}
"""


def cluster_secret(name: str, server: str, token: str = TOKEN) -> dict[str, Any]:
    """An Argo CD cluster Secret (declarative setup), with a bearer token and TLS settings in ``config``."""
    config = {"bearerToken": token, "tlsClientConfig": {"insecure": True}}
    return {"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": f"cluster-{name}", "namespace": APP_NAMESPACE,
                         "labels": {"argocd.argoproj.io/secret-type": "cluster"}},
            "type": "Opaque", "stringData": {"name": name, "server": server, "config": json.dumps(config)}}


def edge_application(name: str, repo: GitRepo, path: str, destination: dict[str, str],
                     namespace: str) -> dict[str, Any]:
    """An Application of ``path`` to ``destination`` (its namespace created by the sync)."""
    manifest = application(name, repo.url, path, namespace=namespace, sync_options=["CreateNamespace=true"])
    manifest["spec"]["destination"] = {**destination, "namespace": namespace}
    return manifest


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SandboxThread, Path]]:
    with running_sandbox(tmp_path_factory.mktemp("hub"), crd_dirs=[CRDS_DIR], namespaces=("default", APP_NAMESPACE),
                         ready_delay=0.1) as running:
        yield running


@pytest.fixture(scope="module")
def edge() -> Iterator[SandboxThread]:
    running = SandboxThread(namespaces=("default",), ready_delay=0.1, bearer_token=TOKEN)
    running.start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def client(hub: tuple[SandboxThread, Path]) -> Iterator[KubeClient]:
    with kube_client(hub[1]) as kube:
        yield kube


@pytest.fixture(scope="module")
def edge_client(edge: SandboxThread, tmp_path_factory: pytest.TempPathFactory) -> Iterator[KubeClient]:
    with kube_client(edge.write_kubeconfig(tmp_path_factory.mktemp("edge") / "kubeconfig")) as kube:
        yield kube


@pytest.fixture
def controller(hub: tuple[SandboxThread, Path], tmp_path: Path) -> Iterator[AppControllerThread]:
    """The Application controller on the hub; the test fails if it logged an error (a hidden exception)."""
    running = AppControllerThread(hub[1], controller_options(tmp_path / "repo-cache")).start()
    try:
        yield running
    finally:
        running.stop()
    assert not running.errors.records, "the controller logged errors:\n" + "\n".join(running.errors.messages())


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    return make_repo(tmp_path, {"hub/web.yaml": WEB.replace("CLUSTER", "hub"),
                                "edge/web.yaml": WEB.replace("CLUSTER", "edge")})


def conditions_of(client: KubeClient, name: str) -> list[dict[str, Any]]:
    app = client.get(APPLICATIONS, APP_NAMESPACE, name)
    return list((app.get("status") or {}).get("conditions") or [])


def test_two_sandboxes_as_two_clusters_each_get_their_apps(
    client: KubeClient, edge_client: KubeClient, edge: SandboxThread, controller: AppControllerThread, repo: GitRepo
) -> None:
    client.create(SECRETS, APP_NAMESPACE, cluster_secret("edge", edge.url))
    client.create(APPLICATIONS, APP_NAMESPACE, edge_application(
        "hub-web", repo, "hub", {"server": "https://kubernetes.default.svc"}, "web"))
    client.create(APPLICATIONS, APP_NAMESPACE, edge_application("edge-web", repo, "edge", {"name": "edge"}, "web"))
    client.create(APPLICATIONS, APP_NAMESPACE, edge_application(
        "edge-by-url", repo, "edge", {"server": edge.url}, "web-by-url"))

    wait_synced_healthy(client, "hub-web")
    wait_synced_healthy(client, "edge-web")
    wait_synced_healthy(client, "edge-by-url")
    assert client.get(CONFIGMAPS, "web", "settings")["data"] == {"cluster": "hub"}
    assert edge_client.get(CONFIGMAPS, "web", "settings")["data"] == {"cluster": "edge"}
    assert edge_client.get(DEPLOYMENTS, "web", "web")["status"]["readyReplicas"] == 1
    assert edge_client.get(CONFIGMAPS, "web-by-url", "settings")["data"] == {"cluster": "edge"}
    # Each cluster holds only the objects of the Applications that target it.
    assert client.get_or_none(CONFIGMAPS, "web-by-url", "settings") is None
    tracking = edge_client.get(DEPLOYMENTS, "web", "web")["metadata"]["annotations"]["argocd.argoproj.io/tracking-id"]
    assert tracking == "edge-web:apps/Deployment:web/web"


def test_app_get_shows_the_destination_clusters_name_and_server_and_no_token(
    client: KubeClient, hub: tuple[SandboxThread, Path], edge: SandboxThread, controller: AppControllerThread,
    repo: GitRepo
) -> None:
    if not client.get_or_none(SECRETS, APP_NAMESPACE, "cluster-edge"):
        client.create(SECRETS, APP_NAMESPACE, cluster_secret("edge", edge.url))
    client.create(APPLICATIONS, APP_NAMESPACE, edge_application("edge-shown", repo, "edge", {"name": "edge"},
                                                                "shown"))
    wait_synced_healthy(client, "edge-shown")
    _register_commands()
    shown = CliRunner().invoke(app, ["app", "get", "edge-shown", "--kubeconfig", str(hub[1])])
    assert shown.exit_code == 0, shown.output
    lines = [line.split() for line in shown.output.splitlines()]
    assert ["Cluster:", "edge"] in lines and ["Server:", edge.url] in lines
    assert TOKEN not in shown.output


def test_an_unreachable_cluster_marks_only_its_applications_unknown_until_it_answers(
    client: KubeClient, hub: tuple[SandboxThread, Path], controller: AppControllerThread, repo: GitRepo
) -> None:
    port = free_port()  # nothing listens there yet: connection refused
    server = f"http://127.0.0.1:{port}"
    client.create(SECRETS, APP_NAMESPACE, cluster_secret("later", server))
    client.create(APPLICATIONS, APP_NAMESPACE, edge_application("to-later", repo, "edge", {"name": "later"}, "later"))
    client.create(APPLICATIONS, APP_NAMESPACE, edge_application(
        "hub-meanwhile", repo, "hub", {"name": "in-cluster"}, "meanwhile"))

    def comparison_error() -> str | None:
        for item in conditions_of(client, "to-later"):
            if item.get("type") == "ComparisonError":
                return str(item.get("message"))
        return None

    message = wait_for(comparison_error, "a ComparisonError on the Application of the unreachable cluster")
    assert message.startswith(f"failed to sync cluster {server} (later): cannot reach the Kubernetes API at {server}")
    wait_synced_healthy(client, "hub-meanwhile")
    stored = client.get(APPLICATIONS, APP_NAMESPACE, "to-later")
    assert stored["status"]["sync"]["status"] == "Unknown"
    assert TOKEN not in json.dumps(stored)

    later = SandboxThread(port=port, namespaces=("default",), ready_delay=0.1, bearer_token=TOKEN)
    later.start()
    try:
        status = wait_synced_healthy(client, "to-later", timeout=120.0)
        assert not [c for c in status.get("conditions") or [] if c.get("type") == "ComparisonError"]
        assert later.emulator.get_object("", "v1", "configmaps", "later", "settings") is not None
    finally:
        later.stop()


def test_a_destination_naming_no_cluster_is_an_invalid_spec(
    client: KubeClient, controller: AppControllerThread, repo: GitRepo
) -> None:
    client.create(APPLICATIONS, APP_NAMESPACE,
                  edge_application("to-nowhere", repo, "edge", {"name": "nowhere"}, "nowhere"))

    def invalid() -> list[str]:
        return [str(c.get("message")) for c in conditions_of(client, "to-nowhere")
                if c.get("type") == "InvalidSpecError"]

    assert wait_for(invalid, "an InvalidSpecError on to-nowhere") == [
        "spec.destination.name: there are no clusters with this name: nowhere"]


def test_a_cluster_refusing_the_secrets_token_is_a_comparison_error_without_the_token(
    client: KubeClient, edge: SandboxThread, controller: AppControllerThread, repo: GitRepo
) -> None:
    stale = "stale-token-e3b0"
    # The same sandbox by another URL: a server URL names one cluster, so it is another cluster Secret's.
    server = edge.url.replace("127.0.0.1", "localhost")
    client.create(SECRETS, APP_NAMESPACE, cluster_secret("edge-stale", server, token=stale))
    client.create(APPLICATIONS, APP_NAMESPACE,
                  edge_application("to-stale", repo, "edge", {"name": "edge-stale"}, "stale"))

    def comparison_error() -> str | None:
        return next((str(c.get("message")) for c in conditions_of(client, "to-stale")
                     if c.get("type") == "ComparisonError"), None)

    assert wait_for(comparison_error, "a ComparisonError on to-stale") == (
        f"failed to sync cluster {server} (edge-stale): Unauthorized")
    stored = client.get(APPLICATIONS, APP_NAMESPACE, "to-stale")
    assert stored["status"]["sync"]["status"] == "Unknown"
    assert stale not in json.dumps(stored)


def test_deleting_an_application_of_an_undeclared_cluster_drops_only_its_finalizer(
    client: KubeClient, controller: AppControllerThread, repo: GitRepo
) -> None:
    """Argo CD (appcontroller.finalizeApplicationDeletion): the resources of a cluster no Secret declares cannot be
    deleted, so the cascade finalizer is removed and the Application goes."""
    manifest = edge_application("to-ghost", repo, "edge", {"name": "ghost"}, "ghost")
    manifest["metadata"]["finalizers"] = ["resources-finalizer.argocd.argoproj.io"]
    client.create(APPLICATIONS, APP_NAMESPACE, manifest)
    wait_for(lambda: conditions_of(client, "to-ghost"), "the InvalidSpecError of to-ghost")
    client.delete(APPLICATIONS, APP_NAMESPACE, "to-ghost")
    wait_for(lambda: client.get_or_none(APPLICATIONS, APP_NAMESPACE, "to-ghost") is None, "to-ghost deleted")


def test_an_application_deleted_while_the_controller_was_down_has_its_remote_resources_deleted(
    client: KubeClient, edge_client: KubeClient, edge: SandboxThread, hub: tuple[SandboxThread, Path],
    repo: GitRepo, tmp_path: Path
) -> None:
    """The cascade finalizer deletes the Application's resources on its destination cluster, even when the first
    pass a (restarted) controller makes over it is the deletion one."""
    if not client.get_or_none(SECRETS, APP_NAMESPACE, "cluster-edge"):
        client.create(SECRETS, APP_NAMESPACE, cluster_secret("edge", edge.url))
    manifest = edge_application("edge-doomed", repo, "edge", {"name": "edge"}, "doomed")
    manifest["metadata"]["finalizers"] = ["resources-finalizer.argocd.argoproj.io"]
    client.create(APPLICATIONS, APP_NAMESPACE, manifest)
    first = AppControllerThread(hub[1], controller_options(tmp_path / "repo-cache")).start()
    try:
        wait_synced_healthy(client, "edge-doomed")
    finally:
        first.stop()
    client.delete(APPLICATIONS, APP_NAMESPACE, "edge-doomed")
    second = AppControllerThread(hub[1], controller_options(tmp_path / "repo-cache")).start()
    try:
        wait_for(lambda: client.get_or_none(APPLICATIONS, APP_NAMESPACE, "edge-doomed") is None,
                 "edge-doomed deleted")
    finally:
        second.stop()
    assert edge_client.get_or_none(DEPLOYMENTS, "doomed", "web") is None
    assert edge_client.get_or_none(CONFIGMAPS, "doomed", "settings") is None
    assert not first.errors.records and not second.errors.records
