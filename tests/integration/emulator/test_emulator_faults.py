"""Injected API faults, as a client sees them over HTTP: Kubernetes `Status` bodies, Retry-After, outages."""

from __future__ import annotations

import json
import time

import httpx

from sandbox.emulator import ApiEmulator
from sandbox.emulator.faults import FaultInjector, FaultPolicy
from sandbox.recorder import ChangeRecorder, Resource

CONFIGMAPS = "/api/v1/namespaces/default/configmaps"


def test_a_throttled_request_gets_429_with_retry_after_in_header_and_status(
        emulator: ApiEmulator, http: httpx.Client) -> None:
    emulator.faults = FaultInjector(FaultPolicy(rate=1.0, kinds=("throttle",), retry_after=2))
    response = http.get(CONFIGMAPS)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "2"
    body = response.json()
    assert (body["kind"], body["reason"], body["details"]["retryAfterSeconds"]) == ("Status", "TooManyRequests", 2)


def test_faults_hit_only_the_chosen_verbs_and_resources(emulator: ApiEmulator, http: httpx.Client) -> None:
    emulator.faults = FaultInjector(FaultPolicy(rate=1.0, kinds=("error",), verbs=frozenset({"create"}),
                                                resources=frozenset({"configmaps"})))
    assert http.get(CONFIGMAPS).status_code == 200
    assert http.post("/api/v1/namespaces/default/secrets", json={"metadata": {"name": "s"}}).status_code == 201
    refused = http.post(CONFIGMAPS, json={"metadata": {"name": "c"}})
    assert (refused.status_code, refused.json()["reason"]) == (500, "InternalError")
    assert emulator.get_object("", "v1", "configmaps", "default", "c") is None  # refused means not written
    assert emulator.faults.injected["error"] == 1


def test_a_slow_answer_still_serves_the_request(emulator: ApiEmulator, http: httpx.Client) -> None:
    emulator.faults = FaultInjector(FaultPolicy(rate=1.0, kinds=("slow",), slow_seconds=0.2))
    assert http.post(CONFIGMAPS, json={"metadata": {"name": "late"}}).status_code == 201
    assert emulator.faults.injected["slow"] == 1


def test_a_dropped_watch_ends_early_and_can_resume_from_its_resource_version(
        emulator: ApiEmulator, http: httpx.Client) -> None:
    listed = http.get(CONFIGMAPS).json()["metadata"]["resourceVersion"]
    emulator.faults = FaultInjector(FaultPolicy(rate=1.0, kinds=("drop-watch",), watch_lifetime=0.3))
    # The client asked for a 300 s watch; it ends within the watch lifetime instead, without an error event.
    with http.stream("GET", CONFIGMAPS, params={"watch": "true", "resourceVersion": listed,
                                                "timeoutSeconds": "300"}, timeout=60) as stream:
        lines = [line for line in stream.iter_lines() if line]
    assert all(json.loads(line)["type"] != "ERROR" for line in lines)
    emulator.faults = FaultInjector()
    emulator.create_object("", "v1", "configmaps", {"metadata": {"name": "after"}}, namespace="default")
    with http.stream("GET", CONFIGMAPS, params={"watch": "true", "resourceVersion": listed,
                                                "timeoutSeconds": "1"}) as stream:
        names = [json.loads(line)["object"]["metadata"]["name"] for line in stream.iter_lines() if line]
    assert names == ["after"]


def test_an_outage_refuses_every_request_with_503_then_ends(emulator: ApiEmulator, http: httpx.Client) -> None:
    emulator.outage(0.5)
    refused = http.get("/readyz")
    assert refused.status_code == 503
    assert http.get(CONFIGMAPS).json()["reason"] == "ServiceUnavailable"
    deadline = time.monotonic() + 30
    while http.get(CONFIGMAPS).status_code == 503:
        assert time.monotonic() < deadline, "the outage never ended"
        time.sleep(0.05)
    assert emulator.faults.injected["outage"] >= 2


def test_an_outage_ends_open_watches(emulator: ApiEmulator, http: httpx.Client) -> None:
    with http.stream("GET", CONFIGMAPS, params={"watch": "true", "timeoutSeconds": "300"}, timeout=60) as stream:
        emulator.outage(5)
        assert [line for line in stream.iter_lines() if line] == []


def test_an_outage_leaves_in_process_subscribers_recording(emulator: ApiEmulator) -> None:
    recorder = ChangeRecorder(emulator, [Resource("", "v1", "configmaps")])
    with recorder:
        emulator.outage(5)
        emulator.create_object("", "v1", "configmaps", {"metadata": {"name": "during"}}, namespace="default")
        assert [change.name for change in recorder.changes_since(0)] == ["during"]
