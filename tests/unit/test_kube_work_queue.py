"""The keyed work queue the controllers run on: de-duplication, one worker per key, scheduled wake-ups, backoff."""

from __future__ import annotations

import asyncio

import pytest

from kube.work_queue import WorkQueue


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
