"""`rollouts sandbox` as a user runs it: a process, a kubeconfig, kubectl and the kubernetes client."""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client, config

# Exactly what the `rollouts` console script runs, without depending on where the venv put it.
ROLLOUTS = [sys.executable, "-c", "from cli.main import main; main()"]
KUBECTL = shutil.which("kubectl")
needs_kubectl = pytest.mark.kubectl  # fails, naming the install command, when kubectl is missing

VIRTUAL_SERVICE = """\
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: web
spec:
  hosts: [web]
  http:
  - route:
    - destination: {host: web, subset: stable}
      weight: 90
    - destination: {host: web, subset: canary}
      weight: 10
"""


def start_sandbox(kubeconfig: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*ROLLOUTS, "sandbox", "--kubeconfig", str(kubeconfig), "--ready-delay", "0.05", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


# Generous: the command imports the CLI and starts the sandbox, which a loaded 2-core machine (or a second test worker)
# can stretch well past 15 s; the deadline only fails a sandbox that never writes its kubeconfig.
def wait_for_kubeconfig(process: subprocess.Popen[str], kubeconfig: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not kubeconfig.exists():
        if process.poll() is not None:
            raise AssertionError(f"rollouts sandbox exited with {process.returncode}: {process.stderr.read()}")  # type: ignore[union-attr]
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError("rollouts sandbox wrote no kubeconfig in time")
        time.sleep(0.05)


def interrupt(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    process.send_signal(signal.SIGINT)
    try:
        stdout, stderr = process.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        raise
    return process.returncode, stdout, stderr


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    kubeconfig = tmp_path_factory.mktemp("sandbox") / "kubeconfig.yaml"
    process = start_sandbox(kubeconfig)
    wait_for_kubeconfig(process, kubeconfig)
    yield kubeconfig
    interrupt(process)


def kubectl(kubeconfig: Path, *args: str, stdin: str | None = None) -> str:
    assert KUBECTL is not None
    result = subprocess.run(
        [KUBECTL, "--kubeconfig", str(kubeconfig), *args], input=stdin, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_kubernetes_client_lists_namespaces(running: Path) -> None:
    api = config.new_client_from_config(config_file=str(running))
    names = {ns.metadata.name for ns in client.CoreV1Api(api).list_namespace().items}
    assert "default" in names


@pytest.mark.kubectl
@needs_kubectl
def test_kubectl_gets_namespaces(running: Path) -> None:
    assert "namespace/default" in kubectl(running, "get", "ns", "-o", "name").split()


@pytest.mark.kubectl
@needs_kubectl
def test_kubectl_applies_a_virtual_service(running: Path) -> None:
    assert "created" in kubectl(running, "apply", "--validate=false", "-f", "-", stdin=VIRTUAL_SERVICE)
    got = json.loads(kubectl(running, "get", "virtualservices.v1.networking.istio.io", "web", "-o", "json"))
    assert [r["weight"] for r in got["spec"]["http"][0]["route"]] == [90, 10]
    # Applying a change goes through a patch, which the sandbox must accept too.
    changed = VIRTUAL_SERVICE.replace("weight: 90", "weight: 50").replace("weight: 10", "weight: 50")
    assert "configured" in kubectl(running, "apply", "--validate=false", "-f", "-", stdin=changed)
    got = json.loads(kubectl(running, "get", "vs", "web", "-o", "json"))
    assert [r["weight"] for r in got["spec"]["http"][0]["route"]] == [50, 50]


@pytest.mark.kubectl
@needs_kubectl
def test_kubectl_created_deployment_gets_ready_pods(running: Path) -> None:
    # `kubectl create deployment` sends protobuf (kubectl's typed client), which the emulator decodes.
    kubectl(running, "create", "deployment", "hello", "--image=hello:1", "--replicas=2")
    deadline = time.monotonic() + 10
    while True:
        ready = kubectl(running, "get", "deployment", "hello", "-o", "jsonpath={.status.readyReplicas}")
        if ready == "2":
            break
        assert time.monotonic() < deadline, f"readyReplicas is {ready!r}"
        time.sleep(0.1)
    phases = kubectl(running, "get", "pods", "-l", "app=hello", "-o", "jsonpath={.items[*].status.phase}")
    assert phases.split() == ["Running", "Running"]


def test_interrupt_stops_cleanly_with_status_zero(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig.yaml"
    process = start_sandbox(kubeconfig, "--crds", str(tmp_path))
    wait_for_kubeconfig(process, kubeconfig)
    code, stdout, stderr = interrupt(process)
    assert code == 0, stderr
    assert f"export KUBECONFIG={kubeconfig}" in stdout
    assert "Traceback" not in stderr
    assert not kubeconfig.exists()  # it named a port that is closed now


def test_a_port_in_use_is_one_line_and_status_one(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [*ROLLOUTS, "sandbox", "--kubeconfig", str(tmp_path / "k.yaml"), "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"rollouts sandbox: cannot listen on 127.0.0.1:{port}: the port is in use (choose another with --port, or 0)"
    ]
    assert not (tmp_path / "k.yaml").exists()


def test_an_unwritable_kubeconfig_is_one_line_and_status_one(tmp_path: Path) -> None:
    target = tmp_path / "missing-dir" / "k.yaml"
    result = subprocess.run(
        [*ROLLOUTS, "sandbox", "--kubeconfig", str(target)], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("rollouts sandbox: cannot write the kubeconfig")


FAILING_JOB = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
spec:
  backoffLimit: 1
  template:
    metadata:
      annotations: {sandbox.rollouts/exit-code: "1"}
    spec:
      restartPolicy: Never
      containers:
      - {name: migrate, image: "migrate:1"}
"""


@needs_kubectl
def test_nodes_option_registers_nodes_and_kubectl_waits_for_a_failing_job(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    process = start_sandbox(kubeconfig, "--nodes", "3")
    try:
        wait_for_kubeconfig(process, kubeconfig)
        names = kubectl(kubeconfig, "get", "nodes", "-o", "name").split()
        assert names == ["node/sandbox-node", "node/sandbox-node-2", "node/sandbox-node-3"]
        kubectl(kubeconfig, "apply", "--validate=false", "-f", "-", stdin=FAILING_JOB)
        kubectl(kubeconfig, "wait", "--for=condition=Failed", "job/migrate", "--timeout=60s")
        reason = kubectl(
            kubeconfig, "get", "job", "migrate", "-o", 'jsonpath={.status.conditions[?(@.type=="Failed")].reason}'
        )
        assert reason == "BackoffLimitExceeded"
    finally:
        interrupt(process)
