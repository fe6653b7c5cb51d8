"""How an Application's status is assembled and written (Argo CD's application controller: persistAppStatus writes
a merge patch only when the status changed)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gitops.controller.app_status import (
    health_with_transition,
    images_of,
    merge_conditions,
    status_changed,
    status_patch,
)

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_an_unchanged_condition_keeps_its_transition_time() -> None:
    previous = [{"type": "ComparisonError", "message": "m", "lastTransitionTime": "2020-01-01T00:00:00Z"}]
    merged = merge_conditions(previous, [{"type": "ComparisonError", "message": "m"}], NOW)
    assert merged == previous


def test_a_new_condition_gets_the_pass_time_and_a_cleared_one_goes() -> None:
    previous = [{"type": "ComparisonError", "message": "old", "lastTransitionTime": "2020-01-01T00:00:00Z"}]
    merged = merge_conditions(previous, [{"type": "SyncError", "message": "x"}], NOW)
    assert merged == [{"type": "SyncError", "message": "x", "lastTransitionTime": "2026-01-02T03:04:05Z"}]


def test_conditions_of_types_another_writer_owns_are_kept() -> None:
    other = {"type": "DeletionError", "message": "d", "lastTransitionTime": "2020-01-01T00:00:00Z"}
    assert merge_conditions([other], [], NOW) == [other]


def test_images_come_from_pod_templates_pods_and_cronjobs() -> None:
    objects = [
        {"kind": "Deployment", "spec": {"template": {"spec": {"containers": [{"image": "web:2"}]}}}},
        {"kind": "Pod", "spec": {"initContainers": [{"image": "init:1"}], "containers": [{"image": "web:2"}]}},
        {"kind": "CronJob", "spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [
            {"image": "job:3"}]}}}}}},
        None,
    ]
    assert images_of(objects) == ["init:1", "job:3", "web:2"]


def test_the_status_patch_sends_changed_fields_and_removes_missing_ones() -> None:
    stored = {"sync": {"status": "OutOfSync"}, "health": {"status": "Healthy"}, "conditions": [{"type": "X"}]}
    desired = {"sync": {"status": "Synced"}, "health": {"status": "Healthy"}}
    assert status_patch(stored, desired) == {"sync": {"status": "Synced"}, "conditions": None}


def test_a_key_gone_from_a_nested_object_is_removed_not_merged() -> None:
    """A merge patch keeps keys it does not mention: a new operation's state must not inherit the old one's
    finishedAt."""
    stored = {"operationState": {"phase": "Succeeded", "finishedAt": "2026-01-01T00:00:00Z"}}
    desired = {"operationState": {"phase": "Running"}}
    assert status_patch(stored, desired) == {"operationState": {"phase": "Running", "finishedAt": None}}


def test_a_new_reconciled_at_alone_is_no_reason_to_write() -> None:
    stored = {"sync": {"status": "Synced"}, "reconciledAt": "2020-01-01T00:00:00Z"}
    desired = {"sync": {"status": "Synced"}, "reconciledAt": "2026-01-02T03:04:05Z"}
    assert not status_changed(stored, desired, ignoring=["reconciledAt"])
    assert status_changed(stored, {**desired, "sync": {"status": "OutOfSync"}}, ignoring=["reconciledAt"])


# Argo CD's setApplicationHealth (controller/health.go, 2.14+, argo-cd#18660 and #22666): the app's
# status.health.lastTransitionTime is kept while the health status word stays, and is the refresh's time when it
# changes or was never set. The notifications catalog's on-deployed trigger compares it with the sync's finishedAt.
HEALTH_TRANSITIONS = [
    ("the same status keeps the stored time",
     {"status": "Healthy", "lastTransitionTime": "2020-01-01T00:00:00Z"}, {"status": "Healthy"},
     {"status": "Healthy", "lastTransitionTime": "2020-01-01T00:00:00Z"}),
    ("a new message alone keeps the stored time",
     {"status": "Progressing", "message": "a", "lastTransitionTime": "2020-01-01T00:00:00Z"},
     {"status": "Progressing", "message": "b"},
     {"status": "Progressing", "message": "b", "lastTransitionTime": "2020-01-01T00:00:00Z"}),
    ("a changed status takes the refresh's time",
     {"status": "Progressing", "lastTransitionTime": "2020-01-01T00:00:00Z"}, {"status": "Healthy"},
     {"status": "Healthy", "lastTransitionTime": "2026-01-02T03:04:05Z"}),
    ("a first health takes the refresh's time", None, {"status": "Missing"},
     {"status": "Missing", "lastTransitionTime": "2026-01-02T03:04:05Z"}),
    ("a stored health without a time gets the refresh's time", {"status": "Healthy"}, {"status": "Healthy"},
     {"status": "Healthy", "lastTransitionTime": "2026-01-02T03:04:05Z"}),
]


@pytest.mark.parametrize(("stored", "current", "expected"), [case[1:] for case in HEALTH_TRANSITIONS],
                         ids=[case[0] for case in HEALTH_TRANSITIONS])
def test_health_transition_time_follows_argo_cds_set_application_health(
    stored: dict[str, str] | None, current: dict[str, str], expected: dict[str, str]
) -> None:
    assert health_with_transition(stored, current, NOW) == expected


def test_an_unchanged_health_with_its_transition_time_is_no_reason_to_write() -> None:
    stored = {"health": {"status": "Healthy", "lastTransitionTime": "2020-01-01T00:00:00Z"},
              "sync": {"status": "Synced"}}
    desired = {"health": health_with_transition(stored["health"], {"status": "Healthy"}, NOW),
               "sync": {"status": "Synced"}}
    assert status_patch(stored, desired) == {}
