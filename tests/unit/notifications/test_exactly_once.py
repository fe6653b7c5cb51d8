"""Exactly once per firing, in the interleavings a busy controller meets: a pass that runs while a delivery's record
(the ``notified.notifications.argoproj.io`` write) is on its way, an Event written again after its notification was
recorded, and an API error while recording.

The first is the flake of ``test_an_abort_fires_on_rollout_aborted_once``: the record reaches the API server before
its response reaches the controller, so a pass in between read the Rollout from before the record, and still had
the delivery pending when it ended.
"""

from __future__ import annotations

import asyncio
import copy
from datetime import UTC, datetime
from typing import Any

import httpx

from kube.errors import KubeError
from kube.object_meta import ObjectKey
from kube.resources import CONFIGMAPS, EVENTS, ROLLOUTS, ResourceKind
from kube.timestamps import format_time
from notifications.controller import NotificationController, NotificationOptions
from notifications.defaults import ROLLOUT_NOTIFICATIONS
from notifications.state import read_state
from tests.unit.notifications.memory_api import MemoryApi

NAMESPACE = "default"
KEY = ObjectKey(NAMESPACE, "demo")
NOW = datetime(2024, 5, 1, 10, 0, 0, tzinfo=UTC)
CONFIGMAP = {"metadata": {"name": "argo-rollouts-notification-configmap", "namespace": NAMESPACE},
             "data": {"service.webhook.hook": "url: http://receiver.local/\n"}}


def rollout() -> dict[str, Any]:
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
            "metadata": {"name": "demo", "namespace": NAMESPACE, "uid": "u1", "resourceVersion": "1",
                         "annotations": {"notifications.argoproj.io/subscribe.on-rollout-aborted.hook": ""}}}


def aborted_event(**changes: Any) -> dict[str, Any]:
    """The RolloutAborted Event as the recorder creates it (``kube.events``), with ``changes`` applied."""
    event = {"metadata": {"name": "demo.17a", "namespace": NAMESPACE}, "reason": "RolloutAborted", "type": "Warning",
             "message": "Rollout aborted update to revision 2", "count": 1,
             "firstTimestamp": format_time(NOW), "lastTimestamp": format_time(NOW),
             "involvedObject": {"kind": "Rollout", "namespace": NAMESPACE, "name": "demo", "uid": "u1",
                                "resourceVersion": "1"}}
    event.update(changes)
    return event


class HeldRecordApi(MemoryApi):
    """Applies a patch on the server at once and holds its response until ``release`` is set: the record is stored
    (anyone reading the server sees it) while the controller has not heard back yet."""

    def __init__(self, *objects: tuple[ResourceKind, dict[str, Any]]) -> None:
        super().__init__(*objects)
        self.applied = asyncio.Event()
        self.release = asyncio.Event()

    async def patch(self, kind: ResourceKind, namespace: str, name: str, patch: dict[str, Any]) -> dict[str, Any]:
        updated = await super().patch(kind, namespace, name, patch)
        self.applied.set()
        await self.release.wait()
        return updated


def controller_on(api: MemoryApi, requests: list[str], workers: int = 4) -> NotificationController:
    def receive(request: httpx.Request) -> httpx.Response:
        requests.append(str(request.url))
        return httpx.Response(200)

    http = httpx.AsyncClient(transport=httpx.MockTransport(receive))
    controller = NotificationController(
        api, ROLLOUT_NOTIFICATIONS,  # type: ignore[arg-type]
        NotificationOptions(namespace=NAMESPACE, config_seconds=3600, delivery_workers=workers),
        clock=lambda: NOW, http=http,
    )
    controller.observe(None, copy.deepcopy(api.objects[(ROLLOUTS.plural, NAMESPACE, "demo")]))
    return controller


LOOP_TURNS = 10_000
"""More turns of the event loop than any delivery here takes (each step is a turn or a mock call): a bound, so
that a notification that never settles fails the test instead of hanging it."""


async def settled(controller: NotificationController) -> None:
    """Until the delivery queue has nothing pending."""
    for _ in range(LOOP_TURNS):
        if not controller.delivery.pending:
            return
        await asyncio.sleep(0)
    raise AssertionError(f"still pending: {controller.delivery.pending}")


def test_a_pass_while_the_record_is_on_its_way_waits_for_it_and_leaves_nothing_pending() -> None:
    async def scenario() -> tuple[frozenset[object], dict[str, int], list[str]]:
        api = HeldRecordApi((ROLLOUTS, rollout()), (CONFIGMAPS, CONFIGMAP))
        requests: list[str] = []
        controller = controller_on(api, requests)
        controller.observe_event(None, aborted_event())
        controller.delivery.start()
        try:
            await controller.reconcile(KEY)
            await api.applied.wait()
            # The record is on the server (what the integration test waited for); its response is not back.
            stored = read_state(api.objects[(ROLLOUTS.plural, NAMESPACE, "demo")])
            resync = asyncio.create_task(controller.reconcile(KEY))
            after_pass: list[frozenset[object]] = []
            resync.add_done_callback(lambda _: after_pass.append(frozenset(controller.delivery.pending)))
            for _ in range(20):  # room for the pass to run to its end, had it nothing to wait for
                await asyncio.sleep(0)
            api.release.set()
            await resync
            await settled(controller)
            await controller.reconcile(KEY)
            pending_again = frozenset(controller.delivery.pending)
        finally:
            await controller.stop()
        assert not pending_again, "a pass after the record offered the notification again"
        return after_pass[0], stored, requests

    pending_after_pass, stored, requests = asyncio.run(scenario())
    assert len(stored) == 1
    assert pending_after_pass == frozenset()
    assert requests == ["http://receiver.local/"]


