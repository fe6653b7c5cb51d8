"""The canary ``experiment`` step (``rollouts.experiments.step``) against Argo's rollout/experiment.go and its docs:
the Experiment is named ``<rollout>-<podHash>-<revision>-<stepIndex>``, owned by the Rollout, its templates copy
the canary or stable ReplicaSet's pod template; Successful completes the step, Failed/Error abort, Inconclusive
pauses; experiments no longer needed are terminated."""

from __future__ import annotations

from typing import Any

import pytest

from kube.resources import EXPERIMENTS
from rollouts.experiments.step import (
    ExperimentHistory,
    ExperimentStepFacts,
    decide_experiment_step,
    experiment_for_step,
    experiment_name,
    experiments_to_delete,
)
from rollouts.models import CanaryStep
from rollouts.plan import Create, Delete, Patch

JsonObject = dict[str, Any]

STEP: JsonObject = {
    "experiment": {
        "duration": "5m",
        "templates": [
            {"name": "baseline", "specRef": "stable", "replicas": 1},
            {"name": "canary", "specRef": "canary", "metadata": {"labels": {"variant": "canary"}}},
        ],
        "analyses": [
            {
                "name": "compare",
                "templateName": "compare",
                "args": [
                    {"name": "stable-hash", "valueFrom": {"podTemplateHashValue": "Stable"}},
                    {"name": "canary-hash", "valueFrom": {"podTemplateHashValue": "Latest"}},
                    {"name": "plain", "value": "x"},
                ],
            }
        ],
    }
}


def rollout() -> JsonObject:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "metadata": {"name": "web", "namespace": "ns", "uid": "r-1", "labels": {"team": "a"}},
        "spec": {"progressDeadlineSeconds": 300, "strategy": {"canary": {"steps": [{"setWeight": 20}, STEP]}}},
    }


def replica_set(pod_hash: str, image: str) -> JsonObject:
    labels = {"app": "web", "rollouts-pod-template-hash": pod_hash}
    return {
        "metadata": {"name": f"web-{pod_hash}"},
        "spec": {
            "selector": {"matchLabels": dict(labels)},
            "template": {"metadata": {"labels": dict(labels)}, "spec": {"containers": [{"name": "c", "image": image}]}},
        },
    }


def facts(*, stable: bool = True) -> ExperimentStepFacts:
    return ExperimentStepFacts(
        rollout=rollout(), current_hash="new1", revision=3, step_index=1,
        stable_rs=replica_set("old1", "web:v1") if stable else None, new_rs=replica_set("new1", "web:v2"),
        stable_hash="old1" if stable else None,
    )


def step() -> CanaryStep:
    return CanaryStep.model_validate(STEP)


def an_experiment(phase: str | None, *, name: str = "web-new1-3-1", message: str = "") -> JsonObject:
    status: JsonObject = {"phase": phase, "message": message} if phase else {}
    return {"metadata": {"name": name}, "spec": {}, "status": status}


def test_the_step_experiment_is_named_as_argo_names_it() -> None:
    assert experiment_name("web", "new1", 3, 1) == "web-new1-3-1"


def test_the_experiment_copies_the_stable_and_canary_pod_templates() -> None:
    created = experiment_for_step(step(), facts())
    assert created["metadata"]["name"] == "web-new1-3-1"
    assert created["metadata"]["labels"] == {"team": "a", "rollouts-pod-template-hash": "new1"}
    assert created["metadata"]["annotations"] == {"rollout.argoproj.io/revision": "3"}
    assert created["metadata"]["ownerReferences"][0]["uid"] == "r-1"
    baseline, canary = created["spec"]["templates"]
    assert baseline["template"]["spec"]["containers"][0]["image"] == "web:v1"
    assert baseline["replicas"] == 1
    assert canary["template"]["spec"]["containers"][0]["image"] == "web:v2"
    assert "replicas" not in canary  # the Experiment's default (1) applies
    # Extra labels go onto the pods and into the selector.
    assert canary["template"]["metadata"]["labels"]["variant"] == "canary"
    assert canary["selector"]["matchLabels"]["variant"] == "canary"
    assert created["spec"]["duration"] == "5m"
    assert created["spec"]["progressDeadlineSeconds"] == 300


def test_pod_template_hash_arguments_are_resolved_by_the_rollout() -> None:
    [analysis] = experiment_for_step(step(), facts())["spec"]["analyses"]
    assert analysis["args"] == [
        {"name": "stable-hash", "value": "old1"},
        {"name": "canary-hash", "value": "new1"},
        {"name": "plain", "value": "x"},
    ]


def test_reaching_the_step_creates_the_experiment_once() -> None:
    gate = decide_experiment_step(step(), facts(), [], stop_all=False, held_inconclusive=False)
    [write] = gate.writes
    assert isinstance(write, Create) and write.kind == EXPERIMENTS
    assert [e.reason for e in gate.events] == ["ExperimentCreated"]
    assert gate.current == "web-new1-3-1"
    assert not gate.completed


def test_no_experiment_is_created_before_the_stable_replica_set_exists() -> None:
    gate = decide_experiment_step(step(), facts(stable=False), [], stop_all=False, held_inconclusive=False)
    assert gate.writes == []
    assert gate.waiting is not None and "stable ReplicaSet" in gate.waiting


