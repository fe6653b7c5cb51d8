"""The Experiment controller under the real operator in the sandbox: an Experiment's templates become ReplicaSets
named ``<experiment>-<template>``, its analyses AnalysisRuns named ``<experiment>-<analysis>`` once every template
is available, and its phase follows Argo's rules (Pending → Running → Successful / Failed)."""

from __future__ import annotations

from typing import Any

import pytest

from kube.resources import ANALYSIS_RUNS, ANALYSIS_TEMPLATES, EXPERIMENTS, JOBS, REPLICASETS, SERVICES
from rollouts.controller.controller import ControllerOptions
from rollouts.controller.run import build_operator
from tests.rollout_harness import RolloutCluster

JsonObject = dict[str, Any]


def job_template(name: str = "smoke") -> JsonObject:
    container = {"name": "smoke", "image": "busybox", "command": ["sh", "-c", "exit 0"]}
    job = {"backoffLimit": 0, "template": {"spec": {"restartPolicy": "Never", "containers": [container]}}}
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AnalysisTemplate",
        "metadata": {"name": name},
        "spec": {"metrics": [{"name": name, "provider": {"job": {"spec": job}}}]},
    }


def experiment(name: str, *, duration: str | None = None, analyses: list[JsonObject] | None = None) -> JsonObject:
    labels = {"app": "exp-demo", "variant": "baseline"}
    spec: JsonObject = {
        "templates": [
            {
                "name": "baseline",
                "replicas": 2,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {"containers": [{"name": "app", "image": "demo:v1"}]},
                },
            }
        ],
    }
    if duration is not None:
        spec["duration"] = duration
    if analyses:
        spec["analyses"] = analyses
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Experiment", "metadata": {"name": name}, "spec": spec}


def phase_of(cluster: RolloutCluster, namespace: str, name: str) -> str | None:
    found = cluster.get(EXPERIMENTS, namespace, name)
    return ((found or {}).get("status") or {}).get("phase")


def test_an_experiment_with_a_duration_runs_its_template_then_succeeds(cluster: RolloutCluster, namespace: str) -> None:
    cluster.create(EXPERIMENTS, namespace, experiment("timed", duration="1s"))

    rs = cluster.wait_for(lambda: cluster.get(REPLICASETS, namespace, "timed-baseline"), "the template's ReplicaSet")
    assert rs["spec"]["replicas"] == 2
    assert rs["metadata"]["ownerReferences"][0]["kind"] == "Experiment"
    assert "rollouts-pod-template-hash" in rs["spec"]["selector"]["matchLabels"]
    cluster.wait_for(lambda: phase_of(cluster, namespace, "timed") == "Successful", "the experiment to succeed")

    status = cluster.must_get(EXPERIMENTS, namespace, "timed")["status"]
    assert status["availableAt"]
    assert status["templateStatuses"][0]["status"] == "Successful"
    progressing = next(c for c in status["conditions"] if c["type"] == "Progressing")
    assert (progressing["status"], progressing["reason"]) == ("False", "ExperimentCompleted")


def test_a_failed_analysis_fails_the_experiment(cluster: RolloutCluster, namespace: str) -> None:
    cluster.create(ANALYSIS_TEMPLATES, namespace, job_template())
    analyses = [{"name": "smoke", "templateName": "smoke"}]
    cluster.create(EXPERIMENTS, namespace, experiment("judged", analyses=analyses))

    run = cluster.wait_for(lambda: cluster.get(ANALYSIS_RUNS, namespace, "judged-smoke"), "the analysis' run")
    assert run["metadata"]["ownerReferences"][0]["name"] == "judged"
    assert phase_of(cluster, namespace, "judged") in ("Running", "Pending")
    job = cluster.wait_for(
        lambda: next(
            (j for j in cluster.list(JOBS, namespace) if j["metadata"]["ownerReferences"][0]["name"] == "judged-smoke"),
            None,
        ),
        "the run's Job",
    )
    failed = {"status": {"conditions": [{"type": "Failed", "status": "True"}]}}
    cluster.patch(JOBS, namespace, job["metadata"]["name"], failed, subresource="status")

    cluster.wait_for(lambda: phase_of(cluster, namespace, "judged") == "Failed", "the experiment to fail")
    status = cluster.must_get(EXPERIMENTS, namespace, "judged")["status"]
    assert status["analysisRuns"][0]["phase"] == "Failed"


