"""kube.informer's first list, which fills the controllers' caches at start-up, against the API emulator over HTTP.

client-go's reflector is the model: list (in pages of ``limit`` objects, following ``continue``), then watch from
the list's resourceVersion, so that a change made after the list was answered — between two pages, or between the
last page and the watch request — reaches the observers as a watch event instead of being lost.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from kubernetes import client as k8s

import kube.informer
from kube.http_connection import async_http_client
from kube.informer import Informer, Informers
from kube.resources import CONFIGMAPS, ROLLOUTS
from sandbox.emulator import ApiEmulator, EmulatorThread
from tests.integration.kube.informer_harness import WAIT_SECONDS, Seen, put, running, started, until


@pytest.fixture
def emulator() -> Iterator[EmulatorThread]:
    with EmulatorThread(emulator=ApiEmulator(bookmark_interval=0.3)) as thread:
        yield thread


@pytest.fixture
async def http(emulator: EmulatorThread) -> AsyncIterator[httpx.AsyncClient]:
    connection = async_http_client(k8s.Configuration(host=emulator.url), timeout=10.0, connect_timeout=5.0)
    try:
        yield connection
    finally:
        await connection.aclose()


@pytest.fixture
def pages_of_two(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kube.informer, "LIST_PAGE_SIZE", 2)


def list_requests(emulator: EmulatorThread, resource: str) -> int:
    return sum(1 for record in list(emulator.emulator.requests) if record.verb == "list" and
               record.resource == resource and record.code < 400)


async def test_a_list_longer_than_a_page_is_read_page_by_page_and_delivered_whole(
    emulator: EmulatorThread, http: httpx.AsyncClient, pages_of_two: None
) -> None:
    for name in "abcde":
        put(emulator, name, "1")
    seen = Seen()
    informer = Informer(http, CONFIGMAPS, [seen], namespace="default")
    async with running(informer):
        await asyncio.wait_for(informer.synced.wait(), WAIT_SECONDS)
        assert sorted(seen.events) == [(None, name, "1") for name in "abcde"]
        # Five objects in pages of two: three requests, one list.
        assert list_requests(emulator, "configmaps") == 3
        assert informer.lists == 1


async def test_a_change_made_between_two_pages_arrives_as_a_watch_event(
    emulator: EmulatorThread, http: httpx.AsyncClient, pages_of_two: None
) -> None:
    for name in "abcd":
        put(emulator, name, "1")

    def change_a_once_it_is_listed(event_type: str | None, name: str) -> None:
        if event_type is None and name == "a":
            put(emulator, "a", "2")  # after the first page was answered, before the second is asked for

    seen = Seen(change_a_once_it_is_listed)
    informer = Informer(http, CONFIGMAPS, [seen], namespace="default")
    async with running(informer):
        await until(lambda: ("MODIFIED", "a", "2") in seen.events, "the change made between the pages")
        assert [event for event in seen.events if event[0] is None] == [(None, name, "1") for name in "abcd"]


async def test_a_change_made_between_the_list_and_the_watch_arrives_as_a_watch_event(
    emulator: EmulatorThread, http: httpx.AsyncClient
) -> None:
    put(emulator, "a", "1")
    put(emulator, "b", "1")

    def change_b_once_it_is_listed(event_type: str | None, name: str) -> None:
        if event_type is None and name == "b":
            put(emulator, "b", "2")  # the list is answered; the watch is not open yet

    seen = Seen(change_b_once_it_is_listed)
    informer = Informer(http, CONFIGMAPS, [seen], namespace="default")
    async with running(informer):
        await until(lambda: ("MODIFIED", "b", "2") in seen.events, "the change made before the watch opened")
        assert informer.lists == 1  # resumed from the list's resourceVersion, not listed again


async def test_listed_returns_once_every_observer_has_the_first_list(
    emulator: EmulatorThread, http: httpx.AsyncClient
) -> None:
    put(emulator, "a", "1")
    first, second = Seen(), Seen()
    informers = Informers(http, ("default",))
    informers.observe(CONFIGMAPS, first)
    informers.observe(CONFIGMAPS, second)
    async with started(informers):
        await asyncio.wait_for(informers.listed(CONFIGMAPS), WAIT_SECONDS)
        assert first.events == second.events == [(None, "a", "1")]
        assert list_requests(emulator, "configmaps") == 1  # one stream for both observers


async def test_listed_returns_for_a_kind_the_cluster_does_not_serve_while_its_stream_keeps_trying(
    emulator: EmulatorThread, http: httpx.AsyncClient
) -> None:
    # As Istio's VirtualServices without Istio: nothing to wait for, as the controllers' own start-up list skipped it.
    informers = Informers(http, ("default",))
    informers.observe(ROLLOUTS, Seen())
    async with started(informers):
        await asyncio.wait_for(informers.listed(ROLLOUTS), WAIT_SECONDS)
        assert [informer.synced.is_set() for informer in informers.informers] == [False]


def test_listed_names_a_kind_nothing_observes() -> None:
    informers = Informers(httpx.AsyncClient(), ())
    with pytest.raises(KeyError, match="nothing observes configmaps"):
        asyncio.run(informers.listed(CONFIGMAPS))
