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

from kube.errors import Conflict, NotFound
from kube.merge_patch import apply_merge_patch
from kube.object_meta import ObjectKey
from kube.resources import APPLICATIONS, CONFIGMAPS, ResourceKind
from notifications.controller import APPLICATION_NOTIFICATIONS, NotificationController, NotificationOptions
from notifications.state import NOTIFIED_ANNOTATION

NAMESPACE = "argocd"
KEY = ObjectKey(NAMESPACE, "guestbook")


class MemoryApi:
    """The few calls the notification controller makes, over objects kept in memory, with resourceVersions."""

    def __init__(self, *objects: tuple[ResourceKind, dict[str, Any]]) -> None:
        self.objects = {(kind.plural, obj["metadata"]["namespace"], obj["metadata"]["name"]): obj
                        for kind, obj in objects}
        self.patches = 0

    async def get_or_none(self, kind: ResourceKind, namespace: str, name: str) -> dict[str, Any] | None:
        found = self.objects.get((kind.plural, namespace, name))
        return copy.deepcopy(found) if found is not None else None

    async def get(self, kind: ResourceKind, namespace: str, name: str) -> dict[str, Any]:
        found = await self.get_or_none(kind, namespace, name)
        if found is None:
            raise NotFound(404, "NotFound", f"{name} not found")
        return found

    async def patch(self, kind: ResourceKind, namespace: str, name: str, patch: dict[str, Any]) -> dict[str, Any]:
        current = self.objects[(kind.plural, namespace, name)]
        version = current["metadata"]["resourceVersion"]
        if patch["metadata"].get("resourceVersion") not in (None, version):
            raise Conflict(409, "Conflict", "the object has been modified")
        updated = apply_merge_patch(current, patch)
        updated["metadata"]["resourceVersion"] = str(int(version) + 1)
        self.objects[(kind.plural, namespace, name)] = updated
        self.patches += 1
        return copy.deepcopy(updated)


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
