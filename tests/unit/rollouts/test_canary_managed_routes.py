"""The canary steps ``setHeaderRoute`` and ``setMirrorRoute``: which managed routes a Rollout wants where it stands
(a pure table), and a Rollout walked through them pass by pass with the Istio router. Argo Rollouts documents that
these steps complete at once, that a step without ``match`` removes its route, and that every managed route is
removed when the update completes or is aborted."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from kube.merge_patch import apply_merge_patch
from rollouts.canary.managed_routes import WantedRoutes, route_for_step, wanted_routes
from rollouts.models import CanaryStep, Rollout
from rollouts.snapshot import RolloutSnapshot
from rollouts.traffic.istio_router import IstioRouter
from rollouts.traffic.router import WeightRequest
from tests.unit.rollouts.builders import NAME, T0, Cluster, deployed, rollout, template, virtual_service

V1, V2 = "reviews:v1", "reviews:v2"
FIREFOX = {"headerName": "agent", "headerValue": {"regex": "firefox(.*)"}}
CHROME = {"headerName": "agent", "headerValue": {"regex": "chrome(.*)"}}
MIRROR_POSTS = {"method": {"exact": "POST"}}


def steps_of(*raw: dict[str, Any]) -> list[CanaryStep]:
    return [CanaryStep.model_validate(step) for step in raw]


HEADER_WALK = steps_of(
    {"setWeight": 20},
    {"setHeaderRoute": {"name": "h", "match": [FIREFOX]}},
    {"pause": {}},
    {"setHeaderRoute": {"name": "h", "match": [CHROME]}},
    {"setMirrorRoute": {"name": "m", "match": [MIRROR_POSTS], "percentage": 30}},
    {"pause": {}},
    {"setHeaderRoute": {"name": "h"}},
    {"pause": {}},
)


def names_and_matches(wanted: WantedRoutes) -> list[tuple[str | None, Any]]:
    return [(route.name, route.match[0].model_dump(by_alias=True, exclude_defaults=True)) for route in wanted.routes]


@pytest.mark.parametrize(
    ("index", "routes", "clear"),
    [
        (0, [], ["h", "m"]),  # before any managed-route step
        (1, [("h", FIREFOX)], ["m"]),  # the step at the index counts: it completes at once
        (2, [("h", FIREFOX)], ["m"]),
        (3, [("h", CHROME)], ["m"]),  # a later step of the same name replaces the route
        (5, [("h", CHROME), ("m", MIRROR_POSTS)], []),
        (6, [("m", MIRROR_POSTS)], ["h"]),  # without match the route goes
    ],
)
def test_wanted_routes_follow_the_steps_up_to_the_index(
    index: int, routes: list[tuple[str, Any]], clear: list[str]
) -> None:
    wanted = wanted_routes(HEADER_WALK, index, ["h", "m"], finished=False)
    assert names_and_matches(wanted) == routes
    assert list(wanted.clear) == clear
    assert not wanted.remove_all


@pytest.mark.parametrize(
    ("index", "finished"),
    [(len(HEADER_WALK), False), (None, False), (3, True)],
    ids=["past-the-last-step", "no-steps", "promoted-or-aborted"],
)
def test_every_managed_route_goes_once_the_update_is_over(index: int | None, finished: bool) -> None:
    assert wanted_routes(HEADER_WALK, index, ["h", "m"], finished=finished) == WantedRoutes(remove_all=True)


# --- a Rollout walked through the steps ------------------------------------------------------------


def header_cluster() -> Cluster:
    routing = {
        "managedRoutes": [{"name": "h"}, {"name": "m"}],
        "istio": {"virtualService": {"name": NAME, "routes": ["primary"]}},
    }
    return deployed(
        V1,
        steps=[step.model_dump(by_alias=True, exclude_none=True) for step in HEADER_WALK],
        canary={"trafficRouting": routing},
    )


def http_names(cluster: Cluster) -> list[str]:
    return [route.get("name") for route in cluster.virtual_services[NAME]["spec"]["http"]]


def run_to_pause(cluster: Cluster) -> None:
    for _ in range(12):
        cluster.reconcile()
        cluster.settle()
        if cluster.status.get("pauseConditions"):
            return
    raise AssertionError(f"no pause reached; status: {cluster.status}")


def promote(cluster: Cluster) -> None:
    cluster.set_status({"pauseConditions": None})  # what `rollouts promote` writes


def test_a_header_step_adds_its_route_before_the_primary_and_completes_at_once() -> None:
    cluster = header_cluster()
    cluster.set_spec({"template": template(V2)})
    run_to_pause(cluster)
    assert cluster.status["currentStepIndex"] == 2
    assert http_names(cluster) == ["h", "primary"]
    header_route = cluster.virtual_services[NAME]["spec"]["http"][0]
    assert header_route["match"] == [{"headers": {"agent": {"regex": "firefox(.*)"}}}]
    assert header_route["route"] == [{"destination": {"host": f"{NAME}-canary"}, "weight": 100}]
    completed = [e.message for e in cluster.events if e.reason == "RolloutStepCompleted"]
    assert completed == ["Rollout step 1/8 completed (setWeight: 20)", "Rollout step 2/8 completed (setHeaderRoute)"]


def test_header_and_mirror_routes_change_and_go_as_the_steps_say_and_all_go_at_completion() -> None:
    cluster = header_cluster()
    cluster.set_spec({"template": template(V2)})
    run_to_pause(cluster)
    promote(cluster)
    run_to_pause(cluster)
    assert cluster.status["currentStepIndex"] == 5
    assert http_names(cluster) == ["h", "m", "primary"]
    http = cluster.virtual_services[NAME]["spec"]["http"]
    assert http[0]["match"] == [{"headers": {"agent": {"regex": "chrome(.*)"}}}]
    assert http[1]["mirror"] == {"host": f"{NAME}-canary"}
    assert http[1]["mirrorPercentage"] == {"value": 30.0}
    assert http[1]["route"] == http[2]["route"]  # mirrored requests are answered as the weights say
    promote(cluster)
    run_to_pause(cluster)
    assert cluster.status["currentStepIndex"] == 7
    assert http_names(cluster) == ["m", "primary"]
    promote(cluster)
    cluster.converge()
    assert cluster.status["stableRS"] == cluster.status["currentPodHash"]
    assert http_names(cluster) == ["primary"]


def test_an_abort_removes_every_managed_route_with_the_traffic() -> None:
    cluster = header_cluster()
    cluster.set_spec({"template": template(V2)})
    run_to_pause(cluster)
    assert http_names(cluster) == ["h", "primary"]
    cluster.set_status({"abort": True})
    cluster.reconcile()
    assert http_names(cluster) == ["primary"]
    assert cluster.canary_weight == 0


def test_a_header_route_naming_no_managed_route_is_an_invalid_spec_naming_the_step() -> None:
    cluster = header_cluster()
    cluster.rollout["spec"]["strategy"]["canary"]["steps"][1]["setHeaderRoute"]["name"] = "undeclared"
    plan = cluster.reconcile()
    assert plan.writes == ()
    assert cluster.status["message"] == (
        "InvalidSpec: spec.strategy.canary.steps[1].setHeaderRoute.name: "
        "no route named 'undeclared' in spec.strategy.canary.trafficRouting.managedRoutes"
    )


def test_a_new_weight_and_a_new_header_route_go_out_as_one_write_to_the_virtual_service() -> None:
    # Two patches that each replace spec.http would undo each other; the second is computed on the first's result.
    manifest = rollout(
        steps=[step.model_dump(by_alias=True, exclude_none=True) for step in HEADER_WALK],
        canary={
            "trafficRouting": {
                "managedRoutes": [{"name": "h"}, {"name": "m"}],
                "istio": {"virtualService": {"name": NAME, "routes": ["primary"]}},
            }
        },
    )
    vs = virtual_service(0)
    snapshot = RolloutSnapshot(rollout=manifest, now=T0, virtual_services={NAME: vs})
    wanted = wanted_routes(HEADER_WALK, 1, ["h", "m"], finished=False)
    result = route_for_step(
        IstioRouter(), WeightRequest(Rollout.model_validate(manifest), snapshot, 20, "a", "b"), wanted
    )
    (write,) = result.writes
    http = apply_merge_patch(vs, write.patch)["spec"]["http"]  # type: ignore[union-attr]
    assert [route["name"] for route in http] == ["h", "primary"]
    assert [d["weight"] for d in http[1]["route"]] == [80, 20]
    assert result.current_weight == 0


NAMES = ("a", "b", "c")
_step = st.one_of(
    st.builds(lambda w: {"setWeight": w}, st.integers(0, 100)),
    st.builds(lambda n: {"setHeaderRoute": {"name": n}}, st.sampled_from(NAMES)),
    st.builds(lambda n: {"setHeaderRoute": {"name": n, "match": [FIREFOX]}}, st.sampled_from(NAMES)),
    st.builds(lambda n: {"setMirrorRoute": {"name": n}}, st.sampled_from(NAMES)),
    st.builds(lambda n: {"setMirrorRoute": {"name": n, "match": [MIRROR_POSTS]}}, st.sampled_from(NAMES)),
)


@settings(max_examples=200, deadline=None)
@given(raw_steps=st.lists(_step, min_size=1, max_size=8), data=st.data())
def test_every_declared_route_is_either_wanted_or_cleared_never_both(
    raw_steps: list[dict[str, Any]], data: Any
) -> None:
    steps = steps_of(*raw_steps)
    index = data.draw(st.integers(0, len(steps) - 1), label="index")
    wanted = wanted_routes(steps, index, NAMES, finished=False)
    kept = [route.name for route in wanted.routes]
    event(f"{len(kept)} routes wanted")
    assert not wanted.remove_all
    assert len(kept) == len(set(kept))  # one route per name: the last step of that name wins
    assert set(kept).isdisjoint(wanted.clear)
    assert set(kept) | set(wanted.clear) == set(NAMES)
    assert all(route.match for route in wanted.routes)  # a step without match only ever removes
    routes_so_far = [step.set_header_route or step.set_mirror_route for step in steps[: index + 1]]
    assert set(kept) <= {route.name for route in routes_so_far if route is not None}
