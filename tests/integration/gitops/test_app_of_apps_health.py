"""App of Apps waves in the sandbox, with real Git: a parent renders child Application A (wave 0, a Deployment that
takes a while to become available) and child B (wave 1).

- Without ``--application-health`` (Argo CD ≥ 1.8: an Application has no health check, operator-manual/health.md),
  the parent creates B without waiting for A: B appears while A's Deployment can never become available.
- With it, the parent creates B only once A is Synced and Healthy: in the ordered stream of Application watch
  events, the last state of A seen before B's first event is Synced and Healthy.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kube.client import KubeClient
from kube.resources import APPLICATIONS, NAMESPACES
from sandbox.cluster import SandboxThread
from tests.gitops_harness import (
    APP_NAMESPACE,
    CRDS_DIR,
    AppControllerThread,
    ApplicationEvents,
    app_status,
    application,
    controller_options,
    make_repo,
    wait_for,
    wait_synced_healthy,
)
from tests.running_sandbox import running_sandbox

SLOW_IMAGE = "registry.example/slow-web:1"  # its pods become Ready after a while
NEVER_IMAGE = "registry.example/never-ready:1"  # its pods never become Ready

DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers: [{{name: web, image: "{image}"}}]
"""
CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  colour: blue\n"
CHILD = """apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: {name}
  namespace: argocd
  annotations:
    argocd.argoproj.io/sync-wave: "{wave}"
spec:
  project: default
  source: {{repoURL: "{repo}", targetRevision: main, path: {path}}}
  destination: {{server: "https://kubernetes.default.svc", namespace: {namespace}}}
  syncPolicy: {{automated: {{prune: true, selfHeal: true}}}}
"""


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SandboxThread, Path]]:
    with running_sandbox(tmp_path_factory.mktemp("kube"), crd_dirs=[CRDS_DIR], namespaces=("default", APP_NAMESPACE),
                         ready_delay=0.1, ready_delay_by_image={SLOW_IMAGE: 1.5, NEVER_IMAGE: None}) as running:
        yield running


def run_controller(kubeconfig: Path, cache: Path, *, application_health: bool) -> AppControllerThread:
    return AppControllerThread(kubeconfig, controller_options(cache, application_health=application_health)).start()


def app_of_apps(tmp_path: Path, client: KubeClient, prefix: str, image: str) -> tuple[str, str, str]:
    """The repositories, the two child namespaces and the parent Application; the names of parent, A and B."""
    namespace_a, namespace_b = f"{prefix}-a", f"{prefix}-b"
    for namespace in (namespace_a, namespace_b):
        client.create(NAMESPACES, None, {"metadata": {"name": namespace}})
    workloads = make_repo(tmp_path / "workloads", {"a/deployment.yaml": DEPLOYMENT.format(image=image),
                                                   "b/configmap.yaml": CONFIGMAP})
    children = make_repo(tmp_path / "children", {
        "apps/a.yaml": CHILD.format(name=f"{prefix}-child-a", wave=0, repo=workloads.url, path="a",
                                    namespace=namespace_a),
        "apps/b.yaml": CHILD.format(name=f"{prefix}-child-b", wave=1, repo=workloads.url, path="b",
                                    namespace=namespace_b),
    })
    client.create(APPLICATIONS, APP_NAMESPACE, application(f"{prefix}-parent", children.url, "apps",
                                                           namespace=APP_NAMESPACE))
    return f"{prefix}-parent", f"{prefix}-child-a", f"{prefix}-child-b"


def test_with_application_health_wave_one_waits_until_the_wave_zero_child_is_synced_and_healthy(
    sandbox: tuple[SandboxThread, Path], tmp_path: Path
) -> None:
    client = KubeClient.from_kubeconfig(str(sandbox[1]))
    controller = run_controller(sandbox[1], tmp_path / "cache", application_health=True)
    try:
        events = ApplicationEvents(client)
        parent, child_a, child_b = app_of_apps(tmp_path, client, "gated", SLOW_IMAGE)
        waiting = wait_for(lambda: (app_status(client, parent).get("operationState") or {}).get("message") ==
                           f"waiting for healthy state of argoproj.io/Application/{child_a}", "the parent to wait")
        assert waiting
        status_of_a = wait_for(lambda: [seen] if (seen := events.status_of_when_first_seen(child_a, child_b))
                               is not None else None, f"{child_b} to appear")[0]
        assert (status_of_a.get("sync", {}).get("status"), status_of_a.get("health", {}).get("status")) == (
            "Synced", "Healthy")
        wait_synced_healthy(client, parent)
        wait_synced_healthy(client, child_b)
    finally:
        controller.stop()
        client.close()
    assert not controller.errors.records, "\n".join(controller.errors.messages())


def test_without_application_health_wave_one_does_not_wait_for_the_wave_zero_child(
    sandbox: tuple[SandboxThread, Path], tmp_path: Path
) -> None:
    client = KubeClient.from_kubeconfig(str(sandbox[1]))
    controller = run_controller(sandbox[1], tmp_path / "cache", application_health=False)
    try:
        parent, child_a, child_b = app_of_apps(tmp_path, client, "ungated", NEVER_IMAGE)
        wait_for(lambda: client.get_or_none(APPLICATIONS, APP_NAMESPACE, child_b), f"{child_b} to be created")
        # A's Deployment can never become available, so A was not Healthy when B was created, nor is it now.
        assert (app_status(client, child_a).get("health") or {}).get("status") != "Healthy"
        finished = wait_for(lambda: (app_status(client, parent).get("operationState") or {}).get("phase") ==
                            "Succeeded", "the parent's sync to succeed")
        assert finished
    finally:
        controller.stop()
        client.close()
    assert not controller.errors.records, "\n".join(controller.errors.messages())
