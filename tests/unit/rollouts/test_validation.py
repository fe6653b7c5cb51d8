"""Rollout validation, table-driven: each case is a valid Rollout with one thing broken (a JSON merge patch),
the field path the finding must name, and a fragment of its message."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kube.issues import FieldIssue
from rollouts.kinds import ROLLOUT_KIND
from rollouts.models import Rollout
from rollouts.validation import validate_rollout

CANARY = "spec.strategy.canary"
BLUE_GREEN = "spec.strategy.blueGreen"
ISTIO = "spec.strategy.canary.trafficRouting.istio"

VALID_CANARY: dict[str, Any] = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "Rollout",
    "metadata": {"name": "reviews"},
    "spec": {
        "replicas": 4,
        "selector": {"matchLabels": {"app": "reviews"}},
        "template": {
            "metadata": {"labels": {"app": "reviews"}},
            "spec": {"containers": [{"name": "reviews", "image": "reviews:v2"}]},
        },
        "strategy": {
            "canary": {
                "canaryService": "reviews-canary",
                "stableService": "reviews-stable",
                "trafficRouting": {
                    "managedRoutes": [{"name": "header-route"}, {"name": "mirror-route"}],
                    "istio": {"virtualService": {"name": "reviews", "routes": ["primary"]}},
                },
                "steps": [
                    {"setWeight": 10},
                    {"pause": {"duration": "5m"}},
                    {"analysis": {"templates": [{"templateName": "success-rate"}]}},
                    {
                        "setHeaderRoute": {
                            "name": "header-route",
                            "match": [
                                {"headerName": "agent", "headerValue": {"regex": "firefox(.*)"}},
                            ],
                        }
                    },
                    {"setMirrorRoute": {"name": "mirror-route", "percentage": 50}},
                    {"setCanaryScale": {"weight": 50}},
                    {"pause": {}},
                ],
                "analysis": {"templates": [{"templateName": "success-rate"}], "startingStep": 2},
            }
        },
    },
}

VALID_BLUE_GREEN: dict[str, Any] = {
    **VALID_CANARY,
    "spec": {
        **VALID_CANARY["spec"],
        "strategy": {
            "blueGreen": {
                "activeService": "reviews-active",
                "previewService": "reviews-preview",
                "prePromotionAnalysis": {"templates": [{"templateName": "smoke-test"}]},
            }
        },
    },
}


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: mappings merge, None deletes, anything else (lists included) replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def canary_patch(**fields: Any) -> dict[str, Any]:
    return {"spec": {"strategy": {"canary": fields}}}


def blue_green_patch(**fields: Any) -> dict[str, Any]:
    return {"spec": {"strategy": {"blueGreen": fields}}}


def issues_of(manifest: dict[str, Any]) -> list[FieldIssue]:
    return ROLLOUT_KIND.check(manifest)


@dataclass(frozen=True)
class Case:
    name: str
    base: dict[str, Any]
    patch: dict[str, Any]
    path: str
    fragment: str


CASES = [
    # exactly one strategy
    Case(
        "no strategy", VALID_CANARY, {"spec": {"strategy": {"canary": None}}}, "spec.strategy", "found none"
    ),
    Case(
        "both strategies",
        VALID_CANARY,
        {"spec": {"strategy": {"blueGreen": {"activeService": "a"}}}},
        "spec.strategy",
        "exactly one of canary, blueGreen; found canary and blueGreen",
    ),
    # one action per step
    Case(
        "step with two actions",
        VALID_CANARY,
        canary_patch(steps=[{"setWeight": 10}, {"pause": {}}, {"setWeight": 20, "pause": {}}]),
        f"{CANARY}.steps[2]",
        "a step must set exactly one of setWeight, pause, analysis, experiment, setCanaryScale, "
        "setHeaderRoute, setMirrorRoute, plugin; found setWeight and pause",
    ),
    Case("step with no action", VALID_CANARY, canary_patch(steps=[{}]), f"{CANARY}.steps[0]", "found none"),
    # weights
    Case(
        "setWeight above 100",
        VALID_CANARY,
        canary_patch(steps=[{"setWeight": 120}]),
        f"{CANARY}.steps[0].setWeight",
        "between 0 and 100, got 120",
    ),
    Case(
        "negative setWeight",
        VALID_CANARY,
        canary_patch(steps=[{"setWeight": 10}, {"setWeight": -5}]),
        f"{CANARY}.steps[1].setWeight",
        "between 0 and 100",
    ),
    Case(
        "setCanaryScale with two choices",
        VALID_CANARY,
        canary_patch(steps=[{"setCanaryScale": {"weight": 10, "replicas": 2}}]),
        f"{CANARY}.steps[0].setCanaryScale",
        "exactly one of weight, replicas, matchTrafficWeight; found weight and replicas",
    ),
    Case(
        "setCanaryScale with no choice",
        VALID_CANARY,
        canary_patch(steps=[{"setCanaryScale": {}}]),
        f"{CANARY}.steps[0].setCanaryScale",
        "found none",
    ),
    Case(
        "setCanaryScale weight above 100",
        VALID_CANARY,
        canary_patch(steps=[{"setCanaryScale": {"weight": 150}}]),
        f"{CANARY}.steps[0].setCanaryScale.weight",
        "between 0 and 100, got 150",
    ),
    Case(
        "setCanaryScale without traffic routing",
        VALID_CANARY,
        canary_patch(trafficRouting=None, steps=[{"setCanaryScale": {"replicas": 1}}]),
        f"{CANARY}.steps[0].setCanaryScale",
        "requires trafficRouting",
    ),
    # pause durations
    Case(
        "pause duration that does not parse",
        VALID_CANARY,
        canary_patch(steps=[{"setWeight": 10}, {"pause": {"duration": "5 minutes"}}]),
        f"{CANARY}.steps[1].pause.duration",
        "invalid duration '5 minutes'",
    ),
    Case(
        "negative pause duration",
        VALID_CANARY,
        canary_patch(steps=[{"pause": {"duration": -10}}]),
        f"{CANARY}.steps[0].pause.duration",
        "must not be negative",
    ),
    # Istio
    Case(
        "Istio host-level routing without canaryService",
        VALID_CANARY,
        canary_patch(canaryService=None),
        f"{CANARY}.canaryService",
        "required for Istio host-level routing",
    ),
    Case(
        "Istio host-level routing without stableService",
        VALID_CANARY,
        canary_patch(stableService=None),
        f"{CANARY}.stableService",
        "required for Istio host-level routing",
    ),
    Case(
        "canaryService same as stableService",
        VALID_CANARY,
        canary_patch(canaryService="reviews-stable"),
        f"{CANARY}.stableService",
        "must differ from canaryService",
    ),
    Case(
        "virtualService and virtualServices together",
        VALID_CANARY,
        canary_patch(trafficRouting={"istio": {"virtualServices": [{"name": "other"}]}}),
        ISTIO,
        "either virtualService or virtualServices, not both",
    ),
    Case(
        "Istio without a VirtualService",
        VALID_CANARY,
        canary_patch(trafficRouting={"istio": {"virtualService": None}}),
        ISTIO,
        "must name a VirtualService",
    ),
    Case(
        "virtualServices entry without a name",
        VALID_CANARY,
        canary_patch(
            trafficRouting={
                "istio": {"virtualService": None, "virtualServices": [{"name": "a"}, {"routes": ["primary"]}]}
            }
        ),
        f"{ISTIO}.virtualServices[1].name",
        "must name a VirtualService",
    ),
    Case(
        "virtualService without a name",
        VALID_CANARY,
        canary_patch(trafficRouting={"istio": {"virtualService": {"name": ""}}}),
        f"{ISTIO}.virtualService.name",
        "must name a VirtualService",
    ),
    Case(
        "destinationRule without canarySubsetName",
        VALID_CANARY,
        canary_patch(
            trafficRouting={"istio": {"destinationRule": {"name": "dr", "stableSubsetName": "stable"}}}
        ),
        f"{ISTIO}.destinationRule.canarySubsetName",
        "is required",
    ),
    # blue-green
    Case(
        "blueGreen without activeService",
        VALID_BLUE_GREEN,
        blue_green_patch(activeService=None),
        f"{BLUE_GREEN}.activeService",
        "is required",
    ),
    Case(
        "previewService same as activeService",
        VALID_BLUE_GREEN,
        blue_green_patch(previewService="reviews-active"),
        f"{BLUE_GREEN}.previewService",
        "must differ from activeService",
    ),
    Case(
        "blueGreen pre-promotion analysis without templates",
        VALID_BLUE_GREEN,
        blue_green_patch(prePromotionAnalysis={"templates": []}),
        f"{BLUE_GREEN}.prePromotionAnalysis.templates",
        "at least one analysis template",
    ),
    Case(
        "negative blueGreen scaleDownDelaySeconds",
        VALID_BLUE_GREEN,
        blue_green_patch(scaleDownDelaySeconds=-1),
        f"{BLUE_GREEN}.scaleDownDelaySeconds",
        "must not be negative",
    ),
    Case(
        "negative blueGreen abortScaleDownDelaySeconds",
        VALID_BLUE_GREEN,
        blue_green_patch(abortScaleDownDelaySeconds=-30),
        f"{BLUE_GREEN}.abortScaleDownDelaySeconds",
        "must not be negative",
    ),
    # selector and template
    Case(
        "no selector",
        VALID_CANARY,
        {"spec": {"selector": None}},
        "spec.selector",
        "is required",
    ),
    Case(
        "selector that misses the template",
        VALID_CANARY,
        {"spec": {"selector": {"matchLabels": {"app": "ratings"}}}},
        "spec.selector",
        "selector does not match template labels",
    ),
    Case(
        "selector expression that misses the template",
        VALID_CANARY,
        {"spec": {"selector": {"matchExpressions": [{"key": "tier", "operator": "Exists"}]}}},
        "spec.selector",
        "selector does not match template labels",
    ),
    Case(
        "empty selector",
        VALID_CANARY,
        {"spec": {"selector": {"matchLabels": {"app": None}}}},
        "spec.selector",
        "empty",
    ),
    Case(
        "neither template nor workloadRef",
        VALID_CANARY,
        {"spec": {"template": None}},
        "spec.template",
        "must set template or workloadRef",
    ),
    Case(
        "template and workloadRef together",
        VALID_CANARY,
        {"spec": {"workloadRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "reviews"}}},
        "spec.template",
        "must be empty when workloadRef is set",
    ),
    Case(
        "workloadRef without a name",
        VALID_CANARY,
        {"spec": {"template": None, "workloadRef": {"apiVersion": "apps/v1", "kind": "Deployment"}}},
        "spec.workloadRef.name",
        "is required",
    ),
    # scaling
    Case(
        "negative replicas", VALID_CANARY, {"spec": {"replicas": -1}}, "spec.replicas", "must not be negative"
    ),
    Case(
        "replicas as a string",
        VALID_CANARY,
        {"spec": {"replicas": "3"}},
        "spec.replicas",
        "valid integer",
    ),
    Case(
        "progress deadline not above minReadySeconds",
        VALID_CANARY,
        {"spec": {"minReadySeconds": 30, "progressDeadlineSeconds": 30}},
        "spec.progressDeadlineSeconds",
        "must be greater than minReadySeconds (30 <= 30)",
    ),
    Case(
        "minReadySeconds beyond the default deadline",
        VALID_CANARY,
        {"spec": {"minReadySeconds": 900}},
        "spec.progressDeadlineSeconds",
        "(600 <= 900)",
    ),
    Case(
        "maxSurge and maxUnavailable both zero",
        VALID_CANARY,
        canary_patch(maxSurge=0, maxUnavailable="0%"),
        f"{CANARY}.maxSurge",
        "must not both be 0",
    ),
    Case(
        "dynamicStableScale without traffic routing",
        VALID_CANARY,
        canary_patch(trafficRouting=None, steps=[{"setWeight": 50}], dynamicStableScale=True),
        f"{CANARY}.dynamicStableScale",
        "can only be used with trafficRouting",
    ),
    Case(
        "dynamicStableScale with scaleDownDelaySeconds",
        VALID_CANARY,
        canary_patch(dynamicStableScale=True, scaleDownDelaySeconds=30),
        f"{CANARY}.dynamicStableScale",
        "cannot be used with scaleDownDelaySeconds",
    ),
    Case(
        "scaleDownDelaySeconds without traffic routing",
        VALID_CANARY,
        canary_patch(trafficRouting=None, steps=[{"setWeight": 50}], scaleDownDelaySeconds=60),
        f"{CANARY}.scaleDownDelaySeconds",
        "can only be used with trafficRouting",
    ),
    Case(
        "negative scaleDownDelaySeconds",
        VALID_CANARY,
        canary_patch(scaleDownDelaySeconds=-1),
        f"{CANARY}.scaleDownDelaySeconds",
        "must not be negative, got -1",
    ),
    Case(
        "negative abortScaleDownDelaySeconds",
        VALID_CANARY,
        canary_patch(abortScaleDownDelaySeconds=-1),
        f"{CANARY}.abortScaleDownDelaySeconds",
        "must not be negative",
    ),
    # managed routes
    Case(
        "setHeaderRoute naming an undeclared route",
        VALID_CANARY,
        canary_patch(steps=[{"setWeight": 10}, {"setHeaderRoute": {"name": "canary-by-header"}}]),
        f"{CANARY}.steps[1].setHeaderRoute.name",
        "no route named 'canary-by-header' in spec.strategy.canary.trafficRouting.managedRoutes",
    ),
    Case(
        "setMirrorRoute without managedRoutes",
        VALID_CANARY,
        canary_patch(
            trafficRouting={"managedRoutes": None},
            steps=[{"setMirrorRoute": {"name": "mirror-route", "percentage": 10}}],
        ),
        f"{CANARY}.steps[0].setMirrorRoute.name",
        "no route named 'mirror-route'",
    ),
    Case(
        "setHeaderRoute without traffic routing",
        VALID_CANARY,
        canary_patch(trafficRouting=None, steps=[{"setHeaderRoute": {"name": "header-route"}}]),
        f"{CANARY}.steps[0].setHeaderRoute",
        "requires trafficRouting",
    ),
    Case(
        "header match with two kinds of value",
        VALID_CANARY,
        canary_patch(
            steps=[
                {
                    "setHeaderRoute": {
                        "name": "header-route",
                        "match": [{"headerName": "agent", "headerValue": {"exact": "a", "prefix": "b"}}],
                    }
                }
            ]
        ),
        f"{CANARY}.steps[0].setHeaderRoute.match[0].headerValue",
        "found exact and prefix",
    ),
    # analysis
    Case(
        "analysis step without templates",
        VALID_CANARY,
        canary_patch(steps=[{"setWeight": 10}, {"analysis": {"templates": []}}]),
        f"{CANARY}.steps[1].analysis.templates",
        "at least one analysis template",
    ),
    Case(
        "analysis template reference without a name",
        VALID_CANARY,
        canary_patch(steps=[{"analysis": {"templates": [{"clusterScope": True}]}}]),
        f"{CANARY}.steps[0].analysis.templates[0].templateName",
        "is required",
    ),
    Case(
        "background analysis without templates",
        VALID_CANARY,
        canary_patch(analysis={"templates": []}),
        f"{CANARY}.analysis.templates",
        "at least one analysis template",
    ),
    Case(
        "argument with two sources",
        VALID_CANARY,
        canary_patch(
            steps=[
                {
                    "analysis": {
                        "templates": [{"templateName": "t"}],
                        "args": [
                            {
                                "name": "hash",
                                "valueFrom": {
                                    "podTemplateHashValue": "Latest",
                                    "fieldRef": {"fieldPath": "metadata.name"},
                                },
                            }
                        ],
                    }
                }
            ]
        ),
        f"{CANARY}.steps[0].analysis.args[0].valueFrom",
        "found podTemplateHashValue and fieldRef",
    ),
    # Argo's experiment step: specRef is canary or stable; a weighted template needs trafficRouting.
    Case(
        "experiment template with an unknown specRef",
        VALID_CANARY,
        canary_patch(steps=[{"experiment": {"templates": [{"name": "t", "specRef": "preview"}]}}]),
        f"{CANARY}.steps[0].experiment.templates[0].specRef",
        "must be canary or stable",
    ),
    Case(
        "experiment template weight without traffic routing",
        VALID_CANARY,
        canary_patch(
            trafficRouting=None,
            steps=[{"experiment": {"templates": [{"name": "t", "specRef": "canary", "weight": 10}]}}],
        ),
        f"{CANARY}.steps[0].experiment.templates[0].weight",
        "requires trafficRouting",
    ),
    # Argo's pingPong rules (pkg/apis/rollouts/validation): both Services set, two different ones, and a router
    # that weighs them (ALB or Istio).
    Case(
        "pingPong with an empty pingService",
        VALID_CANARY,
        canary_patch(canaryService=None, stableService=None, pingPong={"pingService": "", "pongService": "pong"}),
        f"{CANARY}.pingPong.pingService",
        "pingPong needs both the ping and the pong Service",
    ),
    Case(
        "pingPong with an empty pongService",
        VALID_CANARY,
        canary_patch(canaryService=None, stableService=None, pingPong={"pingService": "ping", "pongService": ""}),
        f"{CANARY}.pingPong.pongService",
        "pingPong needs both the ping and the pong Service",
    ),
    Case(
        "pingPong without a pongService",
        VALID_CANARY,
        canary_patch(canaryService=None, stableService=None, pingPong={"pingService": "ping"}),
        f"{CANARY}.pingPong.pongService",
        "Field required",
    ),
    Case(
        "pingPong naming one Service twice",
        VALID_CANARY,
        canary_patch(canaryService=None, stableService=None, pingPong={"pingService": "web", "pongService": "web"}),
        f"{CANARY}.pingPong.pingService",
        "must be two different Services (both are 'web')",
    ),
    Case(
        "pingPong with a router other than ALB or Istio",
        VALID_CANARY,
        canary_patch(
            pingPong={"pingService": "ping", "pongService": "pong"},
            trafficRouting={"istio": None, "nginx": {"stableIngress": "reviews"}},
        ),
        f"{CANARY}.pingPong",
        "works with the ALB and Istio traffic routers only",
    ),
    Case(
        "anti-affinity with both modes",
        VALID_CANARY,
        canary_patch(
            antiAffinity={
                "preferredDuringSchedulingIgnoredDuringExecution": {"weight": 50},
                "requiredDuringSchedulingIgnoredDuringExecution": {},
            }
        ),
        f"{CANARY}.antiAffinity",
        "must set exactly one of",
    ),
    # Argo's templateref.go follows Deployments, ReplicaSets and PodTemplates, nothing else.
    Case(
        "workloadRef to a kind Argo does not follow",
        VALID_CANARY,
        {"spec": {"template": None, "workloadRef": {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "x"}}},
        "spec.workloadRef.kind",
        "StatefulSet is not supported (Deployment, ReplicaSet or PodTemplate)",
    ),
    Case(
        "workloadRef to a PodTemplate of another group",
        VALID_CANARY,
        {"spec": {"template": None, "workloadRef": {"apiVersion": "apps/v1", "kind": "PodTemplate", "name": "x"}}},
        "spec.workloadRef.apiVersion",
        "must be v1 for a PodTemplate, got apps/v1",
    ),
    Case(
        "workloadRef to a ReplicaSet with a scaleDown (only a Deployment is scaled down)",
        VALID_CANARY,
        {
            "spec": {
                "template": None,
                "workloadRef": {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "x", "scaleDown": "onsuccess"},
            }
        },
        "spec.workloadRef.scaleDown",
        "only a Deployment is scaled down",
    ),
]


def test_the_valid_examples_are_valid() -> None:
    assert issues_of(VALID_CANARY) == []
    assert issues_of(VALID_BLUE_GREEN) == []


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_invalid_rollout_is_reported_at_the_field(case: Case) -> None:
    issues = issues_of(merge_patch(case.base, case.patch))
    matching = [issue for issue in issues if issue.path == case.path]
    assert matching, f"no issue at {case.path}; found {[str(issue) for issue in issues]}"
    assert any(case.fragment in issue.message for issue in matching), [str(issue) for issue in matching]


# --- what must stay valid ------------------------------------------------------------------------

VALID_VARIANTS = {
    "subset-level Istio routing needs no Services": canary_patch(
        canaryService=None,
        stableService=None,
        trafficRouting={
            "istio": {
                "destinationRule": {
                    "name": "reviews",
                    "canarySubsetName": "canary",
                    "stableSubsetName": "stable",
                }
            }
        },
    ),
    "rolling update without steps": canary_patch(trafficRouting=None, steps=None, analysis=None),
    # Argo requires no canaryService or stableService with pingPong: Istio weighs the ping and pong hosts.
    "pingPong with Istio host-level routing needs no canary or stable Service": canary_patch(
        canaryService=None, stableService=None, pingPong={"pingService": "reviews-ping", "pongService": "reviews-pong"}
    ),
    "pingPong with Istio subset-level routing": canary_patch(
        canaryService=None,
        stableService=None,
        pingPong={"pingService": "reviews-ping", "pongService": "reviews-pong"},
        trafficRouting={
            "istio": {
                "destinationRule": {"name": "reviews", "canarySubsetName": "canary", "stableSubsetName": "stable"}
            }
        },
    ),
    # Argo accepts pingPong without a router: the two Services still take turns, replicas do the split.
    "pingPong without traffic routing": canary_patch(
        canaryService=None,
        stableService=None,
        trafficRouting=None,
        steps=[{"setWeight": 20}],
        analysis=None,
        pingPong={"pingService": "reviews-ping", "pongService": "reviews-pong"},
    ),
    "workloadRef without selector or template": {
        "spec": {
            "selector": None,
            "template": None,
            "workloadRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "reviews"},
        }
    },
    "setHeaderRoute without match removes the route": canary_patch(
        steps=[{"setHeaderRoute": {"name": "header-route"}}], analysis=None
    ),
    "setWeight 0 and 100": canary_patch(steps=[{"setWeight": 0}, {"setWeight": 100}], analysis=None),
    "dynamicStableScale with traffic routing": canary_patch(dynamicStableScale=True),
    "maxSurge zero with maxUnavailable one": canary_patch(maxSurge=0, maxUnavailable=1),
    "indefinite pause and zero pause": canary_patch(
        steps=[{"pause": {}}, {"pause": {"duration": 0}}], analysis=None
    ),
    "background analysis from the last step": canary_patch(analysis={"startingStep": 6}),
    # Argo validates no startingStep: equal to the number of steps (7) starts the run once the steps are done.
    "background analysis once every step is done": canary_patch(analysis={"startingStep": 7}),
    "background analysis starting beyond the steps": canary_patch(analysis={"startingStep": 12}),
    "replicas zero": {"spec": {"replicas": 0}},
    "blueGreen without a preview Service": blue_green_patch(previewService=None),
}


@pytest.mark.parametrize("patch", VALID_VARIANTS.values(), ids=list(VALID_VARIANTS))
def test_valid_variant_has_no_issues(patch: dict[str, Any]) -> None:
    base = VALID_BLUE_GREEN if "blueGreen" in patch.get("spec", {}).get("strategy", {}) else VALID_CANARY
    assert issues_of(merge_patch(base, patch)) == []


def test_validate_rollout_takes_a_parsed_rollout() -> None:
    parsed = Rollout.from_dict(merge_patch(VALID_CANARY, {"spec": {"replicas": -2}}))
    assert validate_rollout(parsed) == [FieldIssue("spec.replicas", "must not be negative, got -2")]


def test_every_problem_is_reported_not_just_the_first() -> None:
    manifest = merge_patch(
        merge_patch(VALID_CANARY, {"spec": {"replicas": -1, "selector": {"matchLabels": {"app": "x"}}}}),
        canary_patch(steps=[{"setWeight": 101}, {}]),
    )
    paths = {issue.path for issue in issues_of(manifest)}
    assert {"spec.replicas", "spec.selector", f"{CANARY}.steps[0].setWeight", f"{CANARY}.steps[1]"} <= paths


@given(weights=st.lists(st.integers(min_value=-1000, max_value=1000), min_size=1, max_size=6))
def test_set_weight_is_flagged_exactly_when_outside_0_to_100(weights: list[int]) -> None:
    manifest = merge_patch(
        VALID_CANARY, canary_patch(steps=[{"setWeight": weight} for weight in weights], analysis=None)
    )
    flagged = {issue.path for issue in issues_of(manifest)}
    expected = {
        f"{CANARY}.steps[{index}].setWeight" for index, weight in enumerate(weights) if not 0 <= weight <= 100
    }
    assert flagged == expected
