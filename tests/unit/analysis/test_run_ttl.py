"""spec.ttlStrategy of an AnalysisRun: a completed run is deleted once its TTL has passed (Argo's
docs/features/analysis.md "Time-to-live", and isAnalysisRunTtlExceeded: secondsAfterSuccess for a Successful run,
secondsAfterFailure for a Failed one, secondsAfterCompletion otherwise; more than that many whole seconds after
status.completedAt)."""

from __future__ import annotations

from typing import Any, cast

import pytest

from analysis.controller.cache import RunCache
from analysis.controller.metrics import AnalysisMetrics
from analysis.controller.reconciler import RunReconciler
from analysis.runner.ttl import TtlVerdict, ttl_verdict
from kube.client import AsyncKubeClient
from kube.controller_runner import GONE
from kube.events import EventRecorder
from kube.object_meta import ObjectKey
from kube.resources import ResourceKind
from tests.unit.analysis.runner_builders import analysis_run, at, metric, stamp

JsonObject = dict[str, Any]
KEY = ObjectKey("default", "run")


def completed(phase: str, ttl: JsonObject | None, completed_at: float = 0) -> JsonObject:
    run = analysis_run(metric("m"), status={"phase": phase, "completedAt": stamp(completed_at)})
    if ttl is not None:
        run["spec"]["ttlStrategy"] = ttl
    return run


@pytest.mark.parametrize(
    ("phase", "ttl", "seconds_later", "expected"),
    [
        ("Successful", {"secondsAfterSuccess": 60}, 60, TtlVerdict(False, 1.0)),  # not more than 60 yet
        ("Successful", {"secondsAfterSuccess": 60}, 61, TtlVerdict(True, 0.0)),
        ("Successful", {"secondsAfterFailure": 5, "secondsAfterCompletion": 30}, 31, TtlVerdict(True, 0.0)),
        ("Failed", {"secondsAfterFailure": 5, "secondsAfterCompletion": 300}, 6, TtlVerdict(True, 0.0)),
        ("Failed", {"secondsAfterSuccess": 5, "secondsAfterCompletion": 300}, 6, TtlVerdict(False, 295.0)),
        ("Error", {"secondsAfterSuccess": 1, "secondsAfterFailure": 1, "secondsAfterCompletion": 10}, 11,
         TtlVerdict(True, 0.0)),
        ("Inconclusive", {"secondsAfterCompletion": 0}, 1, TtlVerdict(True, 0.0)),
    ],
)
def test_which_ttl_applies_and_when_it_has_passed(
    phase: str, ttl: JsonObject, seconds_later: float, expected: TtlVerdict
) -> None:
    assert ttl_verdict(completed(phase, ttl), at(seconds_later)) == expected


@pytest.mark.parametrize(
    "run",
    [
        completed("Successful", None),  # no strategy
        completed("Successful", {"secondsAfterFailure": 1}),  # nothing that applies to a success
        analysis_run(metric("m"), status={"phase": "Running"}, ttlStrategy={"secondsAfterCompletion": 0}),
        analysis_run(metric("m"), status={"phase": "Successful"}, ttlStrategy={"secondsAfterCompletion": 0}),
    ],
    ids=["no-strategy", "no-matching-field", "running", "no-completedAt"],
)
def test_no_ttl_applies(run: JsonObject) -> None:
    assert ttl_verdict(run, at(3600)) is None


class DeletingClient:
    """Records deletions (and refuses any other write: a run past its TTL is not measured again)."""

    def __init__(self) -> None:
        self.deleted: list[tuple[str, str | None, str]] = []

    async def delete(self, kind: ResourceKind, namespace: str | None, name: str, **_: Any) -> None:
        self.deleted.append((kind.plural, namespace, name))

    async def patch(self, *args: Any, **kwargs: Any) -> JsonObject:
        raise AssertionError("a run past its TTL is deleted, not written")


def reconciler(run: JsonObject, now_seconds: float) -> tuple[RunReconciler, DeletingClient]:
    client = DeletingClient()
    cache = RunCache()
    cache.observe_run(None, run)
    fake = cast(AsyncKubeClient, client)
    return (
        RunReconciler(
            cache=cache, client=fake, events=EventRecorder(fake), metrics=AnalysisMetrics(),
            clock=lambda: at(now_seconds),
        ),
        client,
    )


async def test_a_run_past_its_ttl_is_deleted() -> None:
    run_reconciler, client = reconciler(completed("Successful", {"secondsAfterSuccess": 60}), 61)
    assert await run_reconciler.reconcile(KEY) is GONE
    assert client.deleted == [("analysisruns", "default", "run")]


async def test_a_completed_run_within_its_ttl_is_looked_at_again_when_it_expires() -> None:
    run_reconciler, client = reconciler(completed("Failed", {"secondsAfterCompletion": 120}), 20)
    assert await run_reconciler.reconcile(KEY) == 101.0
    assert client.deleted == []
