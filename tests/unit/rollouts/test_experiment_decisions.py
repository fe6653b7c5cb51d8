"""One pass over an Experiment (``rollouts.experiments.decisions``), against Argo's documented Experiment behaviour
(docs/features/experiment.md and experiments/experiment.go): ReplicaSets per template named
``<experiment>-<template>``, AnalysisRuns ``<experiment>-<analysis>`` only once available, the phase the worst of
templates and analyses, ``duration`` counted from ``availableAt``, termination ends Successful."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kube.timestamps import format_time
from rollouts.experiments.decisions import (
    ExperimentInputs,
    analysis_run_name,
    decide_experiment,
    replica_set_name,
)
from rollouts.experiments.models import Experiment
from rollouts.experiments.validation import validate_experiment

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
LABELS = {"app": "demo", "variant": "canary"}
JsonObject = dict[str, Any]


def experiment(
    *,
    status: JsonObject | None = None,
    duration: str | None = None,
    analyses: list[JsonObject] | None = None,
    terminate: bool = False,
    replicas: int = 2,
) -> JsonObject:
    spec: JsonObject = {
        "templates": [
            {
                "name": "canary",
                "replicas": replicas,
                "selector": {"matchLabels": dict(LABELS)},
                "template": {
                    "metadata": {"labels": dict(LABELS)},
                    "spec": {"containers": [{"name": "c", "image": "x"}]},
                },
            }
        ]
    }
    if duration is not None:
        spec["duration"] = duration
    if analyses is not None:
        spec["analyses"] = analyses
    if terminate:
        spec["terminate"] = True
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Experiment",
        "metadata": {"name": "exp", "namespace": "ns", "uid": "u-1"},
        "spec": spec,
        "status": status or {},
    }


def replica_set(*, replicas: int = 2, available: int = 2, annotations: JsonObject | None = None) -> JsonObject:
    return {
        "metadata": {"name": "exp-canary", "labels": {"rollouts-pod-template-hash": "h1"},
                     "annotations": annotations or {}},
        "spec": {"replicas": replicas},
        "status": {"replicas": replicas, "readyReplicas": available, "availableReplicas": available},
    }


def template_status(status: str, *, available: int = 2, at: datetime = NOW) -> JsonObject:
    return {"name": "canary", "replicas": 2, "updatedReplicas": 2, "readyReplicas": available,
            "availableReplicas": available, "status": status, "lastTransitionTime": format_time(at)}


def decide(raw: JsonObject, inputs: ExperimentInputs | None = None, now: datetime = NOW) -> Any:
    return decide_experiment(Experiment.from_dict(raw), raw, inputs or ExperimentInputs(), now)


def test_names_follow_argo() -> None:
    assert replica_set_name("exp", "canary") == "exp-canary"
    assert analysis_run_name("exp", "smoke") == "exp-smoke"


def test_a_new_experiment_is_pending_and_creates_one_replica_set_per_template() -> None:
    plan = decide(experiment())
    assert plan.status["phase"] == "Pending"
    [created] = plan.replica_set_creates
    assert created["metadata"]["name"] == "exp-canary"
    assert created["spec"]["replicas"] == 2
    assert created["metadata"]["ownerReferences"][0] == {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Experiment", "name": "exp", "uid": "u-1",
        "controller": True, "blockOwnerDeletion": True,
    }
    pod_hash = created["spec"]["template"]["metadata"]["labels"]["rollouts-pod-template-hash"]
    assert created["spec"]["selector"]["matchLabels"] == {**LABELS, "rollouts-pod-template-hash": pod_hash}


def test_the_experiment_becomes_running_and_available_once_every_template_is_available() -> None:
    raw = experiment(status={"phase": "Pending", "templateStatuses": [template_status("Progressing", available=0)]})
    plan = decide(raw, ExperimentInputs(replica_sets={"canary": replica_set()}))
    assert plan.status["phase"] == "Running"
    assert plan.status["availableAt"] == format_time(NOW)
    assert plan.status["templateStatuses"][0]["status"] == "Running"
    progressing = plan.status["conditions"][0]
    assert (progressing["reason"], progressing["message"]) == ("NewReplicaSetAvailable", 'Experiment "exp" is running.')


def test_no_analysis_run_starts_before_the_experiment_is_available() -> None:
    raw = experiment(status={"phase": "Pending"}, analyses=[{"name": "smoke", "templateName": "smoke"}])
    templates = {"smoke": {"spec": {"metrics": [{"name": "m", "provider": {"job": {"spec": {}}}}]}}}
    inputs = ExperimentInputs(replica_sets={"canary": replica_set(available=0)}, analysis_templates=templates)
    plan = decide(raw, inputs)
    assert plan.run_creates == []


def test_an_available_experiment_starts_its_analysis_runs_owned_by_it() -> None:
    raw = experiment(
        status={"phase": "Running", "availableAt": format_time(NOW), "templateStatuses": [template_status("Running")]},
        analyses=[{"name": "smoke", "templateName": "smoke"}],
    )
    templates = {"smoke": {"spec": {"metrics": [{"name": "m", "provider": {"job": {"spec": {}}}}]}}}
    plan = decide(raw, ExperimentInputs(replica_sets={"canary": replica_set()}, analysis_templates=templates))
    [run] = plan.run_creates
    assert run["metadata"]["name"] == "exp-smoke"
    assert run["metadata"]["ownerReferences"][0]["kind"] == "Experiment"
    assert plan.status["analysisRuns"] == [{"name": "smoke", "analysisRun": "exp-smoke", "phase": "Pending"}]
    assert plan.status["phase"] == "Running"


def test_a_missing_analysis_template_is_an_error_before_anything_runs() -> None:
    raw = experiment(status={"phase": "Pending"}, analyses=[{"name": "smoke", "templateName": "gone"}])
    plan = decide(raw, ExperimentInputs(replica_sets={"canary": replica_set(available=0)}))
    assert plan.status["phase"] == "Error"
    assert "AnalysisTemplate 'gone' not found" in plan.status["message"]


@pytest.mark.parametrize(
    ("run_phase", "experiment_phase"),
    [
        ("Failed", "Failed"),
        ("Error", "Error"),
        ("Inconclusive", "Inconclusive"),
        ("Running", "Running"),
        # A successful analysis that is not requiredForCompletion does not end an experiment without duration.
        ("Successful", "Running"),
    ],
)
def test_the_analysis_verdict_decides_a_running_experiment(run_phase: str, experiment_phase: str) -> None:
    raw = experiment(
        status={"phase": "Running", "availableAt": format_time(NOW), "templateStatuses": [template_status("Running")],
                "analysisRuns": [{"name": "smoke", "analysisRun": "exp-smoke", "phase": "Running"}]},
        analyses=[{"name": "smoke", "templateName": "smoke"}],
    )
    run = {"metadata": {"name": "exp-smoke"}, "status": {"phase": run_phase, "message": f"metric {run_phase}"}}
    plan = decide(raw, ExperimentInputs(replica_sets={"canary": replica_set()}, runs={"smoke": run},
                                        analysis_templates={"smoke": {"spec": {}}}))
    assert plan.status["phase"] == experiment_phase


def test_a_required_analysis_that_succeeds_completes_the_experiment() -> None:
    raw = experiment(
        status={"phase": "Running", "availableAt": format_time(NOW), "templateStatuses": [template_status("Running")],
                "analysisRuns": [{"name": "smoke", "analysisRun": "exp-smoke", "phase": "Running"}]},
        analyses=[{"name": "smoke", "templateName": "smoke", "requiredForCompletion": True}],
    )
    run = {"metadata": {"name": "exp-smoke"}, "status": {"phase": "Successful"}}
    plan = decide(raw, ExperimentInputs(replica_sets={"canary": replica_set()}, runs={"smoke": run},
                                        analysis_templates={"smoke": {"spec": {}}}))
    assert (plan.status["phase"], plan.status["message"]) == ("Successful", "Required AnalysisRuns completed")


def test_the_duration_counts_from_available_at() -> None:
    available_at = NOW - timedelta(seconds=30)
    raw = experiment(duration="1m", status={"phase": "Running", "availableAt": format_time(available_at),
                                           "templateStatuses": [template_status("Running")]})
    before = decide(raw, ExperimentInputs(replica_sets={"canary": replica_set()}))
    assert before.status["phase"] == "Running"
    assert before.wake_at == available_at + timedelta(minutes=1)

    after = decide(raw, ExperimentInputs(replica_sets={"canary": replica_set()}), now=NOW + timedelta(seconds=31))
    assert after.status["phase"] == "Successful"
    assert after.status["templateStatuses"][0]["status"] == "Successful"
    condition = after.status["conditions"][0]
    assert (condition["status"], condition["reason"]) == ("False", "ExperimentCompleted")


def test_a_terminated_experiment_ends_successful_and_terminates_its_running_analysis() -> None:
    raw = experiment(
        terminate=True,
        status={"phase": "Running", "availableAt": format_time(NOW), "templateStatuses": [template_status("Running")],
                "analysisRuns": [{"name": "smoke", "analysisRun": "exp-smoke", "phase": "Running"}]},
        analyses=[{"name": "smoke", "templateName": "smoke"}],
    )
    run = {"metadata": {"name": "exp-smoke"}, "spec": {}, "status": {"phase": "Running"}}
    plan = decide(raw, ExperimentInputs(replica_sets={"canary": replica_set()}, runs={"smoke": run},
                                        analysis_templates={"smoke": {"spec": {}}}))
    assert plan.run_terminations == ["exp-smoke"]
    assert plan.status["templateStatuses"][0]["status"] == "Successful"


def test_a_finished_experiment_scales_its_replica_sets_down_after_the_default_30s_delay() -> None:
    raw = experiment(status={"phase": "Successful", "availableAt": format_time(NOW),
                             "templateStatuses": [template_status("Successful")]})
    first = decide(raw, ExperimentInputs(replica_sets={"canary": replica_set()}))
    [annotate] = first.replica_set_scales
    deadline = NOW + timedelta(seconds=30)
    assert (annotate.replicas, dict(annotate.annotations)) == (2, {"scale-down-deadline": format_time(deadline)})

    annotated = replica_set(annotations={"scale-down-deadline": format_time(deadline)})
    waiting = decide(raw, ExperimentInputs(replica_sets={"canary": annotated}), now=NOW + timedelta(seconds=10))
    assert waiting.replica_set_scales == []
    assert waiting.wake_at == deadline

    due = decide(raw, ExperimentInputs(replica_sets={"canary": annotated}), now=deadline)
    assert [scale.replicas for scale in due.replica_set_scales] == [0]


def test_a_template_that_misses_its_progress_deadline_fails_the_experiment() -> None:
    since = NOW - timedelta(seconds=601)
    raw = experiment(status={"phase": "Pending",
                             "templateStatuses": [template_status("Progressing", available=0, at=since)]})
    plan = decide(raw, ExperimentInputs(replica_sets={"canary": replica_set(available=0)}))
    # The counts did not change, so the transition time stays and the 600 s default deadline has passed.
    assert plan.status["phase"] == "Failed"
    assert plan.status["message"] == "Template 'canary' exceeded its progressDeadlineSeconds (600)"


def test_the_same_observation_decides_the_same_status() -> None:
    raw = experiment(status={"phase": "Running", "availableAt": format_time(NOW),
                             "templateStatuses": [template_status("Running")]})
    first = decide(raw, ExperimentInputs(replica_sets={"canary": replica_set()}))
    again = decide({**raw, "status": first.status}, ExperimentInputs(replica_sets={"canary": replica_set()}),
                   now=NOW + timedelta(seconds=5))
    assert again.status == first.status
    assert again.events == []


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"templates": []}, "spec.templates"),
        ({"templates": [{"name": "a", "selector": {"matchLabels": {"x": "1"}},
                         "template": {"metadata": {"labels": {"x": "2"}}}}]}, "spec.templates[0].selector"),
        ({"templates": [{"name": "a", "selector": {}, "template": {}}]}, "spec.templates[0].selector"),
    ],
)
def test_validation_names_the_field(change: JsonObject, path: str) -> None:
    raw = experiment()
    raw["spec"].update(change)
    issues = validate_experiment(Experiment.from_dict(raw))
    assert path in [issue.path for issue in issues]


def test_a_repeated_template_name_is_refused() -> None:
    raw = experiment()
    raw["spec"]["templates"] = raw["spec"]["templates"] * 2
    issues = validate_experiment(Experiment.from_dict(raw))
    assert [(i.path, i.message) for i in issues] == [("spec.templates[1].name", "template name 'canary' is repeated")]


def with_service(raw: JsonObject, service: JsonObject) -> JsonObject:
    raw["spec"]["templates"][0]["service"] = service
    return raw


def replica_set_with_port(**options: Any) -> JsonObject:
    rs = replica_set(**options)
    rs["spec"]["selector"] = {"matchLabels": {**LABELS, "rollouts-pod-template-hash": "h1"}}
    container = {"name": "c", "ports": [{"name": "http", "containerPort": 8080}]}
    rs["spec"]["template"] = {"spec": {"containers": [container]}}
    return rs


def test_a_template_with_service_gets_one_named_after_its_replica_set() -> None:
    raw = with_service(experiment(status={"phase": "Pending"}), {})
    plan = decide(raw, ExperimentInputs(replica_sets={"canary": replica_set_with_port()}))
    [service] = plan.service_creates
    assert service["metadata"]["name"] == "exp-canary"
    assert service["metadata"]["ownerReferences"][0]["kind"] == "Experiment"
    assert service["spec"] == {
        "selector": {**LABELS, "rollouts-pod-template-hash": "h1"},
        "ports": [{"protocol": "TCP", "port": 8080, "targetPort": 8080, "name": "http"}],
    }
    assert plan.status["templateStatuses"][0]["serviceName"] == "exp-canary"

    again = decide({**raw, "status": plan.status}, ExperimentInputs(replica_sets={"canary": replica_set_with_port()}))
    assert again.service_creates == []


def test_the_template_service_takes_the_name_given() -> None:
    raw = with_service(experiment(status={"phase": "Pending"}), {"name": "preview"})
    plan = decide(raw, ExperimentInputs(replica_sets={"canary": replica_set_with_port()}))
    assert [s["metadata"]["name"] for s in plan.service_creates] == ["preview"]


def test_the_template_service_is_deleted_once_its_pods_are_gone() -> None:
    status = template_status("Successful", available=0)
    status["serviceName"] = "exp-canary"
    raw = with_service(experiment(status={"phase": "Successful", "templateStatuses": [status]}), {})
    scaled_down = replica_set_with_port(replicas=0, available=0)
    plan = decide(raw, ExperimentInputs(replica_sets={"canary": scaled_down}))
    assert plan.service_deletes == ["exp-canary"]
    assert "serviceName" not in plan.status["templateStatuses"][0]


def test_the_experiments_dry_run_rules_reach_its_runs() -> None:
    raw = experiment(
        status={"phase": "Running", "availableAt": format_time(NOW), "templateStatuses": [template_status("Running")]},
        analyses=[{"name": "smoke", "templateName": "smoke"}],
    )
    raw["spec"]["dryRun"] = [{"metricName": "m"}]
    templates = {"smoke": {"spec": {"metrics": [{"name": "m", "provider": {"job": {"spec": {}}}}]}}}
    plan = decide(raw, ExperimentInputs(replica_sets={"canary": replica_set()}, analysis_templates=templates))
    [run] = plan.run_creates
    assert run["spec"]["dryRun"] == [{"metricName": "m"}]


def test_template_pod_hashes_are_substituted_in_analysis_arguments() -> None:
    raw = experiment(
        status={"phase": "Running", "availableAt": format_time(NOW), "templateStatuses": [template_status("Running")]},
        analyses=[{"name": "smoke", "templateName": "smoke",
                   "args": [{"name": "hash", "value": "app-{{templates.canary.podTemplateHash}}"}]}],
    )
    templates = {"smoke": {"spec": {"args": [{"name": "hash"}],
                                    "metrics": [{"name": "m", "provider": {"job": {"spec": {}}}}]}}}
    plan = decide(raw, ExperimentInputs(replica_sets={"canary": replica_set()}, analysis_templates=templates))
    [run] = plan.run_creates
    assert run["spec"]["args"] == [{"name": "hash", "value": "app-h1"}]
