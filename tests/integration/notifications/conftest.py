"""Fixtures of the notification tests: the sandbox with the controller running its notification controllers, and a
webhook receiver on the loopback interface that the notification ConfigMap sends to."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# tests/integration is not a package: put the repository root on sys.path for the shared fixtures.
_REPO_ROOT = str(Path(__file__).resolve().parents[3])
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

from kube.resources import CONFIGMAPS, NAMESPACES  # noqa: E402
from notifications.controller import NotificationOptions  # noqa: E402
from notifications.delivery import RetryPolicy  # noqa: E402
from sandbox.webhook_receiver import WebhookReceiver  # noqa: E402
from tests.rollout_harness import RolloutCluster, load_decide  # noqa: E402

CONTROLLER_NAMESPACE = "argo-rollouts"


@pytest.fixture(scope="module")
def receiver() -> Iterator[WebhookReceiver]:
    running = WebhookReceiver()
    running.start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, receiver: WebhookReceiver) -> Iterator[RolloutCluster]:
    options = NotificationOptions(
        namespace=CONTROLLER_NAMESPACE, config_seconds=0.5, retry=RetryPolicy(max_attempts=50, backoff_base=0.2,
                                                                              backoff_max=1.0),
    )
    running = RolloutCluster(tmp_path_factory.mktemp("notifications"), ready_delay=0.1, notifications=options)
    running.start(load_decide())
    try:
        running.create(NAMESPACES, None, {"metadata": {"name": CONTROLLER_NAMESPACE}})
        running.create(CONFIGMAPS, CONTROLLER_NAMESPACE, {
            "metadata": {"name": "argo-rollouts-notification-configmap"},
            "data": {"service.webhook.receiver": f"url: {receiver.url}\n"},
        })
        yield running
    finally:
        running.stop()


@pytest.fixture
def namespace(cluster: RolloutCluster) -> str:
    return cluster.new_namespace()
