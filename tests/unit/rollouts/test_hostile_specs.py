"""Rollouts that Argo refuses and that once slipped through (issue #15 item 5): int32 fields beyond 2^31 - 1,
durations beyond Go's range, a spec that is not an object. Each is an InvalidSpec naming the field, not an
exception and not a value written on."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from rollouts.controller.metrics import ControllerMetrics
from rollouts.kinds import ROLLOUT_KIND
from rollouts.reconcile import decide
from rollouts.snapshot import referenced_objects
from tests.unit.rollouts.builders import rollout, snapshot
from tests.unit.rollouts.test_validation import VALID_BLUE_GREEN, VALID_CANARY

INT32_MAX = 2**31 - 1  # Argo's fields are Go int32: the API server's schema says format int32

CANARY_INT32_FIELDS = [
    ("spec", "replicas"),
    ("spec", "minReadySeconds"),
    ("spec", "revisionHistoryLimit"),
    ("spec", "progressDeadlineSeconds"),
    ("spec.strategy.canary", "scaleDownDelaySeconds"),
    ("spec.strategy.canary", "abortScaleDownDelaySeconds"),
    ("spec.strategy.canary", "minPodsPerReplicaSet"),
    ("spec.strategy.canary.steps[0]", "setWeight"),
    ("spec.strategy.canary.steps[5].setCanaryScale", "replicas"),
    ("spec.strategy.canary.trafficRouting", "maxTrafficWeight"),
    ("spec.analysis", "successfulRunHistoryLimit"),
]
BLUE_GREEN_INT32_FIELDS = [
    ("spec.strategy.blueGreen", "previewReplicaCount"),
    ("spec.strategy.blueGreen", "autoPromotionSeconds"),
    ("spec.strategy.blueGreen", "scaleDownDelayRevisionLimit"),
]


def _container_at(manifest: dict[str, Any], path: str) -> dict[str, Any]:
    node: Any = manifest
    for part in path.replace("]", "").replace("[", ".").split("."):
        node = node[int(part)] if part.isdigit() else node.setdefault(part, {})
    assert isinstance(node, dict)
    return node


def _with(base: dict[str, Any], path: str, name: str, value: object) -> dict[str, Any]:
    manifest = copy.deepcopy(base)
    container = _container_at(manifest, path)
    if path.endswith("setCanaryScale"):
        container.pop("weight", None)  # one of weight and replicas
    container[name] = value
    return manifest


def _issues(manifest: dict[str, Any]) -> list[str]:
    return [str(issue) for issue in ROLLOUT_KIND.check(manifest)]


@pytest.mark.parametrize(
    ("base", "path", "name"),
    [(VALID_CANARY, *field) for field in CANARY_INT32_FIELDS]
    + [(VALID_BLUE_GREEN, *field) for field in BLUE_GREEN_INT32_FIELDS],
    ids=[f"{path}.{name}" for path, name in CANARY_INT32_FIELDS + BLUE_GREEN_INT32_FIELDS],
)
def test_an_int32_field_beyond_2_to_the_31_is_refused_naming_the_field(
    base: dict[str, Any], path: str, name: str
) -> None:
    issues = _issues(_with(base, path, name, INT32_MAX + 1))
    assert f"{path}.{name}: must be at most {INT32_MAX} (a 32-bit integer), got {INT32_MAX + 1}" in issues


def test_the_largest_int32_replicas_is_not_refused_for_its_size() -> None:
    issues = _issues(_with(VALID_CANARY, "spec", "replicas", INT32_MAX))
    assert not [issue for issue in issues if "32-bit" in issue]


def test_the_smallest_int32_is_the_lower_bound() -> None:
    issues = _issues(_with(VALID_CANARY, "spec", "minReadySeconds", -(2**31) - 1))
    assert f"spec.minReadySeconds: must be at least {-(2**31)} (a 32-bit integer), got {-(2**31) - 1}" in issues


def test_replicas_beyond_int32_make_an_invalid_spec_and_no_write() -> None:
    manifest = rollout()
    manifest["spec"]["replicas"] = INT32_MAX + 1
    plan = decide(snapshot(manifest))
    assert plan.writes == ()
    assert plan.status["message"].startswith("InvalidSpec: spec.replicas: must be at most 2147483647")


def test_a_pause_beyond_gos_duration_range_is_an_invalid_spec() -> None:
    manifest = rollout()
    manifest["spec"]["strategy"]["canary"]["steps"] = [{"setWeight": 20}, {"pause": {"duration": "2562048h"}}]
    plan = decide(snapshot(manifest))
    assert plan.writes == ()
    assert "spec.strategy.canary.steps[1].pause.duration" in plan.status["message"]
    assert "Go's largest duration" in plan.status["message"]


@pytest.mark.parametrize("spec", [[1, 2], "spec", 7, None, {"strategy": [1]}, {"strategy": {"canary": "x"}}])
def test_a_spec_that_is_not_an_object_is_an_invalid_spec_not_an_exception(spec: object) -> None:
    manifest = rollout()
    manifest["spec"] = spec
    plan = decide(snapshot(manifest))
    assert plan.writes == ()
    assert plan.status["message"].startswith("InvalidSpec: spec")


@pytest.mark.parametrize(
    "spec",
    [
        [1, 2],
        "spec",
        {"strategy": [1]},
        {"strategy": {"canary": [1]}},
        {"strategy": {"canary": {"trafficRouting": "x"}}},
    ],
)
def test_the_objects_an_ill_formed_spec_names_are_none_rather_than_an_exception(spec: object) -> None:
    manifest = rollout()
    manifest["spec"] = spec
    references = referenced_objects(manifest)
    assert references.services == () and references.virtual_services == ()


@pytest.mark.parametrize("spec", [[1, 2], "spec", {"strategy": [1]}, {"strategy": {"canary": {"trafficRouting": 3}}}])
def test_an_ill_formed_spec_is_still_observed_in_the_metrics(spec: object) -> None:
    metrics = ControllerMetrics()
    metrics.observe_rollout({"metadata": {"namespace": "shop", "name": "reviews"}, "spec": spec}, {})
    assert metrics.registry.get_sample_value(
        "rollout_info_replicas_desired", {"namespace": "shop", "name": "reviews"}
    ) == 1.0  # Argo's default when spec.replicas is not there to read
