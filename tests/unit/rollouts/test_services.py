"""Pointing Services at ReplicaSets: only when it is safe, only when it changes something."""

from __future__ import annotations

from rollouts.services import MANAGED_BY_ANNOTATION, ServiceReference, service_reference_issues, service_switch
from tests.unit.rollouts.builders import NAME, hash_of, replica_set, service

V1 = "reviews:v1"


def test_a_managed_service_is_switched_as_soon_as_the_target_has_an_available_pod() -> None:
    switch = service_switch(service("svc", selects="old"), replica_set(V1, replicas=3, available=1), rollout_name=NAME)
    assert switch is not None
    assert switch.patch == {"spec": {"selector": {"rollouts-pod-template-hash": hash_of(V1)}}}
    assert switch.message == f"Switched selector for service 'svc' from 'old' to '{hash_of(V1)}'"


def test_no_service_is_pointed_at_a_replica_set_without_available_pods() -> None:
    assert (
        service_switch(service("svc", selects="old"), replica_set(V1, replicas=3, available=0), rollout_name=NAME)
        is None
    )


def test_an_unmanaged_service_is_taken_over_only_once_the_target_is_fully_available() -> None:
    unmanaged = service("svc", managed=False)
    assert service_switch(unmanaged, replica_set(V1, replicas=3, available=2), rollout_name=NAME) is None
    switch = service_switch(unmanaged, replica_set(V1, replicas=3), rollout_name=NAME)
    assert switch is not None
    assert switch.patch == {
        "metadata": {"annotations": {MANAGED_BY_ANNOTATION: NAME}},
        "spec": {"selector": {"rollouts-pod-template-hash": hash_of(V1)}},
    }


def test_nothing_is_written_when_the_service_already_selects_the_target() -> None:
    assert service_switch(service("svc", selects=hash_of(V1)), replica_set(V1, replicas=3), rollout_name=NAME) is None


def test_an_abort_moves_the_service_back_without_waiting_for_availability() -> None:
    stable = replica_set(V1, replicas=3, available=0)
    switch = service_switch(service("svc", selects="canary"), stable, rollout_name=NAME, check_availability=False)
    assert switch is not None


def test_reference_issues_name_the_field_that_names_the_service() -> None:
    issues = service_reference_issues(
        NAME,
        {"app": NAME},
        [ServiceReference("spec.strategy.canary.stableService", "missing")],
        {},
    )
    assert [str(issue) for issue in issues] == ['spec.strategy.canary.stableService: Service "missing" not found']
