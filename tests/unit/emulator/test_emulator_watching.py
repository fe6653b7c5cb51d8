"""Watch fan-out: every event reaches a watcher once, in resourceVersion order, whichever thread wrote it."""

from __future__ import annotations

import asyncio
import threading

from sandbox.emulator.store import ObjectStore
from sandbox.emulator.watching import Watcher, WatchFilter

KEY = ("", "configmaps")


def _create(store: ObjectStore, name: str) -> None:
    # As the API does: the resourceVersion is taken and the object stored under one hold of the lock.
    with store.lock:
        rv = store.next_resource_version()
        store.put(KEY, {"metadata": {"name": name, "namespace": "ns", "resourceVersion": str(rv)}}, "ADDED", None)


def _in_thread(store: ObjectStore, name: str) -> None:
    thread = threading.Thread(target=_create, args=(store, name))
    thread.start()
    thread.join()


def _drain(watcher: Watcher) -> list[tuple[str, str, int] | None]:
    items: list[tuple[str, str, int] | None] = []
    while not watcher.queue.empty():
        item = watcher.queue.get_nowait()
        items.append(None if item is None else (item[0], item[1]["metadata"]["name"], item[2]))
    return items


async def test_foreign_thread_write_is_not_lost_behind_a_later_write_on_the_loop() -> None:
    store = ObjectStore()
    watcher = Watcher(asyncio.get_running_loop(), WatchFilter())
    store.subscribe(KEY, watcher, None)
    _in_thread(store, "foreign")  # rv 1: handed to the loop, which has not run yet
    _create(store, "local")  # rv 2: written on the loop before the foreign event was delivered
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert _drain(watcher) == [("ADDED", "foreign", 1), ("ADDED", "local", 2)]


async def test_interleaved_writes_from_both_threads_arrive_once_in_order() -> None:
    store = ObjectStore()
    watcher = Watcher(asyncio.get_running_loop(), WatchFilter())
    store.subscribe(KEY, watcher, None)
    for index in range(100):
        _in_thread(store, f"foreign-{index}")
        _create(store, f"local-{index}")
        if index % 7 == 0:
            await asyncio.sleep(0)  # sometimes let the loop catch up in between
    for _ in range(3):
        await asyncio.sleep(0)
    items = _drain(watcher)
    assert [item[2] for item in items if item is not None] == list(range(1, 201))


async def test_replayed_events_are_not_delivered_twice() -> None:
    store = ObjectStore()
    for name in "abc":
        _create(store, name)
    watcher = Watcher(asyncio.get_running_loop(), WatchFilter())
    with store.lock:
        replay = store.subscribe(KEY, watcher, since=1)
        watcher.last_rv = 1
        watcher.replay(replay)
        watcher.replay(replay)  # the same history again: already delivered, so dropped
    _create(store, "d")
    await asyncio.sleep(0)
    assert [item[1] if item else None for item in _drain(watcher)] == ["b", "c", "d"]


async def test_close_comes_after_the_events_offered_before_it() -> None:
    store = ObjectStore()
    watcher = Watcher(asyncio.get_running_loop(), WatchFilter())
    store.subscribe(KEY, watcher, None)
    _in_thread(store, "a")
    closer = threading.Thread(target=store.drop_type, args=(KEY,))
    closer.start()
    closer.join()
    for _ in range(3):
        await asyncio.sleep(0)
    assert _drain(watcher) == [("ADDED", "a", 1), None]
