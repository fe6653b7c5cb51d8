"""What the CLI's integration tests run against: the sandbox (no workload simulators, its clock a week back) as a
module's fixture, one namespace of it with a kubeconfig and object builders (``Cluster``), the patches the CLI sends,
and how a test plays the controller meanwhile."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from cli.main import _register_commands, app
from kube.client import KubeClient
from sandbox.cluster import SandboxThread

REPO = Path(__file__).resolve().parents[1]
WEEK_AGO = (datetime.now(UTC) - timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")
ROLLOUTS = ("argoproj.io", "v1alpha1", "rollouts")
REPLICASETS = ("apps", "v1", "replicasets")
PODS = ("", "v1", "pods")

_register_commands()


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxThread]:
    with SandboxThread(crd_dirs=[REPO / "crds"], simulate_workloads=False) as thread:
        thread.emulator.api.clock = lambda: WEEK_AGO
        yield thread


class Cluster:
    """One namespace of the sandbox, with a kubeconfig whose context points at it, and object builders."""

    def __init__(self, sandbox: SandboxThread, namespace: str, kubeconfig: Path) -> None:
        self.sandbox = sandbox
        self.emulator = sandbox.emulator
        self.namespace = namespace
        self.kubeconfig = kubeconfig

    def run(self, *args: str) -> Result:
        return CliRunner().invoke(app, [*args, "--kubeconfig", str(self.kubeconfig)])

    def rollout(self, name: str) -> dict[str, Any]:
        found = self.emulator.get_object(*ROLLOUTS, self.namespace, name)
        assert found is not None
        return found

    def set_status(self, name: str, status: dict[str, Any]) -> None:
        self.emulator.patch_object(*ROLLOUTS, self.namespace, name, {"status": status}, subresource="status")

    def patch(self, name: str, patch: dict[str, Any]) -> None:
        self.emulator.patch_object(*ROLLOUTS, self.namespace, name, patch)

    def create_rollout(self, name: str, *, steps: list[dict[str, Any]] | None = None, paused: bool = False,
                       status: dict[str, Any] | None = None, image: str = "shop:v2") -> dict[str, Any]:
        spec: dict[str, Any] = {
            "replicas": 3,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}},
                         "spec": {"containers": [{"name": "app", "image": image},
                                                 {"name": "proxy", "image": "envoy:1"}]}},
            "strategy": {"canary": {"steps": [{"setWeight": 20}, {"pause": {}}, {"setWeight": 60}]
                                    if steps is None else steps}},
        }
        if paused:
            spec["paused"] = True
        created = self.emulator.create_object(*ROLLOUTS, {"metadata": {"name": name}, "spec": spec},
                                              namespace=self.namespace)
        self.set_status(name, {"observedGeneration": "1", **(status or {})})
        return created

    def create_replicaset(self, rollout: dict[str, Any], pod_hash: str, revision: int, image: str,
                          replicas: int, *, pods: list[tuple[str, str]] = ()) -> dict[str, Any]:  # type: ignore[assignment]
        name = rollout["metadata"]["name"]
        labels = {"app": name, "rollouts-pod-template-hash": pod_hash}
        template = {"metadata": {"labels": labels},
                    "spec": {"containers": [{"name": "app", "image": image}, {"name": "proxy", "image": "envoy:1"}]}}
        replicaset = self.emulator.create_object(*REPLICASETS, {
            "metadata": {
                "name": f"{name}-{pod_hash}", "labels": labels,
                "annotations": {"rollout.argoproj.io/revision": str(revision)},
                "ownerReferences": [{"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "name": name,
                                     "uid": rollout["metadata"]["uid"], "controller": True}],
            },
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels}, "template": template},
        }, namespace=self.namespace)
        ready = sum(1 for _, state in pods if state == "running")
        self.emulator.patch_object(*REPLICASETS, self.namespace, replicaset["metadata"]["name"], {"status": {
            "replicas": replicas, "readyReplicas": ready, "availableReplicas": ready, "observedGeneration": 1,
        }}, subresource="status")
        for suffix, state in pods:
            self.create_pod(replicaset, suffix, state)
        return replicaset

    def create_pod(self, replicaset: dict[str, Any], suffix: str, state: str) -> None:
        name = f"{replicaset['metadata']['name']}-{suffix}"
        self.emulator.create_object(*PODS, {
            "metadata": {"name": name, "labels": replicaset["spec"]["template"]["metadata"]["labels"],
                         "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "controller": True,
                                              "name": replicaset["metadata"]["name"],
                                              "uid": replicaset["metadata"]["uid"]}]},
            "spec": {"containers": [{"name": "app", "image": "x"}, {"name": "proxy", "image": "envoy:1"}]},
        }, namespace=self.namespace)
        self.set_pod_state(name, state)

    def set_pod_state(self, name: str, state: str) -> None:
        container_state: dict[str, Any] = (
            {"running": {"startedAt": WEEK_AGO}} if state == "running"
            else {"waiting": {"reason": "ContainerCreating"}}
        )
        statuses = [{"name": c, "ready": state == "running", "restartCount": 0, "image": "x", "imageID": "",
                     "state": container_state} for c in ("app", "proxy")]
        phase = "Running" if state == "running" else "Pending"
        self.emulator.patch_object(*PODS, self.namespace, name,
                                   {"status": {"phase": phase, "containerStatuses": statuses}},
                                   subresource="status")

    def canary_family(self, name: str, status: dict[str, Any], **options: Any) -> dict[str, Any]:
        """A canary mid-update: stable revision 1 (2 pods), canary revision 2 (1 pod), revision 0 scaled down."""
        rollout = self.create_rollout(name, status={
            "stableRS": "5c6f7b8d9", "currentPodHash": "7d9b8c6f5", "replicas": 3, "updatedReplicas": 1,
            "readyReplicas": 3, "availableReplicas": 3, **status,
        }, **options)
        self.create_replicaset(rollout, "6b5d4c3f2", 1, "shop:v0", 0)
        self.create_replicaset(rollout, "5c6f7b8d9", 2, "shop:v1", 2, pods=[("a1b2c", "running"), ("d3e4f", "running")])
        self.create_replicaset(rollout, "7d9b8c6f5", 3, "shop:v2", 1, pods=[("g5h6i", "running")])
        return rollout


def namespace_cluster(sandbox: SandboxThread, tmp_path: Path, namespace: str) -> Cluster:
    """A new namespace of the sandbox, with a kubeconfig whose context points at it."""
    sandbox.emulator.create_object("", "v1", "namespaces", {"metadata": {"name": namespace}})
    kubeconfig = sandbox.write_kubeconfig(tmp_path / "kubeconfig", namespace=namespace)
    return Cluster(sandbox, namespace, kubeconfig)


@pytest.fixture
def sent_patches(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str | None, str, Any]]:
    """Every patch the CLI sends: (resource, subresource, patch type, body)."""
    sent: list[tuple[str, str | None, str, Any]] = []
    original = KubeClient.patch

    def recording(self: KubeClient, kind: Any, namespace: str | None, name: str, patch: Any, *,
                  patch_type: str = "merge", subresource: str | None = None) -> Any:
        sent.append((kind.plural, subresource, patch_type, patch))
        return original(self, kind, namespace, name, patch, patch_type=patch_type, subresource=subresource)

    monkeypatch.setattr(KubeClient, "patch", recording)
    return sent


def later(delay: float, *actions: Callable[[], None], gap: float = 0.3) -> threading.Thread:
    """Play the controller: run ``actions`` from another thread, the first after ``delay``, then every ``gap``."""
    def play() -> None:
        time.sleep(delay)
        for index, action in enumerate(actions):
            if index:
                time.sleep(gap)
            action()

    thread = threading.Thread(target=play, daemon=True)
    thread.start()
    return thread



def assert_one_line_error(result: Result, expected: str) -> None:
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    assert result.stderr == f"error: {expected}\n"
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)
