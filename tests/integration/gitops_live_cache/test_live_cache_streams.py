"""The Application controller's live cache on ``kube.informer`` streams, against the API emulator over HTTP.

Argo CD's cluster cache is the model: a resource type is watched from the first time an Application needs it, and
its first list is complete before any Application is compared against it; a change to an object queues the
Applications that track it or name it; a type the cluster does not serve is reported, not waited for. Here the
streams run on an event loop of their own thread, as the controller's, and ``ensure_watched`` is called from the
test's thread, as a pass calls it from a worker thread.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kubernetes import client as k8s

from gitops.controller.live_cache import LiveCache
from gitops.resources import ResourceKey
from kube.http_connection import async_http_client
from kube.informer import Informers
from kube.json_data import JsonObject
from kube.resources import CONFIGMAPS, ROLLOUTS
from sandbox.emulator import EmulatorThread
from tests.waiting import wait_until

# Generous: only a change that never arrives fails a test; the usual wait is milliseconds.
WAIT_SECONDS = 20.0
APP_LABEL = "app.kubernetes.io/instance"


@pytest.fixture
def emulator() -> Iterator[EmulatorThread]:
    with EmulatorThread() as thread:
        yield thread


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    running = asyncio.new_event_loop()
    thread = threading.Thread(target=running.run_forever, name="controller loop", daemon=True)
    thread.start()
    yield running
    running.call_soon_threadsafe(running.stop)
    thread.join(WAIT_SECONDS)
    running.close()


class Changes:
    """The Application names the cache said changed, in order (called on the loop's thread)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls: list[set[str]] = []

    def __call__(self, names: set[str]) -> None:
        with self.lock:
            self.calls.append(set(names))

    def seen(self, name: str) -> bool:
        with self.lock:
            return any(name in names for names in self.calls)


@pytest.fixture
def changes() -> Changes:
    return Changes()


@pytest.fixture
def cache(emulator: EmulatorThread, loop: asyncio.AbstractEventLoop, changes: Changes) -> Iterator[LiveCache]:
    http = async_http_client(k8s.Configuration(host=emulator.url), timeout=10.0, connect_timeout=5.0)
    made = LiveCache(Informers(http), owner=_tracked_by_label, on_change=changes, owns_informers=True)
    made.bind(loop)
    yield made
    asyncio.run_coroutine_threadsafe(made.close(), loop).result(WAIT_SECONDS)


def _tracked_by_label(obj: JsonObject) -> str | None:
    labels = (obj.get("metadata") or {}).get("labels") or {}
    return str(labels[APP_LABEL]) if APP_LABEL in labels else None


def config_map(name: str, app: str | None = None) -> dict[str, Any]:
    labels = {APP_LABEL: app} if app else {}
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": "default", "labels": labels}, "data": {"v": "1"}}


def key(name: str) -> ResourceKey:
    return ResourceKey.of(config_map(name))


def until(condition: Callable[[], bool], what: str) -> None:
    wait_until(condition, what, timeout=WAIT_SECONDS)


def list_requests(emulator: EmulatorThread, resource: str) -> int:
    return sum(1 for record in list(emulator.emulator.requests) if record.verb == "list"
               and record.resource == resource)


def test_a_type_is_listed_before_ensure_watched_returns(emulator: EmulatorThread, cache: LiveCache) -> None:
    # No pass compares against a half-filled cache: what existed is there once the call returns.
    emulator.emulator.create_object("", "v1", "configmaps", config_map("settings", app="shop"), "default")
    assert cache.ensure_watched([CONFIGMAPS]) == []
    assert cache.get(key("settings")) is not None
    assert cache.tracked_keys("shop") == {key("settings")}
    assert [kind.plural for kind in cache.watched_kinds()] == ["configmaps"]


def test_a_type_asked_for_by_two_passes_at_once_is_listed_once(emulator: EmulatorThread, cache: LiveCache) -> None:
    answers: list[list[str]] = []
    passes = [threading.Thread(target=lambda: answers.append(cache.ensure_watched([CONFIGMAPS])))
              for _ in range(2)]
    for thread in passes:
        thread.start()
    for thread in passes:
        thread.join(WAIT_SECONDS)
    assert answers == [[], []]
    assert list_requests(emulator, "configmaps") == 1


def test_after_the_list_a_new_object_a_pass_names_queues_that_application(
    emulator: EmulatorThread, cache: LiveCache, changes: Changes
) -> None:
    assert cache.ensure_watched([CONFIGMAPS]) == []
    cache.set_targets("web", [key("expected")])  # named by web's manifests, tracked by nobody yet
    emulator.emulator.create_object("", "v1", "configmaps", config_map("expected"), "default")
    until(lambda: changes.seen("web"), "web queued by the object its manifests name")
    assert cache.get(key("expected")) is not None


def test_a_live_change_to_a_tracked_object_queues_its_application_for_self_heal(
    emulator: EmulatorThread, cache: LiveCache, changes: Changes
) -> None:
    emulator.emulator.create_object("", "v1", "configmaps", config_map("settings", app="shop"), "default")
    assert cache.ensure_watched([CONFIGMAPS]) == []
    emulator.emulator.patch_object("", "v1", "configmaps", "default", "settings", {"data": {"v": "drifted"}})
    until(lambda: changes.seen("shop"), "shop queued by the live change")
    until(lambda: (cache.get(key("settings")) or {}).get("data") == {"v": "drifted"}, "the cache holding the change")


def test_a_deleted_object_leaves_the_cache_and_queues_its_application(
    emulator: EmulatorThread, cache: LiveCache, changes: Changes
) -> None:
    emulator.emulator.create_object("", "v1", "configmaps", config_map("settings", app="shop"), "default")
    assert cache.ensure_watched([CONFIGMAPS]) == []
    emulator.emulator.delete_object("", "v1", "configmaps", "default", "settings")
    until(lambda: cache.get(key("settings")) is None, "the deleted object gone from the cache")
    assert changes.seen("shop")
    assert cache.tracked_keys("shop") == set()


def test_a_type_the_cluster_does_not_serve_is_reported_not_waited_for(cache: LiveCache) -> None:
    # Its stream keeps trying (a CRD an earlier wave creates); the pass goes on with what it has.
    (failure,) = cache.ensure_watched([ROLLOUTS], timeout=WAIT_SECONDS)
    assert failure.startswith("cannot watch rollouts.argoproj.io:"), failure
    assert "first list still pending" not in failure


def test_close_ends_the_streams_and_later_passes_are_told_so(
    emulator: EmulatorThread, loop: asyncio.AbstractEventLoop, cache: LiveCache
) -> None:
    assert cache.ensure_watched([CONFIGMAPS]) == []
    until(lambda: emulator.emulator.store.watch_count(("", "configmaps")) == 1, "the stream's watch")
    asyncio.run_coroutine_threadsafe(cache.close(), loop).result(WAIT_SECONDS)
    until(lambda: emulator.emulator.store.watch_count(("", "configmaps")) == 0, "its watch closed")
    assert cache.ensure_watched([CONFIGMAPS]) == ["configmaps.core: not watched (the controller is not running)"]


def test_ensure_watched_on_the_event_loop_is_refused_rather_than_blocking_the_loop(
    loop: asyncio.AbstractEventLoop, cache: LiveCache
) -> None:
    # The streams it waits for run on that very loop: waiting there would hold them, and every controller, still.
    async def on_the_loop() -> None:
        with pytest.raises(RuntimeError, match="from a pass's thread"):
            cache.ensure_watched([CONFIGMAPS])

    asyncio.run_coroutine_threadsafe(on_the_loop(), loop).result(WAIT_SECONDS)


def test_a_type_another_controller_watches_shares_its_stream(
    emulator: EmulatorThread, loop: asyncio.AbstractEventLoop, changes: Changes
) -> None:
    # In `rollouts controller` the Rollout controller already streams Services, Deployments, Rollouts…: the live
    # cache joins those streams (with a list of its own) rather than opening a second watch of each.
    emulator.emulator.create_object("", "v1", "configmaps", config_map("settings", app="shop"), "default")
    http = async_http_client(k8s.Configuration(host=emulator.url), timeout=10.0, connect_timeout=5.0)
    process = Informers(http)
    other: list[str] = []
    process.observe(CONFIGMAPS, lambda _, obj: other.append(obj["metadata"]["name"]))
    asyncio.run_coroutine_threadsafe(process.start(), loop).result(WAIT_SECONDS)
    cache = LiveCache(process, owner=_tracked_by_label, on_change=changes)
    cache.bind(loop)
    try:
        until(lambda: other == ["settings"], "the other controller's list")
        assert cache.ensure_watched([CONFIGMAPS]) == []
        assert cache.tracked_keys("shop") == {key("settings")}
        until(lambda: emulator.emulator.store.watch_count(("", "configmaps")) == 1, "the shared stream's watch")
        assert len(process.informers) == 1
        # Closing the live cache (the Application controller stopping) leaves the other controller its stream.
        asyncio.run_coroutine_threadsafe(cache.close(), loop).result(WAIT_SECONDS)
        emulator.emulator.create_object("", "v1", "configmaps", config_map("later"), "default")
        until(lambda: "later" in other, "the other controller still fed")
    finally:
        asyncio.run_coroutine_threadsafe(process.stop(), loop).result(WAIT_SECONDS)
        asyncio.run_coroutine_threadsafe(http.aclose(), loop).result(WAIT_SECONDS)
