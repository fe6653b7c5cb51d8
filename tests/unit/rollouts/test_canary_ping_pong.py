"""A canary with Argo's ping-pong Services (``spec.strategy.canary.pingPong``) through Istio host-level routing.

The expectations are Argo Rollouts' documented behaviour (docs: "Ping Pong" in the ALB traffic-routing page, and its
controller: ``reconcilePingAndPongService``, ``promoteStable``, ``GetStableAndCanaryServices``):
``status.canary.stablePingPong`` names the Service that serves the stable version (``ping`` after the first deploy);
during an update the other Service is pointed at the new pods and the router weighs the two Services' hosts as it
weighs canaryService and stableService; when the update completes the roles swap (``stablePingPong`` flips) and no
selector moves; an abort sends the traffic back to the stable Service.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kube.merge_patch import apply_merge_patch
from rollouts.models import CanaryStrategy, PingPong, Rollout
from rollouts.reconcile import decide
from rollouts.traffic.istio_router import IstioRouter
from rollouts.traffic.ping_pong import (
    roles,
    routed_services,
    side_after_promotion,
    stable_ping_pong_status,
)
from rollouts.traffic.router import WeightRequest
from tests.property_coverage import asserting, guarded
from tests.unit.rollouts.builders import (
    NAME,
    NAMESPACE,
    Cluster,
    hash_of,
    messages,
    rollout,
    service,
    snapshot,
    template,
)

V1, V2, V3 = "reviews:v1", "reviews:v2", "reviews:v3"
PING, PONG = f"{NAME}-ping", f"{NAME}-pong"
STEPS = [{"setWeight": 10}, {"pause": {}}, {"setWeight": 50}, {"pause": {}}]


def ping_pong_rollout(image: str = V1, steps: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    manifest = rollout(image=image, steps=STEPS if steps is None else steps)
    strategy = manifest["spec"]["strategy"]["canary"]
    del strategy["canaryService"], strategy["stableService"]
    strategy["pingPong"] = {"pingService": PING, "pongService": PONG}
    return manifest


def host_virtual_service(ping: int, pong: int) -> dict[str, Any]:
    return {
        "apiVersion": "networking.istio.io/v1beta1",
        "kind": "VirtualService",
        "metadata": {"name": NAME, "namespace": NAMESPACE},
        "spec": {
            "hosts": [NAME],
            "http": [
                {
                    "name": "primary",
                    "route": [
                        {"destination": {"host": PING}, "weight": ping},
                        {"destination": {"host": PONG}, "weight": pong},
                    ],
                }
            ],
        },
    }


def deployed(image: str = V1, manifest: dict[str, Any] | None = None) -> Cluster:
    cluster = Cluster(
        rollout=ping_pong_rollout(image) if manifest is None else manifest,
        services={PING: service(PING, managed=False), PONG: service(PONG, managed=False)},
        virtual_services={NAME: host_virtual_service(ping=100, pong=0)},
    )
    cluster.converge()
    return cluster


def host_weights(cluster: Cluster) -> dict[str, int]:
    return {
        entry["destination"]["host"]: entry["weight"]
        for entry in cluster.virtual_services[NAME]["spec"]["http"][0]["route"]
    }


def update_to(cluster: Cluster, image: str) -> None:
    """Change the image and run the update to its first pause (setWeight 10, then the pause)."""
    cluster.set_spec({"template": template(image)})
    cluster.converge()
    assert cluster.status["currentStepIndex"] == 1 and cluster.status["phase"] == "Paused"


def promote_to_the_end(cluster: Cluster) -> list[dict[str, int]]:
    """Promote past both pauses; the host weights after every pass, in order."""
    seen: list[dict[str, int]] = []
    for _ in range(2):
        cluster.set_status({"pauseConditions": None})
        for _ in range(30):
            plan = cluster.reconcile()
            cluster.settle()
            seen.append(host_weights(cluster))
            if plan.is_noop:
                break
    return seen


# --- roles ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("recorded", "stable", "canary"),
    [
        ("ping", PING, PONG),
        ("pong", PONG, PING),
        # Argo's IsStablePing is true only for "ping": before the first deploy the pong Service counts as stable,
        # so the ping Service is the one pointed at the first revision.
        (None, PONG, PING),
    ],
)
def test_stable_ping_pong_names_the_stable_service(recorded: str | None, stable: str, canary: str) -> None:
    current = roles(PingPong(ping_service=PING, pong_service=PONG), recorded)
    assert (current.stable_service, current.canary_service) == (stable, canary)


@pytest.mark.parametrize(("before", "after"), [("ping", "pong"), ("pong", "ping"), (None, "ping")])
def test_promotion_hands_the_stable_role_to_the_other_side(before: str | None, after: str) -> None:
    # Argo's TestPingPongCanaryPromoteStable: stable ping, promoted, stable pong.
    assert side_after_promotion(before) == after


def test_the_recorded_side_stays_while_the_stable_revision_stays() -> None:
    canary = CanaryStrategy.model_validate({"pingPong": {"pingService": PING, "pongService": PONG}})
    assert stable_ping_pong_status(canary, observed="pong", observed_stable_hash="a", new_stable_hash="a") == "pong"
    assert stable_ping_pong_status(canary, observed="pong", observed_stable_hash="a", new_stable_hash="b") == "ping"


def test_istio_weighs_canary_and_stable_services_when_they_are_named_beside_ping_pong() -> None:
    # Argo's GetStableAndCanaryServices(rollout, isPingpongPreferred=false), used by every router but ALB.
    both = CanaryStrategy.model_validate(
        {"canaryService": "c", "stableService": "s", "pingPong": {"pingService": PING, "pongService": PONG}}
    )
    only_ping_pong = CanaryStrategy.model_validate({"pingPong": {"pingService": PING, "pongService": PONG}})
    assert routed_services(both, "ping") == ("c", "s")
    assert routed_services(only_ping_pong, "ping") == (PONG, PING)


@pytest.mark.parametrize(("stable_side", "expected"), [("ping", {PING: 70, PONG: 30}), ("pong", {PING: 30, PONG: 70})])
def test_the_istio_router_gives_the_canary_weight_to_the_canary_role_host(
    stable_side: str, expected: dict[str, int]
) -> None:
    manifest = ping_pong_rollout()
    manifest["status"] = {"canary": {"stablePingPong": stable_side}}
    vs = host_virtual_service(ping=50, pong=50)
    request = WeightRequest(
        rollout=Rollout.from_dict(manifest),
        snapshot=snapshot(manifest, vs=vs),
        canary_weight=30,
        canary_hash="new",
        stable_hash="old",
    )
    result = IstioRouter().set_weight(request)
    assert result.problems == ()
    routed = apply_merge_patch(vs, result.writes[0].patch)
    by_host = {entry["destination"]["host"]: entry["weight"] for entry in routed["spec"]["http"][0]["route"]}
    assert by_host == expected
    assert IstioRouter().verify_weight(dataclasses.replace(request, snapshot=snapshot(manifest, vs=routed))).verified


# --- a Rollout through two updates ---------------------------------------------------------------------


def test_the_first_deploy_points_the_ping_service_and_records_ping_as_stable() -> None:
    cluster = deployed()
    assert cluster.status["canary"]["stablePingPong"] == "ping"
    assert cluster.selector_hash(PING) == hash_of(V1)
    assert cluster.selector_hash(PONG) is None
    assert host_weights(cluster) == {PING: 100, PONG: 0}


def test_an_update_points_the_pong_service_at_the_new_pods_and_weighs_the_pong_host() -> None:
    cluster = deployed()
    update_to(cluster, V2)
    assert cluster.selector_hash(PONG) == hash_of(V2)
    assert cluster.selector_hash(PING) == hash_of(V1)
    assert host_weights(cluster) == {PING: 90, PONG: 10}
    assert cluster.status["canary"]["stablePingPong"] == "ping"
    weights = cluster.status["canary"]["weights"]
    assert (weights["canary"]["weight"], weights["stable"]["weight"]) == (10, 90)
    # Argo's calculateWeightStatus names spec.canaryService/stableService, which a ping-pong canary does not set.
    assert "serviceName" not in weights["canary"] and "serviceName" not in weights["stable"]


def test_completing_the_update_swaps_the_roles_without_moving_a_selector_or_the_traffic() -> None:
    cluster = deployed()
    update_to(cluster, V2)
    seen = promote_to_the_end(cluster)
    assert cluster.status["stableRS"] == hash_of(V2)
    assert cluster.status["canary"]["stablePingPong"] == "pong"
    # The pong Service already selected the new pods; it is now the stable one. The ping Service keeps the old pods.
    assert (cluster.selector_hash(PONG), cluster.selector_hash(PING)) == (hash_of(V2), hash_of(V1))
    # All steps done: 100 % to the canary host (pong); after the swap 0 % to the canary role (ping): the same split.
    assert seen[-1] == {PING: 0, PONG: 100}
    full = seen.index({PING: 0, PONG: 100})
    assert all(weights == {PING: 0, PONG: 100} for weights in seen[full:])
    assert [w[PONG] for w in seen[:full]] == sorted(w[PONG] for w in seen[:full])  # the canary only ever gains


def test_the_second_update_uses_the_ping_service_for_its_canary_and_swaps_back() -> None:
    cluster = deployed()
    update_to(cluster, V2)
    promote_to_the_end(cluster)
    update_to(cluster, V3)
    assert (cluster.selector_hash(PING), cluster.selector_hash(PONG)) == (hash_of(V3), hash_of(V2))
    assert host_weights(cluster) == {PING: 10, PONG: 90}
    promote_to_the_end(cluster)
    assert cluster.status["canary"]["stablePingPong"] == "ping"
    assert cluster.status["stableRS"] == hash_of(V3)
    assert host_weights(cluster) == {PING: 100, PONG: 0}


def test_abort_returns_all_traffic_to_the_stable_service_and_leaves_the_roles() -> None:
    cluster = deployed()
    update_to(cluster, V2)
    cluster.set_status({"abort": True})
    cluster.converge()
    assert host_weights(cluster) == {PING: 100, PONG: 0}
    assert cluster.status["canary"]["stablePingPong"] == "ping"
    assert cluster.status["stableRS"] == hash_of(V1)
    # Argo's reconcilePingAndPongService leaves the canary-role Service on the aborted pods (it has no weight).
    assert cluster.selector_hash(PONG) == hash_of(V2)
    assert cluster.selector_hash(PING) == hash_of(V1)


def test_a_new_revision_moves_the_canary_service_only_once_it_carries_no_traffic() -> None:
    cluster = deployed()
    update_to(cluster, V2)
    cluster.set_status({"pauseConditions": None})
    cluster.converge()
    assert host_weights(cluster) == {PING: 50, PONG: 50}

    cluster.set_spec({"template": template(V3)})
    cluster.reconcile()  # the new revision's ReplicaSet
    cluster.reconcile()
    # The pong Service still selects v2 and carries half the traffic: the weight goes first...
    assert cluster.selector_hash(PONG) == hash_of(V2)
    assert host_weights(cluster) == {PING: 100, PONG: 0}
    plan = cluster.reconcile()
    # ...and the Service moves once the mesh sends it nothing.
    assert cluster.selector_hash(PONG) == hash_of(V3)
    assert messages(plan, "SwitchService") == [
        f"Switched selector for service '{PONG}' from '{hash_of(V2)}' to '{hash_of(V3)}'"
    ]


def test_a_full_promotion_waits_until_the_canary_service_is_moved_to_the_new_pods() -> None:
    # Argo's TestPingPongServiceReuseWaitsBeforeFullPromotion: stableRS and stablePingPong stay while the reused
    # Service still carries the earlier canary's traffic, even with the new ReplicaSet fully available.
    cluster = deployed()
    update_to(cluster, V2)
    cluster.set_status({"pauseConditions": None})
    cluster.converge()
    assert host_weights(cluster) == {PING: 50, PONG: 50}
    cluster.set_spec({"template": template(V3)})
    cluster.reconcile()  # creates the v3 ReplicaSet
    leftover = cluster.rs(V3)
    leftover["spec"]["replicas"] = 5
    leftover["status"] = {"replicas": 5, "readyReplicas": 5, "availableReplicas": 5}
    cluster.set_status({"promoteFull": True})

    cluster.reconcile()
    assert (cluster.status["stableRS"], cluster.status["canary"]["stablePingPong"]) == (hash_of(V1), "ping")
    assert cluster.selector_hash(PONG) == hash_of(V2)
    assert host_weights(cluster) == {PING: 100, PONG: 0}
    cluster.converge()
    assert (cluster.status["stableRS"], cluster.status["canary"]["stablePingPong"]) == (hash_of(V3), "pong")
    assert cluster.selector_hash(PONG) == hash_of(V3)
    assert host_weights(cluster) == {PING: 0, PONG: 100}


def test_a_full_promotion_swaps_the_roles_and_gives_the_new_side_everything() -> None:
    cluster = deployed()
    update_to(cluster, V2)
    cluster.set_status({"promoteFull": True})
    cluster.converge()
    assert cluster.status["stableRS"] == hash_of(V2)
    assert cluster.status["canary"]["stablePingPong"] == "pong"
    assert host_weights(cluster) == {PING: 0, PONG: 100}


def test_a_header_route_sends_matching_requests_to_the_canary_role_host() -> None:
    manifest = ping_pong_rollout(
        steps=[
            {"setWeight": 10},
            {
                "setHeaderRoute": {
                    "name": "testers",
                    "match": [{"headerName": "x-tester", "headerValue": {"exact": "1"}}],
                }
            },
            {"pause": {}},
        ]
    )
    manifest["spec"]["strategy"]["canary"]["trafficRouting"]["managedRoutes"] = [{"name": "testers"}]
    cluster = deployed(manifest=manifest)
    cluster.set_spec({"template": template(V2)})
    cluster.converge()
    first = cluster.virtual_services[NAME]["spec"]["http"][0]
    assert first["name"] == "testers"
    assert first["route"] == [{"destination": {"host": PONG}, "weight": 100}]


def test_ping_pong_added_to_a_running_rollout_pins_the_stable_service_before_an_update_uses_the_other() -> None:
    # Nothing recorded yet: pong is the stable side (Argo's reading), but it still selects every revision's pods.
    # Argo never points the stable role; here it is pinned to the stable pods, lest it send traffic to the canary.
    cluster = deployed()
    cluster.set_status({"canary": {"stablePingPong": None}})
    cluster.services[PONG] = service(PONG, managed=False)
    cluster.reconcile()
    assert cluster.selector_hash(PONG) == hash_of(V1)
    update_to(cluster, V2)
    assert (cluster.selector_hash(PONG), cluster.selector_hash(PING)) == (hash_of(V1), hash_of(V2))
    assert host_weights(cluster) == {PING: 10, PONG: 90}


# --- references -----------------------------------------------------------------------------------------


def test_a_missing_ping_service_is_an_invalid_spec_naming_the_field() -> None:
    manifest = ping_pong_rollout()
    plan = decide(snapshot(manifest, services_by_name={PONG: service(PONG)}, vs=host_virtual_service(100, 0)))
    assert plan.writes == ()
    assert plan.status["message"] == (
        f'InvalidSpec: spec.strategy.canary.pingPong.pingService: Service "{PING}" not found'
    )


def test_ping_pong_without_a_router_still_takes_turns() -> None:
    # Argo accepts pingPong without trafficRouting: replicas split the traffic; the two Services still swap roles.
    manifest = ping_pong_rollout(steps=[{"setWeight": 20}, {"pause": {}}])
    del manifest["spec"]["strategy"]["canary"]["trafficRouting"]
    cluster = Cluster(
        rollout=copy.deepcopy(manifest),
        services={PING: service(PING, managed=False), PONG: service(PONG, managed=False)},
        virtual_services={},
    )
    cluster.converge()
    cluster.set_spec({"template": template(V2)})
    cluster.converge()
    assert (cluster.selector_hash(PING), cluster.selector_hash(PONG)) == (hash_of(V1), hash_of(V2))
    cluster.set_status({"pauseConditions": None})
    cluster.converge()
    assert cluster.status["canary"]["stablePingPong"] == "pong"
    assert cluster.status["stableRS"] == hash_of(V2)


# --- properties over any sequence of user actions -------------------------------------------------------

ACTIONS = ("update", "promote", "promote_full", "abort", "retry", "wait")
PROPERTY_SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def act(cluster: Cluster, action: str, image: str) -> None:
    """What a person does between two passes (``wait``: nothing)."""
    if action == "update":
        cluster.set_spec({"template": template(image)})
    elif action == "promote":
        cluster.set_status({"pauseConditions": None})
    elif action == "promote_full":
        cluster.set_status({"promoteFull": True})
    elif action == "abort":
        cluster.set_status({"abort": True})
    elif action == "retry":
        cluster.set_status({"abort": False})


@guarded(min_share=0.9)
@PROPERTY_SETTINGS
@given(st.lists(st.tuples(st.sampled_from(ACTIONS), st.booleans()), min_size=4, max_size=30))
def test_no_pass_moves_a_service_that_carries_traffic_and_the_stable_service_serves_the_stable_pods(
    actions: list[tuple[str, bool]],
) -> None:
    """Whatever people do, in every pass: the stable-role Service is never re-pointed, a Service is re-pointed only
    while its host has weight 0, the two hosts' weights sum to 100; and once the last update is promoted the
    stable-role Service selects the stable pods and has all the traffic."""
    cluster = deployed()
    for number, (action, pods_come_up) in enumerate(actions, start=3):
        act(cluster, action, f"reviews:v{number}")
        weights_before = host_weights(cluster)
        selected_before = {name: cluster.selector_hash(name) for name in (PING, PONG)}
        stable_before = roles(
            PingPong(ping_service=PING, pong_service=PONG), cluster.status["canary"].get("stablePingPong")
        ).stable_service
        cluster.reconcile()
        if pods_come_up:
            cluster.settle()
        for name in (PING, PONG):
            if cluster.selector_hash(name) != selected_before[name]:
                asserting("a Service re-pointed")
                assert name != stable_before
                assert weights_before[name] == 0, (name, weights_before)
        assert sum(host_weights(cluster).values()) == 100
    cluster.set_status({"abort": False, "promoteFull": True})
    cluster.converge()
    asserting("at rest after the last update")
    stable = roles(PingPong(ping_service=PING, pong_service=PONG), cluster.status["canary"]["stablePingPong"])
    assert cluster.selector_hash(stable.stable_service) == cluster.status["stableRS"]
    assert host_weights(cluster)[stable.stable_service] == 100
