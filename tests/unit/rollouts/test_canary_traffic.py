"""Traffic routing through the Istio router: what is asked of it, and what happens when it cannot route."""

from __future__ import annotations

from typing import Any

from rollouts.reconcile import decide
from rollouts.traffic.istio_router import IstioRouter
from rollouts.traffic.router import RoutingResult, WeightRequest
from tests.unit.rollouts.builders import Cluster, deployed, hash_of, messages, rollout, snapshot, template

V1, V2 = "reviews:v1", "reviews:v2"


class RecordingRouter(IstioRouter):
    """A stand-in for the Istio router: records each weight request and answers it with set problems."""

    def __init__(self, problems: tuple[str, ...] = ()) -> None:
        self.problems = problems
        self.requests: list[dict[str, Any]] = []

    def set_weight(self, request: WeightRequest) -> RoutingResult:
        self.requests.append({"weight": request.canary_weight, "canary": request.canary_hash,
                              "stable": request.stable_hash})
        return RoutingResult(writes=(), problems=self.problems, current_weight=None)


def canary_at_10_percent() -> Cluster:
    cluster = deployed(V1)
    cluster.set_spec({"template": template(V2)})
    for _ in range(3):
        cluster.reconcile()
        cluster.settle()
    assert cluster.canary_weight == 10
    return cluster


def test_the_router_is_asked_for_the_desired_weight_and_both_hashes() -> None:
    cluster = canary_at_10_percent()
    router = RecordingRouter()
    cluster.route = router
    cluster.reconcile()
    assert router.requests == [{"weight": 10, "canary": hash_of(V2), "stable": hash_of(V1)}]


def test_when_the_router_cannot_route_the_steps_wait_and_the_status_says_why() -> None:
    cluster = canary_at_10_percent()
    cluster.advance(60)
    cluster.route = RecordingRouter(problems=('VirtualService "reviews" not found in namespace "default"',))
    index = cluster.status["currentStepIndex"]
    plan = cluster.reconcile()
    assert cluster.status["currentStepIndex"] == index
    assert (cluster.status["phase"], cluster.status["message"]) == (
        "Degraded",
        'TrafficRoutingError: VirtualService "reviews" not found in namespace "default"',
    )
    assert messages(plan, "TrafficRoutingError") == ['VirtualService "reviews" not found in namespace "default"']
    assert [e.type for e in plan.events if e.reason == "TrafficRoutingError"] == ["Warning"]
    assert plan.requeue_after is not None and plan.requeue_after <= 10
    plan = cluster.reconcile()
    assert messages(plan, "TrafficRoutingError") == []  # said once
    assert plan.requeue_after == 10
    cluster.route = None  # fixed: the real router again
    cluster.reconcile()
    assert cluster.status["phase"] != "Degraded"


def test_a_router_this_project_does_not_drive_is_an_invalid_spec_naming_the_field() -> None:
    manifest = rollout(image=V1, canary={"trafficRouting": {"alb": {"ingress": "reviews"}}})
    plan = decide(snapshot(manifest))
    assert plan.writes == ()
    assert plan.status["phase"] == "Degraded"
    assert plan.status["message"].startswith(
        "InvalidSpec: spec.strategy.canary.trafficRouting.alb: is not supported yet (supported: trafficRouting.istio"
    )


def test_a_canary_without_available_pods_never_gets_traffic() -> None:
    plan = decide(snapshot(rollout(image=V1)))
    assert plan.status["canary"] == {}  # nothing routed before the first ReplicaSet exists


def test_without_traffic_routing_no_weights_are_recorded() -> None:
    cluster = deployed(V1, traffic_routing=False)
    assert cluster.status["canary"] == {}
