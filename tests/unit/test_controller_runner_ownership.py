"""The runner under a sharded controller's ownership: only owned keys are queued and passed over, each pass runs
in its key's fenced context, and a key whose shard went elsewhere is left alone."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from collections.abc import Iterator
from typing import NamedTuple

from kube.controller_runner import ControllerRunner, RunnerOptions, Urgency
from kube.leader_election import NotLeader


class Key(NamedTuple):
    namespace: str
    name: str


FENCED_FOR: contextvars.ContextVar[Key | None] = contextvars.ContextVar("fenced_for", default=None)
OURS, THEIRS = Key("shop", "ours"), Key("shop", "theirs")


class Ownership:
    """Owns the keys in ``owned``; a pass's context names its key."""

    def __init__(self, *owned: Key) -> None:
        self.owned = set(owned)

    def owns(self, key: Key) -> bool:
        return key in self.owned

    @contextlib.contextmanager
    def fenced(self, key: Key) -> Iterator[None]:
        token = FENCED_FOR.set(key)
        try:
            yield
        finally:
            FENCED_FOR.reset(token)


class Metrics:
    def __init__(self) -> None:
        self.errors: list[str] = []
        self.forgotten: list[str] = []

    def observe_reconcile(self, namespace: str, name: str, seconds: float) -> None:
        pass

    def count_error(self, namespace: str, name: str) -> None:
        self.errors.append(name)

    def forget(self, namespace: str, name: str) -> None:
        self.forgotten.append(name)


def one_worker_runner(ownership: Ownership, seen: list[tuple[Key, Key | None]],
                      failing: bool = False) -> tuple[ControllerRunner[Key], Metrics]:
    async def reconcile(key: Key) -> None:
        seen.append((key, FENCED_FOR.get()))
        if failing:
            ownership.owned.discard(key)  # the shard is lost mid-pass: the fence refuses the write
            raise NotLeader("does not hold shard 1: refusing to write")

    metrics = Metrics()
    # One worker: the queue is served in order, so a key queued first and passed over would be seen first.
    runner = ControllerRunner(RunnerOptions("test", 1, resync_seconds=0), reconcile, lambda: [THEIRS, OURS], metrics)
    runner.ownership = ownership
    return runner, metrics


async def wait_for_pass(runner: ControllerRunner[Key], key: Key, mark: int) -> None:
    await asyncio.get_running_loop().run_in_executor(None, runner.passes.wait_for_pass, key, mark, 30.0)


async def test_only_owned_keys_are_queued_and_each_pass_runs_fenced_for_its_key() -> None:
    seen: list[tuple[Key, Key | None]] = []
    runner, _ = one_worker_runner(Ownership(OURS), seen)
    runner.start()  # queues every known key it owns
    runner.add(THEIRS, Urgency.USER_ACTION)
    runner.add(OURS)
    await wait_for_pass(runner, OURS, 0)
    await runner.stop()
    assert seen and set(seen) == {(OURS, OURS)}


async def test_a_key_whose_shard_went_elsewhere_after_it_was_queued_is_dropped_at_its_turn() -> None:
    seen: list[tuple[Key, Key | None]] = []
    ownership = Ownership(OURS, THEIRS)
    runner, _ = one_worker_runner(ownership, seen)
    runner.add(THEIRS)
    runner.add(OURS)
    ownership.owned.discard(THEIRS)
    runner.start()
    await wait_for_pass(runner, OURS, 0)
    await runner.stop()
    assert [key for key, _ in seen] == [OURS]


async def test_a_pass_refused_because_its_shard_was_lost_is_not_an_error_nor_retried() -> None:
    seen: list[tuple[Key, Key | None]] = []
    runner, metrics = one_worker_runner(Ownership(OURS), seen, failing=True)
    runner.start()
    await wait_for_pass(runner, OURS, 0)
    assert runner.queue.scheduled(OURS) is None  # no retry: its new owner does it over
    await runner.stop()
    assert metrics.errors == []
    assert runner.passes.errors == 0


async def test_a_gained_shard_queues_only_its_keys() -> None:
    seen: list[tuple[Key, Key | None]] = []
    ownership = Ownership()
    runner, _ = one_worker_runner(ownership, seen)
    runner.start()
    ownership.owned.update({OURS, THEIRS})
    runner.resync(lambda key: key == OURS, Urgency.ROUTINE)
    runner.add(THEIRS)  # behind OURS: proves OURS was queued once it is passed over first
    await wait_for_pass(runner, THEIRS, 0)
    await runner.stop()
    assert [key for key, _ in seen] == [OURS, THEIRS]


async def test_letting_a_shard_go_drops_its_keys_timers_and_series_only() -> None:
    metrics = Metrics()

    async def reconcile(key: Key) -> None:
        return None

    runner = ControllerRunner(RunnerOptions("test", 1, resync_seconds=0), reconcile, lambda: [THEIRS, OURS], metrics)
    for key in (THEIRS, OURS):
        runner.queue.add_after(key, 60.0, Urgency.TIMER)
    runner.let_go(lambda key: key == THEIRS)
    assert runner.queue.scheduled(THEIRS) is None
    assert runner.queue.scheduled(OURS) is not None
    assert metrics.forgotten == ["theirs"]
    await runner.stop()
