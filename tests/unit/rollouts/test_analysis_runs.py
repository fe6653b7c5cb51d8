"""The AnalysisRun a Rollout creates (rollouts.gating.runs) and the runs it lets go (rollouts.gating.history):
names, labels, owner, templates merged as Argo merges them, arguments resolved against the Rollout, a missing
template reported as InvalidSpec, and the history kept."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kube.issues import FieldIssue
from rollouts.gating.history import housekeeping, runs_to_delete
from rollouts.gating.runs import (
    AnalysisProblem,
    RevisionFacts,
    RunKind,
    RunRole,
    analysis_issues,
    field_value,
    new_analysis_run,
    run_name,
)
from rollouts.plan import Delete, Patch
from rollouts.reconcile import decide
from tests.unit.rollouts.builders import (
    NAME,
    NAMESPACE,
    UID,
    analysis_template,
    deployed,
    hash_of,
    replica_set,
    rollout,
    snapshot,
    template,
)

JsonObject = dict[str, Any]

FACTS = RevisionFacts(current_hash="6b8f9c", stable_hash="5d4c3b", revision=2)
TEMPLATES = {"success-rate": analysis_template("success-rate")}
SERVICE_ARG = {"name": "service-name", "value": "reviews-canary"}
STEP = RunRole(RunKind.STEP, 1)


def analysis(*templates: str | tuple[str, bool], args: list[JsonObject] | None = None, **extra: Any) -> JsonObject:
    """A RolloutAnalysis naming ``templates`` (``(name, True)`` for a ClusterAnalysisTemplate)."""
    references = []
    for found in templates:
        name, cluster = found if isinstance(found, tuple) else (found, False)
        references.append({"templateName": name, **({"clusterScope": True} if cluster else {})})
    return {"templates": references, "args": args if args is not None else [SERVICE_ARG], **extra}


def build(
    analysis_spec: JsonObject,
    *,
    role: RunRole = STEP,
    templates: dict[str, JsonObject] | None = None,
    cluster_templates: dict[str, JsonObject] | None = None,
    manifest: JsonObject | None = None,
    taken: tuple[str, ...] = (),
) -> JsonObject | AnalysisProblem:
    return new_analysis_run(
        manifest or rollout(),
        analysis_spec,
        role,
        TEMPLATES if templates is None else templates,
        cluster_templates or {},
        FACTS,
        taken=taken,
    )


def built(analysis_spec: JsonObject, **options: Any) -> JsonObject:
    run = build(analysis_spec, **options)
    assert not isinstance(run, AnalysisProblem), run
    return run


def problem(analysis_spec: JsonObject, **options: Any) -> str:
    run = build(analysis_spec, **options)
    assert isinstance(run, AnalysisProblem), run
    return run.message


# --- names ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "name"),
    [
        (RunRole(RunKind.STEP, 1), "reviews-6b8f9c-2-1"),
        (RunRole(RunKind.STEP, 0), "reviews-6b8f9c-2-0"),
        (RunRole(RunKind.BACKGROUND), "reviews-6b8f9c-2"),
        (RunRole(RunKind.PRE_PROMOTION), "reviews-6b8f9c-2-pre"),
        (RunRole(RunKind.POST_PROMOTION), "reviews-6b8f9c-2-post"),
    ],
)
def test_a_run_is_named_for_the_rollout_the_pod_hash_the_revision_and_its_role(role: RunRole, name: str) -> None:
    assert run_name(NAME, role, FACTS, ()) == name


@pytest.mark.parametrize(
    ("taken", "name"),
    [
        ((), "reviews-6b8f9c-2-1"),
        (("reviews-6b8f9c-2-1",), "reviews-6b8f9c-2-1.1"),
        (("reviews-6b8f9c-2-1", "reviews-6b8f9c-2-1.1"), "reviews-6b8f9c-2-1.2"),
        (("reviews-6b8f9c-2-1.1",), "reviews-6b8f9c-2-1"),
        (("reviews-6b8f9c-2", "reviews-6b8f9c-2-0"), "reviews-6b8f9c-2-1"),
    ],
)
def test_a_name_already_taken_gets_the_next_collision_suffix(taken: tuple[str, ...], name: str) -> None:
    assert run_name(NAME, STEP, FACTS, taken) == name


# --- metadata ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "labels"),
    [
        (RunRole(RunKind.STEP, 3), {"rollout-type": "Step", "step-index": "3"}),
        (RunRole(RunKind.BACKGROUND), {"rollout-type": "Background"}),
        (RunRole(RunKind.PRE_PROMOTION), {"rollout-type": "PrePromotion"}),
        (RunRole(RunKind.POST_PROMOTION), {"rollout-type": "PostPromotion"}),
    ],
)
def test_a_run_is_labelled_with_its_role_the_pod_hash_and_the_rollout_selector(
    role: RunRole, labels: dict[str, str]
) -> None:
    run = built(analysis("success-rate"), role=role)
    assert run["metadata"]["labels"] == {"rollouts-pod-template-hash": "6b8f9c", "app": NAME, **labels}
    assert run["metadata"]["annotations"] == {"rollout.argoproj.io/revision": "2"}
    assert run["metadata"]["namespace"] == NAMESPACE
    assert (run["apiVersion"], run["kind"]) == ("argoproj.io/v1alpha1", "AnalysisRun")


def test_a_run_is_controlled_by_its_rollout() -> None:
    run = built(analysis("success-rate"))
    assert run["metadata"]["ownerReferences"] == [
        {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Rollout",
            "name": NAME,
            "uid": UID,
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]


def test_analysis_run_metadata_goes_onto_the_run() -> None:
    metadata = {"labels": {"team": "shop"}, "annotations": {"owner": "ops"}}
    run = built(analysis("success-rate", analysisRunMetadata=metadata))
    assert run["metadata"]["labels"]["team"] == "shop"
    assert run["metadata"]["annotations"] == {"rollout.argoproj.io/revision": "2", "owner": "ops"}


# --- templates --------------------------------------------------------------------------------------------------


def test_the_run_spec_is_the_template_with_the_arguments_filled_in() -> None:
    run = built(analysis("success-rate"))
    assert run["spec"] == {
        "metrics": TEMPLATES["success-rate"]["spec"]["metrics"],
        "args": [{"name": "service-name", "value": "reviews-canary"}],
    }


def test_templates_are_merged_namespaced_first_then_cluster_scoped() -> None:
    templates = {
        "latency": analysis_template("latency", metrics=("p99",), args=()),
        "success-rate": analysis_template("success-rate"),
    }
    cluster_templates = {"errors": analysis_template("errors", metrics=("errors",), args=(), cluster=True)}
    run = built(
        analysis(("errors", True), "success-rate", "latency"), templates=templates, cluster_templates=cluster_templates
    )
    assert [metric["name"] for metric in run["spec"]["metrics"]] == ["success-rate", "p99", "errors"]


def test_templates_nested_in_a_template_are_merged_once() -> None:
    outer = analysis_template(
        "outer", metrics=("outer",), args=(), spec={"templates": [{"templateName": "success-rate"}]}
    )
    looping = analysis_template("success-rate", spec={"templates": [{"templateName": "outer"}]})
    run = built(analysis("outer", "success-rate"), templates={"outer": outer, "success-rate": looping})
    assert [metric["name"] for metric in run["spec"]["metrics"]] == ["outer", "success-rate"]


def test_two_metrics_of_the_same_name_are_a_problem() -> None:
    templates = {"a": analysis_template("a"), "b": analysis_template("b")}
    assert problem(analysis("a", "b"), templates=templates) == (
        "two metrics have the same name 'success-rate' (AnalysisTemplate 'a' and AnalysisTemplate 'b')"
    )


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("nope", "AnalysisTemplate 'nope' not found"),
        (("nope", True), "ClusterAnalysisTemplate 'nope' not found"),
        ("success-rate", None),
        (("success-rate", True), "ClusterAnalysisTemplate 'success-rate' not found"),
    ],
)
def test_a_template_is_looked_up_in_its_scope(reference: str | tuple[str, bool], message: str | None) -> None:
    result = build(analysis(reference))
    if message is None:
        assert not isinstance(result, AnalysisProblem)
    else:
        assert result == AnalysisProblem(message)


def test_a_nested_template_that_is_missing_is_a_problem() -> None:
    outer = analysis_template("outer", spec={"templates": [{"templateName": "inner", "clusterScope": True}]})
    assert problem(analysis("outer"), templates={"outer": outer}) == "ClusterAnalysisTemplate 'inner' not found"


def test_dry_run_and_measurement_retention_are_merged_the_rollouts_first() -> None:
    template_rules = {"dryRun": [{"metricName": "p99"}], "measurementRetention": [{"metricName": "p99", "limit": 3}]}
    metrics = ("success-rate", "p99")
    templates = {"success-rate": analysis_template("success-rate", metrics=metrics, spec=template_rules)}
    run = built(
        analysis(
            "success-rate",
            dryRun=[{"metricName": "success-rate"}],
            measurementRetention=[{"metricName": "success-rate", "limit": 20}],
        ),
        templates=templates,
    )
    assert run["spec"]["dryRun"] == [{"metricName": "success-rate"}, {"metricName": "p99"}]
    assert run["spec"]["measurementRetention"] == [
        {"metricName": "success-rate", "limit": 20},
        {"metricName": "p99", "limit": 3},
    ]


def test_two_dry_run_rules_for_one_metric_are_a_problem() -> None:
    templates = {"success-rate": analysis_template("success-rate", spec={"dryRun": [{"metricName": "success-rate"}]})}
    spec = analysis("success-rate", dryRun=[{"metricName": "success-rate"}])
    assert problem(spec, templates=templates) == "two dryRun rules have the same metricName 'success-rate'"


# --- arguments ----------------------------------------------------------------------------------------------------


def argument_value(rollout_argument: JsonObject, *, manifest: JsonObject | None = None) -> str | AnalysisProblem:
    templates = {"t": analysis_template("t", args=({"name": "x"},))}
    run = build(analysis("t", args=[{"name": "x", **rollout_argument}]), templates=templates, manifest=manifest)
    if isinstance(run, AnalysisProblem):
        return run
    (argument,) = run["spec"]["args"]
    assert set(argument) == {"name", "value"}, argument
    return str(argument["value"])


LABELLED = rollout(spec={"restartAt": "2024-05-01T10:00:00Z"})
LABELLED["metadata"]["labels"] = {"team": "shop"}
LABELLED["metadata"]["annotations"] = {"rollout.argoproj.io/revision": "2"}


@pytest.mark.parametrize(
    ("rollout_argument", "value"),
    [
        ({"value": "reviews-canary"}, "reviews-canary"),
        ({"valueFrom": {"podTemplateHashValue": "Latest"}}, "6b8f9c"),
        ({"valueFrom": {"podTemplateHashValue": "Stable"}}, "5d4c3b"),
        ({"valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}, NAME),
        ({"valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}}, NAMESPACE),
        ({"valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['team']"}}}, "shop"),
        ({"valueFrom": {"fieldRef": {"fieldPath": 'metadata.labels["missing"]'}}}, ""),
        ({"valueFrom": {"fieldRef": {"fieldPath": "metadata.annotations['rollout.argoproj.io/revision']"}}}, "2"),
        ({"valueFrom": {"fieldRef": {"fieldPath": "spec.template.spec.containers[0].image"}}}, "reviews:v1"),
        ({"valueFrom": {"fieldRef": {"fieldPath": "spec.replicas"}}}, "5"),
        ({"valueFrom": {"fieldRef": {"fieldPath": "spec.restartAt"}}}, "2024-05-01T10:00:00Z"),
    ],
)
def test_a_rollout_argument_is_resolved_against_the_rollout_and_its_revision(
    rollout_argument: JsonObject, value: str
) -> None:
    assert argument_value(rollout_argument, manifest=LABELLED) == value


@pytest.mark.parametrize(
    "path", ["spec.nothing", "spec.template.spec.containers[7].image", "spec..replicas", "[0]", "metadata.labels[0]"]
)
def test_a_field_path_that_names_nothing_is_a_problem(path: str) -> None:
    result = argument_value({"valueFrom": {"fieldRef": {"fieldPath": path}}})
    assert result == AnalysisProblem(f"args.x: fieldRef {path!r} does not name a field of the Rollout")


def test_a_whole_label_map_reads_as_key_value_lines() -> None:
    manifest = copy.deepcopy(LABELLED)
    manifest["metadata"]["labels"] = {"team": "shop", "app": "reviews"}
    assert field_value(manifest, "metadata.labels") == 'app="reviews"\nteam="shop"'


def test_a_template_argument_without_a_value_must_be_set_by_the_rollout() -> None:
    assert problem(analysis("success-rate", args=[])) == (
        "args.service-name was not resolved: the template declares it without a value and the Rollout's analysis "
        "does not set it"
    )


def test_the_rollout_overrides_a_templates_default_and_cannot_add_an_argument() -> None:
    templates = {"t": analysis_template("t", args=({"name": "threshold", "value": "0.95"},))}
    run = built(
        analysis("t", args=[{"name": "threshold", "value": "0.99"}, {"name": "undeclared", "value": "x"}]),
        templates=templates,
    )
    assert run["spec"]["args"] == [{"name": "threshold", "value": "0.99"}]


def test_a_secret_argument_is_left_for_the_analysis_controller_to_read() -> None:
    secret = {"name": "token", "valueFrom": {"secretKeyRef": {"name": "prometheus", "key": "token"}}}
    templates = {"t": analysis_template("t", args=({"name": "service-name"}, secret))}
    run = built(analysis("t"), templates=templates)
    assert run["spec"]["args"] == [{"name": "service-name", "value": "reviews-canary"}, secret]


def test_template_arguments_are_merged_one_with_a_value_winning() -> None:
    templates = {
        "a": analysis_template("a", metrics=("a",), args=({"name": "service-name"}, {"name": "window"})),
        "b": analysis_template("b", metrics=("b",), args=({"name": "window", "value": "5m"},)),
    }
    run = built(analysis("a", "b"), templates=templates)
    assert run["spec"]["args"] == [
        {"name": "service-name", "value": "reviews-canary"},
        {"name": "window", "value": "5m"},
    ]


def test_templates_giving_one_argument_two_values_are_a_problem() -> None:
    templates = {
        "a": analysis_template("a", metrics=("a",), args=({"name": "window", "value": "1m"},)),
        "b": analysis_template("b", metrics=("b",), args=({"name": "window", "value": "5m"},)),
    }
    assert problem(analysis("a", "b", args=[]), templates=templates) == (
        "argument 'window' has different values in AnalysisTemplate 'a' ('1m') and AnalysisTemplate 'b' ('5m')"
    )


# --- InvalidSpec --------------------------------------------------------------------------------------------------


def test_every_analysis_of_a_spec_is_checked_at_its_field_path() -> None:
    manifest = rollout(
        steps=[{"setWeight": 10}, {"analysis": analysis("nope")}],
        canary={"analysis": analysis("success-rate", args=[])},
    )
    assert analysis_issues(manifest, TEMPLATES, {}) == [
        FieldIssue("spec.strategy.canary.steps[1].analysis.templates", "AnalysisTemplate 'nope' not found"),
        FieldIssue(
            "spec.strategy.canary.analysis.templates",
            "args.service-name was not resolved: the template declares it without a value and the Rollout's "
            "analysis does not set it",
        ),
    ]


def test_a_missing_template_is_an_invalid_spec_and_nothing_else_changes() -> None:
    cluster = deployed(steps=[{"setWeight": 20}, {"analysis": analysis("success-rate")}])
    cluster.set_spec({"template": template("reviews:v2")})
    del cluster.analysis_templates["success-rate"]
    plan = cluster.decide()
    assert plan.writes == ()
    assert plan.status["phase"] == "Degraded"
    assert plan.status["message"] == (
        "InvalidSpec: spec.strategy.canary.steps[1].analysis.templates: AnalysisTemplate 'success-rate' not found"
    )
    assert [(event.type, event.reason) for event in plan.events] == [("Warning", "InvalidSpec")]
    assert plan.requeue_after is None  # the template's watch event brings the Rollout back

    cluster.apply(plan)
    cluster.analysis_templates["success-rate"] = analysis_template("success-rate")
    cluster.converge()
    assert cluster.status["phase"] != "Degraded"
    assert [run["metadata"]["name"] for run in cluster.runs()] == [f"{NAME}-{hash_of('reviews:v2')}-2-1"]


# --- history --------------------------------------------------------------------------------------------------


def old_run(
    name: str, phase: str | None, created: int, *, pod_hash: str = "aaa", terminate: bool = False
) -> JsonObject:
    run: JsonObject = {
        "metadata": {
            "name": name,
            "creationTimestamp": f"2024-05-01T10:{created:02d}:00Z",
            "labels": {"rollouts-pod-template-hash": pod_hash, "rollout-type": "Background"},
        },
        "spec": {"terminate": True} if terminate else {},
    }
    if phase is not None:
        run["status"] = {"phase": phase}
    return run


def test_history_keeps_the_newest_successful_and_unsuccessful_runs() -> None:
    runs = [old_run(f"s{i}", "Successful", i) for i in range(7)]
    runs += [old_run(f"f{i}", phase, 10 + i) for i, phase in enumerate(["Failed", "Error", "Inconclusive"] * 2)]
    runs.append(old_run("running", "Running", 0))
    doomed = runs_to_delete(
        runs, current={"s0"}, replica_set_hashes={"aaa"}, successful_limit=5, unsuccessful_limit=2
    )
    assert sorted(run["metadata"]["name"] for run in doomed) == ["f0", "f1", "f2", "f3", "s1"]


def test_runs_of_a_replica_set_that_is_gone_are_deleted() -> None:
    runs = [old_run("kept", "Successful", 1), old_run("orphan", "Successful", 2, pod_hash="gone")]
    doomed = runs_to_delete(runs, current=(), replica_set_hashes={"aaa"}, successful_limit=5, unsuccessful_limit=5)
    assert [run["metadata"]["name"] for run in doomed] == ["orphan"]


def test_runs_no_longer_current_are_terminated_once_and_deleted_ones_are_not() -> None:
    runs = [
        old_run("current", "Running", 1),
        old_run("superseded", "Running", 2),
        old_run("terminating", "Running", 3, terminate=True),
        old_run("done", "Failed", 4),
        old_run("orphan", None, 5, pod_hash="gone"),
    ]
    terminations, deletions = housekeeping(
        runs,
        current={"current"},
        terminate_all=False,
        replica_set_hashes={"aaa"},
        successful_limit=5,
        unsuccessful_limit=5,
        namespace=NAMESPACE,
    )
    assert terminations == [
        Patch(kind=terminations[0].kind, namespace=NAMESPACE, name="superseded", patch={"spec": {"terminate": True}})
    ]
    assert deletions == [Delete(kind=deletions[0].kind, namespace=NAMESPACE, name="orphan")]
    everything, _ = housekeeping(
        runs,
        current={"current"},
        terminate_all=True,
        replica_set_hashes={"aaa"},
        successful_limit=5,
        unsuccessful_limit=5,
        namespace=NAMESPACE,
    )
    assert [write.name for write in everything if isinstance(write, Patch)] == ["current", "superseded"]


def test_the_rollout_history_limits_apply_through_a_pass() -> None:
    stable = replica_set("reviews:v1", replicas=5, revision=1)
    runs = [
        old_run(f"{NAME}-old-{i}", "Successful", i, pod_hash=hash_of("reviews:v1")) for i in range(4)
    ]
    for run in runs:
        run["metadata"]["ownerReferences"] = [{"kind": "Rollout", "uid": UID, "controller": True, "name": NAME}]
    manifest = rollout(
        spec={"analysis": {"successfulRunHistoryLimit": 2}},
        status={"stableRS": hash_of("reviews:v1"), "currentPodHash": hash_of("reviews:v1")},
    )
    plan = decide(snapshot(manifest, replica_sets=[stable], analysis_runs=runs))
    deleted = [write.name for write in plan.writes if isinstance(write, Delete)]
    assert sorted(deleted) == [f"{NAME}-old-0", f"{NAME}-old-1"]


# --- determinism ----------------------------------------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.sampled_from(["success-rate", "latency", "errors"]), min_size=1, max_size=3, unique=True),
    st.sampled_from([RunRole(RunKind.STEP, 0), RunRole(RunKind.BACKGROUND), RunRole(RunKind.PRE_PROMOTION)]),
    st.lists(st.sampled_from(["reviews-6b8f9c-2", "reviews-6b8f9c-2.1", "reviews-6b8f9c-2-0"]), max_size=3),
)
def test_the_same_inputs_always_build_the_same_run(names: list[str], role: RunRole, taken: list[str]) -> None:
    templates = {
        "success-rate": analysis_template("success-rate"),
        "latency": analysis_template("latency", metrics=("p99",)),
        "errors": analysis_template("errors", metrics=("errors",)),
    }
    first = build(analysis(*names), role=role, templates=templates, taken=tuple(taken))
    again = build(analysis(*names), role=role, templates=copy.deepcopy(templates), taken=tuple(reversed(taken)))
    assert first == again
    assert not isinstance(first, AnalysisProblem)
    assert first["metadata"]["name"] not in taken
    # Argo's documented merge, worked out by hand: each template's metrics in the order the analysis names the
    # templates, and the analysis' argument values filling the templates' declared arguments.
    assert first["spec"] == {
        "metrics": [metric for name in names for metric in templates[name]["spec"]["metrics"]],
        "args": [{"name": "service-name", "value": "reviews-canary"}],
    }
