"""`rollouts terminate experiment` and `rollouts get experiment` against a sandbox cluster (no controller runs:
the statuses are written through /status, playing the Experiment controller)."""

from __future__ import annotations

from itertools import count
from pathlib import Path
from typing import Any

import pytest

from kube.client import KubeClient
from sandbox.cluster import SandboxThread
from tests.cli_cluster import Cluster, assert_one_line_error, later, namespace_cluster

EXPERIMENTS = ("argoproj.io", "v1alpha1", "experiments")
ANALYSIS_RUNS = ("argoproj.io", "v1alpha1", "analysisruns")
REPLICASETS = ("apps", "v1", "replicasets")
LABELS = {"app": "demo"}

_namespaces = count(1)


@pytest.fixture
def cluster(sandbox: SandboxThread, tmp_path: Path) -> Cluster:
    return namespace_cluster(sandbox, tmp_path, f"experiment-{next(_namespaces)}")


@pytest.fixture
def sent_patches(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str | None, Any]]:
    sent: list[tuple[str, str | None, Any]] = []
    original = KubeClient.patch

    def recording(self: KubeClient, kind: Any, namespace: str | None, name: str, patch: Any, *,
                  patch_type: str = "merge", subresource: str | None = None) -> Any:
        sent.append((kind.plural, subresource, patch))
        return original(self, kind, namespace, name, patch, patch_type=patch_type, subresource=subresource)

    monkeypatch.setattr(KubeClient, "patch", recording)
    return sent


def create_experiment(cluster: Cluster, name: str, status: dict[str, Any] | None = None) -> dict[str, Any]:
    template = {"metadata": {"labels": LABELS}, "spec": {"containers": [{"name": "app", "image": "demo:v2"}]}}
    spec = {
        "templates": [{"name": "canary", "selector": {"matchLabels": LABELS}, "template": template}],
        "analyses": [{"name": "smoke", "templateName": "smoke"}],
    }
    created: dict[str, Any] = cluster.emulator.create_object(
        *EXPERIMENTS, {"metadata": {"name": name}, "spec": spec}, namespace=cluster.namespace
    )
    if status is not None:
        created = cluster.emulator.patch_object(
            *EXPERIMENTS, cluster.namespace, name, {"status": status}, subresource="status"
        )
    return created


def test_terminate_experiment_sends_argos_patch(cluster: Cluster, sent_patches: list[Any]) -> None:
    create_experiment(cluster, "exp-a", {"phase": "Running"})
    result = cluster.run("terminate", "experiment", "exp-a")
    assert result.exit_code == 0, result.output
    assert result.stdout == "experiment 'exp-a' terminated\n"
    assert sent_patches == [("experiments", None, {"spec": {"terminate": True}})]


def test_terminate_says_when_the_experiment_had_already_completed(cluster: Cluster) -> None:
    create_experiment(cluster, "exp-done", {"phase": "Failed"})
    result = cluster.run("terminate", "exp", "exp-done")
    assert result.stdout == "experiment 'exp-done' terminated (it had already completed: Failed)\n"


def test_terminate_a_missing_experiment_is_one_line(cluster: Cluster) -> None:
    result = cluster.run("terminate", "experiment", "nope")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ") and "nope" in result.stderr
    assert result.stderr.count("\n") == 1


def owned_by(experiment: dict[str, Any]) -> list[dict[str, Any]]:
    metadata = experiment["metadata"]
    return [{"apiVersion": "argoproj.io/v1alpha1", "kind": "Experiment", "name": metadata["name"],
             "uid": metadata["uid"], "controller": True}]


def test_get_experiment_shows_its_status_replica_sets_and_runs(cluster: Cluster) -> None:
    experiment = create_experiment(cluster, "exp-b", {
        "phase": "Failed",
        "message": 'Metric "smoke" assessed Failed due to failed (1) > failureLimit (0)',
        "analysisRuns": [{"name": "smoke", "analysisRun": "exp-b-smoke", "phase": "Failed"}],
    })
    rs_template = {"metadata": {"labels": LABELS}, "spec": {"containers": [{"name": "app", "image": "demo:v2"}]}}
    cluster.emulator.create_object(
        *REPLICASETS,
        {"metadata": {"name": "exp-b-canary", "ownerReferences": owned_by(experiment)},
         "spec": {"replicas": 1, "selector": {"matchLabels": LABELS}, "template": rs_template}},
        namespace=cluster.namespace,
    )
    run = cluster.emulator.create_object(
        *ANALYSIS_RUNS,
        {"metadata": {"name": "exp-b-smoke", "ownerReferences": owned_by(experiment)}, "spec": {"metrics": []}},
        namespace=cluster.namespace,
    )
    assert run["metadata"]["name"] == "exp-b-smoke"
    cluster.emulator.patch_object(*ANALYSIS_RUNS, cluster.namespace, "exp-b-smoke", {"status": {"phase": "Failed"}},
                                  subresource="status")

    result = cluster.run("get", "experiment", "exp-b")

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["Name:", "exp-b"]
    assert lines[2].split() == ["Status:", "✖", "Failed"]
    assert 'Metric "smoke" assessed Failed' in lines[3]
    assert lines[4].split() == ["Images:", "demo:v2"]
    rows = [line.split() for line in lines[6:]]
    assert rows[0] == ["NAME", "KIND", "STATUS", "AGE", "INFO"]
    assert rows[1][:4] == ["Σ", "exp-b", "Experiment", "✖"]
    assert rows[2][:3] == ["├──⧉", "exp-b-canary", "ReplicaSet"]
    assert rows[3][:5] == ["└──α", "exp-b-smoke", "AnalysisRun", "✖", "Failed"]


def test_get_experiment_watch_redraws_until_the_experiment_completes(cluster: Cluster) -> None:
    create_experiment(cluster, "exp-w", {"phase": "Running"})

    def finish() -> None:
        cluster.emulator.patch_object(*EXPERIMENTS, cluster.namespace, "exp-w", {"status": {"phase": "Successful"}},
                                      subresource="status")

    later(0.5, finish)
    result = cluster.run("get", "experiment", "exp-w", "--watch", "--timeout-seconds", "20")

    assert result.exit_code == 0, result.output
    frames = result.stdout.split("\n\nName:")
    assert "◌ Running" in frames[0]
    assert "✔ Successful" in frames[-1]


def test_get_a_missing_experiment_is_one_line(cluster: Cluster) -> None:
    result = cluster.run("get", "experiment", "nope")
    assert_one_line_error(result, result.stderr.removeprefix("error: ").rstrip("\n"))
    assert "nope" in result.stderr
