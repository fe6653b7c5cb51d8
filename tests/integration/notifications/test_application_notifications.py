"""Argo CD's default notification triggers under the real Application controller (in the controller process, as
`rollouts controller` runs it), for an Application synced from a local Git repository: ``on-sync-succeeded`` once per
synced revision (the catalog's ``oncePer: app.status.operationState?.syncResult?.revision``), and not again after a
restart of the controller."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from kube.client import KubeClient
from kube.object_meta import ObjectKey
from kube.resources import APPLICATIONS, CONFIGMAPS
from notifications.controller import NotificationOptions
from notifications.delivery import RetryPolicy
from notifications.state import NOTIFIED_ANNOTATION
from rollouts.controller.controller import ControllerOptions
from sandbox.cluster import SandboxThread
from sandbox.webhook_receiver import WebhookReceiver
from tests.gitops_harness import (
    APP_NAMESPACE,
    application,
    controller_options,
    make_repo,
    wait_for,
    wait_synced_healthy,
)
from tests.rollout_harness import CRD_DIR, ControllerThread, load_decide

TIMEOUT = 60.0
CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  greeting: '{greeting}'\n"


class Process:
    """The controller process (Rollout, Application and notification controllers), restartable."""

    def __init__(self, kubeconfig: Path, cache: Path) -> None:
        self.kubeconfig = kubeconfig
        self.cache = cache
        self.thread: ControllerThread | None = None

    def start(self) -> None:
        self.thread = ControllerThread(
            self.kubeconfig, ControllerOptions(workers=2, metrics_port=0), load_decide(),
            applications=controller_options(self.cache),
            notifications=NotificationOptions(namespace="default", config_seconds=0.5,
                                              retry=RetryPolicy(backoff_base=0.2, backoff_max=1.0)),
        )
        self.thread.start()

    def stop(self) -> None:
        if self.thread is not None:
            self.thread.stop()
            self.thread = None


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[KubeClient, Process, WebhookReceiver]]:
    root = tmp_path_factory.mktemp("app-notifications")
    sandbox = SandboxThread(crd_dirs=[CRD_DIR], namespaces=("default", APP_NAMESPACE), ready_delay=0.1)
    sandbox.start()
    receiver = WebhookReceiver()
    receiver.start()
    kubeconfig = sandbox.write_kubeconfig(root / "kubeconfig.yaml")
    client = KubeClient.from_kubeconfig(str(kubeconfig))
    process = Process(kubeconfig, root / "cache")
    try:
        client.create(CONFIGMAPS, APP_NAMESPACE, {
            "metadata": {"name": "argocd-notifications-cm"},
            "data": {"service.webhook.receiver": f"url: {receiver.url}\n",
                     "context": "argocdUrl: https://cd.example.com\n"},
        })
        process.start()
        yield client, process, receiver
    finally:
        process.stop()
        client.close()
        receiver.stop()
        sandbox.stop()


def succeeded(receiver: WebhookReceiver, name: str) -> list[str]:
    return [request.body for request in receiver.received()
            if request.body.startswith(f"Application {name} has been successfully synced")]


def test_a_sync_notifies_once_per_revision_and_not_again_after_a_restart(
    running: tuple[KubeClient, Process, WebhookReceiver], tmp_path: Path
) -> None:
    client, process, receiver = running
    repo = make_repo(tmp_path, {"app/settings.yaml": CONFIGMAP.format(greeting="hello")})
    manifest = application("notified", repo.url, "app")
    manifest["metadata"]["annotations"] = {"notifications.argoproj.io/subscribe.on-sync-succeeded.receiver": ""}
    client.create(APPLICATIONS, APP_NAMESPACE, manifest)
    wait_synced_healthy(client, "notified")
    assert receiver.wait_for(lambda r: len(succeeded(r, "notified")) == 1, TIMEOUT)
    assert "https://cd.example.com/applications/notified" in succeeded(receiver, "notified")[0]

    repo.commit({"app/settings.yaml": CONFIGMAP.format(greeting="bonjour")}, "a new greeting")
    client.patch(APPLICATIONS, APP_NAMESPACE, "notified",
                 {"metadata": {"annotations": {"argocd.argoproj.io/refresh": "normal"}}})
    assert receiver.wait_for(lambda r: len(succeeded(r, "notified")) == 2, TIMEOUT), succeeded(receiver, "notified")
    # Restarted once both are recorded (a stop between a delivery and its record would send it again).
    wait_for(lambda: len(json.loads(client.get(APPLICATIONS, APP_NAMESPACE, "notified")["metadata"]
                                    .get("annotations", {}).get(NOTIFIED_ANNOTATION) or "{}")) == 2,
             "both deliveries recorded")
    process.stop()
    process.start()
    assert process.thread is not None
    # The new process looks at the Application (a pass after the mark: its first, or the resync's) and offers
    # nothing: both revisions are recorded as sent.
    notifier = next(n for n in process.thread.operator.notifications if n.kind.resource == APPLICATIONS)
    mark = notifier.runner.passes.mark()
    process.thread.call_soon(notifier.runner.resync)
    assert notifier.runner.passes.wait_for_pass(ObjectKey(APP_NAMESPACE, "notified"), mark, TIMEOUT)
    assert not notifier.delivery.pending and notifier.delivery.delivered == 0
    assert len(succeeded(receiver, "notified")) == 2
