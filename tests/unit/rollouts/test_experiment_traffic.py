"""Traffic to an experiment step's weighted templates (Argo's ``experiment.templates[].weight``): which destinations
a running Experiment adds, how Istio routes them (Argo's istio ``processRoutes``: the canary keeps its weight, each
experiment Service gets its own, the stable what is left), and ``status.canary.weights.additional``."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rollouts.experiments.traffic import experiment_destinations, weights_with_additional
from rollouts.models import CanaryStep
from rollouts.traffic.istio import route_traffic
from rollouts.traffic.router import RoutingResult, WeightDestination
from tests.property_coverage import asserting, guarded, vacuous
from tests.unit.rollouts.test_istio import (
    CANARY_SVC,
    NS,
    STABLE_SVC,
    dest,
    destination_rule,
    host_rollout,
    http_route,
    only_write,
    primary,
    subset_rollout,
    virtual_service,
    weights,
)

EXPERIMENT_SVC = "reviews-new1-2-1-try"
TRY = WeightDestination(service_name=EXPERIMENT_SVC, pod_template_hash="exp42", weight=20)


def routed(
    rollout_virtual_service: dict[str, Any],
    canary_weight: int,
    additional: tuple[WeightDestination, ...],
    *,
    subsets: bool = False,
) -> RoutingResult:
    return route_traffic(
        rollout=subset_rollout(routes=["primary"]) if subsets else host_rollout(routes=["primary"]),
        namespace=NS,
        virtual_services={"reviews": rollout_virtual_service},
        destination_rule=destination_rule() if subsets else None,
        canary_weight=canary_weight,
        canary_hash="new1",
        stable_hash="old1",
        additional=additional,
    )


def primary_weights(result: RoutingResult) -> list[tuple[str, int]]:
    return weights(only_write(result)["spec"]["http"][0])


# --- routing ---------------------------------------------------------------------------------------


def test_a_weighted_template_gets_its_share_from_the_stable_and_the_canary_keeps_its_weight() -> None:
    # Argo's example: setWeight 10, then an experiment template with weight 20 → 70 / 10 / 20.
    result = routed(virtual_service(http=[primary(canary=10, stable=90)]), 10, (TRY,))

    assert primary_weights(result) == [(STABLE_SVC, 70), (CANARY_SVC, 10), (EXPERIMENT_SVC, 20)]
    assert only_write(result)["spec"]["http"][0]["route"][2] == {"destination": {"host": EXPERIMENT_SVC}, "weight": 20}


def test_an_experiment_destination_already_routed_is_reweighed_where_it_is() -> None:
    # Argo matches an existing destination by its short host, so a fully qualified one is kept as written.
    fqdn = f"{EXPERIMENT_SVC}.{NS}.svc.cluster.local"
    observed = virtual_service(
        http=[http_route("primary", dest(STABLE_SVC, 85), dest(fqdn, 5), dest(CANARY_SVC, 10))]
    )

    result = routed(observed, 10, (TRY,))

    assert primary_weights(result) == [(STABLE_SVC, 70), (fqdn, 20), (CANARY_SVC, 10)]


def test_the_experiment_destination_is_dropped_once_the_request_no_longer_names_it() -> None:
    observed = virtual_service(
        http=[http_route("primary", dest(STABLE_SVC, 70), dest(CANARY_SVC, 10), dest(EXPERIMENT_SVC, 20))]
    )

    result = routed(observed, 10, ())

    assert primary_weights(result) == [(STABLE_SVC, 90), (CANARY_SVC, 10)]


def test_a_route_already_carrying_the_experiment_share_is_not_written_again() -> None:
    observed = virtual_service(
        http=[http_route("primary", dest(STABLE_SVC, 70), dest(CANARY_SVC, 10), dest(EXPERIMENT_SVC, 20))]
    )

    result = routed(observed, 10, (TRY,))

    assert (result.writes, result.problems, result.current_weight) == ((), (), 10)


def test_subset_level_routing_sends_the_experiment_share_to_its_service_by_host() -> None:
    observed = virtual_service(
        http=[http_route("primary", dest("reviews", 90, subset="stable"), dest("reviews", 10, subset="canary"))]
    )

    result = routed(observed, 10, (TRY,), subsets=True)

    http = next(w.patch for w in result.writes if w.name == "reviews")["spec"]["http"][0]
    assert weights(http) == [("stable", 70), ("canary", 10), (EXPERIMENT_SVC, 20)]


@pytest.mark.parametrize(
    ("canary_weight", "additional", "problem"),
    [
        (
            90,
            (TRY,),
            f"the canary weight 90 and the experiment weights ({EXPERIMENT_SVC} 20) exceed 100",
        ),
        (
            10,
            (WeightDestination(EXPERIMENT_SVC, None, -5),),
            f'the weight -5 of Service "{EXPERIMENT_SVC}" (an experiment template) is negative',
        ),
    ],
)
def test_weights_that_do_not_fit_are_a_problem_and_nothing_is_written(
    canary_weight: int, additional: tuple[WeightDestination, ...], problem: str
) -> None:
    result = routed(virtual_service(http=[primary(canary=10, stable=90)]), canary_weight, additional)

    assert result.writes == ()
    assert problem in result.problems


@guarded(min_share=0.6)
@settings(max_examples=150, deadline=None)
@given(
    canary_weight=st.integers(min_value=0, max_value=100),
    extra=st.lists(st.integers(min_value=0, max_value=60), max_size=3),
    observed_extra=st.integers(min_value=0, max_value=3),
)
def test_routed_weights_sum_to_100_and_each_experiment_gets_its_own(
    canary_weight: int, extra: list[int], observed_extra: int
) -> None:
    """Whatever the VirtualService routed before (here: some experiment destinations already there), a request whose
    weights fit routes exactly them; one whose weights do not fit writes nothing."""
    additional = tuple(WeightDestination(f"exp-{i}", None, weight) for i, weight in enumerate(extra))
    stale = [dest(f"exp-{i}", 7) for i in range(observed_extra)]
    observed = virtual_service(http=[http_route("primary", dest(STABLE_SVC, 100), dest(CANARY_SVC, 0), *stale)])

    result = routed(observed, canary_weight, additional)

    if canary_weight + sum(extra) > 100:
        asserting("weights that do not fit are refused")
        assert result.writes == () and result.problems
        return
    if not result.writes:
        return vacuous("already routed so")
    asserting("the routed weights")
    routed_weights = dict(primary_weights(result))
    assert sum(routed_weights.values()) == 100
    assert all(weight >= 0 for weight in routed_weights.values())
    assert routed_weights[CANARY_SVC] == canary_weight
    assert {name: w for name, w in routed_weights.items() if name.startswith("exp-")} == {
        d.service_name: d.weight for d in additional
    }


# --- what a running Experiment adds ------------------------------------------------------------------


def experiment_step(*templates: dict[str, Any]) -> CanaryStep:
    return CanaryStep.model_validate({"experiment": {"templates": list(templates)}})


def experiment(phase: str, *template_statuses: dict[str, Any]) -> dict[str, Any]:
    status = {"phase": phase, "templateStatuses": list(template_statuses)}
    return {"metadata": {"name": "reviews-new1-2-1"}, "status": status}


WEIGHTED_STEP = experiment_step(
    {"name": "baseline", "specRef": "stable"},
    {"name": "try", "specRef": "canary", "weight": 20},
)
TRY_STATUS = {"name": "try", "serviceName": EXPERIMENT_SVC, "podTemplateHash": "exp42"}
BASELINE_STATUS = {"name": "baseline", "serviceName": "reviews-new1-2-1-baseline", "podTemplateHash": "base7"}


@pytest.mark.parametrize(
    ("phase", "statuses", "expected", "why"),
    [
        ("Running", (BASELINE_STATUS, TRY_STATUS), (TRY,), "only the template with a weight takes traffic"),
        ("Pending", (TRY_STATUS,), (), "Argo routes to an experiment only while it is Running"),
        ("Successful", (TRY_STATUS,), (), "a finished experiment takes no more traffic"),
        ("Running", ({"name": "try", "podTemplateHash": "exp42"},), (), "no Service yet, nothing to route to"),
    ],
)
def test_a_running_experiment_adds_one_destination_per_weighted_template_with_a_service(
    phase: str, statuses: tuple[dict[str, Any], ...], expected: tuple[WeightDestination, ...], why: str
) -> None:
    assert experiment_destinations(WEIGHTED_STEP, experiment(phase, *statuses)) == expected, why


def test_a_step_that_is_not_an_experiment_adds_nothing() -> None:
    set_weight = CanaryStep.model_validate({"setWeight": 10})
    assert experiment_destinations(set_weight, experiment("Running", TRY_STATUS)) == ()


# --- status.canary.weights -----------------------------------------------------------------------------


def test_the_status_lists_the_additional_destinations_and_the_stable_keeps_the_rest() -> None:
    observed = {
        "canary": {"weight": 10, "serviceName": CANARY_SVC, "podTemplateHash": "new1"},
        "stable": {"weight": 90, "serviceName": STABLE_SVC, "podTemplateHash": "old1"},
    }

    status = weights_with_additional(observed, (TRY,))

    assert status == {
        "canary": {"weight": 10, "serviceName": CANARY_SVC, "podTemplateHash": "new1"},
        "stable": {"weight": 70, "serviceName": STABLE_SVC, "podTemplateHash": "old1"},
        "additional": [{"weight": 20, "serviceName": EXPERIMENT_SVC, "podTemplateHash": "exp42"}],
    }


def test_without_additional_destinations_the_status_is_unchanged() -> None:
    observed = {"canary": {"weight": 10}, "stable": {"weight": 90}}
    assert weights_with_additional(observed, ()) == observed
