"""The Rollout model: Argo's defaults for absent fields, durations and percentages read as Argo reads
them, and manifests that come back exactly as they were written."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from kube.durations import parse_duration
from kube.kinds import KindSpec
from kube.manifests import load_manifests
from kube.quantities import is_percent, resolve_int_or_percent
from rollouts.experiments.kinds import EXPERIMENT_KIND
from rollouts.kinds import KINDS, ROLLOUT_KIND
from rollouts.models import BlueGreenStrategy, CanaryStep, CanaryStrategy, Rollout
from tests.conformance.corpus import corpus_dir, corpus_missing_reason

MINIMAL: dict[str, Any] = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "Rollout",
    "metadata": {"name": "demo"},
    "spec": {
        "selector": {"matchLabels": {"app": "demo"}},
        "template": {
            "metadata": {"labels": {"app": "demo", "tier": "web"}},
            "spec": {"containers": [{"name": "demo", "image": "demo:1"}]},
        },
        "strategy": {"canary": {"steps": [{"setWeight": 20}, {"pause": {}}]}},
    },
}


def rollout(**spec: Any) -> Rollout:
    """The minimal Rollout with some spec fields replaced."""
    manifest = copy.deepcopy(MINIMAL)
    manifest["spec"].update(spec)
    return Rollout.from_dict(manifest)


def canary(**fields: Any) -> CanaryStrategy:
    """The canary strategy of the minimal Rollout with these canary fields."""
    strategy = rollout(strategy={"canary": fields}).spec.strategy.canary
    assert strategy is not None
    return strategy


def blue_green(**fields: Any) -> BlueGreenStrategy:
    strategy = rollout(strategy={"blueGreen": {"activeService": "active", **fields}}).spec.strategy.blue_green
    assert strategy is not None
    return strategy


# --- defaults ------------------------------------------------------------------------------------


def test_spec_defaults_are_argos() -> None:
    spec = rollout().spec
    assert spec.replicas == 1
    assert spec.min_ready_seconds == 0
    assert spec.revision_history_limit == 10
    assert spec.progress_deadline_seconds == 600
    assert spec.progress_deadline_abort is False
    assert spec.paused is False
    assert spec.analysis.successful_run_history_limit == 5
    assert spec.analysis.unsuccessful_run_history_limit == 5


def test_canary_defaults_are_argos() -> None:
    strategy = canary()
    assert strategy is not None
    assert strategy.max_surge == "25"
    assert strategy.max_unavailable == "25"
    assert strategy.scale_down_delay_seconds == 30
    assert strategy.abort_scale_down_delay_seconds == 30
    assert strategy.dynamic_stable_scale is False
    assert strategy.steps == []
    assert strategy.traffic_routing is None


def test_blue_green_defaults_are_argos() -> None:
    strategy = blue_green()
    assert strategy is not None
    assert strategy.auto_promotion_enabled is True
    assert strategy.auto_promotion_seconds == 0
    assert strategy.scale_down_delay_seconds == 30
    assert strategy.abort_scale_down_delay_seconds == 30
    assert strategy.max_unavailable == "25"
    assert strategy.preview_service is None


def test_status_of_a_new_rollout_is_empty_but_readable() -> None:
    status = rollout().status
    assert status.phase is None
    assert status.current_step_index is None
    assert status.pause_conditions == []
    assert (status.replicas, status.available_replicas, status.hpa_replicas) == (0, 0, 0)
    assert status.abort is False and status.promote_full is False
    assert status.canary.weights is None


def test_defaults_are_not_written_back() -> None:
    assert Rollout.from_dict(MINIMAL).to_dict() == MINIMAL


def test_a_default_written_explicitly_is_kept() -> None:
    manifest = copy.deepcopy(MINIMAL)
    manifest["spec"]["replicas"] = 1
    manifest["spec"]["strategy"]["canary"]["maxSurge"] = "25"
    assert Rollout.from_dict(manifest).to_dict() == manifest


# --- durations and percentages -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "seconds"),
    [("5m", 300), ("1h30m", 5400), (30, 30), ("30", 30), ("1.5s", 1.5), ("250ms", 0.25)],
)
def test_pause_duration_is_read_as_argo_reads_it(written: str | int, seconds: float) -> None:
    step = canary(steps=[{"pause": {"duration": written}}]).steps[0]
    assert step.pause is not None
    assert step.pause.duration == written
    assert step.pause.duration_seconds == pytest.approx(seconds)


@pytest.mark.parametrize("written", ["5m", "1h30m", 30, "30"])
def test_pause_duration_is_written_back_as_it_was(written: str | int) -> None:
    manifest = copy.deepcopy(MINIMAL)
    manifest["spec"]["strategy"]["canary"]["steps"] = [{"pause": {"duration": written}}]
    assert Rollout.from_dict(manifest).to_dict() == manifest


def test_pause_without_duration_is_indefinite() -> None:
    step = canary(steps=[{"pause": {}}]).steps[0]
    assert step.pause is not None
    assert step.pause.duration_seconds is None


@pytest.mark.parametrize("written", ["5x", "-5s", "", "m5", True])
def test_malformed_pause_duration_is_rejected_at_its_path(written: object) -> None:
    manifest = copy.deepcopy(MINIMAL)
    manifest["spec"]["strategy"]["canary"]["steps"] = [{"setWeight": 5}, {"pause": {"duration": written}}]
    issues = ROLLOUT_KIND.check(manifest)
    assert issues
    assert {issue.path for issue in issues} == {"spec.strategy.canary.steps[1].pause.duration"}


def test_analysis_durations_in_experiment_steps_are_durations() -> None:
    step = canary(steps=[{"experiment": {"duration": "1h30m", "templates": []}}]).steps[0]
    assert step.experiment is not None
    assert step.experiment.duration is not None
    assert parse_duration(step.experiment.duration) == 5400


def test_a_string_without_percent_sign_is_a_percentage() -> None:
    strategy = canary(maxSurge="25", maxUnavailable=1)
    assert strategy is not None
    assert is_percent(strategy.max_surge)
    assert resolve_int_or_percent(strategy.max_surge, 10, round_up=True) == 3
    assert not is_percent(strategy.max_unavailable)
    assert resolve_int_or_percent(strategy.max_unavailable, 10, round_up=False) == 1


def test_default_max_surge_is_25_percent() -> None:
    strategy = canary()
    assert strategy is not None
    assert resolve_int_or_percent(strategy.max_surge, 8, round_up=True) == 2
    assert resolve_int_or_percent(strategy.max_unavailable, 8, round_up=False) == 2


@pytest.mark.parametrize("written", ["25%", "25", 3])
def test_max_surge_is_written_back_as_it_was(written: str | int) -> None:
    manifest = copy.deepcopy(MINIMAL)
    manifest["spec"]["strategy"]["canary"]["maxSurge"] = written
    assert Rollout.from_dict(manifest).to_dict() == manifest


@pytest.mark.parametrize("written", ["a quarter", "-5%", True, 2.5])
def test_malformed_max_surge_is_rejected_at_its_path(written: object) -> None:
    manifest = copy.deepcopy(MINIMAL)
    manifest["spec"]["strategy"]["canary"]["maxSurge"] = written
    assert {issue.path for issue in ROLLOUT_KIND.check(manifest)} == {"spec.strategy.canary.maxSurge"}


# --- wire names and types ------------------------------------------------------------------------


def test_status_fields_with_irregular_wire_names() -> None:
    manifest = copy.deepcopy(MINIMAL)
    manifest["status"] = {"HPAReplicas": 3, "stableRS": "6f9c7b5d4", "observedGeneration": "4"}
    parsed = Rollout.from_dict(manifest)
    assert parsed.status.hpa_replicas == 3
    assert parsed.status.stable_rs == "6f9c7b5d4"
    assert parsed.status.observed_generation == "4"
    assert parsed.to_dict() == manifest


def test_status_written_by_the_controller_uses_wire_names() -> None:
    parsed = rollout()
    parsed.status.hpa_replicas = 2
    parsed.status.stable_rs = "abc"
    parsed.status.current_step_index = 1
    status = parsed.status.model_dump(by_alias=True, exclude_defaults=True)
    assert status == {"HPAReplicas": 2, "stableRS": "abc", "currentStepIndex": 1}


def test_full_status_round_trips() -> None:
    manifest = copy.deepcopy(MINIMAL)
    manifest["status"] = {
        "phase": "Paused",
        "message": "CanaryPauseStep",
        "observedGeneration": "7",
        "currentPodHash": "7bf84f9696",
        "currentStepHash": "5f8fbdf7bb",
        "currentStepIndex": 1,
        "stableRS": "789746c88d",
        "pauseConditions": [{"reason": "CanaryPauseStep", "startTime": "2024-05-01T10:00:00Z"}],
        "controllerPause": True,
        "abort": False,
        "promoteFull": False,
        "collisionCount": 0,
        "replicas": 5,
        "updatedReplicas": 1,
        "readyReplicas": 5,
        "availableReplicas": 5,
        "HPAReplicas": 5,
        "selector": "app=demo",
        "canary": {
            "weights": {
                "canary": {"weight": 20, "serviceName": "demo-canary", "podTemplateHash": "7bf84f9696"},
                "stable": {"weight": 80, "serviceName": "demo-stable", "podTemplateHash": "789746c88d"},
                "verified": True,
            },
            "currentStepAnalysisRunStatus": {"name": "demo-7bf84f9696-2-1", "status": "Running"},
        },
        "blueGreen": {},
        "conditions": [
            {
                "type": "Progressing",
                "status": "True",
                "reason": "RolloutPaused",
                "message": "Rollout is paused",
                "lastUpdateTime": "2024-05-01T10:00:00Z",
                "lastTransitionTime": "2024-05-01T10:00:00Z",
            }
        ],
        "workloadObservedGeneration": "3",
    }
    parsed = Rollout.from_dict(manifest)
    assert parsed.status.canary.weights is not None
    assert parsed.status.canary.weights.canary.weight == 20
    assert parsed.status.pause_conditions[0].reason == "CanaryPauseStep"
    assert parsed.to_dict() == manifest


@pytest.mark.parametrize(
    ("field", "value"),
    [("replicas", "3"), ("replicas", 2.5), ("paused", "true"), ("progressDeadlineSeconds", True)],
)
def test_integers_and_booleans_are_strict(field: str, value: object) -> None:
    manifest = copy.deepcopy(MINIMAL)
    manifest["spec"][field] = value
    with pytest.raises(ValidationError) as error:
        Rollout.from_dict(manifest)
    assert error.value.errors()[0]["loc"] == ("spec", field)


def test_unknown_fields_are_kept() -> None:
    manifest = copy.deepcopy(MINIMAL)
    manifest["spec"]["futureField"] = {"x": 1}
    manifest["spec"]["strategy"]["canary"]["trafficRouting"] = {
        "nginx": {"stableIngress": "demo", "additionalIngressAnnotations": {"canary-by-header": "X"}},
        "someNewRouter": {"enabled": True},
    }
    assert Rollout.from_dict(manifest).to_dict() == manifest


def test_template_labels() -> None:
    assert rollout().spec.template_labels == {"app": "demo", "tier": "web"}
    assert rollout(template=None).spec.template_labels == {}
    assert rollout(template={"spec": {}}).spec.template_labels == {}


def test_step_actions_name_what_the_step_sets() -> None:
    assert CanaryStep.model_validate({"setWeight": 5}).actions == ["setWeight"]
    assert CanaryStep.model_validate({"setWeight": 5}).action == "setWeight"
    both = CanaryStep.model_validate({"pause": {}, "setWeight": 5})
    assert both.actions == ["setWeight", "pause"]
    assert both.action is None
    assert CanaryStep.model_validate({}).actions == []


def test_istio_virtual_services_in_either_spelling() -> None:
    single = canary(trafficRouting={"istio": {"virtualService": {"name": "a", "routes": ["primary"]}}})
    listed = canary(trafficRouting={"istio": {"virtualServices": [{"name": "a"}, {"name": "b"}]}})
    single_routing = single.traffic_routing
    listed_routing = listed.traffic_routing
    assert single_routing is not None and single_routing.istio is not None
    assert listed_routing is not None and listed_routing.istio is not None
    assert [vs.name for vs in single_routing.istio.all_virtual_services] == ["a"]
    assert [vs.name for vs in listed_routing.istio.all_virtual_services] == ["a", "b"]


# --- the kind ------------------------------------------------------------------------------------


def test_rollout_kind_matches_argos_crd() -> None:
    assert KINDS == (ROLLOUT_KIND, EXPERIMENT_KIND)
    kind: KindSpec = ROLLOUT_KIND
    assert (kind.kind, kind.plural, kind.api_version) == ("Rollout", "rollouts", "argoproj.io/v1alpha1")
    assert tuple(kind.short_names) == ("ro",)
    assert tuple(kind.categories) == ()
    assert [(c.name, c.json_path, c.type) for c in kind.printer_columns] == [
        ("Desired", ".spec.replicas", "integer"),
        ("Current", ".status.replicas", "integer"),
        ("Up-to-date", ".status.updatedReplicas", "integer"),
        ("Available", ".status.availableReplicas", "integer"),
        ("Age", ".metadata.creationTimestamp", "date"),
    ]
    assert kind.scale is not None
    assert (
        kind.scale.spec_replicas_path,
        kind.scale.status_replicas_path,
        kind.scale.label_selector_path,
    ) == (
        ".spec.replicas",
        ".status.HPAReplicas",
        ".status.selector",
    )


# --- every Rollout of the corpus -----------------------------------------------------------------


def _corpus_rollouts() -> list[Any]:
    missing = corpus_missing_reason()
    if missing is not None:
        return [pytest.param(None, marks=pytest.mark.skip(reason=missing), id="no-corpus")]
    root = corpus_dir()
    cases = []
    for document in load_manifests([root / "seeds", root / "argo-rollouts"]):
        manifest = document.manifest
        if manifest is not None and manifest["kind"] == "Rollout":
            name = f"{Path(document.path).relative_to(root)}#{document.doc_index}"
            cases.append(pytest.param(manifest, id=name))
    return cases


def _unmodelled_fields(model: object, path: str = "") -> list[str]:
    """Fields that landed in `extra`: in corpus manifests that means a wire name the model spells wrong."""
    if isinstance(model, list):
        return [
            found
            for index, item in enumerate(model)
            for found in _unmodelled_fields(item, f"{path}[{index}]")
        ]
    if not isinstance(model, BaseModel):
        return []
    found = [f"{path}.{name}" for name in model.model_extra or {}]
    for name in model.model_fields_set & set(type(model).model_fields):
        found += _unmodelled_fields(getattr(model, name), f"{path}.{name}")
    return found


@pytest.mark.parametrize("manifest", _corpus_rollouts())
def test_corpus_rollout_round_trips(manifest: dict[str, Any]) -> None:
    assert Rollout.from_dict(manifest).to_dict() == manifest


@pytest.mark.parametrize("manifest", _corpus_rollouts())
def test_corpus_rollout_fields_are_all_modelled(manifest: dict[str, Any]) -> None:
    assert _unmodelled_fields(Rollout.from_dict(manifest)) == []


# --- properties ----------------------------------------------------------------------------------

_durations = st.one_of(
    st.integers(min_value=0, max_value=10**6),
    st.integers(min_value=0, max_value=10**4).map(str),
    st.tuples(st.integers(min_value=0, max_value=999), st.sampled_from(["ms", "s", "m", "h"])).map(
        lambda parts: f"{parts[0]}{parts[1]}"
    ),
)
_steps: st.SearchStrategy[list[dict[str, Any]]] = st.lists(
    st.one_of(
        st.integers(min_value=0, max_value=100).map(lambda weight: {"setWeight": weight}),
        _durations.map(lambda duration: {"pause": {"duration": duration}}),
        st.just({"pause": {}}),
        st.integers(min_value=0, max_value=100).map(lambda weight: {"setCanaryScale": {"weight": weight}}),
    ),
    max_size=8,
)
_int_or_percent = st.one_of(
    st.integers(min_value=0, max_value=50), st.integers(min_value=0, max_value=100).map(lambda p: f"{p}%")
)


@given(
    steps=_steps, max_surge=_int_or_percent, extra=st.dictionaries(st.sampled_from(["x-a", "x-b"]), st.text())
)
def test_any_canary_round_trips(
    steps: list[dict[str, Any]], max_surge: int | str, extra: dict[str, str]
) -> None:
    manifest = copy.deepcopy(MINIMAL)
    manifest["spec"]["strategy"]["canary"] = {"steps": steps, "maxSurge": max_surge, **extra}
    assert Rollout.from_dict(manifest).to_dict() == manifest
