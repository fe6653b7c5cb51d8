"""The keyed work queue the controllers run on: de-duplication, one worker per key, scheduled wake-ups, backoff."""

from __future__ import annotations

import asyncio

import pytest

from kube.work_queue import Urgency, WorkQueue


async def test_a_key_added_twice_waits_once() -> None:
    queue: WorkQueue[str] = WorkQueue()
    queue.add("a")
    queue.add("a")
    queue.add("b")
    assert len(queue) == 2
    assert await queue.get() == "a"
    assert await queue.get() == "b"


async def test_a_key_added_while_in_progress_is_processed_again_after() -> None:
    queue: WorkQueue[str] = WorkQueue()
    queue.add("a")
    key = await queue.get()
    queue.add("a")
    assert len(queue) == 0  # not handed to a second worker while the first holds it
    queue.done(key)
    assert len(queue) == 1
    assert await queue.get() == "a"


async def test_workers_never_process_one_key_concurrently() -> None:
    queue: WorkQueue[str] = WorkQueue()
    running: set[str] = set()
    overlaps: list[str] = []
    passes: list[str] = []

    async def process(key: str) -> None:
        if key in running:
            overlaps.append(key)
        running.add(key)
        await asyncio.sleep(0.01)
        if len(passes) < 3:
            queue.add(key)  # a change arriving mid-pass
        passes.append(key)
        running.discard(key)

    queue.add("a")
    server = asyncio.create_task(queue.serve(process, workers=4))
    for _ in range(100):
        await asyncio.sleep(0.01)
        if len(passes) >= 4 and queue.idle:
            break
    server.cancel()
    with pytest.raises(asyncio.CancelledError):
        await server
    assert overlaps == []
    assert passes == ["a", "a", "a", "a"]


@pytest.mark.looptime
async def test_add_after_wakes_the_key_at_its_time() -> None:
    queue: WorkQueue[str] = WorkQueue()
    loop = asyncio.get_running_loop()
    start = loop.time()
    queue.add_after("a", 30)
    assert len(queue) == 0
    assert await queue.get() == "a"
    assert loop.time() - start == pytest.approx(30, abs=0.01)


@pytest.mark.looptime
async def test_the_earliest_scheduled_wake_up_wins() -> None:
    queue: WorkQueue[str] = WorkQueue()
    loop = asyncio.get_running_loop()
    start = loop.time()
    queue.add_after("a", 60)
    queue.add_after("a", 10)
    queue.add_after("a", 30)  # later than the one scheduled: ignored
    assert await queue.get() == "a"
    assert loop.time() - start == pytest.approx(10, abs=0.01)
    queue.done("a")
    assert queue.scheduled("a") is None
    await asyncio.sleep(100)
    assert len(queue) == 0  # the cancelled 60 s timer never fires


def test_backoff_doubles_up_to_its_cap_and_forget_resets_it() -> None:
    queue: WorkQueue[str] = WorkQueue(backoff_base=1, backoff_max=5)
    assert [queue.backoff("a") for _ in range(5)] == [1, 2, 4, 5, 5]
    assert queue.backoff("b") == 1
    queue.forget("a")
    assert queue.backoff("a") == 1


@pytest.mark.looptime
async def test_discard_cancels_a_scheduled_wake_up() -> None:
    queue: WorkQueue[str] = WorkQueue()
    queue.add_after("a", 5)
    queue.discard("a")
    await asyncio.sleep(10)
    assert len(queue) == 0


async def test_a_failing_pass_does_not_stop_the_worker() -> None:
    queue: WorkQueue[str] = WorkQueue()
    seen: list[str] = []

    async def process(key: str) -> None:
        seen.append(key)
        if key == "bad":
            raise RuntimeError("bug")

    server = asyncio.create_task(queue.serve(process, workers=1))
    queue.add("bad")
    queue.add("good")
    for _ in range(100):
        await asyncio.sleep(0.005)
        if len(seen) == 2:
            break
    server.cancel()
    with pytest.raises(asyncio.CancelledError):
        await server
    assert seen == ["bad", "good"]


# -- urgency ------------------------------------------------------------------------------------------------------


