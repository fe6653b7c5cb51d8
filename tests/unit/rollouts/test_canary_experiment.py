"""Canary ``experiment`` steps through the decision core (``rollouts.reconcile.decide``), the in-memory cluster
playing the Experiment controller: Argo's rollout/experiment.go — the Experiment is created once when the step is
reached, Successful completes the step, Failed/Error abort, Inconclusive pauses, and an experiment the Rollout left
is terminated."""

from __future__ import annotations

from typing import Any

from rollouts.plan import Create, Patch, Plan
from tests.unit.rollouts.builders import NAME, Cluster, deployed, hash_of, messages, template

JsonObject = dict[str, Any]

V1, V2 = "reviews:v1", "reviews:v2"
H2 = hash_of(V2)
EXPERIMENT = {"templates": [{"name": "canary", "specRef": "canary"}]}
STEPS = [{"setWeight": 20}, {"experiment": EXPERIMENT}, {"setWeight": 60}, {"pause": {}}]
STEP_EXPERIMENT = f"{NAME}-{H2}-2-1"
TERMINATE = {"spec": {"terminate": True}}


def at_experiment_step() -> Cluster:
    cluster = deployed(V1, steps=STEPS)
    cluster.set_spec({"template": template(V2)})
    for _ in range(20):
        if cluster.experiments:
            return cluster
        cluster.reconcile()
        cluster.settle()
    raise AssertionError(f"no experiment; status: {cluster.status}")


def set_phase(cluster: Cluster, phase: str, message: str = "") -> None:
    cluster.experiments[STEP_EXPERIMENT]["status"] = {"phase": phase, "message": message}


def created(plan: Plan) -> list[str]:
    return [w.body["metadata"]["name"] for w in plan.writes if isinstance(w, Create) and w.kind.kind == "Experiment"]


def terminated(plan: Plan) -> list[str]:
    patches = [w for w in plan.writes if isinstance(w, Patch) and w.kind.kind == "Experiment"]
    return [w.name for w in patches if w.patch == TERMINATE]


def test_reaching_the_step_creates_the_experiment_and_waits() -> None:
    cluster = at_experiment_step()
    assert list(cluster.experiments) == [STEP_EXPERIMENT]
    assert cluster.status["currentStepIndex"] == 1
    assert cluster.status["canary"]["currentExperiment"] == STEP_EXPERIMENT
    assert cluster.status["phase"] == "Progressing"
    assert cluster.status["message"] == f"waiting for experiment '{STEP_EXPERIMENT}' (step 2)"

    set_phase(cluster, "Running")
    plan = cluster.reconcile()
    assert created(plan) == []
    assert cluster.status["message"] == f"waiting for experiment '{STEP_EXPERIMENT}' (step 2, Running)"


def test_a_successful_experiment_completes_the_step() -> None:
    cluster = at_experiment_step()
    set_phase(cluster, "Successful")
    plan = cluster.reconcile()
    assert messages(plan, "RolloutStepCompleted") == ["Rollout step 2/4 completed (experiment)"]
    assert cluster.status["currentStepIndex"] == 2


def test_a_failed_experiment_aborts_the_update_naming_it() -> None:
    cluster = at_experiment_step()
    set_phase(cluster, "Failed", 'Metric "m" assessed Failed')
    cluster.reconcile()
    assert cluster.status["abort"] is True
    assert cluster.status["phase"] == "Degraded"
    assert f"Experiment '{STEP_EXPERIMENT}' Failed: Metric \"m\" assessed Failed" in cluster.status["message"]
    assert cluster.canary_weight == 0


def test_an_inconclusive_experiment_pauses_the_update() -> None:
    cluster = at_experiment_step()
    set_phase(cluster, "Inconclusive")
    cluster.reconcile()
    assert [c["reason"] for c in cluster.status["pauseConditions"]] == ["InconclusiveExperiment"]
    assert cluster.status["phase"] == "Paused"


def test_a_full_promotion_terminates_the_running_experiment() -> None:
    cluster = at_experiment_step()
    set_phase(cluster, "Running")
    cluster.set_status({"promoteFull": True})
    plan = cluster.reconcile()
    assert terminated(plan) == [STEP_EXPERIMENT]
