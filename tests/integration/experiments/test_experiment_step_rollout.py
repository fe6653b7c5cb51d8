"""A canary's experiment step under the real controllers: the Experiment's verdict moves the Rollout on or gives the
update up (Argo: Successful completes the step; Failed or Error aborts), and a retry runs a new Experiment."""

from __future__ import annotations

from typing import Any

from kube.resources import ANALYSIS_TEMPLATES, EXPERIMENTS, JOBS
from tests.integration.experiments.test_experiment_controller import job_template
from tests.rollout_harness import RolloutCluster, reviews_objects

JsonObject = dict[str, Any]
REVIEWS = "reviews"
EXPERIMENT_STEP: JsonObject = {
    "experiment": {
        "templates": [{"name": "canary", "specRef": "canary"}],
        "analyses": [{"name": "smoke", "templateName": "smoke", "requiredForCompletion": True}],
    }
}


def at_experiment_step(cluster: RolloutCluster, namespace: str) -> tuple[str, str]:
    """Deploy v1, update to v2, wait for the step's Experiment: (new hash, experiment name)."""
    cluster.create(ANALYSIS_TEMPLATES, namespace, job_template())
    cluster.apply_all(namespace, reviews_objects(steps=[{"setWeight": 20}, EXPERIMENT_STEP]))
    stable = str(cluster.wait_for_phase(namespace, REVIEWS, "Healthy")["stableRS"])
    cluster.set_image(namespace, REVIEWS, "reviews:v2")
    new = str(cluster.wait_for(
        lambda: (h := cluster.status(namespace, REVIEWS).get("currentPodHash")) not in (None, stable) and h,
        "the new revision",
    ))
    name = f"{REVIEWS}-{new}-2-1"
    cluster.wait_for(lambda: cluster.get(EXPERIMENTS, namespace, name), "the step's Experiment")
    return new, name


def finish_experiment_job(cluster: RolloutCluster, namespace: str, run_name: str, outcome: str) -> None:
    job = cluster.wait_for(
        lambda: next(
            (j for j in cluster.list(JOBS, namespace) if j["metadata"]["ownerReferences"][0]["name"] == run_name),
            None,
        ),
        f"{run_name}'s Job",
    )
    condition = {"status": {"conditions": [{"type": outcome, "status": "True"}]}}
    cluster.patch(JOBS, namespace, job["metadata"]["name"], condition, subresource="status")


def test_a_successful_required_analysis_completes_the_step_and_promotes(cluster: RolloutCluster,
                                                                        namespace: str) -> None:
    new, name = at_experiment_step(cluster, namespace)

    finish_experiment_job(cluster, namespace, f"{name}-smoke", "Complete")

    status = cluster.wait_for_phase(namespace, REVIEWS, "Healthy")
    assert status["stableRS"] == new
    experiment = cluster.must_get(EXPERIMENTS, namespace, name)
    assert (experiment["status"]["phase"], experiment["status"]["message"]) == (
        "Successful", "Required AnalysisRuns completed"
    )


def test_a_failed_experiment_aborts_the_update_and_a_retry_runs_a_new_one(cluster: RolloutCluster,
                                                                           namespace: str) -> None:
    _, name = at_experiment_step(cluster, namespace)

    finish_experiment_job(cluster, namespace, f"{name}-smoke", "Failed")

    status = cluster.wait_for_phase(namespace, REVIEWS, "Degraded")
    assert status["abort"] is True
    assert f"Experiment '{name}' Failed" in status["message"]

    cluster.retry(namespace, REVIEWS)

    retried = f"{name}-1"
    cluster.wait_for(lambda: cluster.get(EXPERIMENTS, namespace, retried), "the retry's Experiment")
    assert cluster.must_get(EXPERIMENTS, namespace, name)["status"]["phase"] == "Failed"
