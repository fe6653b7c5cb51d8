"""How every controller starts (``kube.controller_startup``): the cache first, then the workers — at once, or once
elected — and never once stopped; the start-up list of each watched kind."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, cast

from kube.client import AsyncKubeClient
from kube.controller_runner import ControllerRunner, RunnerOptions, WorkerOptions
from kube.controller_startup import PRIME_SLICE, CacheFirstController, list_into_cache
from kube.errors import ApiError, NotFound
from kube.object_meta import ObjectKey
from kube.resources import ANALYSIS_RUNS, CLUSTER_ANALYSIS_TEMPLATES, ResourceKind
from kube.timestamps import utc_now

JsonObject = dict[str, Any]


class NoMetrics:
    def observe_reconcile(self, namespace: str, name: str, seconds: float) -> None: ...

    def count_error(self, namespace: str, name: str) -> None: ...

    def forget(self, namespace: str, name: str) -> None: ...


class RecordingController(CacheFirstController[None, WorkerOptions]):
    """Records the order of its start-up steps; its cache is a list of keys."""

    def __init__(self, *, leader_election: bool) -> None:
        super().__init__(None, WorkerOptions(workers=1, leader_election=leader_election), utc_now)
        self.steps: list[str] = []
        self.keys: list[ObjectKey] = []
        self.runner = ControllerRunner(RunnerOptions("test", 1, resync_seconds=0), self.reconcile, lambda: self.keys,
                                       NoMetrics())

    async def reconcile(self, key: ObjectKey) -> None:
        return None

    async def _fill_cache(self) -> None:
        self.steps.append("fill")
        self.keys.append(ObjectKey("default", "a"))

    def _before_workers(self) -> None:
        self.steps.append(f"before workers (synced={self.cache_synced.is_set()})")

    def _workers_started(self) -> None:
        self.steps.append(f"workers started (running={self.runner.started})")


async def test_the_cache_is_filled_and_synced_before_the_workers_start() -> None:
    controller = RecordingController(leader_election=False)
    await controller.start()
    try:
        assert controller.steps == ["fill", "before workers (synced=True)", "workers started (running=True)"]
    finally:
        await controller.runner.stop()


async def test_with_leader_election_the_workers_wait_for_start_workers() -> None:
    controller = RecordingController(leader_election=True)
    await controller.start()
    try:
        assert controller.cache_synced.is_set()
        assert not controller.runner.started
        controller.start_workers()
        assert controller.runner.started
    finally:
        await controller.runner.stop()


async def test_starting_twice_fills_the_cache_and_starts_the_workers_once() -> None:
    controller = RecordingController(leader_election=False)
    await controller.start()
    await controller.start()
    controller.start_workers()
    try:
        assert controller.steps.count("fill") == 1
        assert controller.steps.count("workers started (running=True)") == 1
    finally:
        await controller.runner.stop()


async def test_a_leadership_won_once_stopped_starts_nothing() -> None:
    controller = RecordingController(leader_election=True)
    await controller.start()
    await controller.runner.stop()
    controller.start_workers()
    assert not controller.runner.started
    assert controller.steps == ["fill"]


class ListingClient:
    """Answers ``list`` from a table of (kind plural, namespace) → objects or an error; records each call."""

    def __init__(self, answers: dict[tuple[str, str | None], Sequence[JsonObject] | ApiError]) -> None:
        self.answers = answers
        self.calls: list[tuple[str, str | None]] = []

    async def list(self, kind: ResourceKind, namespace: str | None = None) -> list[JsonObject]:
        self.calls.append((kind.plural, namespace))
        answer = self.answers[(kind.plural, namespace)]
        if isinstance(answer, ApiError):
            raise answer
        return list(answer)


def named(*names: str) -> list[JsonObject]:
    return [{"metadata": {"name": name}} for name in names]


async def listed(client: ListingClient, kind: ResourceKind, namespaces: tuple[str, ...]) -> list[str]:
    seen: list[str] = []
    await list_into_cache(cast(AsyncKubeClient, client), kind, namespaces,
                          lambda obj: seen.append(obj["metadata"]["name"]))
    return seen


async def test_every_watched_namespace_is_listed_in_turn() -> None:
    client = ListingClient({("analysisruns", "a"): named("r1"), ("analysisruns", "b"): named("r2", "r3")})
    assert await listed(client, ANALYSIS_RUNS, ("a", "b")) == ["r1", "r2", "r3"]


async def test_no_namespace_given_lists_every_namespace_at_once() -> None:
    client = ListingClient({("analysisruns", None): named("r1")})
    assert await listed(client, ANALYSIS_RUNS, ()) == ["r1"]
    assert client.calls == [("analysisruns", None)]


async def test_a_cluster_scoped_kind_is_listed_once_whatever_the_namespaces() -> None:
    client = ListingClient({("clusteranalysistemplates", None): named("t")})
    assert await listed(client, CLUSTER_ANALYSIS_TEMPLATES, ("a", "b")) == ["t"]
    assert client.calls == [("clusteranalysistemplates", None)]


async def test_a_kind_the_cluster_does_not_serve_is_skipped_in_every_namespace() -> None:
    client = ListingClient({("analysisruns", "a"): NotFound(404, "NotFound", "no such resource")})
    assert await listed(client, ANALYSIS_RUNS, ("a", "b")) == []
    assert client.calls == [("analysisruns", "a")]


async def test_a_namespace_that_cannot_be_listed_does_not_stop_the_others() -> None:
    client = ListingClient({
        ("analysisruns", "a"): ApiError(403, "Forbidden", "runs are forbidden in a"),
        ("analysisruns", "b"): named("r2"),
    })
    assert await listed(client, ANALYSIS_RUNS, ("a", "b")) == ["r2"]


async def test_a_long_list_gives_the_loop_a_turn_between_slices() -> None:
    client = ListingClient({("analysisruns", None): named(*(f"r{i}" for i in range(2 * PRIME_SLICE)))})
    turns: list[int] = []
    seen: list[str] = []

    async def other_task() -> None:
        while True:
            turns.append(len(seen))
            await asyncio.sleep(0)

    task = asyncio.create_task(other_task())
    await asyncio.sleep(0)  # the other task runs once before the listing
    await list_into_cache(cast(AsyncKubeClient, client), ANALYSIS_RUNS, (),
                          lambda obj: seen.append(obj["metadata"]["name"]))
    task.cancel()
    # Besides its first turn, the other task ran between the slices: after the first 200 objects.
    assert PRIME_SLICE in turns
