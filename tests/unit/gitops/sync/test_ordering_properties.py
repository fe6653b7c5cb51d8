"""Property: whatever the waves and kinds, the writes of a whole simulated operation respect wave then kind order,
and each resource is written once. Guard tests prove the property catches an ordering that ignores waves, and one
that ignores kinds."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import event, find, given, settings
from hypothesis import strategies as st

from gitops.resources import JsonObject
from gitops.sync import ordering, step
from gitops.sync.kind_order import kind_rank
from gitops.sync.tasks import SyncTask
from tests.unit.gitops.sync.fake_cluster import Driver, FakeCluster, application, manifest

KINDS = [("ConfigMap", "v1"), ("Secret", "v1"), ("Service", "v1"), ("Deployment", "apps/v1"), ("Widget", "x.io/v1")]

apps = st.lists(st.tuples(st.sampled_from(KINDS), st.integers(min_value=-2, max_value=2)), min_size=2, max_size=6).map(
    lambda items: [manifest(kind, f"r{i}", api=api, wave=wave) for i, ((kind, api), wave) in enumerate(items)]
)


def _heal(driver: Driver) -> None:
    for obj in driver.cluster.objects.values():
        driver.cluster.healthy.add(f"{obj['kind']}/{obj['metadata']['name']}")


def _order_violated(targets: list[JsonObject]) -> bool:
    cluster = FakeCluster()
    Driver(application(), targets, cluster).run(on_pass=_heal)
    by_label = {f"{t['kind']}/{t['metadata']['name']}": t for t in targets}
    written = [label for verb, label in cluster.writes if verb == "apply"]
    if sorted(written) != sorted(by_label):
        return True
    ranks = [
        (
            int(by_label[label]["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"]),
            kind_rank(label.split("/")[0]),
        )
        for label in written
    ]
    return ranks != sorted(ranks)


def _wave(target: JsonObject) -> str:
    return str(target["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"])


def _kinds_share_a_wave(targets: list[JsonObject]) -> bool:
    return len({(_wave(t), t["kind"]) for t in targets}) > len({_wave(t) for t in targets})


@settings(max_examples=40, deadline=None)
@given(apps)
def test_writes_respect_wave_then_kind_order(targets: list[JsonObject]) -> None:
    event("several waves" if len({_wave(t) for t in targets}) > 1 else "one wave")
    event("kinds share a wave" if _kinds_share_a_wave(targets) else "one kind per wave")
    assert not _order_violated(targets)


def _by_kind_and_name(task: SyncTask) -> tuple[int, str]:
    return (kind_rank(task.key.kind), task.key.name)


def _by_wave_and_name(task: SyncTask) -> tuple[int, str]:
    return (task.wave, task.key.name)


@pytest.mark.parametrize(
    ("broken_key", "shows"),
    [
        pytest.param(_by_kind_and_name, lambda ts: len({_wave(t) for t in ts}) > 1, id="waves ignored"),
        pytest.param(_by_wave_and_name, _kinds_share_a_wave, id="kinds ignored"),
    ],
)
def test_the_property_catches_a_broken_ordering(
    monkeypatch: pytest.MonkeyPatch,
    broken_key: Callable[[SyncTask], tuple[int, str]],
    shows: Callable[[list[JsonObject]], bool],
) -> None:
    """Guard: with waves (or kinds) dropped from the sort key the property finds a counterexample, and it is one
    that needs the dropped rule (several waves; kinds sharing a wave)."""
    original = ordering.order_tasks

    def broken(tasks: list[SyncTask]) -> list[SyncTask]:
        return sorted(original(tasks), key=broken_key)

    monkeypatch.setattr(ordering, "order_tasks", broken)
    monkeypatch.setattr(step, "order_tasks", broken)
    counterexample = find(apps, _order_violated, settings=settings(max_examples=200, deadline=None))
    assert shows(counterexample)
