"""`rollouts controller` as separate processes against one sandbox, each behind an auditing proxy of its own so that
every request is attributed to the process that made it; a web metric's endpoint; and the fixtures that start them
(the high-availability and sharding tests share them through ``tests/integration/rollouts/conftest.py``)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Final

import pytest

from sandbox.cluster import SandboxThread, write_kubeconfig
from tests.rate_endpoint import RateEndpoint
from tests.request_audit import AccessRecord, AuditingProxy
from tests.rollout_harness import CRD_DIR

ROLLOUTS_CLI: Final = [sys.executable, "-c", "from cli.main import main; main()"]
NAMESPACE: Final = "shop"
LEASE_NAMESPACE: Final = "default"
WRITE_VERBS: Final = frozenset({"create", "update", "patch", "delete", "deletecollection"})


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ControllerProcess:
    """`rollouts controller` in a subprocess, logged in through an auditing proxy of its own."""

    def __init__(self, sandbox: SandboxThread, tmp_path: Path, name: str, *extra_args: str) -> None:
        self.name = name
        self.sandbox = sandbox
        self.proxy = AuditingProxy(sandbox.url)
        sandbox.call(self.proxy.start)
        self.kubeconfig = write_kubeconfig(tmp_path / f"kubeconfig-{name}.yaml", self.proxy.url)
        self.port = free_port()
        self.log = tmp_path / f"controller-{name}.log"  # a file, not a pipe: a full pipe would block its logging
        env = {key: value for key, value in os.environ.items() if key not in ("POD_NAME", "POD_NAMESPACE")}
        # Each process its own webhook port: on one host two replicas would otherwise contend for the default
        # one, which separate pods never do.
        command = [*ROLLOUTS_CLI, "controller", "--kubeconfig", str(self.kubeconfig), "--metrics-port",
                   str(self.port), "--webhook-port", str(free_port()), *extra_args]
        with self.log.open("w") as output:
            self.process = subprocess.Popen(command, stderr=output, env=env)
        # The default identity outside a pod: <hostname>_<pid>.
        self.identity = f"{socket.gethostname()}_{self.process.pid}"

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as response:
                return int(response.status), response.read().decode()
        except urllib.error.HTTPError as error:
            return int(error.code), error.read().decode()
        except OSError as error:
            return 0, str(error)

    def leader_gauge(self) -> float | None:
        status, metrics = self.get("/metrics")
        if status != 200:
            return None
        for line in metrics.splitlines():
            if line.startswith(f'controller_leader{{identity="{self.identity}"}}'):
                return float(line.split()[-1])
        return None

    def ready(self) -> bool:
        return self.get("/readyz")[0] == 200

    def writes(self, since: int = 0) -> list[AccessRecord]:
        return [record for record in self.proxy.records[since:] if record.verb in WRITE_VERBS]

    def writes_beyond_the_lease(self, since: int = 0) -> list[str]:
        return [f"{r.verb} {r.path}" for r in self.writes(since) if r.resource != "leases"]

    def mark(self) -> int:
        return len(self.proxy.records)

    def wait(self, timeout: float) -> int:
        return self.process.wait(timeout)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)  # a frozen process cannot act on SIGKILL's cleanup otherwise
            self.process.kill()
            self.process.wait(10)
        self.sandbox.call(self.proxy.stop)

    def output(self) -> str:
        return self.log.read_text()


@pytest.fixture
def sandbox() -> Iterator[SandboxThread]:
    with SandboxThread(crd_dirs=[CRD_DIR], ready_delay=0.1, namespaces=(LEASE_NAMESPACE, NAMESPACE)) as running:
        yield running


@pytest.fixture
def rates() -> Iterator[RateEndpoint]:
    """A web metric's endpoint answering a passing rate."""
    server = RateEndpoint()
    yield server
    server.close()


@pytest.fixture
def start_controller(sandbox: SandboxThread, tmp_path: Path) -> Iterator[Callable[..., ControllerProcess]]:
    started: list[ControllerProcess] = []

    def start(name: str, *extra_args: str) -> ControllerProcess:
        process = ControllerProcess(sandbox, tmp_path, name, *extra_args)
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()
