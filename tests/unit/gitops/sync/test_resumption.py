"""A controller killed at any instant resumes the same operation: no wave applied twice, none skipped.

The fake controller records each action's result as soon as it returns (see gitops.sync.actions). These tests kill
it at every pass boundary and after every action of every pass, restart it from the persisted operation state with
the live objects as the cluster has them, and compare the writes with an uninterrupted run.
"""

from __future__ import annotations

import copy

import pytest

from gitops.resources import JsonObject
from tests.unit.gitops.sync.fake_cluster import Driver, FakeCluster, application, manifest


def _targets() -> list[JsonObject]:
    return [
        manifest("Job", "migrate", api="batch/v1", hook="PreSync"),
        manifest("ConfigMap", "settings", wave=-1),
        manifest("Secret", "token", wave=-1),
        manifest("Service", "backend"),
        manifest("Deployment", "backend", api="apps/v1"),
        manifest("Deployment", "frontend", api="apps/v1", wave=1),
        manifest("Job", "smoke", api="batch/v1", hook="PostSync"),
    ]


def _heal(driver: Driver) -> None:
    for obj in driver.cluster.objects.values():
        driver.cluster.healthy.add(f"{obj['kind']}/{obj['metadata']['name']}")


def _reference() -> tuple[list[tuple[str, str]], list[int]]:
    """The uninterrupted run's writes, and the number of actions of each pass."""
    driver = Driver(application(), _targets(), FakeCluster())
    sizes = []
    for _ in range(50):
        step = driver.one_pass()
        sizes.append(len(step.actions))
        _heal(driver)
        if step.done:
            return driver.cluster.writes, sizes
    raise AssertionError("reference run did not finish")


REFERENCE_WRITES, PASS_SIZES = _reference()
KILL_POINTS = [(p, k) for p, size in enumerate(PASS_SIZES) for k in range(size + 1)]


def _run_with_kill(kill_pass: int, after_actions: int) -> tuple[list[tuple[str, str]], JsonObject]:
    cluster = FakeCluster()
    driver = Driver(application(), _targets(), cluster)
    for _ in range(kill_pass):
        driver.one_pass()
        _heal(driver)
    persisted = copy.deepcopy(driver.state)
    driver.one_pass(stop_after_actions=after_actions)
    if after_actions > 0:
        # Each executed action's result was recorded (and persisted) as soon as it returned.
        persisted = copy.deepcopy(driver.state)
    restarted = Driver(application(), _targets(), cluster)
    restarted.state, restarted.now = persisted, driver.now
    final = restarted.run(on_pass=_heal)
    return cluster.writes, final


def test_reference_run_applies_each_resource_once_in_order() -> None:
    """The baseline the kill tests compare against: hooks and waves in Argo's order, one write each."""
    assert REFERENCE_WRITES == [
        ("apply", "Job/migrate"),
        ("apply", "Secret/token"),  # Secret precedes ConfigMap in Argo's kind table
        ("apply", "ConfigMap/settings"),
        ("apply", "Service/backend"),
        ("apply", "Deployment/backend"),
        ("apply", "Deployment/frontend"),
        ("apply", "Job/smoke"),
    ]


@pytest.mark.parametrize(("kill_pass", "after_actions"), KILL_POINTS, ids=[f"pass{p}-after{k}" for p, k in KILL_POINTS])
def test_restart_resumes_without_repeating_or_skipping_a_write(kill_pass: int, after_actions: int) -> None:
    """Killed at this pass after that many recorded actions, the restarted controller makes exactly the
    uninterrupted run's writes, in the same order, and the operation still succeeds."""
    writes, final = _run_with_kill(kill_pass, after_actions)
    assert writes == REFERENCE_WRITES
    assert final["phase"] == "Succeeded"


def test_kill_points_cover_every_pass_boundary_and_action() -> None:
    """Guard: the parametrisation really kills inside multi-action passes (not only at boundaries)."""
    assert len(PASS_SIZES) >= 5
    assert max(PASS_SIZES) >= 3
    assert len(KILL_POINTS) == sum(size + 1 for size in PASS_SIZES)


def test_action_executed_but_not_recorded_is_applied_once_more() -> None:
    """The one window writing-before-recording leaves: an apply whose result was lost is repeated on restart
    (idempotently), never skipped."""
    cluster = FakeCluster()
    driver = Driver(application(), [manifest("ConfigMap", "a"), manifest("ConfigMap", "b", wave=1)], cluster)
    step = driver.plan()
    first_wave_apply = next(a for a in step.actions if not a.dry_run)
    cluster.execute(first_wave_apply)  # executed, then the controller dies before recording it
    restarted = Driver(application(), driver.targets, cluster)
    final = restarted.run()
    assert cluster.writes == [("apply", "ConfigMap/a"), ("apply", "ConfigMap/a"), ("apply", "ConfigMap/b")]
    assert final["phase"] == "Succeeded"
