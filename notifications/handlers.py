"""The notification controllers' kopf registration: observers of their kind, riding the watch the Rollout or
Application controller already has in the shared operator. The Rollout notifications' Events are not watched: the
Rollout controller's recorder hands them over (``hand_over_events``)."""

from __future__ import annotations

from typing import Any

import kopf

from kube.events import EventRecorder
from kube.informer import Informers
from kube.kopf_operator import STARTUP_RETRY_SECONDS, configure_settings
from notifications.controller import NotificationController


def register_handlers(
    registry: kopf.OperatorRegistry, controller: NotificationController, *, informers: Informers | None = None
) -> None:
    """Register ``controller``'s handlers in ``registry`` (the operator's, shared with the other controllers); with
    ``informers`` its kind is observed through them (``kube.informer``), not through kopf."""
    kind = controller.kind.resource
    prefix = f"{controller.kind.variable}-notifications"

    @kopf.on.startup(registry=registry, id=f"{prefix}-start", backoff=STARTUP_RETRY_SECONDS)
    async def start(settings: kopf.OperatorSettings, **_: Any) -> None:
        configure_settings(settings)
        await controller.start()

    @kopf.on.cleanup(registry=registry, id=f"{prefix}-stop")
    async def stop(**_: Any) -> None:
        await controller.stop()

    if informers is not None:
        # No ``ready``: the stream is shared with controllers that wait for its first list before this one starts.
        informers.observe(kind, lambda event_type, obj: controller.observe(event_type, dict(obj)))
        return

    @kopf.on.event(group=kind.group, version=kind.version, plural=kind.plural, id=f"{prefix}-observe",
                   registry=registry)
    async def observe(event: kopf.RawEvent, **_: Any) -> None:
        controller.observe(event.get("type"), dict(event["object"]))


def hand_over_events(recorder: EventRecorder, controller: NotificationController) -> None:
    """Have ``recorder`` (the Rollout controller's) hand each Event it stores to ``controller``."""
    recorder.listeners.append(lambda event: controller.observe_event(None, event))
