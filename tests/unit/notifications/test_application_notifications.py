"""The Application notification controller's passes against an in-memory API and a mock webhook: Argo CD's
level-triggered behaviour, a notification recorded in ``notified.notifications.argoproj.io`` once delivered and not
sent again, and sent again for a new synced revision (the catalog's ``oncePer``)."""

from __future__ import annotations

import asyncio
import copy
import json
from typing import Any

import httpx
from prometheus_client import CollectorRegistry

from kube.object_meta import ObjectKey
from kube.resources import APPLICATIONS, CONFIGMAPS
from notifications.controller import NotificationController, NotificationOptions
from notifications.defaults import APPLICATION_NOTIFICATIONS
from notifications.state import NOTIFIED_ANNOTATION
from tests.unit.notifications.memory_api import MemoryApi

NAMESPACE = "argocd"
KEY = ObjectKey(NAMESPACE, "guestbook")


def application(revision: str) -> dict[str, Any]:
    return {
        "metadata": {"name": "guestbook", "namespace": NAMESPACE, "resourceVersion": "1",
                     "annotations": {"notifications.argoproj.io/subscribe.on-sync-succeeded.hook": ""}},
        "status": {"operationState": {"phase": "Succeeded", "finishedAt": "2024-05-01T10:00:00Z",
                                      "syncResult": {"revision": revision}}},
    }


CONFIGMAP = {"metadata": {"name": "argocd-notifications-cm", "namespace": NAMESPACE},
             "data": {"service.webhook.hook": "url: http://receiver.local/\n",
                      "context": "argocdUrl: https://cd.example.com\n"}}


async def passes(api: MemoryApi, revisions: list[str], registry: CollectorRegistry | None = None) -> list[str]:
    bodies: list[str] = []
    http = httpx.AsyncClient(transport=httpx.MockTransport(
        lambda request: (bodies.append(request.content.decode()), httpx.Response(200))[1]
    ))
    controller = NotificationController(api, APPLICATION_NOTIFICATIONS,  # type: ignore[arg-type]
                                        NotificationOptions(namespace=NAMESPACE, config_seconds=0), http=http,
                                        registry=registry)
    controller.delivery.start()
    try:
        for revision in revisions:
            stored = api.objects[(APPLICATIONS.plural, NAMESPACE, "guestbook")]
            stored["status"] = application(revision)["status"]
            controller.observe(None, copy.deepcopy(stored))
            await controller.reconcile(KEY)
            while controller.delivery.pending:
                await asyncio.sleep(0.01)
    finally:
        await controller.delivery.stop()
    return bodies


def test_a_sync_notifies_once_per_synced_revision_and_records_it_on_the_application() -> None:
    api = MemoryApi((APPLICATIONS, application("abc")), (CONFIGMAPS, CONFIGMAP))
    registry = CollectorRegistry()
    bodies = asyncio.run(passes(api, ["abc", "abc", "def"], registry))
    assert len(bodies) == 2
    # Argo CD's argocd_notifications_deliveries_total.
    labels = {"trigger": "on-sync-succeeded", "service": "hook", "succeeded": "true"}
    assert registry.get_sample_value("argocd_notifications_deliveries_total", labels) == 2
    assert bodies[0].startswith("Application guestbook has been successfully synced at 2024-05-01T10:00:00Z.")
    assert "https://cd.example.com/applications/guestbook" in bodies[0]
    state = json.loads(api.objects[(APPLICATIONS.plural, NAMESPACE, "guestbook")]["metadata"]["annotations"]
                       [NOTIFIED_ANNOTATION])
    assert sorted(key.split(":")[0] for key in state) == ["abc", "def"]


def test_without_the_configmap_nothing_is_sent() -> None:
    api = MemoryApi((APPLICATIONS, application("abc")))
    assert asyncio.run(passes(api, ["abc"])) == []
    assert api.patches == 0
