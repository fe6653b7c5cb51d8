"""WATCH while in-process writes from another thread race HTTP writes of the same type: no event may be lost."""

from __future__ import annotations

import json
import threading
from typing import Any

import httpx
from emulator_helpers import configmap

from sandbox.emulator import ApiEmulator, EmulatorThread

CM = "/api/v1/namespaces/default/configmaps"
PER_WRITER = 150


def _in_process_writer(emulator: ApiEmulator, start: threading.Barrier) -> None:
    start.wait()
    for index in range(PER_WRITER * 2):
        emulator.create_object("", "v1", "configmaps", configmap(f"direct-{index}"), namespace="default")


def _http_writer(url: str, prefix: str, start: threading.Barrier) -> None:
    with httpx.Client(base_url=url, timeout=10) as http:
        start.wait()
        for index in range(PER_WRITER):
            http.post(CM, json=configmap(f"{prefix}-{index}")).raise_for_status()


def test_watch_gets_every_object_once_in_order_when_thread_and_http_writes_interleave(
    emulator_thread: EmulatorThread, emulator: ApiEmulator, http: httpx.Client,
) -> None:
    rv = http.get(CM).json()["metadata"]["resourceVersion"]
    params = {"watch": "true", "resourceVersion": rv, "timeoutSeconds": "30"}
    with http.stream("GET", CM, params=params) as stream:
        start = threading.Barrier(3)
        writers = [
            threading.Thread(target=_in_process_writer, args=(emulator, start)),
            threading.Thread(target=_http_writer, args=(emulator_thread.url, "http-a", start)),
            threading.Thread(target=_http_writer, args=(emulator_thread.url, "http-b", start)),
        ]
        for writer in writers:
            writer.start()
        for writer in writers:
            writer.join()
        http.post(CM, json=configmap("zz-sentinel")).raise_for_status()
        events: list[dict[str, Any]] = []
        for line in stream.iter_lines():
            event = json.loads(line)
            if event["object"]["metadata"]["name"] == "zz-sentinel":
                break
            events.append(event)

    names = [event["object"]["metadata"]["name"] for event in events]
    expected = {f"direct-{i}" for i in range(PER_WRITER * 2)} | {
        f"http-{w}-{i}" for w in "ab" for i in range(PER_WRITER)}
    assert len(names) == len(set(names)), "some object was announced twice"
    assert set(names) == expected, f"{len(expected - set(names))} objects never reached the watcher"
    assert {event["type"] for event in events} == {"ADDED"}
    versions = [int(event["object"]["metadata"]["resourceVersion"]) for event in events]
    assert versions == sorted(versions)
