"""Liveness under load (issue #13): `rollouts controller` with leader election on, started on two thousand
Rollouts, keeps its Lease through its start-up — the initial listing, kopf's burst of events, and a first pass over
every Rollout — and its `/healthz` answers.

The controller used to run its Lease renewals on the event loop every watch and reconcile pass runs on; a
start-up over thousands of Rollouts held that loop past the renew deadline and the process exited with "lost the
leader election" — for ever, since every restart starts the same way. The renew deadline here is shortened (5 s
instead of 6 s, renewing every second) so that a renewal queued behind reconciliation is more likely to miss it;
not shorter, because on a loaded machine the whole process also stalls for seconds at a time (full garbage
collections hold every thread), which no loop of its own can help. Nothing is timed: the test waits for the work
to be done (a pass over every Rollout, counted by the controller itself) and then checks the Lease.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Final

import pytest

from sandbox.cluster import SandboxThread
from tests.rollout_harness import CRD_DIR

JsonObject = dict[str, Any]

ROLLOUT_COUNT: Final = 2000
NAMESPACE: Final = "fleet"
LEASE_NAMESPACE: Final = "default"
LEASE_NAME: Final = "rollouts-controller"
# Shorter than the defaults (8 s / 6 s / 2 s) so that a loop held by reconciliation misses a renewal, and long
# enough that the machine's own hiccups (a loaded CI host) do not.
LEASE_ARGS: Final = ("--leader-election-lease-duration", "7s", "--leader-election-renew-deadline", "5s",
                     "--leader-election-retry-period", "1s")
# Generous: only a controller that never gets there fails on it.
START_TIMEOUT: Final = 60 + ROLLOUT_COUNT * 0.3
ROLLOUTS_CLI: Final = [sys.executable, "-c", "from cli.main import main; main()"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def fleet_member(index: int) -> list[tuple[str, str, str, JsonObject]]:
    """A canary Rollout through Istio with its two Services and VirtualService: (group, version, plural, body)."""
    name = f"r-{index:04d}"
    labels = {"app": name}
    services = [
        ("", "v1", "services", {
            "apiVersion": "v1", "kind": "Service", "metadata": {"name": f"{name}-{role}", "namespace": NAMESPACE},
            "spec": {"selector": labels, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]},
        })
        for role in ("canary", "stable")
    ]
    virtual_service = ("networking.istio.io", "v1beta1", "virtualservices", {
        "apiVersion": "networking.istio.io/v1beta1", "kind": "VirtualService",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {"hosts": [name], "http": [{"name": "primary", "route": [
            {"destination": {"host": f"{name}-stable"}, "weight": 100},
            {"destination": {"host": f"{name}-canary"}, "weight": 0},
        ]}]},
    })
    rollout = ("argoproj.io", "v1alpha1", "rollouts", {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {
            "replicas": 1,
            "revisionHistoryLimit": 1,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "app", "image": "app:v1"}]}},
            "strategy": {"canary": {
                "canaryService": f"{name}-canary",
                "stableService": f"{name}-stable",
                "trafficRouting": {"istio": {"virtualServices": [{"name": name, "routes": ["primary"]}]}},
                "steps": [{"setWeight": 50}, {"pause": {"duration": "2s"}}],
            }},
        },
    })
    return [*services, virtual_service, rollout]


class Controller:
    """`rollouts controller` as a child process, its log in a file (a full pipe would block its logging)."""

    def __init__(self, kubeconfig: Path, log: Path) -> None:
        self.port = free_port()
        self.log = log
        command = [*ROLLOUTS_CLI, "controller", "--kubeconfig", str(kubeconfig), "--metrics-port", str(self.port),
                   "--webhook-port", str(free_port()), *LEASE_ARGS]
        with log.open("w") as output:
            self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=output,
                                            stderr=subprocess.STDOUT)
        self.identity = f"{socket.gethostname()}_{self.process.pid}"

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            tail = "\n".join(self.log.read_text(errors="replace").splitlines()[-15:])
            pytest.fail(f"the controller exited with {self.process.returncode}:\n{tail}")

    def rollouts_passed(self) -> int:
        """How many Rollouts the controller has passed at least once (one `rollout_reconcile_count` series each)."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=30) as response:
            text = response.read().decode()
        return sum(1 for line in text.splitlines() if line.startswith("rollout_reconcile_count{"))

    def healthz(self) -> int:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=30) as response:
                return int(response.status)
        except urllib.error.HTTPError as error:
            return int(error.code)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def sandbox() -> Iterator[SandboxThread]:
    cluster = SandboxThread(crd_dirs=[CRD_DIR], ready_delay=0.05, namespaces=("default", NAMESPACE),
                            startup_timeout=60.0)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop(timeout=30)


def wait_for(check: Callable[[], bool], controller: Controller, timeout: float, what: str) -> None:
    """Poll ``check`` until it holds, failing at once should the controller exit meanwhile."""
    deadline = time.monotonic() + timeout
    while not check():
        controller.check_alive()
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(0.5)
    controller.check_alive()


def test_the_leader_keeps_its_lease_through_the_start_up_on_thousands_of_rollouts(
    sandbox: SandboxThread, tmp_path: Path
) -> None:
    emulator = sandbox.emulator
    for index in range(ROLLOUT_COUNT):
        for group, version, plural, body in fleet_member(index):
            emulator.create_object(group, version, plural, body, NAMESPACE)
    kubeconfig = tmp_path / "kubeconfig.yaml"
    sandbox.write_kubeconfig(kubeconfig)
    controller = Controller(kubeconfig, tmp_path / "controller.log")
    try:
        def lease_spec() -> JsonObject:
            lease = emulator.get_object("coordination.k8s.io", "v1", "leases", LEASE_NAMESPACE, LEASE_NAME)
            return dict((lease or {}).get("spec") or {})

        wait_for(lambda: lease_spec().get("holderIdentity") == controller.identity, controller, 60,
                 "the controller to take the Lease")
        won = lease_spec()

        wait_for(lambda: controller.rollouts_passed() == ROLLOUT_COUNT, controller, START_TIMEOUT,
                 f"a pass over each of the {ROLLOUT_COUNT} Rollouts")

        now = lease_spec()
        assert now["holderIdentity"] == controller.identity
        assert now["leaseTransitions"] == won["leaseTransitions"]
        assert now["acquireTime"] == won["acquireTime"]  # held throughout, never re-acquired
        assert now["renewTime"] > won["renewTime"]  # MicroTime strings of one format order as times do
        assert controller.healthz() == 200
        controller.check_alive()
    finally:
        controller.stop()
