"""`rollouts controller` as a user runs it: a process logged in with a kubeconfig, serving metrics, stopped by a
signal with exit status 0."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from kube.resources import ROLLOUTS
from sandbox.cluster import SandboxThread
from tests.rollout_harness import CRD_DIR, reviews_objects

ROLLOUTS_CLI = [sys.executable, "-c", "from cli.main import main; main()"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def sandbox() -> Iterator[SandboxThread]:
    with SandboxThread(crd_dirs=[CRD_DIR], ready_delay=0.1, namespaces=("default", "watched", "ignored")) as running:
        yield running


def create_reviews(sandbox: SandboxThread, namespace: str) -> None:
    for document in reviews_objects():
        kind = document["kind"]
        group, _, version = document["apiVersion"].rpartition("/")
        plural = {"Service": "services", "VirtualService": "virtualservices", "Rollout": "rollouts"}[kind]
        body = {**document, "metadata": {**document["metadata"], "namespace": namespace}}

        # On the sandbox's loop, where the emulator delivers watch events in order (see RolloutCluster).
        async def create(body: dict[str, object] = body, group: str = group, version: str = version,
                         plural: str = plural) -> None:
            sandbox.emulator.create_object(group, version, plural, body, namespace)

        sandbox.call(create)


def phase(sandbox: SandboxThread, namespace: str) -> str | None:
    rollout = sandbox.emulator.get_object(ROLLOUTS.group, ROLLOUTS.version, ROLLOUTS.plural, namespace, "reviews")
    return ((rollout or {}).get("status") or {}).get("phase")


def wait_for(check: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_the_controller_command_reconciles_its_namespace_and_stops_cleanly(
    sandbox: SandboxThread, tmp_path: Path, stop_signal: signal.Signals
) -> None:
    kubeconfig = sandbox.write_kubeconfig(tmp_path / "kubeconfig.yaml")
    port = free_port()
    log = tmp_path / "controller.log"  # a file, not a pipe: a full pipe would block the controller's logging
    command = [*ROLLOUTS_CLI, "controller", "--kubeconfig", str(kubeconfig), "--namespace", "watched",
               "--metrics-port", str(port)]
    with log.open("w") as output:
        process = subprocess.Popen(command, stderr=output)
        try:
            create_reviews(sandbox, "watched")
            create_reviews(sandbox, "ignored")
            # A fresh interpreter importing kopf and the kubernetes client is slow on a loaded machine.
            try:
                wait_for(lambda: phase(sandbox, "watched") == "Healthy", "the watched rollout Healthy", timeout=45)
            except AssertionError as error:
                raise AssertionError(f"{error}; controller log:\n{log.read_text()}") from None
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
                metrics = response.read().decode()
            assert 'rollout_info{name="reviews",namespace="watched"' in metrics
            assert phase(sandbox, "ignored") is None  # another namespace: not watched, not touched
        finally:
            process.send_signal(stop_signal)
            try:
                code = process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                raise
    stderr = log.read_text()
    assert code == 0, stderr
    assert "Traceback" not in stderr, stderr


def _listening_addresses(port: int) -> set[str]:
    """The local addresses with a TCP socket listening on ``port`` (from /proc/net/tcp: hex, little-endian)."""
    found: set[str] = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, port_hex = local.split(":")
        if state == "0A" and int(port_hex, 16) == port:  # 0A: LISTEN
            found.add(socket.inet_ntoa(bytes.fromhex(address)[::-1]))
    return found


def test_metrics_address_binds_the_metrics_server_to_loopback(sandbox: SandboxThread, tmp_path: Path) -> None:
    kubeconfig = sandbox.write_kubeconfig(tmp_path / "kubeconfig.yaml")
    port = free_port()
    log = tmp_path / "controller.log"
    command = [*ROLLOUTS_CLI, "controller", "--kubeconfig", str(kubeconfig), "--namespace", "watched",
               "--metrics-port", str(port), "--metrics-address", "127.0.0.1", "--webhook-port", "0"]
    with log.open("w") as output:
        process = subprocess.Popen(command, stderr=output)
        try:
            try:
                wait_for(lambda: bool(_listening_addresses(port)), "the metrics server listening", timeout=45)
            except AssertionError as error:
                raise AssertionError(f"{error}; controller log:\n{log.read_text()}") from None
            assert _listening_addresses(port) == {"127.0.0.1"}
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
                assert response.status == 200
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                raise
