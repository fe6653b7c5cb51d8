"""Which router a Rollout's trafficRouting names, and what validation says about routers and managed-route steps
this project cannot carry out (InvalidSpec naming the field, never a silent no-op)."""

from __future__ import annotations

from typing import Any

import pytest

from rollouts.models import Rollout, TrafficRouting
from rollouts.traffic.gateway_api import GatewayApiRouter
from rollouts.traffic.istio_router import IstioRouter
from rollouts.traffic.nginx import NginxRouter
from rollouts.traffic.registry import router_for
from rollouts.validation import validate_rollout
from tests.unit.rollouts.test_gateway_api_router import manifest as gateway_manifest

HEADER_STEP = {"setHeaderRoute": {"name": "beta", "match": [{"headerName": "x", "headerValue": {"exact": "1"}}]}}
GATEWAY = "spec.strategy.canary.trafficRouting.plugins.argoproj-labs/gatewayAPI"
MIRROR_STEP = {"setMirrorRoute": {"name": "beta", "match": [{"method": {"exact": "GET"}}]}}
WEIGHTED_EXPERIMENT_STEP = {
    "experiment": {
        "templates": [{"name": "base", "specRef": "stable"}, {"name": "try", "specRef": "canary", "weight": 5}]
    }
}


@pytest.mark.parametrize(
    ("routing", "router"),
    [
        ({"istio": {"virtualService": {"name": "vs"}}}, IstioRouter),
        ({"nginx": {"stableIngress": "web"}}, NginxRouter),
        ({"plugins": {"argoproj-labs/gatewayAPI": {"httpRoute": "web"}}}, GatewayApiRouter),
    ],
)
def test_each_supported_router_is_chosen_by_its_field(routing: dict[str, Any], router: type) -> None:
    choice = router_for(TrafficRouting.model_validate(routing))
    assert isinstance(choice.router, router)


def issues_of(routing: dict[str, Any], step: dict[str, Any]) -> list[str]:
    manifest = gateway_manifest({"httpRoute": "web"})
    canary = manifest["spec"]["strategy"]["canary"]
    canary["trafficRouting"] = {**routing, "managedRoutes": [{"name": "beta"}]}
    canary["steps"] = [step]
    return [str(issue) for issue in validate_rollout(Rollout.model_validate(manifest))]


@pytest.mark.parametrize(
    ("routing", "step", "expected"),
    [
        (
            {"nginx": {"stableIngress": "web"}},
            MIRROR_STEP,
            "spec.strategy.canary.steps[0].setMirrorRoute: is not supported by trafficRouting.nginx",
        ),
        (
            {"nginx": {"stableIngress": "web"}},
            WEIGHTED_EXPERIMENT_STEP,
            "spec.strategy.canary.steps[0].experiment.templates[1].weight: is not supported by trafficRouting.nginx "
            "(an experiment's traffic needs Istio)",
        ),
        (
            {"plugins": {"argoproj-labs/gatewayAPI": {"httpRoute": "web"}}},
            WEIGHTED_EXPERIMENT_STEP,
            "spec.strategy.canary.steps[0].experiment.templates[1].weight: is not supported by "
            "trafficRouting.plugins.argoproj-labs/gatewayAPI (an experiment's traffic needs Istio)",
        ),
        (
            {"plugins": {"example.com/other": {}}},
            {"setWeight": 10},
            "spec.strategy.canary.trafficRouting.plugins.example.com/other: is not supported yet (supported: "
            "trafficRouting.istio, trafficRouting.nginx, trafficRouting.plugins.argoproj-labs/gatewayAPI)",
        ),
    ],
)
def test_what_the_router_cannot_do_is_an_issue_naming_the_field(
    routing: dict[str, Any], step: dict[str, Any], expected: str
) -> None:
    assert issues_of(routing, step) == [expected]


@pytest.mark.parametrize(
    ("routing", "step"),
    [
        ({"istio": {"virtualService": {"name": "vs"}}}, HEADER_STEP),
        ({"istio": {"virtualService": {"name": "vs"}}}, MIRROR_STEP),
        ({"istio": {"virtualService": {"name": "vs"}}}, WEIGHTED_EXPERIMENT_STEP),
        ({"nginx": {"stableIngress": "web"}}, HEADER_STEP),
        ({"plugins": {"argoproj-labs/gatewayAPI": {"httpRoute": "web"}}}, HEADER_STEP),
        ({"plugins": {"argoproj-labs/gatewayAPI": {"httpRoute": "web"}}}, MIRROR_STEP),
    ],
)
def test_what_the_router_can_do_validates_clean(routing: dict[str, Any], step: dict[str, Any]) -> None:
    assert issues_of(routing, step) == []


@pytest.mark.parametrize(
    ("routing", "expected"),
    [
        (
            {"nginx": {"annotationPrefix": "x"}},
            ["spec.strategy.canary.trafficRouting.nginx.stableIngress: is required (or stableIngresses)"],
        ),
        (
            {"plugins": {"argoproj-labs/gatewayAPI": {"namespace": "edge"}}},
            [f"{GATEWAY}: must name an HTTPRoute in httpRoute or httpRoutes"],
        ),
        (
            {"plugins": {"argoproj-labs/gatewayAPI": {"httpRoutes": [{"useHeaderRoutes": True}]}}},
            [f"{GATEWAY}.httpRoutes[0].name: must be the name of an HTTPRoute"],
        ),
    ],
)
def test_a_router_configuration_it_cannot_use_is_an_issue_naming_the_field(
    routing: dict[str, Any], expected: list[str]
) -> None:
    assert issues_of(routing, {"setWeight": 10}) == expected


def test_the_gateway_api_router_needs_both_services() -> None:
    manifest = gateway_manifest({"httpRoute": "web"})
    del manifest["spec"]["strategy"]["canary"]["canaryService"]
    assert [str(issue) for issue in validate_rollout(Rollout.model_validate(manifest))] == [
        "spec.strategy.canary.canaryService: is required with trafficRouting.plugins.argoproj-labs/gatewayAPI"
    ]
