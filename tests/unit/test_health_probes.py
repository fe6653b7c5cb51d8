"""The kubelet's probes on the metrics port: /healthz answers whether the event loop still runs callbacks, /readyz
whether the caches are synced; /metrics is served beside them as before."""

from __future__ import annotations

import asyncio
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from prometheus_client import CollectorRegistry, Gauge

from kube.health import event_loop_probe, readiness_probe
from kube.metrics_export import serve_metrics


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return int(response.status), response.read().decode()
    except urllib.error.HTTPError as error:
        return int(error.code), error.read().decode()


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    running = asyncio.new_event_loop()
    thread = threading.Thread(target=running.run_forever, daemon=True)
    thread.start()
    yield running
    running.call_soon_threadsafe(running.stop)
    thread.join(5)
    running.close()


def test_probes_answer_beside_the_metrics() -> None:
    registry = CollectorRegistry()
    Gauge("up_and_running", "a series", registry=registry).set(1)
    synced = False
    probes = {
        "/healthz": lambda: (True, "ok"),
        "/readyz": readiness_probe(lambda: synced, lambda: "standby"),
    }
    server = serve_metrics(registry, 0, "127.0.0.1", probes=probes)
    base = f"http://127.0.0.1:{server.port}"
    try:
        assert fetch(f"{base}/healthz") == (200, "ok\n")
        assert fetch(f"{base}/readyz") == (503, "caches not synced yet\n")
        synced = True
        assert fetch(f"{base}/readyz") == (200, "ok (standby)\n")
        status, metrics = fetch(f"{base}/metrics")
        assert status == 200 and "up_and_running 1.0" in metrics
    finally:
        server.close()


def test_a_probe_that_raises_answers_unhealthy() -> None:
    def broken() -> tuple[bool, str]:
        raise RuntimeError("boom")

    server = serve_metrics(CollectorRegistry(), 0, "127.0.0.1", probes={"/healthz": broken})
    try:
        assert fetch(f"http://127.0.0.1:{server.port}/healthz") == (503, "the check failed: RuntimeError: boom\n")
    finally:
        server.close()


def test_the_loop_probe_passes_while_the_loop_runs_callbacks(loop: asyncio.AbstractEventLoop) -> None:
    assert event_loop_probe(loop, timeout=1)() == (True, "ok")


def test_the_loop_probe_fails_while_the_loop_is_blocked(loop: asyncio.AbstractEventLoop) -> None:
    release = threading.Event()
    loop.call_soon_threadsafe(release.wait, 5)  # a blocking call on the loop: nothing else runs meanwhile
    try:
        # It answers while the loop is still blocked (release is set only below): it did not wait for the loop.
        assert event_loop_probe(loop, timeout=0.2)() == (False, "the event loop did not answer within 0.2s")
        assert not release.is_set()
    finally:
        release.set()


def test_the_loop_probe_fails_once_the_loop_is_closed() -> None:
    closed = asyncio.new_event_loop()
    closed.close()
    assert event_loop_probe(closed)() == (False, "the event loop is closed")
