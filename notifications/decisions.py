"""What one pass over an object sends and forgets: pure, from the object, its subscriptions, the configuration, its
notified state and (for Rollouts) its Events.

Applications are level-triggered, as Argo CD's notification controller is: each subscribed trigger's conditions are
evaluated over the object; a condition that holds and is not in the state is sent; one that stopped holding is
forgotten (unless it had a ``oncePer`` value) so that it can fire again. Rollouts are Event-keyed, as Argo Rollouts
is: an Event with reason ``RolloutPaused`` fires ``on-rollout-paused``; the Event's name and count make the firing's
``oncePer``, so each Event (and each repetition of it) is sent once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kube.timestamps import parse_time
from notifications.config import NotificationConfig
from notifications.state import state_key
from notifications.subscriptions import Destination, destinations_by_trigger
from notifications.triggers import run_trigger, trigger_for_reason


@dataclass(frozen=True)
class Firing:
    """One notification to deliver: its state key, the trigger, where to, and the templates to render."""

    key: str
    trigger: str
    destination: Destination
    templates: tuple[str, ...]
    event: Mapping[str, Any] | None = None
    """The Event that fired it (Event-keyed triggers), which the templates read as ``.event``."""
    seen: Mapping[str, Any] | None = None
    """The version of the object its condition held on (level-triggered triggers), which the templates read."""


@dataclass(frozen=True)
class NotificationPlan:
    """What a pass sends, which state keys it removes, and what it could not do (unknown triggers or services,
    conditions that fail) — said, never raised."""

    send: tuple[Firing, ...] = ()
    forget: frozenset[str] = frozenset()
    problems: tuple[str, ...] = field(default=())


def _metadata(obj: Mapping[str, Any], name: str) -> dict[str, str]:
    found = (obj.get("metadata") or {}).get(name) or {}
    return {str(key): str(value) for key, value in found.items() if isinstance(value, str)}


def plan_conditions(
    obj: Mapping[str, Any], variables: Mapping[str, Any], config: NotificationConfig, state: Mapping[str, int]
) -> NotificationPlan:
    """The plan for a level-triggered object (an Application): see the module's docstring."""
    send: list[Firing] = []
    forget: set[str] = set()
    problems: list[str] = []
    subscribed = destinations_by_trigger(_metadata(obj, "annotations"), _metadata(obj, "labels"), config)
    for trigger, destinations in subscribed.items():
        conditions = config.triggers.get(trigger)
        if conditions is None:
            problems.append(f"trigger {trigger!r} is not configured")
            continue
        usable = _configured(destinations, config, problems)
        for result in run_trigger(conditions, variables):
            if result.error:
                problems.append(f"trigger {trigger!r} condition {result.key}: {result.error}")
            for destination in usable:
                key = state_key(trigger, result.key, destination, result.once_per)
                if not result.triggered:
                    if key in state:
                        forget.add(key)
                elif key not in state:
                    send.append(Firing(key, trigger, destination, result.templates))
    return NotificationPlan(tuple(send), frozenset(forget), tuple(problems))


def plan_observed_conditions(
    versions: Sequence[Mapping[str, Any]],
    variables: Callable[[Mapping[str, Any]], Mapping[str, Any]],
    config: NotificationConfig,
    state: Mapping[str, int],
) -> NotificationPlan:
    """The plan over every version of a level-triggered object observed since the last pass (oldest first, the
    current one last), with ``state`` read from the current one: each condition that held on any of them and is not
    in the state is sent once, from the first version it held on (so a state shorter than the time between two
    passes, an automated sync's ``Running``, still notifies); what is forgotten is the current version's say."""
    send: dict[str, Firing] = {}
    problems: list[str] = []
    plan = NotificationPlan()
    for version in versions:
        plan = plan_conditions(version, variables(version), config, state)
        problems.extend(plan.problems)
        for firing in plan.send:
            send.setdefault(firing.key, dataclasses.replace(firing, seen=version))
    return NotificationPlan(tuple(send.values()), plan.forget, tuple(dict.fromkeys(problems)))


def plan_events(
    obj: Mapping[str, Any],
    events: Iterable[Mapping[str, Any]],
    variables: Mapping[str, Any],
    config: NotificationConfig,
    state: Mapping[str, int],
    since: datetime,
) -> NotificationPlan:
    """The plan for an Event-keyed object (a Rollout): each of ``events`` (about it) at or after ``since`` fires the
    trigger its reason names, once per Event and repetition."""
    send: list[Firing] = []
    problems: list[str] = []
    subscribed = destinations_by_trigger(_metadata(obj, "annotations"), _metadata(obj, "labels"), config)
    if not subscribed:
        return NotificationPlan()
    for event in sorted(events, key=event_order):
        moment = event_time(event)
        if moment is None or moment < since:
            continue
        trigger = trigger_for_reason(str(event.get("reason") or ""))
        destinations = subscribed.get(trigger)
        conditions = config.triggers.get(trigger)
        if not destinations or conditions is None:
            continue
        usable = _configured(destinations, config, problems)
        for result in run_trigger(conditions, {**variables, "event": dict(event)}, empty_holds=True):
            if result.error:
                problems.append(f"trigger {trigger!r} condition {result.key}: {result.error}")
            if not result.triggered:
                continue
            once = event_identity(event) + (f"/{result.once_per}" if result.once_per else "")
            for destination in usable:
                key = state_key(trigger, result.key, destination, once)
                if key not in state:
                    send.append(Firing(key, trigger, destination, result.templates, event))
    return NotificationPlan(tuple(send), frozenset(), tuple(dict.fromkeys(problems)))


def _configured(destinations: list[Destination], config: NotificationConfig, problems: list[str]) -> list[Destination]:
    usable = []
    for destination in destinations:
        if destination.service in config.services:
            usable.append(destination)
        else:
            problems.append(f"service {destination.service!r} is not configured")
    return usable


def event_identity(event: Mapping[str, Any]) -> str:
    """An Event occurrence: its name and count (a repeated Event is one object whose count grows)."""
    name = str((event.get("metadata") or {}).get("name") or "")
    count = event.get("count") or (event.get("series") or {}).get("count") or 1
    return f"{name}#{count}"


def event_time(event: Mapping[str, Any]) -> datetime | None:
    """When the Event (last) happened."""
    for field_name in ("lastTimestamp", "eventTime", "firstTimestamp"):
        moment = parse_time(event.get(field_name))
        if moment is not None:
            return moment
    return parse_time((event.get("metadata") or {}).get("creationTimestamp"))


def event_order(event: Mapping[str, Any]) -> tuple[str, str]:
    moment = event_time(event)
    return (moment.isoformat() if moment else "", event_identity(event))


def events_since(state: Mapping[str, int], started: datetime, grace_seconds: float) -> datetime:
    """From when Events count: ``grace_seconds`` before the controller started, or the oldest recorded delivery if
    that is earlier, so that Events a previous run had not delivered yet are still sent after a restart, while a
    first start does not replay an hour of old Events."""
    since = started.timestamp() - grace_seconds
    if state:
        since = min(since, float(min(state.values())))
    return datetime.fromtimestamp(since, tz=started.tzinfo)
