"""The demo's notification set-up: its ConfigMap subscribes the demo's receiver to every default Rollout trigger, and
what the receiver got after a mark is what the demo prints."""

from __future__ import annotations

import httpx

from cli.demo.notifications import SERVICE, DemoNotifications
from notifications.config import parse_config
from notifications.defaults import DEFAULT_ROLLOUT_TRIGGERS, ROLLOUT_DEFAULTS
from notifications.subscriptions import Destination, destinations_by_trigger


def test_the_demo_configmap_sends_every_default_rollout_trigger_to_the_receiver() -> None:
    demo = DemoNotifications()
    try:
        config = parse_config(demo.configmap()["data"], defaults=ROLLOUT_DEFAULTS)
        assert config.services[SERVICE].options == {"url": f"{demo.receiver.url}/notifications"}
        assert destinations_by_trigger({}, {}, config) == {
            trigger: [Destination(SERVICE, "")] for trigger in sorted(DEFAULT_ROLLOUT_TRIGGERS)
        }
    finally:
        demo.receiver.stop()


def test_the_messages_after_a_mark_are_printed_on_one_line_each() -> None:
    demo = DemoNotifications()
    demo.start()
    try:
        httpx.post(f"{demo.receiver.url}/notifications", content=b"before")
        mark = demo.mark()
        httpx.post(f"{demo.receiver.url}/notifications", content=b"Rollout r step number 1/2\nhas been completed.")
        httpx.post(f"{demo.receiver.url}/notifications", content=b"Rollout r has been completed.")
        assert demo.since(mark, outcome="Rollout r has been completed.") == [
            "Rollout r step number 1/2 has been completed.", "Rollout r has been completed."
        ]
    finally:
        demo.stop()