class FakeClock:
    """The queue's clock, moved by hand (aging is measured on it)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def drain(queue: WorkQueue[str]) -> list[str]:
    """Every waiting key in the order the queue hands them out (each marked done at once)."""
    order: list[str] = []
    while len(queue):
        key = await queue.get()
        queue.done(key)
        order.append(key)
    return order


async def test_urgent_keys_are_handed_out_before_routine_ones_and_resyncs() -> None:
    # Issue #13: an abort, a user action and a due timer come before routine follow-ups and resyncs, whatever the
    # order they were added in.
    queue: WorkQueue[str] = WorkQueue(clock=FakeClock())
    queue.add("resync", Urgency.RESYNC)
    queue.add("routine", Urgency.ROUTINE)
    queue.add("timer", Urgency.TIMER)
    queue.add("user", Urgency.USER_ACTION)
    queue.add("abort", Urgency.ABORT)
    assert await drain(queue) == ["abort", "user", "timer", "routine", "resync"]


async def test_keys_of_one_urgency_are_handed_out_oldest_first() -> None:
    clock = FakeClock()
    queue: WorkQueue[str] = WorkQueue(clock=clock)
    for key in ("c", "a", "b"):
        queue.add(key, Urgency.TIMER)
        clock.now += 0.1
    assert await drain(queue) == ["c", "a", "b"]


async def test_a_waiting_key_added_again_keeps_the_more_urgent_of_its_urgencies() -> None:
    queue: WorkQueue[str] = WorkQueue(clock=FakeClock())
    queue.add("first", Urgency.TIMER)
    queue.add("raised", Urgency.RESYNC)
    queue.add("raised", Urgency.ABORT)  # a verdict arrives for a key waiting for its resync
    queue.add("raised", Urgency.ROUTINE)  # a later routine event does not lower it again
    assert len(queue) == 2
    assert queue.pending_urgency("raised") is Urgency.ABORT
    assert await drain(queue) == ["raised", "first"]


async def test_a_key_added_while_in_progress_comes_back_at_its_most_urgent_urgency() -> None:
    queue: WorkQueue[str] = WorkQueue(clock=FakeClock())
    queue.add("a", Urgency.RESYNC)
    key = await queue.get()
    queue.add("a", Urgency.ROUTINE)
    queue.add("a", Urgency.ABORT)
    queue.add("b", Urgency.TIMER)
    assert queue.pending_urgency("a") is Urgency.ABORT
    assert len(queue) == 1  # only b: a is in progress, so not handed out again yet
    queue.done(key)
    assert await drain(queue) == ["a", "b"]


async def test_a_routine_key_is_not_starved_by_a_steady_stream_of_aborts() -> None:
    # Fairness: a key gains one urgency level per aging period waited, so a routine key (3 levels below ABORT)
    # goes before fresh aborts once it has waited more than 3 periods (worked out by hand: 3 × 10 s = 30 s).
    clock = FakeClock()
    queue: WorkQueue[str] = WorkQueue(clock=clock, aging_seconds=10)
    queue.add("routine", Urgency.ROUTINE)
    served: list[str] = []
    for index in range(100):
        queue.add(f"abort-{index}", Urgency.ABORT)
        key = await queue.get()
        queue.done(key)
        served.append(key)
        if key == "routine":
            break
        clock.now += 1.0  # a new abort every second, each one served within its second
    assert "routine" in served
    waited = served.index("routine")
    assert 30 <= waited <= 31


async def test_a_resync_waits_behind_routine_keys_no_longer_than_its_aging_allows() -> None:
    # One level apart: after one aging period the resync goes before routine keys added since.
    clock = FakeClock()
    queue: WorkQueue[str] = WorkQueue(clock=clock, aging_seconds=5)
    queue.add("resync", Urgency.RESYNC)
    clock.now += 5.5
    queue.add("routine", Urgency.ROUTINE)
    assert await drain(queue) == ["resync", "routine"]


@pytest.mark.looptime
async def test_a_timer_queues_its_key_at_the_urgency_it_was_scheduled_with() -> None:
    queue: WorkQueue[str] = WorkQueue(clock=FakeClock())
    queue.add_after("pause-ends", 5)  # a scheduled wake-up is a due timer by default
    queue.add_after("retry", 5, Urgency.ROUTINE)
    queue.add("resync", Urgency.RESYNC)
    await asyncio.sleep(6)
    assert queue.pending_urgency("pause-ends") is Urgency.TIMER
    assert await drain(queue) == ["pause-ends", "retry", "resync"]


async def test_workers_never_process_one_key_concurrently_whatever_its_urgency() -> None:
    # Raising a key's urgency while a worker holds it must not hand it to a second worker.
    queue: WorkQueue[str] = WorkQueue()
    running: set[str] = set()
    overlaps: list[str] = []
    passes: list[str] = []
    urgencies = [Urgency.RESYNC, Urgency.ROUTINE, Urgency.TIMER, Urgency.USER_ACTION, Urgency.ABORT]

    async def process(key: str) -> None:
        if key in running:
            overlaps.append(key)
        running.add(key)
        if len(passes) < len(urgencies):
            queue.add(key, urgencies[len(passes)])  # ever more urgent changes arriving mid-pass
        await asyncio.sleep(0.01)
        passes.append(key)
        running.discard(key)

    queue.add("a", Urgency.RESYNC)
    server = asyncio.create_task(queue.serve(process, workers=4))
    for _ in range(200):
        await asyncio.sleep(0.01)
        if len(passes) > len(urgencies) and queue.idle:
            break
    server.cancel()
    with pytest.raises(asyncio.CancelledError):
        await server
    assert overlaps == []
    assert passes == ["a"] * (len(urgencies) + 1)


async def test_a_worker_gives_the_loop_a_turn_between_passes_that_need_no_io() -> None:
    # Passes that never suspend (a resync of objects needing nothing) must not hold the loop through the queue:
    # a callback scheduled when the workers start runs before the last key is processed.
    queue: WorkQueue[int] = WorkQueue()
    processed: list[int] = []
    seen_at: list[int] = []

    async def process(key: int) -> None:
        processed.append(key)

    for key in range(1000):
        queue.add(key, Urgency.RESYNC)
    asyncio.get_running_loop().call_soon(lambda: seen_at.append(len(processed)))
    server = asyncio.create_task(queue.serve(process, workers=1))
    for _ in range(1000):
        await asyncio.sleep(0)
        if len(processed) == 1000:
            break
    server.cancel()
    with pytest.raises(asyncio.CancelledError):
        await server
    assert len(seen_at) == 1
    assert seen_at[0] < 1000
