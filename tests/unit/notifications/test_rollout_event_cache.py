"""What the Rollout notification controller keeps of the Events it watches: those of Rollouts that may subscribe,
at most 64 each, so that its memory does not grow with the cluster's history."""

from __future__ import annotations

import asyncio
from typing import Any

from kube.object_meta import ObjectKey
from kube.resources import CONFIGMAPS, ROLLOUTS
from notifications.controller import KEPT_EVENTS, NotificationController, NotificationOptions
from notifications.defaults import ROLLOUT_NOTIFICATIONS
from tests.unit.notifications.memory_api import MemoryApi

KEY = ObjectKey("default", "demo")


def rollout(subscribed: bool) -> dict[str, Any]:
    annotations = {"notifications.argoproj.io/subscribe.on-rollout-paused.hook": ""} if subscribed else {}
    return {"metadata": {"name": "demo", "namespace": "default", "resourceVersion": "1", "annotations": annotations}}


def event(number: int) -> dict[str, Any]:
    return {"metadata": {"name": f"demo.{number}"}, "reason": "RolloutPaused",
            "involvedObject": {"kind": "Rollout", "namespace": "default", "name": "demo"}}


def controller_with_config(data: dict[str, str]) -> NotificationController:
    api = MemoryApi((CONFIGMAPS, {"metadata": {"name": "argo-rollouts-notification-configmap",
                                               "namespace": "default"}, "data": data}))
    controller = NotificationController(api, ROLLOUT_NOTIFICATIONS,  # type: ignore[arg-type]
                                        NotificationOptions(namespace="default", config_seconds=60))
    asyncio.run(controller.config())
    return controller


def test_the_events_of_a_rollout_that_subscribes_to_nothing_are_not_kept() -> None:
    controller = controller_with_config({"service.webhook.hook": "url: http://receiver.local\n"})
    controller.observe(None, rollout(subscribed=False))
    controller.observe_event(None, event(1))
    assert KEY not in controller.events


def test_a_configmap_subscription_keeps_every_rollouts_events() -> None:
    controller = controller_with_config({"service.webhook.hook": "url: http://receiver.local\n",
                                         "subscriptions": "- recipients: [hook]\n  triggers: [on-rollout-paused]\n"})
    controller.observe(None, rollout(subscribed=False))
    controller.observe_event(None, event(1))
    assert list(controller.events[KEY]) == ["demo.1"]


def test_only_the_latest_events_of_a_subscribed_rollout_are_kept() -> None:
    controller = controller_with_config({"service.webhook.hook": "url: http://receiver.local\n"})
    controller.observe(None, rollout(subscribed=True))
    for number in range(KEPT_EVENTS + 10):
        controller.observe_event(None, event(number))
    kept = list(controller.events[KEY])
    assert len(kept) == KEPT_EVENTS and kept[0] == "demo.10" and kept[-1] == f"demo.{KEPT_EVENTS + 9}"


def test_events_that_arrive_before_the_configmap_is_read_are_kept() -> None:
    controller = NotificationController(MemoryApi(), ROLLOUT_NOTIFICATIONS,  # type: ignore[arg-type]
                                        NotificationOptions(namespace="default"))
    controller.observe(None, rollout(subscribed=False))
    controller.observe_event(None, event(1))
    assert list(controller.events[KEY]) == ["demo.1"]


def test_the_answer_to_a_state_write_that_raced_the_deletion_does_not_bring_the_rollout_back() -> None:
    """The notified state was written (the API still had the Rollout) and answered after the Rollout's DELETED event
    was applied: the Rollout stays gone from the cache, or every resync would plan notifications for it for ever."""
    subscribed = {**rollout(subscribed=True)}
    subscribed["metadata"] = {**subscribed["metadata"], "uid": "ro-1"}
    api = MemoryApi((ROLLOUTS, subscribed))
    controller = NotificationController(api, ROLLOUT_NOTIFICATIONS,  # type: ignore[arg-type]
                                        NotificationOptions(namespace="default"))
    controller.observe(None, subscribed)
    controller.observe("DELETED", subscribed)
    asyncio.run(controller.write_state(KEY, {"on-rollout-paused:hook": 1}, set()))
    assert api.patches == 1
    assert KEY not in controller.objects


def test_a_repeat_handed_over_renders_the_version_it_was_recorded_about() -> None:
    """Argo renders a notification from the object it records the Event with. A repeat (count 2) handed over by
    the recorder names the version of the repeat: the step-completed text then says the step it completed, not the
    one the Rollout has moved on to since."""
    controller = controller_with_config({"service.webhook.hook": "url: http://receiver.local\n"})
    at_step_0 = {**rollout(subscribed=True), "status": {"currentStepIndex": 0}}
    at_step_0["metadata"] = {**at_step_0["metadata"], "resourceVersion": "9"}
    now_at_step_1 = {**at_step_0, "metadata": {**at_step_0["metadata"], "resourceVersion": "10"},
                     "status": {"currentStepIndex": 1}}
    controller.observe(None, at_step_0)
    controller.observe(None, now_at_step_1)
    repeat = {**event(1), "count": 2,
              "involvedObject": {"kind": "Rollout", "namespace": "default", "name": "demo", "resourceVersion": "9"}}
    assert controller.version_for(KEY, repeat, now_at_step_1)["status"] == {"currentStepIndex": 0}
