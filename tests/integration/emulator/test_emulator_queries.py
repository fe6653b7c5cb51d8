"""LIST and WATCH over HTTP: selectors, pagination, resourceVersions, bookmarks, timeouts, expiry."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
from emulator_helpers import configmap, eventually, patch_headers, read_events
from kubernetes import client, watch

from sandbox.emulator import ApiEmulator, EmulatorThread

CM = "/api/v1/namespaces/default/configmaps"
ALL_CM = "/api/v1/configmaps"


@pytest.fixture
def labelled(core: client.CoreV1Api) -> None:
    for name, labels in [
        ("web-1", {"app": "web", "tier": "front"}),
        ("web-2", {"app": "web", "tier": "back"}),
        ("db-1", {"app": "db"}),
        ("plain", {}),
    ]:
        core.create_namespaced_config_map("default", configmap(name, labels=labels))
    core.create_namespaced_config_map("kube-system", configmap("web-1", labels={"app": "web"}))


def _names(items: list[Any]) -> list[str]:
    return sorted(item.metadata.name for item in items)


@pytest.mark.parametrize(("selector", "expected"), [
    ("app=web", ["web-1", "web-2"]),
    ("app==web", ["web-1", "web-2"]),
    ("app!=web", ["db-1", "plain"]),
    ("app in (web,db)", ["db-1", "web-1", "web-2"]),
    ("app notin (web)", ["db-1", "plain"]),
    ("tier", ["web-1", "web-2"]),
    ("!tier", ["db-1", "plain"]),
    ("app=web,tier=front", ["web-1"]),
])
def test_label_selector_operators_on_list(core: client.CoreV1Api, labelled: None, selector: str,
                                          expected: list[str]) -> None:
    assert _names(core.list_namespaced_config_map("default", label_selector=selector).items) == expected


def test_field_selector_on_list_by_name_and_namespace(core: client.CoreV1Api, labelled: None) -> None:
    by_name = core.list_config_map_for_all_namespaces(field_selector="metadata.name=web-1").items
    assert sorted(cm.metadata.namespace for cm in by_name) == ["default", "kube-system"]
    by_namespace = core.list_config_map_for_all_namespaces(field_selector="metadata.namespace=kube-system").items
    assert _names(by_namespace) == ["web-1"]
    excluded = core.list_namespaced_config_map("default", field_selector="metadata.name!=plain").items
    assert _names(excluded) == ["db-1", "web-1", "web-2"]
    both = core.list_config_map_for_all_namespaces(
        field_selector="metadata.name=web-1,metadata.namespace!=default", label_selector="app=web").items
    assert [(cm.metadata.namespace, cm.metadata.name) for cm in both] == [("kube-system", "web-1")]


def test_malformed_selector_is_bad_request(http: httpx.Client) -> None:
    response = http.get(CM, params={"labelSelector": "app in (web"})
    assert response.status_code == 400
    assert response.json()["reason"] == "BadRequest"


def test_list_carries_collection_resource_version_and_kind(http: httpx.Client, labelled: None,
                                                           emulator: ApiEmulator) -> None:
    listed = http.get(CM).json()
    assert listed["kind"] == "ConfigMapList"
    assert listed["apiVersion"] == "v1"
    assert listed["metadata"]["resourceVersion"] == str(emulator.store.resource_version)
    assert all(item["metadata"]["namespace"] == "default" for item in listed["items"])


def test_list_limit_and_continue_paginate(core: client.CoreV1Api) -> None:
    for index in range(7):
        core.create_namespaced_config_map("default", configmap(f"cm-{index}"))
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        page = core.list_namespaced_config_map("default", limit=3, _continue=token)
        pages += 1
        seen += [cm.metadata.name for cm in page.items]
        token = page.metadata._continue
        if not token:
            break
        assert page.metadata.remaining_item_count == 7 - len(seen)
    assert pages == 3
    assert seen == [f"cm-{index}" for index in range(7)]


def _until_sentinel(http: httpx.Client, stream: httpx.Response) -> list[dict[str, Any]]:
    """All events up to a freshly created sentinel: proves nothing else was (or will be) in between."""
    http.post(CM, json=configmap("zz-sentinel")).raise_for_status()
    events: list[dict[str, Any]] = []
    for line in stream.iter_lines():
        event = json.loads(line)
        if event["object"]["metadata"]["name"] == "zz-sentinel":
            return events
        events.append(event)
    raise AssertionError(f"the stream ended before the sentinel; got {events}")


def test_watch_without_resource_version_sends_added_for_existing_objects(http: httpx.Client,
                                                                        labelled: None) -> None:
    with http.stream("GET", CM, params={"watch": "true", "timeoutSeconds": "5"}) as stream:
        events = _until_sentinel(http, stream)
    assert [e["type"] for e in events] == ["ADDED"] * 4
    assert sorted(e["object"]["metadata"]["name"] for e in events) == ["db-1", "plain", "web-1", "web-2"]


def test_watch_from_resource_version_replays_only_later_events(http: httpx.Client) -> None:
    http.post(CM, json=configmap("before")).raise_for_status()
    rv = http.get(CM).json()["metadata"]["resourceVersion"]
    http.post(CM, json=configmap("after")).raise_for_status()
    http.patch(f"{CM}/before", headers=patch_headers("merge"), json={"data": {"x": "1"}}).raise_for_status()
    with http.stream("GET", CM, params={"watch": "true", "resourceVersion": rv, "timeoutSeconds": "5"}) as stream:
        events = _until_sentinel(http, stream)
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [
        ("ADDED", "after"), ("MODIFIED", "before")]
    assert all(int(e["object"]["metadata"]["resourceVersion"]) > int(rv) for e in events)


def test_watch_streams_live_events_with_full_objects(http: httpx.Client) -> None:
    rv = http.get(CM).json()["metadata"]["resourceVersion"]
    with http.stream("GET", CM, params={"watch": "true", "resourceVersion": rv, "timeoutSeconds": "5"}) as stream:
        http.post(CM, json=configmap("live", labels={"a": "b"}, k="v")).raise_for_status()
        http.patch(f"{CM}/live", headers=patch_headers("merge"), json={"data": {"k": "w"}}).raise_for_status()
        http.delete(f"{CM}/live").raise_for_status()
        events = read_events(stream, 3)
    assert [e["type"] for e in events] == ["ADDED", "MODIFIED", "DELETED"]
    for event in events:
        obj = event["object"]
        assert obj["apiVersion"] == "v1" and obj["kind"] == "ConfigMap"
        assert obj["metadata"]["namespace"] == "default"
        assert obj["metadata"]["uid"] and obj["metadata"]["labels"] == {"a": "b"}
    assert events[1]["object"]["data"] == {"k": "w"}
    versions = [int(e["object"]["metadata"]["resourceVersion"]) for e in events]
    assert versions == sorted(versions) and len(set(versions)) == 3


def test_namespaced_watch_sees_only_its_namespace(http: httpx.Client) -> None:
    rv = http.get(CM).json()["metadata"]["resourceVersion"]
    with http.stream("GET", CM, params={"watch": "true", "resourceVersion": rv, "timeoutSeconds": "5"}) as stream:
        http.post("/api/v1/namespaces/kube-system/configmaps", json=configmap("elsewhere")).raise_for_status()
        http.post(CM, json=configmap("here")).raise_for_status()
        events = read_events(stream, 1)
    assert events[0]["object"]["metadata"]["name"] == "here"


def test_watch_label_selector_reports_objects_entering_and_leaving_as_added_and_deleted(
    http: httpx.Client,
) -> None:
    http.post(CM, json=configmap("a", labels={"track": "no"})).raise_for_status()
    rv = http.get(CM).json()["metadata"]["resourceVersion"]
    params = {"watch": "true", "resourceVersion": rv, "timeoutSeconds": "5", "labelSelector": "track=yes"}
    with http.stream("GET", CM, params=params) as stream:
        for value in ("yes", "yes", "no"):
            http.patch(f"{CM}/a", headers=patch_headers("merge"),
                       json={"metadata": {"labels": {"track": value}}, "data": {"v": str(time.monotonic())}},
                       ).raise_for_status()
        events = read_events(stream, 3)
    assert [e["type"] for e in events] == ["ADDED", "MODIFIED", "DELETED"]


def test_watch_field_selector_on_name(http: httpx.Client) -> None:
    rv = http.get(CM).json()["metadata"]["resourceVersion"]
    params = {"watch": "true", "resourceVersion": rv, "timeoutSeconds": "5", "fieldSelector": "metadata.name=b"}
    with http.stream("GET", CM, params=params) as stream:
        http.post(CM, json=configmap("a")).raise_for_status()
        http.post(CM, json=configmap("b")).raise_for_status()
        events = read_events(stream, 1)
    assert events[0]["object"]["metadata"]["name"] == "b"


def test_watch_timeout_seconds_closes_stream(http: httpx.Client) -> None:
    started = time.monotonic()
    with http.stream("GET", CM, params={"watch": "true", "timeoutSeconds": "1"}) as stream:
        events = read_events(stream)
    elapsed = time.monotonic() - started
    assert events == []  # and the stream ended: read_events returned before the client's read timeout
    assert elapsed >= 0.9  # not before timeoutSeconds


def test_watch_bookmarks_are_sent_when_allowed(http: httpx.Client, emulator: ApiEmulator) -> None:
    http.post(CM, json=configmap("a")).raise_for_status()
    rv = http.get(CM).json()["metadata"]["resourceVersion"]
    params = {"watch": "true", "resourceVersion": rv, "timeoutSeconds": "1", "allowWatchBookmarks": "true"}
    with http.stream("GET", CM, params=params) as stream:
        events = read_events(stream, 2)
    assert [e["type"] for e in events] == ["BOOKMARK", "BOOKMARK"]  # periodic: interval 0.2 s here
    assert events[0]["object"] == {"kind": "ConfigMap", "apiVersion": "v1",
                                   "metadata": {"resourceVersion": str(emulator.store.resource_version)}}

    without = dict(params, allowWatchBookmarks="false")
    with http.stream("GET", CM, params=without) as stream:
        assert read_events(stream) == []


def test_watch_send_initial_events_ends_with_marked_bookmark(http: httpx.Client) -> None:
    http.post(CM, json=configmap("a")).raise_for_status()
    params = {"watch": "true", "sendInitialEvents": "true", "resourceVersionMatch": "NotOlderThan",
              "allowWatchBookmarks": "true", "timeoutSeconds": "1"}
    with http.stream("GET", CM, params=params) as stream:
        events = read_events(stream, 2)
    assert [e["type"] for e in events] == ["ADDED", "BOOKMARK"]
    assert events[1]["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}


def test_watch_from_expired_resource_version_is_gone() -> None:
    with EmulatorThread(emulator=ApiEmulator(history_limit=3)) as thread, \
            httpx.Client(base_url=thread.url, timeout=5) as http:
        first = http.post(CM, json=configmap("c-0")).json()["metadata"]["resourceVersion"]
        for index in range(1, 6):
            http.post(CM, json=configmap(f"c-{index}")).raise_for_status()
        with http.stream("GET", CM, params={"watch": "true", "resourceVersion": first}) as stream:
            assert stream.status_code == 200  # upstream reports it inside the stream
            events = read_events(stream)
    assert len(events) == 1
    assert events[0]["type"] == "ERROR"
    status = events[0]["object"]
    assert (status["kind"], status["code"], status["reason"]) == ("Status", 410, "Expired")


def test_official_client_watch_receives_events(core: client.CoreV1Api) -> None:
    core.create_namespaced_config_map("default", configmap("a"))
    stream = watch.Watch().stream(core.list_namespaced_config_map, "default", timeout_seconds=1)
    events = [(event["type"], event["object"].metadata.name) for event in stream]
    assert events == [("ADDED", "a")]


def test_watch_ends_when_emulator_stops() -> None:
    thread = EmulatorThread()
    thread.start()
    with httpx.Client(base_url=thread.url, timeout=5) as http, \
            http.stream("GET", CM, params={"watch": "true"}) as stream:
        thread.stop()
        assert read_events(stream) == []  # ended: a stream left open would hit the client's read timeout


def test_watch_client_disconnect_releases_the_watcher(emulator_thread: EmulatorThread,
                                                       emulator: ApiEmulator) -> None:
    key = ("", "configmaps")
    with httpx.Client(base_url=emulator_thread.url) as http, \
            http.stream("GET", CM, params={"watch": "true"}) as stream:
        assert stream.status_code == 200
        assert emulator.store.watch_count(key) == 1
    eventually(lambda: emulator.store.watch_count(key) == 0, timeout=3)


def test_legacy_watch_path(http: httpx.Client) -> None:
    with http.stream("GET", "/api/v1/watch/namespaces/default/configmaps", params={"timeoutSeconds": "5"}) as stream:
        http.post(CM, json=configmap("a")).raise_for_status()
        (event,) = read_events(stream, 1)
    assert (event["type"], event["object"]["metadata"]["name"]) == ("ADDED", "a")
