"""Delivery counters under Argo's names: Argo Rollouts' ``notification_send_success`` and ``notification_send_error``
(labels ``namespace``, ``name``, ``type``, ``reason``: the Event that fired; its ``utils/record/record.go``) and
Argo CD's ``argocd_notifications_deliveries_total`` (labels ``trigger``, ``service``, ``succeeded``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter

from kube.metrics_export import ExactNameCounter
from kube.object_meta import ObjectKey


class NotificationMetrics:
    """What a notification controller counts; ``registry`` None counts nowhere (tests, a controller alone)."""

    def __init__(self, registry: CollectorRegistry | None, *, event_keyed: bool) -> None:
        self._event_keyed = event_keyed
        self._success: ExactNameCounter | None = None
        self._error: ExactNameCounter | None = None
        self._deliveries: Counter | None = None
        if registry is None:
            return
        if event_keyed:
            labels = ("namespace", "name", "type", "reason")
            self._success = ExactNameCounter("notification_send_success", "Notifications sent.", labels)
            self._error = ExactNameCounter("notification_send_error", "Notifications that failed to send.", labels)
            registry.register(self._success)
            registry.register(self._error)
        else:
            self._deliveries = Counter("argocd_notifications_deliveries", "Notification deliveries.",
                                       ["trigger", "service", "succeeded"], registry=registry)

    def count(self, key: ObjectKey, trigger: str, service: str, event: Mapping[str, Any] | None,
              *, succeeded: bool) -> None:
        """One delivery attempt of a notification that ``trigger`` fired to ``service``."""
        if self._deliveries is not None:
            self._deliveries.labels(trigger, service, "true" if succeeded else "false").inc()
        counter = self._success if succeeded else self._error
        if counter is not None and event is not None:
            counter.inc((key.namespace, key.name, str(event.get("type") or "Normal"), str(event.get("reason") or "")))
