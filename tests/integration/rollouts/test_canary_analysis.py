"""Canary analysis under the real controllers in the sandbox: a Job-metric AnalysisTemplate (the test plays the
Job's outcome), an `analysis` step between two weights. The step's run is created by the Rollout controller,
measured by the analysis controller, and its verdict promotes the canary or aborts it. No Prometheus needed: the
end-to-end tests (tests/e2e/test_canary_analysis_e2e.py) do the same with the real one and the mesh simulator.
"""

from __future__ import annotations

from typing import Any

from kube.resources import ANALYSIS_RUNS, ANALYSIS_TEMPLATES, JOBS, VIRTUAL_SERVICES
from tests.rollout_harness import RolloutCluster, reviews_objects, route_weights

JsonObject = dict[str, Any]

REVIEWS = "reviews"
STEPS = [{"setWeight": 20}, {"analysis": {"templates": [{"templateName": "smoke"}]}}, {"setWeight": 60}]


def smoke_template() -> JsonObject:
    container = {"name": "smoke", "image": "busybox", "command": ["sh", "-c", "exit 0"]}
    job = {"backoffLimit": 0, "template": {"spec": {"restartPolicy": "Never", "containers": [container]}}}
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AnalysisTemplate",
        "metadata": {"name": "smoke"},
        "spec": {"metrics": [{"name": "smoke", "provider": {"job": {"spec": job}}}]},
    }


def at_analysis_step(cluster: RolloutCluster, namespace: str) -> tuple[str, str, str]:
    """Deploy v1, update to v2, wait for the step's run and its Job: (stable hash, new hash, Job name)."""
    cluster.create(ANALYSIS_TEMPLATES, namespace, smoke_template())
    cluster.apply_all(namespace, reviews_objects(steps=STEPS))
    stable = str(cluster.wait_for_phase(namespace, REVIEWS, "Healthy")["stableRS"])
    cluster.set_image(namespace, REVIEWS, "reviews:v2")
    new = str(
        cluster.wait_for(
            lambda: (h := cluster.status(namespace, REVIEWS).get("currentPodHash")) not in (None, stable) and h,
            "the new revision",
        )
    )
    run_name = f"{REVIEWS}-{new}-2-1"
    run = cluster.wait_for(lambda: cluster.get(ANALYSIS_RUNS, namespace, run_name), "the step's AnalysisRun")
    assert run["metadata"]["labels"]["rollout-type"] == "Step"
    assert run["metadata"]["ownerReferences"][0]["name"] == REVIEWS

    def job() -> JsonObject | None:
        owned = (j for j in cluster.list(JOBS, namespace) if j["metadata"]["ownerReferences"][0]["name"] == run_name)
        return next(owned, None)

    found = cluster.wait_for(job, "the run's Job")
    status = cluster.wait_for_phase(namespace, REVIEWS, "Progressing", message="waiting for step-based analysis")
    assert status["currentStepIndex"] == 1
    return stable, new, str(found["metadata"]["name"])


def finish_job(cluster: RolloutCluster, namespace: str, job_name: str, outcome: str) -> None:
    condition = {"status": {"conditions": [{"type": outcome, "status": "True"}]}}
    cluster.patch(JOBS, namespace, job_name, condition, subresource="status")


def test_a_passing_analysis_step_lets_the_canary_go_on_to_promotion(cluster: RolloutCluster, namespace: str) -> None:
    _, new, job_name = at_analysis_step(cluster, namespace)
    assert route_weights(cluster.must_get(VIRTUAL_SERVICES, namespace, REVIEWS))["reviews-canary"] == 20

    finish_job(cluster, namespace, job_name, "Complete")

    status = cluster.wait_for_phase(namespace, REVIEWS, "Healthy")
    assert status["stableRS"] == new
    completed = [e.get("message") for e in cluster.events(namespace) if e.get("reason") == "RolloutStepCompleted"]
    assert "Rollout step 2/3 completed (analysis)" in completed


def test_a_failing_analysis_step_aborts_the_canary(cluster: RolloutCluster, namespace: str) -> None:
    stable, new, job_name = at_analysis_step(cluster, namespace)

    finish_job(cluster, namespace, job_name, "Failed")

    status = cluster.wait_for_phase(namespace, REVIEWS, "Degraded")
    run_name = f"{REVIEWS}-{new}-2-1"
    assert status["message"].startswith(
        f"RolloutAborted: Rollout aborted update to revision 2: Step-based analysis phase Failed: "
        f"AnalysisRun {run_name}: Metric \"smoke\" assessed Failed"
    )
    assert status["stableRS"] == stable
    assert status["canary"]["currentStepAnalysisRunStatus"]["status"] == "Failed"
    cluster.wait_for(
        lambda: route_weights(cluster.must_get(VIRTUAL_SERVICES, namespace, REVIEWS))["reviews-canary"] == 0,
        "the canary weight back at 0",
    )

    cluster.retry(namespace, REVIEWS)  # `rollouts retry`: a new attempt gets a new run, never the failed one
    retried = f"{run_name}.1"
    cluster.wait_for(lambda: cluster.get(ANALYSIS_RUNS, namespace, retried), "the retry's AnalysisRun")
    assert cluster.must_get(ANALYSIS_RUNS, namespace, run_name)["status"]["phase"] == "Failed"