def test_terminating_an_experiment_without_duration_ends_it_successful(cluster: RolloutCluster, namespace: str) -> None:
    cluster.create(EXPERIMENTS, namespace, experiment("open-ended"))
    cluster.wait_for(lambda: phase_of(cluster, namespace, "open-ended") == "Running", "the experiment to run")

    cluster.patch(EXPERIMENTS, namespace, "open-ended", {"spec": {"terminate": True}})

    cluster.wait_for(lambda: phase_of(cluster, namespace, "open-ended") == "Successful", "the experiment to end")
    rs = cluster.must_get(REPLICASETS, namespace, "open-ended-baseline")
    assert rs["metadata"]["annotations"].get("scale-down-deadline")


def test_an_experiment_naming_a_missing_template_errs(cluster: RolloutCluster, namespace: str) -> None:
    analyses = [{"name": "smoke", "templateName": "does-not-exist"}]
    cluster.create(EXPERIMENTS, namespace, experiment("orphan", analyses=analyses))

    cluster.wait_for(lambda: phase_of(cluster, namespace, "orphan") == "Error", "the experiment to err")
    status = cluster.must_get(EXPERIMENTS, namespace, "orphan")["status"]
    assert "AnalysisTemplate 'does-not-exist' not found" in status["message"]


def test_a_template_asking_for_a_service_gets_one(cluster: RolloutCluster, namespace: str) -> None:
    manifest = experiment("served")
    template = manifest["spec"]["templates"][0]
    template["service"] = {}
    template["template"]["spec"]["containers"][0]["ports"] = [{"name": "http", "containerPort": 8080}]
    cluster.create(EXPERIMENTS, namespace, manifest)

    service = cluster.wait_for(lambda: cluster.get(SERVICES, namespace, "served-baseline"), "the template's Service")
    rs = cluster.must_get(REPLICASETS, namespace, "served-baseline")
    assert service["spec"]["selector"] == rs["spec"]["selector"]["matchLabels"]
    assert [(p["port"], p["targetPort"]) for p in service["spec"]["ports"]] == [(8080, 8080)]
    cluster.wait_for(
        lambda: (cluster.get(EXPERIMENTS, namespace, "served") or {}).get("status", {}).get("templateStatuses", [{}])[0]
        .get("serviceName") == "served-baseline",
        "the service recorded in the template status",
    )


@pytest.mark.parametrize(("workers", "runs"), [(0, False), (3, True)])
def test_experiment_workers_zero_runs_no_experiment_controller(
    cluster: RolloutCluster, workers: int, runs: bool
) -> None:
    operator = build_operator(
        str(cluster.kubeconfig), None, ControllerOptions(workers=1, metrics_port=0, experiment_workers=workers)
    )
    try:
        assert (operator.experiments is not None) is runs
        if operator.experiments is not None:
            assert operator.experiments.options.workers == workers
    finally:
        operator.client.close()


def test_an_experiment_argo_would_refuse_errs_naming_the_field_and_creates_nothing(
    cluster: RolloutCluster, namespace: str
) -> None:
    manifest = experiment("refused")
    manifest["spec"]["templates"][0]["selector"] = {"matchLabels": {"app": "elsewhere"}}
    cluster.create(EXPERIMENTS, namespace, manifest)

    cluster.wait_for(lambda: phase_of(cluster, namespace, "refused") == "Error", "the experiment to err")
    status = cluster.must_get(EXPERIMENTS, namespace, "refused")["status"]
    assert status["message"].startswith("InvalidSpec: spec.templates[0].selector: does not match the template's labels")
    assert [c["type"] for c in status["conditions"]] == ["InvalidSpec"]
    assert cluster.get(REPLICASETS, namespace, "refused-baseline") is None
