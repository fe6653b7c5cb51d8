"""dynamicStableScale (traffic routing only): the stable ReplicaSet shrinks as traffic leaves it and grows back
before traffic returns (Argo's docs/features/canary.md "Dynamic Stable Scale", and its
CalculateReplicaCountsForTrafficRoutedCanary / reconcileTrafficRouting for the exact counts and the abort)."""

from __future__ import annotations

import pytest

from rollouts.canary.dynamic_stable_scale import RoutedWeights, abort_weight, dynamic_counts
from tests.unit.rollouts.builders import NAME, Cluster, deadline_of, deployed

V1, V2 = "reviews:v1", "reviews:v2"
STEPS = [{"setWeight": 20}, {"pause": {}}, {"setWeight": 60}, {"pause": {}}]


@pytest.mark.parametrize(
    ("desired_weight", "canary", "routed", "aborted", "expected"),
    [
        # Going up: the stable keeps the pods for the traffic it still has.
        (20, 1, RoutedWeights(canary=0, stable=100), False, (1, 5)),
        (20, 1, RoutedWeights(canary=20, stable=80), False, (1, 4)),
        (60, 3, RoutedWeights(canary=20, stable=80), False, (3, 4)),
        (60, 3, RoutedWeights(canary=60, stable=40), False, (3, 2)),
        # The last step: all traffic to the canary, none left for the stable.
        (100, 5, RoutedWeights(canary=100, stable=0), False, (5, 0)),
        # Aborted: the stable is wanted whole, the canary keeps the pods for the traffic it still routes.
        (0, 0, RoutedWeights(canary=60, stable=40), True, (3, 5)),
        (0, 0, RoutedWeights(canary=0, stable=100), True, (0, 5)),
        # Nothing routed yet: sized from the weight alone.
        (20, 1, None, False, (1, 4)),
    ],
)
def test_dynamic_counts_for_five_replicas(
    desired_weight: int, canary: int, routed: RoutedWeights | None, aborted: bool, expected: tuple[int, int]
) -> None:
    assert dynamic_counts(5, desired_weight=desired_weight, canary=canary, routed=routed, aborted=aborted) == expected


def test_min_pods_per_replica_set_applies_to_both_sides_that_have_pods() -> None:
    routed = RoutedWeights(canary=90, stable=10)
    assert dynamic_counts(
        10, desired_weight=90, canary=9, routed=routed, aborted=False, min_pods_per_replica_set=2
    ) == (9, 2)
    assert dynamic_counts(
        10, desired_weight=100, canary=10, routed=RoutedWeights(100, 0), aborted=False, min_pods_per_replica_set=2
    ) == (10, 0)


@pytest.mark.parametrize(
    ("stable_available", "routed_canary", "expected"),
    [(2, 60, 60), (3, 60, 40), (5, 60, 0), (1, 40, 40), (4, None, 20)],
)
def test_abort_weight_follows_the_stables_available_pods_and_never_rises(
    stable_available: int, routed_canary: int | None, expected: int
) -> None:
    assert abort_weight(5, stable_available=stable_available, routed_canary=routed_canary) == expected


def updated() -> Cluster:
    cluster = deployed(V1, steps=STEPS, canary={"dynamicStableScale": True})
    cluster.set_spec({"template": {"spec": {"containers": [{"name": NAME, "image": V2}]}}})
    cluster.converge()
    return cluster


def test_at_the_first_pause_the_stable_has_given_up_the_pods_for_the_canarys_share() -> None:
    cluster = updated()
    assert cluster.status["currentStepIndex"] == 1 and cluster.canary_weight == 20
    assert (cluster.replicas_of(V2), cluster.replicas_of(V1)) == (1, 4)


def test_each_step_moves_pods_from_the_stable_to_the_canary_then_promotion_leaves_the_old_stable_at_zero() -> None:
    cluster = updated()
    cluster.set_status({"pauseConditions": None})
    cluster.converge()
    assert cluster.status["currentStepIndex"] == 3 and cluster.canary_weight == 60
    assert (cluster.replicas_of(V2), cluster.replicas_of(V1)) == (3, 2)
    cluster.set_status({"pauseConditions": None})
    cluster.converge()
    assert cluster.status["stableRS"] == cluster.status["currentPodHash"]
    assert (cluster.replicas_of(V2), cluster.replicas_of(V1)) == (5, 0)
    assert deadline_of(cluster.rs(V1)) is None  # no scale-down delay to wait out


def test_an_abort_grows_the_stable_back_and_moves_traffic_only_as_its_pods_become_available() -> None:
    cluster = updated()
    cluster.set_status({"pauseConditions": None})
    cluster.converge()  # paused at 60 %: canary 3, stable 2
    cluster.set_status({"abort": True})
    cluster.reconcile()
    assert cluster.replicas_of(V1) == 5  # the stable is wanted whole again
    assert cluster.canary_weight == 60  # but only 2 of its pods are available yet
    cluster.settle(only=V1, available=3)
    cluster.reconcile()
    assert cluster.canary_weight == 40
    assert cluster.replicas_of(V2) == 3  # the canary keeps the pods for the traffic it still has
    assert cluster.selector_hash(f"{NAME}-canary") != cluster.selector_hash(f"{NAME}-stable")
    cluster.settle()
    cluster.converge()
    assert cluster.canary_weight == 0
    assert cluster.selector_hash(f"{NAME}-canary") == cluster.selector_hash(f"{NAME}-stable")