@pytest.mark.parametrize(
    ("phase", "completed", "aborts", "inconclusive"),
    [
        ("Pending", False, False, False),
        ("Running", False, False, False),
        ("Successful", True, False, False),
        ("Failed", False, True, False),
        ("Error", False, True, False),
        ("Inconclusive", False, False, True),
    ],
)
def test_the_experiment_phase_decides_the_step(phase: str, completed: bool, aborts: bool, inconclusive: bool) -> None:
    gate = decide_experiment_step(
        step(), facts(), [an_experiment(phase, message="metric x failed")], stop_all=False, held_inconclusive=False,
        recorded="web-new1-3-1",
    )
    assert gate.writes == []
    assert gate.completed is completed
    assert (gate.abort_reason is not None) is aborts
    assert gate.inconclusive is inconclusive


def test_an_abort_names_the_experiment_and_its_message() -> None:
    gate = decide_experiment_step(
        step(), facts(), [an_experiment("Failed", message="metric x failed")], stop_all=False, held_inconclusive=False,
        recorded="web-new1-3-1",
    )
    assert gate.abort_reason == "Experiment 'web-new1-3-1' Failed: metric x failed"


def test_an_abort_or_full_promotion_terminates_running_experiments() -> None:
    running, done = an_experiment("Running"), an_experiment("Successful", name="web-old-2-1")
    gate = decide_experiment_step(step(), facts(), [running, done], stop_all=True, held_inconclusive=False)
    assert gate.writes == [Patch(kind=EXPERIMENTS, namespace="ns", name="web-new1-3-1",
                                 patch={"spec": {"terminate": True}})]


def test_an_experiment_of_another_step_is_terminated_when_the_rollout_moves_on() -> None:
    other_step = CanaryStep.model_validate({"setWeight": 50})
    gate = decide_experiment_step(other_step, facts(), [an_experiment("Running")], stop_all=False,
                                  held_inconclusive=False)
    assert [w.name for w in gate.writes if isinstance(w, Patch)] == ["web-new1-3-1"]


def test_an_inconclusive_pause_leaves_everything_as_it_is() -> None:
    gate = decide_experiment_step(step(), facts(), [an_experiment("Inconclusive")], stop_all=False,
                                  held_inconclusive=True)
    assert (gate.writes, gate.completed, gate.abort_reason) == ([], False, None)


def test_a_running_experiment_of_the_step_is_adopted_when_the_status_did_not_record_it() -> None:
    gate = decide_experiment_step(step(), facts(), [an_experiment("Running")], stop_all=False,
                                  held_inconclusive=False, recorded=None)
    assert (gate.writes, gate.current) == ([], "web-new1-3-1")


def test_after_an_abort_and_retry_the_step_runs_a_new_experiment_named_apart() -> None:
    earlier = an_experiment("Failed")
    gate = decide_experiment_step(step(), facts(), [earlier], stop_all=False, held_inconclusive=False, recorded=None)
    [write] = gate.writes
    assert isinstance(write, Create)
    assert write.body["metadata"]["name"] == "web-new1-3-1-1"
    assert gate.current == "web-new1-3-1-1"


def test_the_recorded_experiment_is_followed_under_its_collision_name() -> None:
    experiments = [an_experiment("Failed"), an_experiment("Successful", name="web-new1-3-1-1")]
    gate = decide_experiment_step(step(), facts(), experiments, stop_all=False, held_inconclusive=False,
                                  recorded="web-new1-3-1-1")
    assert (gate.writes, gate.completed) == ([], True)


# --- history (Argo's FilterExperimentsToDelete) -----------------------------------------------------------------


def finished(name: str, phase: str, created: str, pod_hash: str = "new1") -> JsonObject:
    return {
        "metadata": {"name": name, "creationTimestamp": created, "labels": {"rollouts-pod-template-hash": pod_hash}},
        "status": {"phase": phase},
    }


HISTORY = ExperimentHistory(replica_set_hashes={"new1": False, "old1": False, "gone1": True},
                            successful_limit=1, unsuccessful_limit=1)


def test_finished_experiments_past_the_history_limits_are_deleted_oldest_first() -> None:
    experiments = [
        finished("s-old", "Successful", "2026-01-01T10:00:00Z"),
        finished("s-new", "Successful", "2026-01-01T11:00:00Z"),
        finished("f-old", "Failed", "2026-01-01T10:00:00Z"),
        finished("f-new", "Error", "2026-01-01T11:00:00Z"),
        finished("running", "Running", "2026-01-01T09:00:00Z"),
    ]
    assert sorted(experiments_to_delete(experiments, HISTORY)) == ["f-old", "s-old"]


@pytest.mark.parametrize(
    ("labels", "why"),
    [({}, "no pod-template hash"), ({"rollouts-pod-template-hash": "nowhere"}, "no ReplicaSet of that revision"),
     ({"rollouts-pod-template-hash": "gone1"}, "its ReplicaSet is being deleted")],
)
def test_an_experiment_whose_revision_is_gone_is_deleted(labels: JsonObject, why: str) -> None:
    experiment = {"metadata": {"name": "e", "labels": labels}, "status": {"phase": "Successful"}}
    assert experiments_to_delete([experiment], HISTORY) == ["e"], why


def test_the_step_deletes_only_experiments_other_than_its_own() -> None:
    own = an_experiment("Successful")
    own["metadata"]["labels"] = {"rollouts-pod-template-hash": "new1"}
    history = ExperimentHistory(replica_set_hashes={"new1": False}, successful_limit=0, unsuccessful_limit=0)
    gate = decide_experiment_step(step(), facts(), [own], stop_all=False, held_inconclusive=False,
                                  recorded="web-new1-3-1", history=history)
    assert [w for w in gate.writes if isinstance(w, Delete)] == []

    moved_on = CanaryStep.model_validate({"setWeight": 50})
    gate = decide_experiment_step(moved_on, facts(), [own], stop_all=False, held_inconclusive=False, history=history)
    assert gate.writes == [Delete(kind=EXPERIMENTS, namespace="ns", name="web-new1-3-1")]
