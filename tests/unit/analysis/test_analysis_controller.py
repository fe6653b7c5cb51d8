"""The analysis controller's pieces without a cluster: the run cache and the Job wake-ups, the metrics under Argo's
names, one reconcile pass (what it writes, when it writes nothing, how it retries), and the kopf registration."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, cast

import kopf
import pytest

from analysis.controller.cache import RunCache
from analysis.controller.controller import AnalysisController
from analysis.controller.handlers import register_handlers
from analysis.controller.metrics import AnalysisMetrics, provider_type
from analysis.controller.reconciler import RunReconciler
from analysis.providers.base import MeasurementContext, ProviderResult
from analysis.providers.job import metrics_awaiting
from analysis.runner.lifecycle import decide_run
from kube.client import AsyncKubeClient
from kube.controller_runner import TRANSIENT_RETRY_SECONDS, ControllerRunner, RunnerOptions
from kube.errors import Conflict, Unreachable
from kube.events import EventRecorder
from kube.object_meta import ObjectKey
from kube.resources import ResourceKind
from kube.work_queue import WorkQueue
from tests.unit.analysis.runner_builders import T0, analysis_run, at, measurement, metric, stamp

JsonObject = dict[str, Any]
KEY = ObjectKey("default", "run")


def job_run(*, phase: str = "Running", job_name: str = "uid-1.job.1", **status: Any) -> JsonObject:
    """A run whose metric ``job`` waits on a Job (its measurement in flight names it)."""
    in_flight = measurement("Running", 0, resumeAt=stamp(15), metadata={"job-name": job_name})
    return analysis_run(
        metric("job"),
        status={"phase": phase, "startedAt": stamp(0), "metricResults": [
            {"name": "job", "phase": "Running", "measurements": [in_flight]}
        ], **status},
    )


def job(name: str = "uid-1.job.1", *, owner_uid: str = "uid-1", condition: str | None = None) -> JsonObject:
    status = {"conditions": [{"type": condition, "status": "True"}]} if condition else {}
    return {
        "metadata": {
            "name": name,
            "namespace": "default",
            "ownerReferences": [{"kind": "AnalysisRun", "name": "run", "uid": owner_uid, "controller": True}],
        },
        "status": status,
    }


def with_version(run: JsonObject, version: str) -> JsonObject:
    return {**run, "metadata": {**run["metadata"], "resourceVersion": version}}


# -- resuming a measurement early ------------------------------------------------------------------------------


def test_resume_now_resumes_a_measurement_in_flight_before_its_resume_at() -> None:
    run = job_run()
    assert decide_run(run, at(1)).tasks == ()
    (task,) = decide_run(run, at(1), resume_now={"job"}).tasks
    assert (task.action, task.metric_name) == ("resume", "job")
    assert decide_run(run, at(1), resume_now={"other"}).tasks == ()


def test_the_metrics_awaiting_a_job_are_those_whose_measurement_in_flight_names_it() -> None:
    run = job_run(job_name="uid-1.job.1")
    assert metrics_awaiting(run, {"uid-1.job.1"}) == {"job"}
    assert metrics_awaiting(run, {"uid-1.job.0"}) == set()
    done = analysis_run(metric("job"), status={"metricResults": [
        {"name": "job", "measurements": [measurement("Successful", 0, metadata={"job-name": "uid-1.job.1"})]}
    ]})
    assert metrics_awaiting(done, {"uid-1.job.1"}) == set()


# -- the cache -------------------------------------------------------------------------------------------------


def test_a_late_event_of_an_older_version_does_not_replace_our_write() -> None:
    cache = RunCache()
    cache.observe_run(None, with_version(job_run(), "5"))
    cache.record_write(with_version(job_run(phase="Successful"), "7"))
    assert cache.observe_run("MODIFIED", with_version(job_run(), "6")) == KEY
    assert (cache.get(KEY) or {})["status"]["phase"] == "Successful"


def test_the_answer_to_a_write_that_raced_the_deletion_does_not_bring_the_run_back() -> None:
    """The run's status write was answered (resourceVersion 6) after its DELETED event (7) was applied: the run
    stays gone, or its passes would write to a run that no longer exists for ever."""
    cache = RunCache()
    cache.observe_run(None, with_version(job_run(), "5"))
    cache.observe_run("DELETED", with_version(job_run(), "7"))
    cache.record_write(with_version(job_run(phase="Successful"), "6"))
    assert cache.get(KEY) is None


def test_a_finished_job_wakes_its_run_once_and_its_pass_takes_the_name() -> None:
    cache = RunCache()
    cache.observe_run(None, job_run())
    assert cache.observe_job("MODIFIED", job()) is None  # still running: nothing to read yet
    assert cache.observe_job("MODIFIED", job(condition="Complete")) == KEY
    assert cache.take_finished_jobs(KEY) == {"uid-1.job.1"}
    assert cache.take_finished_jobs(KEY) == frozenset()


@pytest.mark.parametrize(
    ("event_type", "the_job", "wakes"),
    [
        ("MODIFIED", job(condition="Failed"), True),
        ("DELETED", job(), True),  # deleted before it finished: the measurement must learn it is gone
        ("MODIFIED", job(condition="Complete", owner_uid="another-run"), False),  # a run of the same name, deleted
        (None, {**job(condition="Complete"), "metadata": {"name": "x", "namespace": "default"}}, False),  # unowned
    ],
)
def test_which_job_events_wake_a_run(event_type: str | None, the_job: JsonObject, wakes: bool) -> None:
    cache = RunCache()
    cache.observe_run(None, job_run())
    assert (cache.observe_job(event_type, the_job) == KEY) is wakes


def test_the_jobs_of_a_completed_run_wake_nothing() -> None:
    cache = RunCache()
    cache.observe_run(None, job_run(phase="Successful"))
    assert cache.observe_job("DELETED", job(condition="Complete")) is None


# -- metrics ---------------------------------------------------------------------------------------------------


def test_the_phase_series_follow_the_run_as_argo_exports_them() -> None:
    metrics = AnalysisMetrics()
    run = analysis_run(metric("job"), metric("probe"), dryRun=[{"metricName": "probe"}])
    run["metadata"]["namespace"] = "shop"
    metrics.observe_run({**run, "status": {"phase": "Running", "metricResults": [{"name": "job", "phase": "Running"}]}})
    sample = metrics.registry.get_sample_value
    labels = {"namespace": "shop", "name": "run"}
    assert sample("analysis_run_info", {**labels, "phase": "Running"}) == 1
    assert sample("analysis_run_phase", {**labels, "phase": "Running"}) == 1
    assert sample("analysis_run_phase", {**labels, "phase": "Successful"}) == 0
    assert sample("analysis_run_metric_type", {**labels, "metric": "job", "type": "Web"}) == 1
    job_labels = {**labels, "metric": "job", "type": "Web", "dry_run": "false"}
    assert sample("analysis_run_metric_phase", {**job_labels, "phase": "Running"}) == 1
    probe_labels = {**labels, "metric": "probe", "type": "Web", "dry_run": "true"}
    assert sample("analysis_run_metric_phase", {**probe_labels, "phase": "Pending"}) == 1

    metrics.observe_run({**run, "status": {"phase": "Successful"}})
    assert sample("analysis_run_info", {**labels, "phase": "Running"}) is None
    assert sample("analysis_run_info", {**labels, "phase": "Successful"}) == 1
    metrics.count_error("shop", "run")
    assert sample("analysis_run_reconcile_error", labels) == 1  # exactly this name, no _total
    metrics.forget("shop", "run")
    assert sample("analysis_run_info", {**labels, "phase": "Successful"}) is None
    assert sample("analysis_run_reconcile_error", labels) is None


@pytest.mark.parametrize(
    ("provider", "expected"),
    [({"prometheus": {}}, "Prometheus"), ({"job": {}}, "Job"), ({"web": {}}, "Web"), ({}, "Unknown Provider")],
)
def test_provider_types_have_argos_names(provider: JsonObject, expected: str) -> None:
    assert provider_type({"name": "m", "provider": provider}) == expected


# -- one pass --------------------------------------------------------------------------------------------------


class FakeClient:
    """Answers a status patch with the run patched and a new resourceVersion; records every call."""

    def __init__(self, run: JsonObject) -> None:
        self.run = run
        self.calls: list[tuple[str, str, JsonObject]] = []
        self.failure: Exception | None = None

    async def patch(self, kind: ResourceKind, namespace: str | None, name: str, patch: Any, *,
                    patch_type: str = "merge", subresource: str | None = None) -> JsonObject:
        self.calls.append(("patch", kind.plural, patch))
        if self.failure is not None:
            raise self.failure
        version = str(int(self.run["metadata"].get("resourceVersion", "1")) + 1)
        self.run = {**self.run, "status": {**(self.run.get("status") or {}), **patch["status"]},
                    "metadata": {**self.run["metadata"], "resourceVersion": version}}
        return self.run

    async def create(self, kind: ResourceKind, namespace: str | None, body: Any) -> JsonObject:
        self.calls.append(("create", kind.plural, dict(body)))
        return dict(body)

    def writes(self, plural: str) -> list[JsonObject]:
        return [body for verb, kind, body in self.calls if kind == plural]


class SteadyProvider:
    """A provider that always measures ``value`` (and counts how often it was asked)."""

    name = "web"

    def __init__(self, value: Any) -> None:
        self.value = value
        self.calls = 0

    async def run(self, context: MeasurementContext) -> ProviderResult:
        self.calls += 1
        return ProviderResult(value=self.value)

    async def resume(self, context: MeasurementContext, metadata: Mapping[str, str]) -> ProviderResult:
        return await self.run(context)

    async def terminate(self, context: MeasurementContext, metadata: Mapping[str, str]) -> None:
        return None

    async def garbage_collect(self, context: MeasurementContext, keep: int) -> None:
        return None


def reconciler_for(run: JsonObject, provider: SteadyProvider) -> tuple[
    ControllerRunner[ObjectKey], RunCache, WorkQueue[ObjectKey], AnalysisMetrics, FakeClient
]:
    """The RunReconciler behind the runner the controller uses (its passes called directly, as a worker would)."""
    client = FakeClient(run)
    fake = cast(AsyncKubeClient, client)
    cache, metrics = RunCache(), AnalysisMetrics()
    cache.observe_run(None, run)
    reconciler = RunReconciler(
        cache=cache, client=fake, events=EventRecorder(fake), metrics=metrics, clock=lambda: T0,
        providers=lambda metric, *, kube: provider,
    )
    runner = ControllerRunner(RunnerOptions("analysis run", 1), reconciler.reconcile, cache.run_keys, metrics)
    return runner, cache, runner.queue, metrics, client


async def test_a_pass_writes_the_status_with_the_observed_version_then_posts_the_events() -> None:
    run = with_version(analysis_run(metric("m", successCondition="result >= 0.95")), "7")
    runner, cache, queue, _, client = reconciler_for(run, SteadyProvider(0.99))
    await runner.process(KEY)
    await asyncio.sleep(0)  # the Events are posted on tasks of their own

    (status_write,) = client.writes("analysisruns")
    assert status_write["metadata"] == {"resourceVersion": "7"}
    assert status_write["status"]["phase"] == "Successful"
    assert (cache.get(KEY) or {})["metadata"]["resourceVersion"] == "8"  # the next pass sees the write
    assert [body["reason"] for body in client.writes("events")] == ["MetricSuccessful", "AnalysisRunSuccessful"]
    assert all(body["involvedObject"]["kind"] == "AnalysisRun" for body in client.writes("events"))
    assert queue.scheduled(KEY) is None  # complete: nothing more to look at


async def test_a_pass_over_a_completed_run_writes_nothing_and_measures_nothing() -> None:
    run = analysis_run(metric("m"), status={"phase": "Successful", "startedAt": stamp(0), "completedAt": stamp(1)})
    provider = SteadyProvider(1)
    runner, _, _, metrics, client = reconciler_for(run, provider)
    await runner.process(KEY)
    assert client.calls == [] and provider.calls == 0
    assert metrics.registry.get_sample_value("analysis_run_reconcile_count", {"namespace": "default", "name": "run"})


async def test_a_conflict_is_retried_soon_with_the_finished_jobs_kept_for_the_retry() -> None:
    run = with_version(job_run(), "7")
    runner, cache, queue, metrics, client = reconciler_for(run, SteadyProvider(1))
    client.failure = Conflict(409, "Conflict", "the object has been modified")
    cache.observe_job("MODIFIED", job(condition="Complete"))
    loop = asyncio.get_running_loop()
    await runner.process(KEY)

    assert client.writes("events") == []  # what was not written is not announced
    wake_up = queue.scheduled(KEY)
    assert wake_up is not None and wake_up - loop.time() == pytest.approx(TRANSIENT_RETRY_SECONDS, abs=0.1)
    assert cache.take_finished_jobs(KEY) == {"uid-1.job.1"}
    errors = metrics.registry.get_sample_value("analysis_run_reconcile_error", {"namespace": "default", "name": "run"})
    assert errors is None  # a Conflict is the normal cost of optimistic concurrency, not an error


async def test_a_failed_write_is_counted_and_backed_off() -> None:
    runner, _, queue, metrics, client = reconciler_for(analysis_run(metric("m")), SteadyProvider(1))
    client.failure = Unreachable("cannot reach the Kubernetes API")
    await runner.process(KEY)
    errors = metrics.registry.get_sample_value("analysis_run_reconcile_error", {"namespace": "default", "name": "run"})
    assert errors == 1
    assert queue.scheduled(KEY) is not None


async def test_a_deleted_run_loses_its_series_and_its_wake_up() -> None:
    runner, cache, queue, metrics, _ = reconciler_for(analysis_run(metric("m")), SteadyProvider(1))
    metrics.observe_run(cache.get(KEY) or {})
    queue.add_after(KEY, 60)
    cache.observe_run("DELETED", analysis_run(metric("m")))
    await runner.process(KEY)
    assert queue.scheduled(KEY) is None
    assert metrics.registry.get_sample_value("analysis_run_info", {"namespace": "default", "name": "run",
                                                                   "phase": "Pending"}) is None


# -- kopf -----------------------------------------------------------------------------------------------------


def test_only_observers_of_runs_and_jobs_are_registered() -> None:
    registry = kopf.OperatorRegistry()
    register_handlers(registry, AnalysisController(cast(AsyncKubeClient, object())))
    watching = {handler.id for handler in registry._watching.get_all_handlers()}
    assert watching == {"analysis-observe-analysisruns", "analysis-observe-jobs"}
    assert list(registry._changing.get_all_handlers()) == []  # no annotations
    assert list(registry._spawning.get_all_handlers()) == []  # no finalizers
    assert {handler.id for handler in registry._activities.get_all_handlers()} == {"analysis-start", "analysis-stop"}


def test_an_observed_run_is_queued_and_shows_in_the_metrics() -> None:
    controller = AnalysisController(cast(AsyncKubeClient, object()))
    controller.observe_run("ADDED", analysis_run(metric("m")))
    assert len(controller.runner.queue) == 1
    labels = {"namespace": "default", "name": "run", "phase": "Pending"}
    assert controller.metrics.registry.get_sample_value("analysis_run_info", labels) == 1
