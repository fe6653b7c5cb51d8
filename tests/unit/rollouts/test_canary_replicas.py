"""Replica arithmetic of a canary, as tables: with a traffic router, and without one (the replica ratio is the
weight, moved within maxSurge and maxUnavailable)."""

from __future__ import annotations

import pytest

from rollouts.canary.replicas import (
    Pods,
    approximate_weighted_counts,
    at_desired_counts,
    basic_canary_counts,
    surge_and_unavailable,
    traffic_routed_counts,
)


@pytest.mark.parametrize(
    ("max_surge", "max_unavailable", "replicas", "expected"),
    [
        ("25", "25", 4, (1, 1)),
        ("25%", "25%", 5, (2, 1)),  # surge rounds up, unavailable down
        (0, "10%", 5, (0, 1)),  # both would be 0: one pod may be unavailable
        (3, 10, 4, (3, 4)),  # never more unavailable than there are pods
        ("25", "25", 0, (0, 0)),
    ],
)
def test_surge_rounds_up_unavailable_rounds_down(
    max_surge: int | str, max_unavailable: int | str, replicas: int, expected: tuple[int, int]
) -> None:
    assert surge_and_unavailable(max_surge, max_unavailable, replicas) == expected


@pytest.mark.parametrize(
    ("replicas", "weight", "canary_replicas", "min_pods", "expected"),
    [
        (5, 10, None, None, (1, 5)),  # ceil(0.5) = 1, the stable keeps all its pods
        (5, 30, None, None, (2, 5)),
        (10, 0, None, None, (0, 10)),
        (5, 100, None, None, (5, 5)),
        (5, 10, None, 2, (2, 5)),  # minPodsPerReplicaSet
        (5, 0, None, 2, (0, 5)),  # ...but 0 stays 0
        (5, 10, 3, None, (3, 5)),  # setCanaryScale replicas
    ],
)
def test_traffic_routed_canary_gets_pods_for_its_weight(
    replicas: int, weight: int, canary_replicas: int | None, min_pods: int | None, expected: tuple[int, int]
) -> None:
    assert (
        traffic_routed_counts(
            replicas, weight=weight, canary_replicas=canary_replicas, min_pods_per_replica_set=min_pods
        )
        == expected
    )


@pytest.mark.parametrize(
    ("replicas", "weight", "max_surge", "expected"),
    [
        (10, 10, 1, (1, 9)),
        (4, 10, 1, (1, 4)),  # 1 of 5 (20 %) is closer to 10 % than 1 of 4 (25 %)
        (4, 10, 0, (1, 3)),
        (3, 50, 0, (2, 1)),  # a tie between 1 and 2 goes to the larger canary
        (2, 5, 0, (1, 1)),  # a 5 % canary still gets a pod
        (1, 5, 0, (0, 1)),
        (5, 0, 1, (0, 5)),
        (5, 100, 1, (5, 0)),
        (0, 50, 1, (0, 0)),
    ],
)
def test_basic_canary_approximates_the_weight_with_replica_counts(
    replicas: int, weight: int, max_surge: int, expected: tuple[int, int]
) -> None:
    assert approximate_weighted_counts(replicas, weight, max_surge) == expected


# Argo's examples (CalculateReplicaCountsForBasicCanary): one move from new 0 / stable all.
@pytest.mark.parametrize(
    ("replicas", "weight", "max_surge", "max_unavailable", "expected"),
    [
        (10, 10, 1, 1, (1, 9)),
        (10, 30, 3, 0, (3, 10)),
        (10, 30, 0, 5, (0, 7)),
        (10, 5, 1, 1, (1, 10)),  # 1 of 11 pods (9 %) is closer to 5 % than 1 of 10: the surge pod is used
        (1, 5, 1, 0, (1, 1)),
        (1, 95, 1, 0, (1, 1)),
    ],
)
def test_basic_canary_moves_within_surge_and_unavailable(
    replicas: int, weight: int, max_surge: int, max_unavailable: int, expected: tuple[int, int]
) -> None:
    counts = basic_canary_counts(
        replicas,
        weight=weight,
        max_surge=max_surge,
        max_unavailable=max_unavailable,
        new=Pods(spec=0, available=0),
        stable=Pods(spec=replicas, available=replicas),
        others=[],
    )
    assert counts == expected


def test_basic_canary_leaves_new_and_stable_alone_while_older_replica_sets_have_pods() -> None:
    counts = basic_canary_counts(
        4,
        weight=50,
        max_surge=1,
        max_unavailable=1,
        new=Pods(spec=1, available=1),
        stable=Pods(spec=3, available=3),
        others=[Pods(spec=1, available=1)],
    )
    assert counts == (1, 3)


def test_basic_canary_without_a_stable_scales_the_new_replica_set_to_everything() -> None:
    counts = basic_canary_counts(
        4, weight=10, max_surge=1, max_unavailable=1, new=Pods(spec=0, available=0), stable=None, others=[]
    )
    assert counts == (4, 0)


def test_an_abort_without_a_router_shrinks_the_canary_first() -> None:
    counts = basic_canary_counts(
        4,
        weight=0,
        max_surge=1,
        max_unavailable=1,
        new=Pods(spec=2, available=2),
        stable=Pods(spec=2, available=2),
        others=[],
    )
    assert counts == (1, 3)


@pytest.mark.parametrize(
    ("new", "stable", "others", "traffic_routed", "expected"),
    [
        (Pods(1, 1), Pods(5, 5, 5), [], True, True),
        (Pods(1, 0), Pods(5, 5, 5), [], True, False),  # the canary pod is not available yet
        (Pods(2, 2), Pods(5, 5, 5), [], True, False),  # too many canary pods
        (Pods(1, 1), Pods(5, 5, 6), [], True, False),  # the stable still has a pod too many
        # Argo's AtDesiredReplicaCountsForCanary: the stable's pods must be available too (a lowered weight brings
        # stable pods back, and the step is done only once they serve).
        (Pods(1, 1), Pods(5, 4, 5), [], False, False),
        (Pods(1, 1), Pods(5, 4, 5), [], True, False),
        (Pods(1, 1), Pods(5, 5, 5), [Pods(0, 1)], True, True),  # a router keeps old pods out of traffic
        (Pods(1, 1), Pods(5, 5, 5), [Pods(0, 1)], False, False),  # without one they still serve
        (None, Pods(5, 5, 5), [], True, False),
    ],
)
def test_a_step_is_at_its_desired_counts_only_when_every_pod_is_in_place(
    new: Pods | None, stable: Pods, others: list[Pods], traffic_routed: bool, expected: bool
) -> None:
    assert (
        at_desired_counts(
            desired_new=1, desired_stable=5, new=new, stable=stable, others=others, traffic_routed=traffic_routed
        )
        is expected
    )