def test_an_event_written_again_without_a_new_occurrence_does_not_notify_again() -> None:
    """A later write of the same Event that does not raise its count (a new ``lastTimestamp``, the events/v1 series'
    ``lastObservedTime``, the message of a combined Event) is the same occurrence: Argo Rollouts sends once per
    ``Eventf`` call, and the recorder raises ``count`` on each call it folds."""
    async def scenario() -> list[str]:
        api = MemoryApi((ROLLOUTS, rollout()), (CONFIGMAPS, CONFIGMAP))
        requests: list[str] = []
        controller = controller_on(api, requests)
        controller.delivery.start()
        try:
            controller.observe_event(None, aborted_event())
            await controller.reconcile(KEY)
            await settled(controller)
            controller.observe(None, copy.deepcopy(api.objects[(ROLLOUTS.plural, NAMESPACE, "demo")]))
            later = format_time(NOW.replace(second=30))
            controller.observe_event("MODIFIED", aborted_event(
                lastTimestamp=later, message="(combined from similar events): Rollout aborted update to revision 2",
                series={"count": 1, "lastObservedTime": "2024-05-01T10:00:30.000000Z"}))
            await controller.reconcile(KEY)
            await settled(controller)
        finally:
            await controller.stop()
        return requests

    assert asyncio.run(scenario()) == ["http://receiver.local/"]


class FailingRecordApi(MemoryApi):
    """The API server answers the record's patch with an error other than a conflict (a 500, a timeout)."""

    async def patch(self, kind: ResourceKind, namespace: str, name: str, patch: dict[str, Any]) -> dict[str, Any]:
        raise KubeError(500, "InternalError", "etcdserver: request timed out")


def test_an_api_error_while_recording_leaves_the_delivery_worker_running() -> None:
    """The notification was delivered but could not be recorded: the next pass offers it again (at least once, as
    Argo), and the worker that met the error goes on delivering."""
    async def scenario() -> tuple[list[str], int]:
        api = FailingRecordApi((ROLLOUTS, rollout()), (CONFIGMAPS, CONFIGMAP))
        requests: list[str] = []
        controller = controller_on(api, requests, workers=1)
        controller.delivery.start()
        try:
            controller.observe_event(None, aborted_event())
            await controller.reconcile(KEY)
            await settled(controller)
            await controller.reconcile(KEY)
            for _ in range(LOOP_TURNS):
                if len(requests) >= 2 or not controller.delivery.running_workers:
                    break
                await asyncio.sleep(0)
            alive = controller.delivery.running_workers
        finally:
            await controller.stop()
        return requests, alive

    requests, alive = asyncio.run(scenario())
    assert alive == 1
    assert requests == ["http://receiver.local/"] * 2


def test_the_events_recorded_before_the_notifier_starts_are_listed_once_and_notify() -> None:
    """A restarted process (or one taking over leadership) reads the Events the previous one recorded: listed once,
    as its own come from its recorder, not from a watch."""
    async def scenario() -> list[str]:
        api = MemoryApi((ROLLOUTS, rollout()), (CONFIGMAPS, CONFIGMAP), (EVENTS, aborted_event()),
                        (EVENTS, {**aborted_event(), "metadata": {"name": "other.1", "namespace": NAMESPACE},
                                  "involvedObject": {"kind": "AnalysisRun", "namespace": NAMESPACE, "name": "demo"}}))
        requests: list[str] = []
        controller = controller_on(api, requests)
        controller.start_workers()
        try:
            for _ in range(LOOP_TURNS):
                if requests:
                    break
                await asyncio.sleep(0)
            await settled(controller)
            listed = list(controller.events.get(KEY, {}))
        finally:
            await controller.stop()
        assert listed == ["demo.17a"]
        return requests

    assert asyncio.run(scenario()) == ["http://receiver.local/"]


def test_a_listed_copy_older_than_the_event_handed_over_is_ignored() -> None:
    """The recorder handed over the Event with its count raised while the start-up list was on its way with the
    Event as it was before: the older copy must not take the repetition back."""
    controller = controller_on(MemoryApi((ROLLOUTS, rollout()), (CONFIGMAPS, CONFIGMAP)), [])
    counted = aborted_event(count=2)
    counted["metadata"] = {**counted["metadata"], "uid": "e1", "resourceVersion": "9"}
    listed = aborted_event()
    listed["metadata"] = {**listed["metadata"], "uid": "e1", "resourceVersion": "4"}
    controller.observe_event(None, counted)
    controller.observe_event(None, listed)
    assert controller.events[KEY]["demo.17a"]["count"] == 2
