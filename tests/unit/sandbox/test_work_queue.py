"""The simulator's work queue: each key once, never twice at a time, delayed adds that coalesce."""

from __future__ import annotations

import asyncio

import pytest

from sandbox.work_queue import WorkQueue


async def test_a_key_added_many_times_is_handed_out_once() -> None:
    queue: WorkQueue[str] = WorkQueue()
    for key in ("a", "b", "a", "a", "b"):
        queue.add(key)
    assert [await queue.get(), await queue.get()] == ["a", "b"]
    assert len(queue) == 0


async def test_a_key_added_while_processed_comes_back_after_done() -> None:
    queue: WorkQueue[str] = WorkQueue()
    queue.add("a")
    key = await queue.get()
    queue.add("a")  # an event arrives while a worker has the key
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(queue.get(), 0.01)  # no second worker may take it meanwhile
    queue.done(key)
    assert await asyncio.wait_for(queue.get(), 1) == "a"


@pytest.mark.looptime
async def test_delayed_adds_keep_the_earliest_moment() -> None:
    queue: WorkQueue[str] = WorkQueue()
    loop = asyncio.get_running_loop()
    start = loop.time()
    queue.add_after("a", 10)
    queue.add_after("a", 3)
    queue.add_after("a", 20)
    assert await queue.get() == "a"
    assert loop.time() - start == pytest.approx(3)
    queue.done("a")
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(queue.get(), 60)  # the later timers were folded into the first


@pytest.mark.looptime
async def test_failures_back_off_exponentially_until_forgotten() -> None:
    queue: WorkQueue[str] = WorkQueue()
    loop = asyncio.get_running_loop()
    waits = []
    for _ in range(4):
        start = loop.time()
        queue.add_rate_limited("a", base=1, cap=5)
        await queue.get()
        queue.done("a")
        waits.append(round(loop.time() - start, 3))
    assert waits == [1, 2, 4, 5]
    queue.forget("a")
    start = loop.time()
    queue.add_rate_limited("a", base=1)
    await queue.get()
    assert loop.time() - start == pytest.approx(1)


async def test_close_cancels_pending_timers() -> None:
    queue: WorkQueue[str] = WorkQueue()
    queue.add_after("a", 0.01)
    queue.close()
    await asyncio.sleep(0.03)
    assert len(queue) == 0
