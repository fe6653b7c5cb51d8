"""The demo's notifications: a webhook receiver on loopback, the notification ConfigMap that sends every default
Rollout trigger to it (a ConfigMap subscription, so the example's manifests stay as they are), and the lines the
demo prints for what each scenario sent."""

from __future__ import annotations

import time
from typing import Final

from kube.json_data import JsonObject
from notifications.defaults import DEFAULT_ROLLOUT_TRIGGERS, ROLLOUT_CONFIGMAP
from sandbox.webhook_receiver import WebhookReceiver

SERVICE: Final = "demo-receiver"
SETTLE_SECONDS: Final = 5.0
"""How long the demo waits, after a scenario, for the notification of its outcome (delivery is asynchronous)."""


class DemoNotifications:
    """Start with ``start()``; ``configmap()`` is the ConfigMap to create; ``since(mark)`` what arrived after."""

    def __init__(self) -> None:
        self.receiver = WebhookReceiver()

    def start(self) -> None:
        self.receiver.start()

    def stop(self) -> None:
        self.receiver.stop()

    def configmap(self) -> JsonObject:
        triggers = ", ".join(DEFAULT_ROLLOUT_TRIGGERS)
        return {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": ROLLOUT_CONFIGMAP},
            "data": {
                f"service.webhook.{SERVICE}": f"url: {self.receiver.url}/notifications\n",
                "subscriptions": f"- recipients: [{SERVICE}]\n  triggers: [{triggers}]\n",
            },
        }

    def mark(self) -> int:
        return len(self.receiver.received())

    def since(self, mark: int, *, outcome: str) -> list[str]:
        """The messages received after ``mark``, once one containing ``outcome`` ("has been completed") arrived
        or ``SETTLE_SECONDS`` passed."""
        deadline = time.monotonic() + SETTLE_SECONDS
        while time.monotonic() < deadline:
            if any(outcome in request.body for request in self.receiver.received()[mark:]):
                break
            self.receiver.wait_for(lambda receiver: len(receiver.received()) > mark, 0.2)
        return [" ".join(request.body.split()) for request in self.receiver.received()[mark:]]
