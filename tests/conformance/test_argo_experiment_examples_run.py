"""Argo Rollouts' experiment examples in the sandbox under the real controllers.

``examples/rollout-experiment-step.yaml`` runs to completion: at its experiment step the Rollout creates the
Experiment ``<rollout>-<podHash>-<revision>-<stepIndex>``, whose ReplicaSet is ``<experiment>-<template>`` and whose
analysis is the AnalysisRun ``<experiment>-<analysis>`` (from ``random-fail`` in ``examples/analysis-templates.yaml``;
the test plays its Jobs' outcome, success). The step has no ``duration`` and its analysis is not
``requiredForCompletion``, so — as Argo documents — the Experiment runs until it is terminated: the test terminates
it as ``rollouts terminate experiment`` does, and the terminated Experiment ends Successful, which completes the
step and lets the Rollout promote.

``examples/traffic-routing-experiment-step/istio-host-split-experiment-step.yaml`` gives its experiment template a
traffic ``weight`` (20 after a ``setWeight: 10``): while the Experiment runs, its template's Service is a third
destination of the VirtualService route with 20 %, the stable keeps 70 %; the step ends when the Experiment is
terminated (no duration, no analysis), the destination goes, and the Rollout promotes.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kube.manifests import load_file
from kube.resources import (
    ANALYSIS_RUNS,
    ANALYSIS_TEMPLATES,
    EXPERIMENTS,
    JOBS,
    REPLICASETS,
    SERVICES,
    VIRTUAL_SERVICES,
)
from tests.conformance.corpus import corpus_dir, corpus_missing_reason
from tests.rollout_harness import RolloutCluster, load_decide, route_weights

_MISSING = corpus_missing_reason()
if _MISSING is not None:
    pytest.skip(_MISSING, allow_module_level=True)

EXAMPLES = corpus_dir() / "argo-rollouts"
TIMEOUT = 60.0


def documents_of(file_name: str) -> list[dict[str, Any]]:
    path = EXAMPLES / file_name
    if not path.is_file():
        pytest.skip(f"{path} is not in the corpus")
    return [copy.deepcopy(d.manifest) for d in load_file(path) if d.manifest is not None]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RolloutCluster]:
    running = RolloutCluster(Path(tmp_path_factory.mktemp("argo-experiments")), ready_delay=0.1)
    running.start(load_decide())
    try:
        yield running
    finally:
        running.stop()


def complete_jobs_of(cluster: RolloutCluster, namespace: str, run_name: str) -> None:
    """Play the outcome of the run's Jobs: each finishes successfully (random-fail's coin came up 0)."""
    for job in cluster.list(JOBS, namespace):
        owners = job["metadata"].get("ownerReferences") or []
        conditions = (job.get("status") or {}).get("conditions") or []
        finished = any(c.get("type") in ("Complete", "Failed") for c in conditions)
        if owners and owners[0]["name"] == run_name and not finished:
            complete = {"status": {"conditions": [{"type": "Complete", "status": "True"}]}}
            cluster.patch(JOBS, namespace, job["metadata"]["name"], complete, subresource="status")


def test_rollout_experiment_step_runs_to_completion(cluster: RolloutCluster) -> None:
    namespace = cluster.new_namespace("experiment")
    templates = [d for d in documents_of("examples__analysis-templates.yaml") if d["metadata"]["name"] == "random-fail"]
    documents = documents_of("examples__rollout-experiment-step.yaml")
    for template in templates:
        cluster.create(ANALYSIS_TEMPLATES, namespace, template)
    cluster.apply_all(namespace, documents)
    name = "rollout-experiment-step"
    old = str(cluster.wait_for_phase(namespace, name, "Healthy", timeout=TIMEOUT)["stableRS"])
    cluster.set_image(namespace, name, "argoproj/rollouts-demo:yellow")

    new = str(cluster.wait_for(
        lambda: (h := cluster.status(namespace, name).get("currentPodHash")) not in (None, old) and h,
        "the new revision",
    ))
    experiment_name = f"{name}-{new}-2-1"  # the second revision, at step index 1
    experiment = cluster.wait_for(
        lambda: cluster.get(EXPERIMENTS, namespace, experiment_name), "the step's Experiment", TIMEOUT
    )
    assert experiment["metadata"]["ownerReferences"][0]["name"] == name
    cluster.wait_for(
        lambda: cluster.status(namespace, name).get("canary", {}).get("currentExperiment") == experiment_name,
        "status.canary.currentExperiment",
    )
    replica_set = cluster.wait_for(
        lambda: cluster.get(REPLICASETS, namespace, f"{experiment_name}-canary"), "the template's ReplicaSet", TIMEOUT
    )
    assert replica_set["spec"]["template"]["spec"]["containers"][0]["image"] == "argoproj/rollouts-demo:yellow"

    run_name = f"{experiment_name}-random-fail"

    def analysis_done() -> bool:
        complete_jobs_of(cluster, namespace, run_name)
        run = cluster.get(ANALYSIS_RUNS, namespace, run_name)
        return ((run or {}).get("status") or {}).get("phase") == "Successful"

    cluster.wait_for(analysis_done, "the experiment's analysis to succeed", TIMEOUT, interval=0.1)
    # Without a duration or a required analysis the Experiment keeps running (Argo's rule), holding the step.
    assert cluster.status(namespace, name)["currentStepIndex"] == 1
    cluster.look_again(namespace, name)
    assert cluster.must_get(EXPERIMENTS, namespace, experiment_name)["status"]["phase"] == "Running"

    cluster.patch(EXPERIMENTS, namespace, experiment_name, {"spec": {"terminate": True}})

    status = cluster.wait_for(
        lambda: (s := cluster.status(namespace, name)).get("stableRS") == new and s.get("phase") == "Healthy" and s,
        "the Rollout promoted after its experiment",
        TIMEOUT,
    )
    assert status["currentStepIndex"] == 2
    assert cluster.must_get(EXPERIMENTS, namespace, experiment_name)["status"]["phase"] == "Successful"
    completed = [e.get("message") for e in cluster.events(namespace) if e.get("reason") == "RolloutStepCompleted"]
    assert "Rollout step 2/2 completed (experiment)" in completed


def test_istio_host_split_experiment_step_routes_the_template_weight_then_promotes(cluster: RolloutCluster) -> None:
    """Argo: an experiment template's ``weight`` is an additional VirtualService destination (the template's
    Service) while the Experiment runs, taken from the stable's share (10 canary + 20 experiment + 70 stable),
    recorded in ``status.canary.weights.additional``; when the step ends the destination goes and the Rollout
    promotes."""
    namespace = cluster.new_namespace("experiment-weight")
    documents = documents_of("examples__traffic-routing-experiment-step__istio-host-split-experiment-step.yaml")
    cluster.apply_all(namespace, documents)
    name, stable_svc, canary_svc = "istio-host-split", "istio-host-split-stable", "istio-host-split-canary"
    old = str(cluster.wait_for_phase(namespace, name, "Healthy", timeout=TIMEOUT)["stableRS"])
    cluster.set_image(namespace, name, "argoproj/rollouts-demo:yellow")

    new = str(cluster.wait_for(
        lambda: (h := cluster.status(namespace, name).get("currentPodHash")) not in (None, old) and h,
        "the new revision",
    ))
    experiment_name = f"{name}-{new}-2-1"
    experiment_service = f"{experiment_name}-experiment-istio"  # the template's ReplicaSet's name

    def primary() -> dict[str, int]:
        return route_weights(cluster.must_get(VIRTUAL_SERVICES, namespace, "istio-host-split-vsvc"))

    during = {stable_svc: 70, canary_svc: 10, experiment_service: 20}
    cluster.wait_for(lambda: primary() == during, f"the VirtualService routing {during}", TIMEOUT)
    # The status is written after the routing, in the same pass.
    weights = cluster.wait_for(
        lambda: (w := cluster.status(namespace, name)["canary"].get("weights") or {}).get("additional") and w,
        "status.canary.weights.additional",
    )
    assert (weights["canary"]["weight"], weights["stable"]["weight"]) == (10, 70)
    [additional] = weights["additional"]
    assert (additional["serviceName"], additional["weight"]) == (experiment_service, 20)
    service = cluster.must_get(SERVICES, namespace, experiment_service)
    template_rs = cluster.must_get(REPLICASETS, namespace, experiment_service)
    assert service["spec"]["selector"] == template_rs["spec"]["selector"]["matchLabels"]
    assert additional["podTemplateHash"] == template_rs["metadata"]["labels"]["rollouts-pod-template-hash"]

    cluster.patch(EXPERIMENTS, namespace, experiment_name, {"spec": {"terminate": True}})

    status = cluster.wait_for(
        lambda: (s := cluster.status(namespace, name)).get("stableRS") == new and s.get("phase") == "Healthy" and s,
        "the Rollout promoted after its experiment",
        TIMEOUT,
    )
    assert status["currentStepIndex"] == 2
    assert "additional" not in status["canary"]["weights"]
    # Promotion ends with the canary weight back to 0, now that the stable Service selects the new pods.
    cluster.wait_for(lambda: primary() == {stable_svc: 100, canary_svc: 0}, "all traffic on the stable Service")
