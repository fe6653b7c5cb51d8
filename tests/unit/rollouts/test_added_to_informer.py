"""Argo's RolloutAddedToInformer: when the workers start, every Rollout the cache holds gets one, posted just before
that Rollout's first pass (so before any Event of the pass) rather than all at once; a Rollout created afterwards
gets one as it arrives."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from kube.client import AsyncKubeClient
from kube.json_data import JsonObject
from kube.resources import ROLLOUTS, ResourceKind
from rollouts.controller.controller import ControllerOptions, RolloutController
from rollouts.plan import Event, Plan
from rollouts.snapshot import RolloutSnapshot
from tests import waiting

WAIT_SECONDS = 20.0  # generous: only an Event that never comes fails a test


class EventLog:
    """Stores every Event posted: (the Rollout's name, the reason), in the order they were posted."""

    def __init__(self) -> None:
        self.posted: list[tuple[str, str]] = []

    async def create(self, kind: ResourceKind, namespace: str, body: JsonObject) -> JsonObject:
        self.posted.append((body["involvedObject"]["name"], body["reason"]))
        return body


def rollout(name: str) -> dict[str, Any]:
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
            "metadata": {"name": name, "namespace": "shop", "uid": f"uid-{name}", "resourceVersion": "1"},
            "spec": {}}


def deciding_an_event(snapshot: RolloutSnapshot) -> Plan:
    return Plan(events=(Event("Normal", "Decided", "a pass ran"),))


async def until(condition: Callable[[], bool], what: str) -> None:
    await waiting.until(condition, what, timeout=WAIT_SECONDS)


async def test_each_cached_rollout_is_announced_once_before_its_first_pass() -> None:
    log = EventLog()
    controller = RolloutController(cast(AsyncKubeClient, log), deciding_an_event,
                                   ControllerOptions(workers=2, metrics_port=0, resync_seconds=3600))
    names = [f"r{index}" for index in range(5)]
    for name in names:
        controller.observe(ROLLOUTS, None, rollout(name))
    assert log.posted == []  # nothing before the workers start (a standby never says so)
    controller.start_workers()
    try:
        await until(lambda: len(log.posted) == 2 * len(names), "an announcement and a pass's Event per Rollout")
        for name in names:
            assert [reason for who, reason in log.posted if who == name] == ["RolloutAddedToInformer", "Decided"]
    finally:
        await controller.stop()


async def test_a_rollout_created_after_the_start_is_announced_as_it_arrives() -> None:
    log = EventLog()
    controller = RolloutController(cast(AsyncKubeClient, log), deciding_an_event,
                                   ControllerOptions(workers=1, metrics_port=0, resync_seconds=3600))
    controller.start_workers()
    try:
        controller.observe(ROLLOUTS, "ADDED", rollout("late"))
        await until(lambda: ("late", "Decided") in log.posted, "the new Rollout's pass")
        assert log.posted.count(("late", "RolloutAddedToInformer")) == 1
    finally:
        await controller.stop()


async def test_the_announcements_are_spread_over_the_first_pass_not_posted_at_once() -> None:
    log = EventLog()
    announced_at_each_pass: list[int] = []
    names = [f"r{index}" for index in range(5)]

    def counting(snapshot: RolloutSnapshot) -> Plan:
        registry = controller.metrics.registry
        announced_at_each_pass.append(sum(
            int(registry.get_sample_value("rollout_events_total", {"namespace": "shop", "name": name,
                                                                  "type": "Normal",
                                                                  "reason": "RolloutAddedToInformer"}) or 0)
            for name in names))
        return Plan()

    controller = RolloutController(cast(AsyncKubeClient, log), counting,
                                   ControllerOptions(workers=1, metrics_port=0, resync_seconds=3600))
    for name in names:
        controller.observe(ROLLOUTS, None, rollout(name))
    controller.start_workers()
    try:
        await until(lambda: len(announced_at_each_pass) == len(names), "a pass over every Rollout")
        # One worker: the n-th pass follows the n-th announcement, and no more.
        assert announced_at_each_pass == [1, 2, 3, 4, 5]
    finally:
        await controller.stop()
