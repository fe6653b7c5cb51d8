"""A blue-green pass whose writes land only in part: found by the reliability suite (bench/reliability.py), where a
bad version was promoted after an injected 500.

The pass that aborts a failed pre-promotion analysis writes the preview ReplicaSet's scale-down deadline
(abortScaleDownDelaySeconds) and then the Rollout's status (abort: true). If only the first write lands, the next
pass sees a new ReplicaSet with a scale-down deadline and no abort — which is also what a rollback within
scaleDownDelaySeconds looks like, and Argo fast-tracks that one to active without analysis. A version whose
analysis failed must never be fast-tracked: the abort has to be decided again.
"""

from __future__ import annotations

import pytest

from kube.resources import ANALYSIS_RUNS, ANALYSIS_TEMPLATES, JOBS, REPLICASETS, SERVICES
from sandbox.emulator.faults import FaultInjector, FaultPolicy
from tests.rollout_harness import HASH_LABEL, RolloutCluster

NAME = "checkout"
DEADLINE = "scale-down-deadline"


def objects() -> list[dict[str, object]]:
    container = {"name": "smoke", "image": "busybox", "command": ["sh", "-c", "exit 0"]}
    job = {"backoffLimit": 0, "template": {"spec": {"restartPolicy": "Never", "containers": [container]}}}
    template = {"apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisTemplate", "metadata": {"name": "smoke"},
                "spec": {"metrics": [{"name": "smoke", "provider": {"job": {"spec": job}}}]}}
    services = [{"apiVersion": "v1", "kind": "Service", "metadata": {"name": f"{NAME}-{role}"},
                 "spec": {"selector": {"app": NAME}, "ports": [{"port": 80}]}} for role in ("active", "preview")]
    rollout = {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {"name": NAME},
        "spec": {
            "replicas": 1, "selector": {"matchLabels": {"app": NAME}},
            "template": {"metadata": {"labels": {"app": NAME}},
                         "spec": {"containers": [{"name": "app", "image": "checkout:v1"}]}},
            "strategy": {"blueGreen": {"activeService": f"{NAME}-active", "previewService": f"{NAME}-preview",
                                       "prePromotionAnalysis": {"templates": [{"templateName": "smoke"}]}}},
        },
    }
    return [template, *services, rollout]  # the template first: the Rollout's spec names it


@pytest.mark.controller_errors  # the injected 500s fail passes on purpose
def test_a_failed_pre_promotion_analysis_is_never_fast_tracked_after_a_lost_status_write(
        cluster: RolloutCluster, namespace: str) -> None:
    template, *others = objects()
    cluster.create(ANALYSIS_TEMPLATES, namespace, template)
    cluster.apply_all(namespace, others)
    stable = str(cluster.wait_for_phase(namespace, NAME, "Healthy")["stableRS"])
    cluster.set_image(namespace, NAME, "checkout:v2")
    status = cluster.wait_for_phase(namespace, NAME, "Progressing", message="waiting for pre-promotion analysis")
    new = str(status["currentPodHash"])
    run_name = f"{NAME}-{new}-2-pre"
    cluster.wait_for(lambda: cluster.get(ANALYSIS_RUNS, namespace, run_name), "the pre-promotion run")
    job = cluster.wait_for(lambda: next(iter(cluster.list(JOBS, namespace)), None), "the smoke test's Job")

    emulator = cluster.sandbox.emulator
    # Every write to the Rollout fails from now on: the abort can only land in part.
    emulator.faults = FaultInjector(FaultPolicy(rate=1.0, kinds=("error",), verbs=frozenset({"patch", "update"}),
                                                resources=frozenset({"rollouts"})))
    try:
        failed = {"status": {"conditions": [{"type": "Failed", "status": "True"}], "failed": 1}}
        cluster.patch(JOBS, namespace, job["metadata"]["name"], failed, subresource="status")
        cluster.wait_for(
            lambda: DEADLINE in (cluster.must_get(REPLICASETS, namespace, f"{NAME}-{new}")["metadata"]
                                 .get("annotations") or {}),
            "the abort's scale-down deadline on the preview ReplicaSet (its status write failing)")
    finally:
        emulator.faults = FaultInjector()
    assert cluster.status(namespace, NAME).get("abort") is not True  # only the first write landed

    status = cluster.wait_for(lambda: (s := cluster.status(namespace, NAME)).get("abort") is True and s,
                              "the abort, decided again and written")
    assert status["stableRS"] == stable
    assert cluster.must_get(SERVICES, namespace, f"{NAME}-active")["spec"]["selector"][HASH_LABEL] == stable
