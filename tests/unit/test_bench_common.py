"""The benchmarks' own arithmetic: which requests count as the controller's writes, when a pause expires, how a
missed target is reported."""

from __future__ import annotations

from typing import Any

import pytest

from bench.common import (
    Target,
    controller_writes,
    distribution,
    pause_expiries,
    percentile,
    weight_changes,
    weight_steps,
)
from bench.gitops import AppProgress
from kube.timestamps import parse_time
from sandbox.emulator.server import RequestRecord
from sandbox.recorder import Change


def record(verb: str, resource: str, subresource: str | None = None) -> RequestRecord:
    return RequestRecord(verb, "", "v1", resource, subresource, "fleet", "x")


def change(at: float, plural: str, name: str, body: dict[str, Any]) -> Change:
    return Change(at, "MODIFIED", plural, "fleet", name, body, None)


def test_the_simulators_writes_reads_and_lease_renewals_are_not_the_controllers_writes() -> None:
    records = [
        record("patch", "virtualservices"), record("patch", "rollouts", "status"), record("create", "events"),
        record("create", "pods"), record("patch", "pods", "status"), record("patch", "replicasets", "status"),
        record("get", "rollouts"), record("watch", "pods"), record("update", "leases"),
    ]
    assert controller_writes(records) == {"patch virtualservices": 1, "patch rollouts/status": 1, "create events": 1}
    assert controller_writes(records, election=True) == {"update leases": 1}


def test_a_pause_expires_at_its_start_time_plus_its_duration() -> None:
    steps = weight_steps("2s")
    start = "2024-05-01T10:00:00Z"
    paused = {"status": {"currentStepIndex": 1, "pauseConditions": [{"reason": "CanaryPauseStep",
                                                                       "startTime": start}]}}
    expiries = pause_expiries([change(1.0, "rollouts", "r-0000", paused),
                               change(1.5, "rollouts", "r-0000", paused)], steps)
    moment = parse_time(start)
    assert moment is not None
    assert expiries == {"r-0000": [(1, moment.timestamp() + 2.0)]}


def test_only_changes_of_the_canary_weight_count() -> None:
    def service(canary: int) -> dict[str, Any]:
        return {"spec": {"http": [{"route": [{"destination": {"host": "r-0000-stable"}, "weight": 100 - canary},
                                             {"destination": {"host": "r-0000-canary"}, "weight": canary}]}]}}

    changes = [change(1, "virtualservices", "r-0000", service(20)), change(2, "virtualservices", "r-0000", service(20)),
               change(3, "virtualservices", "r-0000", service(50))]
    assert weight_changes(changes) == {"r-0000": [(1, 20), (3, 50)]}


def test_percentiles_are_nearest_rank() -> None:
    samples = [float(i) for i in range(1, 101)]
    assert percentile(samples, 0.5) == 50 and percentile(samples, 0.99) == 99 and percentile(samples, 1.0) == 100
    assert distribution([])["p99"] is None


@pytest.mark.parametrize(
    ("target", "met", "miss"),
    [
        (Target("p99", 2.5, 2.0, " s"), False, "over by 0.5 s (25 %)"),
        (Target("p99", 1.5, 2.0, " s"), True, ""),
        (Target("complete", 990.0, 1000.0, at_least=True), False, "short by 10 (1 %)"),
        (Target("writes", 0.0, 0.0), True, ""),
        (Target("writes", 3.0, 0.0), False, "over by 3"),
        (Target("p99", None, 1.0), False, "not measured"),
    ],
)
def test_a_missed_target_says_by_how_much(target: Target, met: bool, miss: str) -> None:
    assert target.met is met and target.miss == miss


def app_change(at: float, name: str, sync: str, health: str, *, operation: bool = False) -> Change:
    body: dict[str, Any] = {"status": {"sync": {"status": sync}, "health": {"status": health}}}
    if operation:
        body["operation"] = {"sync": {}}
    return Change(at, "MODIFIED", "applications", "argocd", name, body, None)


def test_the_appset_milestones_are_the_changes_that_completed_them_over_the_latest_state_of_each_application() -> None:
    progress = AppProgress(2)
    progress.fold([
        app_change(1.0, "a", "OutOfSync", "Missing"),
        app_change(2.0, "b", "OutOfSync", "Missing"),
        app_change(3.0, "a", "Synced", "Progressing"),
        app_change(4.0, "b", "Synced", "Healthy", operation=True),  # an operation still running is not Synced yet
        app_change(5.0, "a", "Synced", "Healthy"),
        app_change(6.0, "b", "Synced", "Healthy"),
    ])
    assert (progress.created_at, progress.synced_at, progress.healthy_at) == (2.0, 6.0, 6.0)
