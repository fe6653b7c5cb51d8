"""kube.informer against the API emulator over HTTP: the initial list, every change after it, a re-list after 410
Gone that neither loses nor repeats a change, a resumed stream after the server ends it, and a clean stop; kinds
added to ``Informers`` once their streams are open (the Application controller's live cache finds the kinds its
Applications use at run time), and subscriptions with namespaces of their own.

client-go's reflector is the model: list, watch from the list's resourceVersion, re-list on "too old resource
version" (410), and deliver what the re-list found changed ("Replace" in its DeltaFIFO: deleted objects included).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from kubernetes import client as k8s

from kube.errors import ApiError
from kube.http_connection import async_http_client
from kube.informer import Informer, Informers, first_answers
from kube.resources import CONFIGMAPS, JOBS, ROLLOUTS
from sandbox.emulator import ApiEmulator, EmulatorThread
from tests.integration.kube.informer_harness import WAIT_SECONDS, Seen, put, running, started, synced, until

ROOT = Path(__file__).resolve().parents[3]
TOKEN = "informer-test-token"


@pytest.fixture
def emulator() -> Iterator[EmulatorThread]:
    # A history of 3 events per type: a watch resumed after a handful of changes is too old (410 Gone).
    with EmulatorThread(emulator=ApiEmulator(bookmark_interval=0.3, history_limit=3)) as thread:
        # Only once it answers: the thread's own readiness probe sends no token.
        thread.emulator.bearer_token = TOKEN
        yield thread


@pytest.fixture
async def http(emulator: EmulatorThread) -> AsyncIterator[httpx.AsyncClient]:
    configuration = k8s.Configuration(host=emulator.url, api_key={"BearerToken": TOKEN},
                                      api_key_prefix={"BearerToken": "Bearer"})
    connection = async_http_client(configuration, timeout=10.0, connect_timeout=5.0)
    try:
        yield connection
    finally:
        await connection.aclose()


def configmaps(http: httpx.AsyncClient, seen: Seen) -> Informer:
    """An informer of the ConfigMaps in ``default`` feeding ``seen``."""
    return Informer(http, CONFIGMAPS, [seen], namespace="default")


def delete(emulator: EmulatorThread, name: str, namespace: str = "default") -> None:
    emulator.emulator.delete_object("", "v1", "configmaps", namespace, name)


async def test_the_initial_list_is_delivered_as_listed_objects_then_the_informer_is_synced(
    emulator: EmulatorThread, http: httpx.AsyncClient
) -> None:
    put(emulator, "a", "1")
    put(emulator, "b", "1")
    seen = Seen()
    async with synced(configmaps(http, seen)) as informer:
        # kopf's convention, which the controllers' observers keep: an object seen by listing has no event type.
        assert sorted(seen.events) == [(None, "a", "1"), (None, "b", "1")]
        assert informer.lists == 1


async def test_added_modified_and_deleted_objects_arrive_in_order(
    emulator: EmulatorThread, http: httpx.AsyncClient
) -> None:
    seen = Seen()
    async with synced(configmaps(http, seen)):
        put(emulator, "c", "1")
        put(emulator, "c", "2")
        delete(emulator, "c")
        await until(lambda: len(seen.events) == 3, "three watch events")
        assert seen.events == [("ADDED", "c", "1"), ("MODIFIED", "c", "2"), ("DELETED", "c", "2")]


async def test_a_watch_too_old_is_relisted_delivering_each_change_once_and_the_deleted_objects(
    emulator: EmulatorThread, http: httpx.AsyncClient
) -> None:
    put(emulator, "kept", "1")
    put(emulator, "changed", "1")
    put(emulator, "removed", "1")
    seen = Seen()
    informer = configmaps(http, seen)
    async with synced(informer):
        pass  # listed once, then stopped: the changes below are made while no stream is open
    seen.events.clear()
    # Five changes while no stream is open: more than the 3 events of history the emulator keeps.
    put(emulator, "changed", "2")
    delete(emulator, "removed")
    put(emulator, "added", "1")
    put(emulator, "other", "1")
    put(emulator, "other", "2")
    async with running(informer):  # resumes from the old resourceVersion: 410 Gone
        await until(lambda: informer.lists == 2, "a second list after 410 Gone")
        await until(lambda: len(seen.events) >= 4, "the re-list's differences")
        # The deleted object as what identified it (its data is not kept): "None" is the absent value.
        assert sorted(seen.events, key=str) == sorted(
            [("DELETED", "removed", "None"), (None, "changed", "2"), (None, "added", "1"), (None, "other", "2")],
            key=str,
        )
        # After the re-list the stream carries on from the list's resourceVersion.
        put(emulator, "kept", "2")
        await until(lambda: ("MODIFIED", "kept", "2") in seen.events, "the change after the re-list")
        assert seen.names(None).count("kept") == 0  # never repeated: the observers had that version


async def test_a_stream_the_server_ends_is_resumed_without_listing_again(
    emulator: EmulatorThread, http: httpx.AsyncClient
) -> None:
    seen = Seen()
    async with synced(configmaps(http, seen)) as informer:
        put(emulator, "before", "1")
        await until(lambda: seen.names("ADDED") == ["before"], "the first change")
        watches_before = _watch_requests(emulator)
        emulator.emulator.close_watches()
        await until(lambda: _watch_requests(emulator) > watches_before, "a new watch request")
        put(emulator, "after", "1")
        await until(lambda: seen.names("ADDED") == ["before", "after"], "the change after the stream ended")
        assert informer.lists == 1


async def test_a_kind_not_served_yet_is_tried_again_and_watched_once_its_crd_appears(
    emulator: EmulatorThread, http: httpx.AsyncClient
) -> None:
    # As Istio's VirtualServices before Istio is installed: the list is 404 until the CRD exists.
    seen: list[tuple[str | None, str]] = []
    informer = Informer(http, ROLLOUTS, [lambda kind, obj: seen.append((kind, obj["metadata"]["name"]))],
                        namespace="default", retry_delays=(0.05,))
    async with running(informer):
        await until(lambda: _requests(emulator, "list", 404) >= 2, "a second list after a 404")
        assert not informer.synced.is_set()
        crd = yaml.safe_load((ROOT / "crds" / "argoproj.io_rollouts.yaml").read_text())
        emulator.emulator.create_object("apiextensions.k8s.io", "v1", "customresourcedefinitions", crd)
        await asyncio.wait_for(informer.synced.wait(), WAIT_SECONDS)
        emulator.emulator.create_object("argoproj.io", "v1alpha1", "rollouts", {
            "metadata": {"name": "r", "namespace": "default"},
            "spec": {"selector": {"matchLabels": {"app": "r"}},
                     "template": {"metadata": {"labels": {"app": "r"}},
                                  "spec": {"containers": [{"name": "c", "image": "i"}]}},
                     "strategy": {"canary": {}}},
        }, "default")
        await until(lambda: seen == [("ADDED", "r")], "the Rollout created after the CRD")


async def test_informers_share_one_stream_per_kind_and_start_once_ready(
    emulator: EmulatorThread, http: httpx.AsyncClient
) -> None:
    put(emulator, "shared", "1")
    first, second = Seen(), Seen()
    ready = asyncio.Event()
    informers = Informers(http, ("default",))
    informers.observe(CONFIGMAPS, first, ready=ready)
    informers.observe(CONFIGMAPS, second)
    async with started(informers):
        await asyncio.sleep(0)
        assert informers.informers == []  # nothing opened before the controllers' caches are primed
        ready.set()
        await until(lambda: bool(first.events) and bool(second.events), "both observers fed")
        assert len(informers.informers) == 1
        assert first.events == second.events == [(None, "shared", "1")]


async def test_a_label_selector_limits_the_stream_to_the_objects_it_selects(
    emulator: EmulatorThread, http: httpx.AsyncClient
) -> None:
    seen: list[str] = []
    informer = Informer(http, JOBS, [lambda _, obj: seen.append(obj["metadata"]["name"])], namespace="default",
                        label_selector="run")
    async with synced(informer):
        for name, labels in (("unlabelled", {}), ("labelled", {"run": "x"})):
            emulator.emulator.create_object("batch", "v1", "jobs", {
                "metadata": {"name": name, "namespace": "default", "labels": labels},
                "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "i"}],
                                               "restartPolicy": "Never"}}},
            }, "default")
        await until(lambda: seen == ["labelled"], "the labelled Job")


async def test_a_request_without_the_token_is_refused_so_the_informer_did_send_it(emulator: EmulatorThread) -> None:
    configuration = k8s.Configuration(host=emulator.url, api_key={"BearerToken": "wrong"})
    async with async_http_client(configuration, timeout=5.0, connect_timeout=5.0) as wrong:
        assert (await wrong.get("/api/v1/configmaps")).status_code == 401


CONFIGMAP_KEY = ("", "configmaps")


async def test_a_kind_added_after_the_streams_opened_is_listed_then_watched(
    emulator: EmulatorThread, http: httpx.AsyncClient
) -> None:
    put(emulator, "before", "1")
    informers = Informers(http, ("default",))
    async with started(informers):
        await asyncio.wait_for(informers.opened.wait(), WAIT_SECONDS)
        seen = Seen()
        streams = await informers.add(CONFIGMAPS, seen)
        assert [stream.where for stream in streams] == ["configmaps.core in default"]
        await asyncio.wait_for(streams[0].synced.wait(), WAIT_SECONDS)
        assert seen.events == [(None, "before", "1")]
        put(emulator, "after", "1")
        await until(lambda: ("ADDED", "after", "1") in seen.events, "the object created after the list")


async def test_a_kind_added_while_others_watch_it_joins_their_stream_with_a_list_of_its_own(
    emulator: EmulatorThread, http: httpx.AsyncClient
) -> None:
    # The live cache adding Services the Rollout controller already watches: one stream, not two.
    put(emulator, "shared", "1")
    first, second = Seen(), Seen()
    informers = Informers(http, ("default",))
    informers.observe(CONFIGMAPS, first)
    async with started(informers):
        (opened,) = await asyncio.wait_for(informers.streams(CONFIGMAPS), WAIT_SECONDS)
        await asyncio.wait_for(opened.synced.wait(), WAIT_SECONDS)
        assert await informers.add(CONFIGMAPS, second) == [opened]
        assert second.events == [(None, "shared", "1")]  # every object, before add returns
        assert len(informers.informers) == 1
        put(emulator, "shared", "2")
        await until(lambda: any(value == "2" for _, _, value in second.events), "the change, to the newcomer")
        await until(lambda: any(value == "2" for _, _, value in first.events), "the change, to the first")
        assert [event for event in first.events if event[2] == "1"] == [(None, "shared", "1")]  # not repeated


async def test_a_join_whose_list_fails_opens_a_stream_of_its_own_that_keeps_trying(
    emulator: EmulatorThread, http: httpx.AsyncClient
) -> None:
    # A kind not served yet (a CRD an earlier sync wave creates): the newcomer is watching once it is served.
    informers = Informers(http, ("default",))
    first, second = Seen(), Seen()
    informers.observe(ROLLOUTS, first)
    async with started(informers):
        assert await first_answers(informers, ROLLOUTS, timeout=WAIT_SECONDS)
        (subscribed,) = await informers.streams(ROLLOUTS)
        (own,) = await informers.add(ROLLOUTS, second)
        assert own is not subscribed and subscribed.observers == [first]
        await asyncio.wait_for(own.answered.wait(), WAIT_SECONDS)
        assert isinstance(own.error, ApiError) and own.error.code == 404
        crd = yaml.safe_load((ROOT / "crds" / "argoproj.io_rollouts.yaml").read_text())
        emulator.emulator.create_object("apiextensions.k8s.io", "v1", "customresourcedefinitions", crd)
        await asyncio.wait_for(own.synced.wait(), WAIT_SECONDS)


async def test_a_kind_added_before_the_streams_open_shares_their_stream(
    emulator: EmulatorThread, http: httpx.AsyncClient
) -> None:
    put(emulator, "shared", "1")
    first, second = Seen(), Seen()
    ready = asyncio.Event()
    informers = Informers(http, ("default",))
    informers.observe(CONFIGMAPS, first, ready=ready)
    async with started(informers):
        adding = asyncio.ensure_future(informers.add(CONFIGMAPS, second))
        await asyncio.sleep(0)  # one turn of the loop: the add has subscribed and waits for the streams to open
        assert not adding.done()  # its streams are those of the subscription, opened once the caches are ready
        ready.set()
        streams = await asyncio.wait_for(adding, WAIT_SECONDS)
        assert streams == informers.informers and len(streams) == 1
        await until(lambda: bool(first.events) and bool(second.events), "both observers fed")
        assert first.events == second.events == [(None, "shared", "1")]


async def test_a_subscription_watches_the_namespaces_it_names_whatever_the_informers(
    emulator: EmulatorThread, http: httpx.AsyncClient
) -> None:
    # The Application controllers watch their control namespace, whatever namespaces the Rollouts are watched in.
    emulator.emulator.create_object("", "v1", "namespaces", {"metadata": {"name": "argocd"}})
    put(emulator, "in-default", "1")
    put(emulator, "in-argocd", "1", namespace="argocd")
    own, everywhere = Seen(), Seen()
    informers = Informers(http, ("default",))
    informers.observe(CONFIGMAPS, own, namespaces=("argocd",))
    informers.observe(CONFIGMAPS, everywhere, namespaces=())
    async with started(informers):
        assert await first_answers(informers, CONFIGMAPS, namespaces=("argocd",), timeout=WAIT_SECONDS)
        assert await first_answers(informers, CONFIGMAPS, namespaces=(), timeout=WAIT_SECONDS)
        assert own.events == [(None, "in-argocd", "1")]
        assert sorted(everywhere.events) == [(None, "in-argocd", "1"), (None, "in-default", "1")]
        assert sorted(informer.where for informer in informers.informers) == [
            "configmaps.core", "configmaps.core in argocd"]


async def test_a_first_list_that_fails_is_an_answer_with_its_error_until_a_list_succeeds(
    emulator: EmulatorThread, http: httpx.AsyncClient
) -> None:
    # A kind the cluster does not serve must not hold a start-up (or a pass) for ever: the failure answers.
    informers = Informers(http, ("default",))
    informers.observe(ROLLOUTS, Seen())
    async with started(informers):
        assert await first_answers(informers, ROLLOUTS, timeout=WAIT_SECONDS)
        (stream,) = await informers.streams(ROLLOUTS)
        assert isinstance(stream.error, ApiError) and stream.error.code == 404
        assert not stream.synced.is_set()
        crd = yaml.safe_load((ROOT / "crds" / "argoproj.io_rollouts.yaml").read_text())
        emulator.emulator.create_object("apiextensions.k8s.io", "v1", "customresourcedefinitions", crd)
        await asyncio.wait_for(stream.synced.wait(), WAIT_SECONDS)
        assert stream.error is None


async def test_stop_closes_the_added_streams_and_refuses_more(
    emulator: EmulatorThread, http: httpx.AsyncClient
) -> None:
    informers = Informers(http, ("default",))
    await informers.start()
    await asyncio.wait_for(informers.opened.wait(), WAIT_SECONDS)
    (added,) = await informers.add(CONFIGMAPS, Seen())
    await asyncio.wait_for(added.synced.wait(), WAIT_SECONDS)
    await until(lambda: emulator.emulator.store.watch_count(CONFIGMAP_KEY) == 1, "the added stream's watch")
    await informers.stop()
    assert informers.informers == []
    await until(lambda: emulator.emulator.store.watch_count(CONFIGMAP_KEY) == 0, "its watch closed")
    with pytest.raises(RuntimeError, match="configmaps"):
        await informers.add(CONFIGMAPS, Seen())


def _watch_requests(emulator: EmulatorThread) -> int:
    return sum(1 for record in list(emulator.emulator.requests) if record.verb == "watch")


def _requests(emulator: EmulatorThread, verb: str, code: int) -> int:
    return sum(1 for record in list(emulator.emulator.requests) if record.verb == verb and record.code == code)
