"""The Prometheus launcher with the real binary, scraping a real metrics endpoint on this machine."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, Counter, start_http_server

from sandbox.prometheus import PrometheusNotInstalled, PrometheusServer, free_loopback_port

pytestmark = [pytest.mark.prometheus]


def serve_metrics(name: str, value: float) -> tuple[str, CollectorRegistry, object]:
    registry = CollectorRegistry()
    Counter(name, "Requests served by the test's endpoint.", registry=registry).inc(value)
    port = free_loopback_port()
    server, _thread = start_http_server(port, addr="127.0.0.1", registry=registry)
    return f"127.0.0.1:{port}", registry, server


def process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers signal 0; it is gone for every purpose that matters here.
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "zombie" not in status.read_text()


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    address, _registry, server = serve_metrics("sandbox_test_requests", 7)
    yield address
    server.shutdown()  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def prometheus(endpoint: str) -> Iterator[PrometheusServer]:
    """One server for the module: each start costs about 6 s before the first sample is queryable."""
    server = PrometheusServer([endpoint])
    with server:
        pid, workdir = server.pid, server.config_path.parent
        yield server
    assert pid is not None and not process_exists(pid)
    assert not workdir.exists()


def test_query_returns_the_scraped_sample(prometheus: PrometheusServer, endpoint: str) -> None:
    (sample,) = prometheus.query("sandbox_test_requests_total")
    assert sample["metric"]["instance"] == endpoint
    assert sample["metric"]["job"] == endpoint
    assert sample["value"][1] == "7"


def test_started_means_every_target_is_up(prometheus: PrometheusServer) -> None:
    assert [s["value"][1] for s in prometheus.query("up")] == ["1"]
    assert prometheus.url.startswith("http://127.0.0.1:")


def test_replaced_targets_are_scraped_after_a_reload(prometheus: PrometheusServer, endpoint: str) -> None:
    second, _registry, server = serve_metrics("sandbox_test_other", 3)
    try:
        prometheus.replace_targets([endpoint, second])
        prometheus.wait_for_targets(timeout=20)
        (sample,) = prometheus.query("sandbox_test_other_total")
        assert sample["value"][1] == "3"
    finally:
        server.shutdown()  # type: ignore[attr-defined]
        prometheus.replace_targets([endpoint])


def test_stop_leaves_no_process_and_no_files() -> None:
    server = PrometheusServer(["127.0.0.1:1"], wait_for_targets=False)
    server.start()
    pid, workdir = server.pid, server.config_path.parent
    assert pid is not None and process_exists(pid)
    server.stop()
    server.stop()
    assert not process_exists(pid)
    assert not workdir.exists()


async def test_async_start_and_stop_leave_no_process() -> None:
    async with PrometheusServer(["127.0.0.1:1"], wait_for_targets=False) as server:
        pid = server.pid
        assert pid is not None and process_exists(pid)
    assert not process_exists(pid)


def test_a_failing_start_reports_the_log_tail() -> None:
    server = PrometheusServer([], extra_args=["--no-such-flag"], startup_timeout=10)
    with pytest.raises(RuntimeError, match="exited with code") as caught:
        server.start()
    assert "no-such-flag" in str(caught.value)


def test_missing_binary_gives_the_install_command(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PROMETHEUS_BIN", str(tmp_path / "prometheus"))
    with pytest.raises(PrometheusNotInstalled, match="sudo apt-get install prometheus"):
        PrometheusServer(["127.0.0.1:1"]).start()
    assert shutil.which("prometheus") is not None  # PATH had one: the variable wins
