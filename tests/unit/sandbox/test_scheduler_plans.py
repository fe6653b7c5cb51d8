"""The simulated scheduler's decisions: node slots, the unschedulable status, and how many pods a pass creates."""

from __future__ import annotations

import pytest

from sandbox.scheduler_plans import (
    MAX_BATCH,
    MAX_UNBOUND_PER_SET,
    holds_slot,
    is_bound,
    is_unschedulable,
    pods_to_create,
    slow_start_batches,
    unschedulable_message,
    unschedulable_status,
)


@pytest.mark.parametrize(("phase", "holds"), [(None, True), ("Pending", True), ("Running", True),
                                              ("Succeeded", False), ("Failed", False)])
def test_only_unfinished_pods_hold_a_node_slot(phase: str | None, holds: bool) -> None:
    assert holds_slot({"status": {"phase": phase}} if phase else {}) is holds


def test_a_pod_is_bound_once_it_names_a_node_or_reports_being_scheduled() -> None:
    assert is_bound({"spec": {"nodeName": "sandbox-node-2"}})
    assert is_bound({"status": {"conditions": [{"type": "PodScheduled", "status": "True"}]}})
    assert not is_bound({"status": {"conditions": [{"type": "PodScheduled", "status": "False"}]}})
    assert not is_bound({})


def test_the_unschedulable_message_is_kube_schedulers() -> None:
    assert unschedulable_message(3) == ("0/3 nodes are available: 3 Too many pods. preemption: 0/3 nodes are "
                                        "available: 3 No preemption victims found for incoming pod.")


def test_an_unschedulable_pod_keeps_its_transition_time_while_it_waits() -> None:
    first = unschedulable_status({}, 1, now=1_000_000_000.0)
    assert first["phase"] == "Pending" and "hostIP" not in first
    [condition] = first["conditions"]
    assert (condition["type"], condition["status"], condition["reason"]) == ("PodScheduled", "False",
                                                                             "Unschedulable")
    again = unschedulable_status({"status": first}, 1, now=1_000_000_500.0)
    assert again == first
    assert is_unschedulable({"status": first}, 1)
    assert not is_unschedulable({"status": first}, 2)  # a node was added: the message changes


@pytest.mark.parametrize(("missing", "unbound", "burst", "created"), [
    (3, 0, 500, 3),
    (10**9, 0, 500, 500),               # burstReplicas per pass
    (10**9, 110, 500, MAX_UNBOUND_PER_SET - 110),
    (10**9, MAX_UNBOUND_PER_SET, 500, 0),  # the set already has its share of pods waiting for a slot
    (0, 0, 500, 0),
])
def test_a_pass_creates_no_more_than_the_burst_nor_beyond_the_waiting_bound(
        missing: int, unbound: int, burst: int, created: int) -> None:
    assert pods_to_create(missing, unbound, burst) == created


def test_creations_start_slowly_and_double() -> None:
    assert slow_start_batches(0) == []
    assert slow_start_batches(1) == [1]
    assert slow_start_batches(10) == [1, 2, 4, 3]
    batches = slow_start_batches(500)
    assert sum(batches) == 500 and max(batches) == MAX_BATCH and batches[:4] == [1, 2, 4, 8]
