"""The shared controller runner: what a pass's outcome turns into (wake-up, retry, error count), and the pass
counter tests wait on."""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import NamedTuple

import pytest

from kube.controller_runner import (
    GONE,
    MIN_REQUEUE_SECONDS,
    TRANSIENT_RETRY_SECONDS,
    ControllerRunner,
    Gone,
    PassCounter,
    PassFailed,
    RunnerOptions,
)
from kube.errors import ApiError, Conflict


class Key(NamedTuple):
    namespace: str
    name: str


KEY = Key("shop", "reviews")


class RecordedMetrics:
    def __init__(self) -> None:
        self.passes: list[Key] = []
        self.errors: list[Key] = []
        self.forgotten: list[Key] = []

    def observe_reconcile(self, namespace: str, name: str, seconds: float) -> None:
        self.passes.append(Key(namespace, name))

    def count_error(self, namespace: str, name: str) -> None:
        self.errors.append(Key(namespace, name))

    def forget(self, namespace: str, name: str) -> None:
        self.forgotten.append(Key(namespace, name))


def runner_returning(
    *outcomes: float | Gone | Exception | None, backoff_base: float = 2
) -> tuple[ControllerRunner[Key], RecordedMetrics]:
    pending = list(outcomes)

    async def reconcile(key: Key) -> float | Gone | None:
        outcome = pending.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    metrics = RecordedMetrics()
    options = RunnerOptions("test", 2, backoff_base=backoff_base, backoff_max=60)
    runner = ControllerRunner(options, reconcile, lambda: [KEY], metrics)
    return runner, metrics


def seconds_until(runner: ControllerRunner[Key]) -> float | None:
    when = runner.queue.scheduled(KEY)
    return None if when is None else round(when - asyncio.get_running_loop().time(), 3)


@pytest.mark.looptime
async def test_a_pass_asking_to_look_again_schedules_that_wake_up() -> None:
    runner, metrics = runner_returning(42.0)
    await runner.process(KEY)
    assert seconds_until(runner) == 42
    assert metrics.passes == [KEY] and metrics.errors == []


@pytest.mark.looptime
async def test_a_wake_up_due_now_is_delayed_to_the_minimum_so_it_cannot_spin() -> None:
    runner, _ = runner_returning(0.0)
    await runner.process(KEY)
    assert seconds_until(runner) == MIN_REQUEUE_SECONDS


async def test_a_pass_with_nothing_to_look_at_later_schedules_nothing() -> None:
    runner, _ = runner_returning(None)
    await runner.process(KEY)
    assert runner.queue.scheduled(KEY) is None


@pytest.mark.looptime
async def test_a_gone_object_loses_its_wake_up_and_series() -> None:
    runner, metrics = runner_returning(30.0, GONE)
    await runner.process(KEY)
    await runner.process(KEY)
    assert runner.queue.scheduled(KEY) is None
    assert metrics.forgotten == [KEY]


@pytest.mark.looptime
async def test_a_bug_is_logged_with_its_traceback_counted_and_backed_off(caplog: pytest.LogCaptureFixture) -> None:
    runner, metrics = runner_returning(ZeroDivisionError("oops"), ZeroDivisionError("oops"), 5.0)
    with caplog.at_level(logging.ERROR, logger="kube.controller_runner"):
        await runner.process(KEY)
        assert seconds_until(runner) == 2
        await runner.process(KEY)
    assert seconds_until(runner) == 2  # the earlier wake-up (2 s) wins over the new one (4 s)
    assert metrics.errors == [KEY, KEY]
    assert runner.passes.errors == 2
    assert all(record.exc_info for record in caplog.records) and len(caplog.records) == 2
    await runner.process(KEY)  # a success forgets the failures
    assert runner.queue.backoff(KEY) == 2


@pytest.mark.looptime
async def test_a_conflict_is_retried_soon_and_not_counted() -> None:
    runner, metrics = runner_returning(Conflict(409, "Conflict", "stale"), backoff_base=0.25)
    await runner.process(KEY)
    assert seconds_until(runner) == TRANSIENT_RETRY_SECONDS  # not the backoff's 0.25 s: the watch is about to tell
    assert metrics.errors == [] and runner.passes.errors == 0


@pytest.mark.looptime
async def test_a_pass_failed_marked_permanent_counts_without_a_traceback(caplog: pytest.LogCaptureFixture) -> None:
    runner, metrics = runner_returning(PassFailed("patching the Rollout", ApiError(500, "Internal", "boom"),
                                                  transient=False))
    with caplog.at_level(logging.WARNING, logger="kube.controller_runner"):
        await runner.process(KEY)
    assert metrics.errors == [KEY]
    assert "patching the Rollout" in caplog.text and not any(record.exc_info for record in caplog.records)


async def test_started_workers_take_every_known_key_and_the_counter_sees_the_pass() -> None:
    runner, _ = runner_returning(None)
    mark = runner.passes.mark()
    runner.start()
    try:
        finished = await asyncio.to_thread(runner.passes.wait_for_pass, KEY, mark, 30)
    finally:
        await runner.stop()
    assert finished and runner.passes.finished == 1


async def test_a_stopped_runner_does_not_start_again() -> None:
    runner, _ = runner_returning()
    await runner.stop()
    runner.start()
    assert not runner.started


def test_the_pass_counter_only_credits_passes_that_began_after_the_mark() -> None:
    counter = PassCounter()
    early = counter.begin()
    mark = counter.mark()
    counter.end(KEY, early, failed=False)  # began before the mark: says nothing of the state at the mark
    assert not counter.looked_since(KEY, mark)
    late = counter.begin()
    waiter = threading.Thread(target=lambda: counter.end(KEY, late, failed=False))
    waiter.start()
    assert counter.wait_for_pass(KEY, mark, timeout=30)
    waiter.join()
    assert counter.looked_since(KEY, mark)
