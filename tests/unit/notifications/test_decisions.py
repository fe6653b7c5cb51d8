"""What one pass sends and forgets (``notifications.decisions``), for Applications (level-triggered, as Argo CD's
notification controller) and Rollouts (Event-keyed, as Argo Rollouts)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from notifications.config import parse_config
from notifications.decisions import events_since, plan_conditions, plan_events, plan_observed_conditions
from notifications.defaults import APPLICATION_DEFAULTS, ROLLOUT_DEFAULTS
from notifications.subscriptions import Destination
from notifications.triggers import condition_key

PREFIX = "notifications.argoproj.io/subscribe."
APP_CONFIG = parse_config({"service.webhook.hook": "url: http://127.0.0.1:1\n"}, defaults=APPLICATION_DEFAULTS)
ROLLOUT_CONFIG = parse_config({"service.webhook.hook": "url: http://127.0.0.1:1\n"}, defaults=ROLLOUT_DEFAULTS)
STARTED = datetime(2024, 5, 1, 10, 0, 0, tzinfo=UTC)


def application(health: str, revision: str = "abc", triggers: tuple[str, ...] = ("on-health-degraded",)) -> Any:
    return {
        "metadata": {"name": "guestbook", "annotations": {f"{PREFIX}{trigger}.hook": "" for trigger in triggers}},
        "status": {"health": {"status": health}, "operationState": {"phase": "Succeeded",
                                                                     "syncResult": {"revision": revision}}},
    }


def plan_app(app: Any, state: dict[str, int]) -> Any:
    return plan_conditions(app, {"app": app}, APP_CONFIG, state)


DEGRADED_KEY = "abc:on-health-degraded:" + condition_key(0, "app.status.health.status == 'Degraded'") + ":hook:"


def test_a_condition_that_holds_is_sent_under_its_once_per_key() -> None:
    plan = plan_app(application("Degraded"), {})
    assert [(firing.key, firing.destination, firing.templates) for firing in plan.send] == [
        (DEGRADED_KEY, Destination("hook", ""), ("app-health-degraded",))
    ]


def test_a_condition_already_recorded_is_not_sent_again() -> None:
    assert plan_app(application("Degraded"), {DEGRADED_KEY: 1}).send == ()


def test_a_new_revision_is_a_new_once_per_key_and_sends_again() -> None:
    plan = plan_app(application("Degraded", revision="def"), {DEGRADED_KEY: 1})
    assert [firing.key for firing in plan.send] == [DEGRADED_KEY.replace("abc:", "def:", 1)]


def test_a_once_per_key_is_kept_when_the_condition_stops_holding() -> None:
    """``SetAlreadyNotified(false)`` returns early for a result with a oncePer value: a revision notifies once."""
    assert plan_app(application("Healthy"), {DEGRADED_KEY: 1}).forget == frozenset()


def sync(phase: str, health: str = "Healthy") -> Any:
    app = application(health, triggers=("on-sync-running", "on-sync-succeeded"))
    app["status"]["operationState"]["phase"] = phase
    return app


def test_a_state_between_two_passes_still_notifies_from_the_version_it_held_on() -> None:
    """An automated sync that starts and ends between two passes: Argo CD writes ``Running`` as it starts, so its
    on-sync-running fires for every sync; the pass sees both versions, and each trigger fires once."""
    running, succeeded = sync("Running"), sync("Succeeded")
    plan = plan_observed_conditions([running, succeeded], lambda app: {"app": app}, APP_CONFIG, {})
    assert [(firing.trigger, firing.seen) for firing in plan.send] == [
        ("on-sync-running", running), ("on-sync-succeeded", succeeded)]


def test_over_several_versions_a_condition_is_sent_once_and_the_current_version_says_what_is_forgotten() -> None:
    config = parse_config({"service.webhook.hook": "url: x\n", "trigger.on-bad": "- when: app.status.health.status "
                           "== 'Degraded'\n  send: [t]\n", "template.t": "message: m\n"})
    key = "on-bad:" + condition_key(0, "app.status.health.status == 'Degraded'") + ":hook:"
    degraded, healthy = (application(health, triggers=("on-bad",)) for health in ("Degraded", "Healthy"))
    twice = plan_observed_conditions([degraded, degraded], lambda app: {"app": app}, config, {})
    assert [firing.key for firing in twice.send] == [key]
    recovered = plan_observed_conditions([degraded, healthy], lambda app: {"app": app}, config, {key: 1})
    assert recovered.send == () and recovered.forget == frozenset({key})


def test_a_key_without_once_per_is_forgotten_when_its_condition_stops_holding() -> None:
    config = parse_config({"service.webhook.hook": "url: x\n", "trigger.on-bad": "- when: app.status.health.status "
                           "== 'Degraded'\n  send: [t]\n", "template.t": "message: m\n"})
    app = application("Healthy", triggers=("on-bad",))
    key = "on-bad:" + condition_key(0, "app.status.health.status == 'Degraded'") + ":hook:"
    plan = plan_conditions(app, {"app": app}, config, {key: 1})
    assert plan.forget == frozenset({key}) and plan.send == ()
    degraded = application("Degraded", triggers=("on-bad",))
    assert [firing.key for firing in plan_conditions(degraded, {"app": degraded}, config, {}).send] == [key]


def test_an_unknown_trigger_or_service_is_a_problem_not_an_exception() -> None:
    app = {"metadata": {"annotations": {f"{PREFIX}on-nothing.hook": "", f"{PREFIX}on-health-degraded.pager": ""}},
           "status": {"health": {"status": "Degraded"}}}
    plan = plan_app(app, {})
    assert plan.send == ()
    assert set(plan.problems) == {"trigger 'on-nothing' is not configured", "service 'pager' is not configured"}


def event(name: str, reason: str, at: str, count: int = 1) -> dict[str, Any]:
    return {"metadata": {"name": name}, "reason": reason, "lastTimestamp": at, "count": count}


def rollout(*triggers: str) -> dict[str, Any]:
    return {"metadata": {"name": "demo", "annotations": {f"{PREFIX}{trigger}.hook": "" for trigger in triggers}}}


def plan_rollout(obj: Any, events: list[dict[str, Any]], state: dict[str, int], since: datetime = STARTED) -> Any:
    return plan_events(obj, events, {"rollout": obj}, ROLLOUT_CONFIG, state, since)


def test_an_event_fires_the_trigger_its_reason_names_for_subscribed_triggers_only() -> None:
    events = [event("demo.1", "RolloutPaused", "2024-05-01T10:00:01Z"),
              event("demo.2", "RolloutCompleted", "2024-05-01T10:00:02Z")]
    plan = plan_rollout(rollout("on-rollout-paused"), events, {})
    assert [(firing.trigger, firing.templates) for firing in plan.send] == [("on-rollout-paused", ("rollout-paused",))]


def test_each_repetition_of_an_event_fires_once() -> None:
    obj = rollout("on-rollout-paused")
    first = plan_rollout(obj, [event("demo.1", "RolloutPaused", "2024-05-01T10:00:01Z")], {})
    (sent,) = first.send
    assert plan_rollout(obj, [event("demo.1", "RolloutPaused", "2024-05-01T10:00:01Z")], {sent.key: 1}).send == ()
    again = plan_rollout(obj, [event("demo.1", "RolloutPaused", "2024-05-01T10:05:00Z", count=2)], {sent.key: 1})
    assert len(again.send) == 1 and again.send[0].key != sent.key


def test_events_before_the_window_are_not_sent() -> None:
    obj = rollout("on-rollout-paused")
    plan = plan_rollout(obj, [event("demo.1", "RolloutPaused", "2024-05-01T09:59:59Z")], {})
    assert plan.send == ()


def test_the_window_opens_a_grace_period_before_the_start_or_at_the_oldest_recorded_delivery() -> None:
    assert events_since({}, STARTED, 300) == datetime(2024, 5, 1, 9, 55, tzinfo=UTC)
    older = int(datetime(2024, 5, 1, 9, 0, tzinfo=UTC).timestamp())
    assert events_since({"k": older}, STARTED, 300) == datetime(2024, 5, 1, 9, 0, tzinfo=UTC)


def test_an_unsubscribed_rollout_plans_nothing() -> None:
    assert plan_rollout(rollout(), [event("demo.1", "RolloutPaused", "2024-05-01T10:00:01Z")], {}).send == ()
