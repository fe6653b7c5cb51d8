"""Subscriptions as notifications-engine reads them (``annotations.go``, ``GetGlobalDestinations``)."""

from __future__ import annotations

from notifications.config import DefaultSubscription, NotificationConfig
from notifications.subscriptions import Destination, destinations_by_trigger, selector_matches

PREFIX = "notifications.argoproj.io/subscribe."


def test_an_annotation_subscribes_its_recipients_separated_by_semicolons() -> None:
    found = destinations_by_trigger({f"{PREFIX}on-rollout-paused.slack": "ops; dev ;"}, {}, NotificationConfig())
    assert found == {"on-rollout-paused": [Destination("slack", "dev"), Destination("slack", "ops")]}


def test_an_empty_value_is_one_empty_recipient() -> None:
    found = destinations_by_trigger({f"{PREFIX}on-deployed.hook": ""}, {}, NotificationConfig())
    assert found == {"on-deployed": [Destination("hook", "")]}


def test_no_trigger_subscribes_to_the_default_triggers() -> None:
    config = NotificationConfig(default_triggers=("on-a", "on-b"), service_default_triggers={"email": ("on-c",)})
    found = destinations_by_trigger({f"{PREFIX}.slack": "ops", f"{PREFIX}email": "me@example.com"}, {}, config)
    assert found == {
        "on-a": [Destination("slack", "ops")],
        "on-b": [Destination("slack", "ops")],
        "on-c": [Destination("email", "me@example.com")],
    }


def test_configmap_subscriptions_apply_to_objects_their_selector_matches() -> None:
    config = NotificationConfig(
        subscriptions=(DefaultSubscription(("slack:ops", "hook"), ("on-x",), "team=payments"),),
    )
    assert destinations_by_trigger({}, {"team": "payments"}, config) == {
        "on-x": [Destination("hook", ""), Destination("slack", "ops")]
    }
    assert destinations_by_trigger({}, {"team": "search"}, config) == {}


def test_a_destination_subscribed_twice_is_notified_once() -> None:
    config = NotificationConfig(subscriptions=(DefaultSubscription(("slack:ops",), ("on-x",)),))
    found = destinations_by_trigger({f"{PREFIX}on-x.slack": "ops"}, {}, config)
    assert found == {"on-x": [Destination("slack", "ops")]}


def test_selector_terms() -> None:
    labels = {"team": "a", "tier": "web"}
    assert selector_matches("", labels)
    assert selector_matches("team=a,tier==web", labels)
    assert selector_matches("team!=b", labels)
    assert selector_matches("tier", labels)
    assert not selector_matches("team=b", labels)
    assert not selector_matches("team!=a", labels)
    assert not selector_matches("zone", labels)
