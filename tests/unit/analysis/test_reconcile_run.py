"""A reconcile pass over an AnalysisRun with fake providers and explicit clocks: measurements taken concurrently,
recorded, judged, and written back as one status patch — Pending → Running → Successful / Failed / Error."""

from __future__ import annotations

import asyncio
import base64
import copy
import json
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast
from urllib.parse import quote, quote_plus

import pytest

from analysis.providers.base import MeasurementContext, MetricProvider, ProviderError, ProviderResult
from analysis.runner.measure_io import RunOutcome, reconcile_run
from analysis.runner.measurements import MAX_MEASUREMENT_TEXT, bounded_text
from kube.client import AsyncKubeClient
from kube.errors import Unreachable
from kube.merge_patch import apply_merge_patch
from kube.resources import SECRETS, ResourceKind
from tests.unit.analysis.runner_builders import T0, analysis_run, at, metric, result_of

JsonObject = dict[str, Any]


# --- test doubles -----------------------------------------------------------------------------------------------


@dataclass
class Calls:
    """What the fake providers were asked to do, in order."""

    log: list[tuple[str, str, int]] = field(default_factory=list)
    contexts: list[MeasurementContext] = field(default_factory=list)


class ValueProvider:
    """Answers at once with the next value of a script; the conditions judge it (like prometheus or web)."""

    name = "fake-values"

    def __init__(self, calls: Calls, *values: Any, message: str = "", metadata: dict[str, str] | None = None):
        self.calls, self.values, self.message, self.metadata = calls, list(values), message, metadata or {}

    async def run(self, context: MeasurementContext) -> ProviderResult:
        self.calls.log.append(("run", context.metric_name, context.measurement_index))
        self.calls.contexts.append(context)
        value = self.values[min(context.measurement_index, len(self.values) - 1)]
        return ProviderResult(value=value, message=self.message, metadata=dict(self.metadata))

    async def resume(self, context: MeasurementContext, metadata: Mapping[str, str]) -> ProviderResult:
        return await self.run(context)

    async def terminate(self, context: MeasurementContext, metadata: Mapping[str, str]) -> None:
        self.calls.log.append(("terminate", context.metric_name, context.measurement_index))

    async def garbage_collect(self, context: MeasurementContext, keep: int) -> None:
        self.calls.log.append(("garbage_collect", context.metric_name, keep))


class FailingProvider(ValueProvider):
    """Raises on every call: a ProviderError, or any other exception (a provider bug)."""

    def __init__(self, calls: Calls, error: Exception):
        super().__init__(calls, None)
        self.error = error

    async def run(self, context: MeasurementContext) -> ProviderResult:
        self.calls.log.append(("run", context.metric_name, context.measurement_index))
        raise self.error


class JobLikeProvider(ValueProvider):
    """Starts something that runs for a while: Running until resumed ``polls`` times, then a phase it decides."""

    def __init__(self, calls: Calls, *, polls: int = 1, outcome: str = "Successful"):
        super().__init__(calls, None)
        self.polls, self.outcome, self.resumed = polls, outcome, 0

    async def run(self, context: MeasurementContext) -> ProviderResult:
        self.calls.log.append(("run", context.metric_name, context.measurement_index))
        job = f"{context.run_uid}.{context.metric_name}.{context.measurement_index + 1}"
        return ProviderResult(phase="Running", metadata={"job-name": job}, resume_after=5)

    async def resume(self, context: MeasurementContext, metadata: Mapping[str, str]) -> ProviderResult:
        self.calls.log.append(("resume", metadata["job-name"], context.measurement_index))
        self.resumed += 1
        if self.resumed < self.polls:
            return ProviderResult(phase="Running", resume_after=5)
        message = "" if self.outcome == "Successful" else f"job {metadata['job-name']} failed: BackoffLimitExceeded"
        return ProviderResult(phase=self.outcome, message=message)

    async def terminate(self, context: MeasurementContext, metadata: Mapping[str, str]) -> None:
        self.calls.log.append(("terminate", metadata["job-name"], context.measurement_index))


class SlowProvider(ValueProvider):
    async def run(self, context: MeasurementContext) -> ProviderResult:
        await asyncio.sleep(5)
        return await super().run(context)


def by_metric(providers: Mapping[str, MetricProvider]) -> Any:
    """A provider factory with provider_for's shape, choosing by metric name."""

    def factory(metric: Mapping[str, Any], *, kube: Any) -> MetricProvider:
        name = metric["name"]
        if name not in providers:
            raise ProviderError(f"provider fake-{name} is not supported by this controller")
        return providers[name]

    return factory


class FakeKube:
    """Just enough of AsyncKubeClient to read Secrets."""

    def __init__(self, secrets: Mapping[str, Mapping[str, str]] | None = None, *, unreachable: bool = False):
        self.secrets = {
            name: {"data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}}
            for name, data in (secrets or {}).items()
        }
        self.unreachable = unreachable
        self.reads: list[tuple[str | None, str]] = []

    async def get_or_none(self, kind: ResourceKind, namespace: str | None, name: str) -> JsonObject | None:
        assert kind is SECRETS
        if self.unreachable:
            raise Unreachable("cannot reach the Kubernetes API at https://127.0.0.1:6443: connection refused")
        self.reads.append((namespace, name))
        return copy.deepcopy(self.secrets.get(name))


class Clock:
    """A clock that moves only when told to."""

    def __init__(self, start: datetime = T0):
        self.moment = start

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, seconds: float) -> None:
        self.moment += timedelta(seconds=seconds)


async def reconcile(
    run: JsonObject, providers: Mapping[str, MetricProvider], clock: Clock, kube: FakeKube | None = None
) -> tuple[JsonObject, RunOutcome]:
    """One pass, with its patch applied to the run as the API server would."""
    outcome = await reconcile_run(
        run, kube=cast(AsyncKubeClient, kube or FakeKube()), now=clock, providers=by_metric(providers)
    )
    if outcome.status_patch is not None:
        run = apply_merge_patch(run, {"status": outcome.status_patch})
    return run, outcome


async def reconcile_until_done(
    run: JsonObject, providers: Mapping[str, MetricProvider], clock: Clock, kube: FakeKube | None = None
) -> tuple[JsonObject, list[RunOutcome]]:
    """Passes at each requeue time until the run completes."""
    outcomes: list[RunOutcome] = []
    for _ in range(100):
        run, outcome = await reconcile(run, providers, clock, kube)
        outcomes.append(outcome)
        if outcome.requeue_after is None:
            break
        clock.advance(outcome.requeue_after)
    return run, outcomes


def success_rate(**fields: Any) -> JsonObject:
    return metric("success-rate", successCondition="result[0] >= 0.95", **fields)


# --- Pending → Running → Successful / Failed / Error ------------------------------------------------------------


async def test_a_run_goes_from_pending_through_running_to_successful() -> None:
    calls, clock = Calls(), Clock()
    run = analysis_run(success_rate(interval="30s", count=2))
    assert "status" not in run  # Pending: nothing has looked at it yet
    run, first = await reconcile(run, {"success-rate": ValueProvider(calls, [0.99], [0.97])}, clock)
    assert run["status"]["phase"] == "Running"
    assert first.requeue_after == 30
    (measurement,) = result_of(run, "success-rate")["measurements"]
    assert {key: measurement[key] for key in ("phase", "value", "startedAt", "finishedAt")} == {
        "phase": "Successful",
        "value": "[0.99]",
        "startedAt": "2024-05-01T10:00:00Z",
        "finishedAt": "2024-05-01T10:00:00Z",
    }
    clock.advance(first.requeue_after)
    run, second = await reconcile(run, {"success-rate": ValueProvider(calls, [0.99], [0.97])}, clock)
    assert run["status"]["phase"] == "Successful"
    assert run["status"]["completedAt"] == "2024-05-01T10:00:30Z"
    assert second.requeue_after is None
    assert [(e.type, e.reason) for e in second.events] == [
        ("Normal", "MetricSuccessful"),
        ("Normal", "AnalysisRunSuccessful"),
    ]
    assert calls.log == [("run", "success-rate", 0), ("run", "success-rate", 1)]


async def test_a_failing_value_fails_the_run_and_says_which_value_broke_which_condition() -> None:
    clock = Clock()
    run, outcomes = await reconcile_until_done(
        analysis_run(success_rate()), {"success-rate": ValueProvider(Calls(), [0.71])}, clock
    )
    status = run["status"]
    assert status["phase"] == "Failed"
    measurement = result_of(run, "success-rate")["measurements"][0]
    assert measurement["phase"] == "Failed"
    assert measurement["value"] == "[0.71]"
    assert measurement["message"].startswith("success-rate: ")
    assert "0.71" in measurement["message"] and "result[0] >= 0.95" in measurement["message"]
    assert result_of(run, "success-rate")["message"] == (
        'Metric "success-rate" assessed Failed due to failed (1) > failureLimit (0)'
    )
    assert status["message"] == (
        'Metric "success-rate" assessed Failed due to failed (1) > failureLimit (0): '
        f'"Error Message: {measurement["message"]}"'
    )
    assert [(e.type, e.reason) for e in outcomes[-1].events] == [
        ("Warning", "MetricFailed"),
        ("Warning", "AnalysisRunFailed"),
    ]
    metric_event = outcomes[-1].events[0].message
    assert metric_event == f"Metric 'success-rate' Completed. Result: Failed: {status['message']}"


async def test_provider_errors_are_retried_every_ten_seconds_until_the_run_errors() -> None:
    calls, clock = Calls(), Clock()
    provider = FailingProvider(calls, ProviderError("prometheus at http://prometheus:9090: connection refused"))
    run, outcomes = await reconcile_until_done(analysis_run(success_rate()), {"success-rate": provider}, clock)
    assert [o.requeue_after for o in outcomes] == [10, 10, 10, 10, None]
    assert run["status"]["phase"] == "Error"
    assert run["status"]["message"] == (
        'Metric "success-rate" assessed Error due to consecutiveErrors (5) > consecutiveErrorLimit (4): '
        '"Error Message: prometheus at http://prometheus:9090: connection refused"'
    )
    assert result_of(run, "success-rate")["error"] == 5
    assert [index for _, _, index in calls.log] == [0, 1, 2, 3, 4]


async def test_a_provider_bug_is_an_error_measurement_that_spares_the_other_metrics() -> None:
    calls, clock = Calls(), Clock()
    run = analysis_run(success_rate(), metric("broken", interval="1m"))
    providers = {
        "success-rate": ValueProvider(calls, [0.99]),
        "broken": FailingProvider(calls, KeyError("data")),
    }
    run, _ = await reconcile(run, providers, clock)
    assert result_of(run, "success-rate")["phase"] == "Successful"
    broken = result_of(run, "broken")
    assert (broken["phase"], broken["measurements"][0]["phase"]) == ("Running", "Error")
    assert broken["measurements"][0]["message"] == "'data'"


async def test_an_unsupported_provider_is_an_error_measurement() -> None:
    clock = Clock()
    run, _ = await reconcile(analysis_run(metric("datadog-metric")), {}, clock)
    (measurement,) = result_of(run, "datadog-metric")["measurements"]
    assert measurement["phase"] == "Error"
    assert measurement["message"] == "provider fake-datadog-metric is not supported by this controller"


async def test_a_job_like_measurement_runs_then_completes_when_resumed() -> None:
    calls, clock = Calls(), Clock()
    job = JobLikeProvider(calls, polls=2)
    run, outcomes = await reconcile_until_done(analysis_run(metric("smoke")), {"smoke": job}, clock)
    assert [o.requeue_after for o in outcomes] == [5, 5, None]
    assert run["status"]["phase"] == "Successful"
    (measurement,) = result_of(run, "smoke")["measurements"]
    assert measurement == {
        "phase": "Successful",
        "startedAt": "2024-05-01T10:00:00Z",
        "finishedAt": "2024-05-01T10:00:10Z",
        "metadata": {"job-name": "uid-1.smoke.1"},
    }
    assert calls.log == [("run", "smoke", 0), ("resume", "uid-1.smoke.1", 0), ("resume", "uid-1.smoke.1", 0)]


async def test_a_job_that_fails_fails_the_run() -> None:
    calls, clock = Calls(), Clock()
    run, _ = await reconcile_until_done(
        analysis_run(metric("smoke")), {"smoke": JobLikeProvider(calls, outcome="Failed")}, clock
    )
    assert run["status"]["phase"] == "Failed"
    assert run["status"]["message"].endswith('"Error Message: job uid-1.smoke.1 failed: BackoffLimitExceeded"')


async def test_terminating_a_run_terminates_its_job_and_succeeds() -> None:
    calls, clock = Calls(), Clock()
    job = JobLikeProvider(calls, polls=100)
    run, _ = await reconcile(analysis_run(metric("smoke")), {"smoke": job}, clock)
    run["spec"]["terminate"] = True
    clock.advance(1)
    run, outcome = await reconcile(run, {"smoke": job}, clock)
    assert calls.log[-1] == ("terminate", "uid-1.smoke.1", 0)
    assert (run["status"]["phase"], run["status"]["message"]) == ("Successful", "Run Terminated")
    (measurement,) = result_of(run, "smoke")["measurements"]
    assert (measurement["phase"], measurement["message"]) == ("Successful", "Metric Terminated")
    assert measurement["metadata"] == {"job-name": "uid-1.smoke.1"}
    assert outcome.requeue_after is None


async def test_old_measurements_are_garbage_collected_beyond_the_retention() -> None:
    calls, clock = Calls(), Clock()
    run = analysis_run(success_rate(interval="10s", count=4), measurementRetention=[{"metricName": ".*", "limit": 2}])
    run, _ = await reconcile_until_done(run, {"success-rate": ValueProvider(calls, [0.99])}, clock)
    assert len(result_of(run, "success-rate")["measurements"]) == 2
    assert [entry for entry in calls.log if entry[0] == "garbage_collect"] == [
        ("garbage_collect", "success-rate", 2),
        ("garbage_collect", "success-rate", 2),
    ]


async def test_a_resync_with_nothing_due_calls_no_provider_and_writes_nothing() -> None:
    calls, clock = Calls(), Clock()
    run, _ = await reconcile(
        analysis_run(success_rate(interval="1m", count=3)), {"success-rate": ValueProvider(calls, [0.99])}, clock
    )
    clock.advance(20)
    _, outcome = await reconcile(run, {"success-rate": ValueProvider(calls, [0.99])}, clock)
    assert outcome == RunOutcome(status_patch=None, requeue_after=40, events=())
    assert len(calls.log) == 1


@pytest.mark.looptime
async def test_measurements_of_different_metrics_run_concurrently() -> None:
    calls, clock = Calls(), Clock()
    run = analysis_run(metric("a", successCondition="result > 0"), metric("b", successCondition="result > 0"))
    loop = asyncio.get_running_loop()
    started = loop.time()
    run, _ = await reconcile(run, {"a": SlowProvider(calls, 1), "b": SlowProvider(calls, 1)}, clock)
    assert loop.time() - started == pytest.approx(5)
    assert run["status"]["phase"] == "Successful"


@pytest.mark.looptime
async def test_a_provider_that_hangs_becomes_an_error_after_the_timeout() -> None:
    class Hanging(ValueProvider):
        async def run(self, context: MeasurementContext) -> ProviderResult:
            await asyncio.sleep(3600)
            raise AssertionError("unreachable")

    outcome = await reconcile_run(
        analysis_run(metric("slow")),
        kube=cast(AsyncKubeClient, FakeKube()),
        now=Clock(),
        providers=by_metric({"slow": Hanging(Calls(), None)}),
        measurement_timeout=60,
    )
    run = apply_merge_patch(analysis_run(metric("slow")), {"status": outcome.status_patch})
    assert result_of(run, "slow")["measurements"][0]["message"] == "run of metric 'slow' did not finish within 60s"


# --- arguments and secrets --------------------------------------------------------------------------------------


def with_token(*metrics: JsonObject) -> JsonObject:
    run = analysis_run(*metrics)
    run["spec"]["args"].append({"name": "token", "valueFrom": {"secretKeyRef": {"name": "api", "key": "token"}}})
    return run


async def test_secret_arguments_are_substituted_and_masked_everywhere() -> None:
    calls, clock = Calls(), Clock()
    kube = FakeKube({"api": {"token": "s3cr3t-t0ken"}})
    echoing = ValueProvider(
        calls,
        "got s3cr3t-t0ken",
        metadata={"ResolvedQuery": "up{token='s3cr3t-t0ken'}"},
    )
    run = with_token(
        metric(
            "leaky",
            successCondition='result == "nope"',
            provider={"web": {"url": "http://x/?t={{args.token}}&s={{args.service}}"}},
        )
    )
    run, outcome = await reconcile(run, {"leaky": echoing}, clock, kube)
    (context,) = calls.contexts
    assert context.metric["provider"]["web"]["url"] == "http://x/?t=s3cr3t-t0ken&s=checkout"
    assert context.secrets == ("s3cr3t-t0ken",)
    assert kube.reads == [("default", "api")]
    assert run["status"]["phase"] == "Failed"
    written = str(outcome.status_patch) + str(outcome.events)
    assert "s3cr3t-t0ken" not in written
    measurement = result_of(run, "leaky")["measurements"][0]
    assert measurement["value"] == "got *****"
    assert measurement["metadata"] == {"ResolvedQuery": "up{token='*****'}"}


async def test_a_provider_error_quoting_a_secret_is_masked() -> None:
    clock = Clock()
    kube = FakeKube({"api": {"token": "s3cr3t-t0ken"}})
    failing = FailingProvider(Calls(), RuntimeError("GET http://x/?t=s3cr3t-t0ken: 401 Unauthorized"))
    run, _ = await reconcile(with_token(metric("m")), {"m": failing}, clock, kube)
    assert result_of(run)["measurements"][0]["message"] == "GET http://x/?t=*****: 401 Unauthorized"


# --- issue #15 item 2: conditions are evaluated beside the event loop, within a time budget -----------------

COSTLY = "all(result, # >= 0)"
"""Some 4 steps per sample: over 50 000 samples well inside the step budget, and a few hundred milliseconds of
CPU — what twenty runs at once turned into a controller that could not answer /healthz."""


async def test_a_costly_condition_leaves_the_event_loop_free(monkeypatch: pytest.MonkeyPatch) -> None:
    """The evaluation waits, once begun, until the event loop has taken a turn: beside the loop it goes on; on the
    loop it would wait for ever (bounded here, so that the test fails instead of hanging). No clock is read."""
    from analysis.runner import measure_io

    begun, released = threading.Event(), threading.Event()
    turned_during_evaluation: list[bool] = []
    evaluate = measure_io.assess_measurement

    def evaluate_once_the_loop_has_turned(*args: Any, **kwargs: Any) -> Any:
        begun.set()
        turned_during_evaluation.append(released.wait(60))
        return evaluate(*args, **kwargs)

    monkeypatch.setattr(measure_io, "assess_measurement", evaluate_once_the_loop_has_turned)

    async def release_once_begun() -> None:
        while not begun.is_set():
            await asyncio.sleep(0.001)
        released.set()

    releaser = asyncio.create_task(release_once_begun())
    try:
        run, _ = await reconcile(
            analysis_run(metric("m", successCondition=COSTLY)), {"m": ValueProvider(Calls(), [1.0] * 50_000)},
            Clock(),
        )
    finally:
        released.set()
        await releaser
    assert turned_during_evaluation == [True], "the event loop never turned while the condition was evaluated"
    assert result_of(run, "m")["measurements"][0]["phase"] in ("Successful", "Error")


async def test_a_condition_over_its_time_budget_is_an_error_measurement_naming_the_budget() -> None:
    run = analysis_run(metric("m", successCondition=COSTLY))
    outcome = await reconcile_run(
        run, kube=None, now=Clock(), providers=by_metric({"m": ValueProvider(Calls(), [1.0] * 50_000)}),
        condition_time_budget=0.001,
    )
    assert outcome.status_patch is not None
    (written,) = outcome.status_patch["metricResults"][0]["measurements"]
    assert written["phase"] == "Error"
    assert "took more than 0.001s (the time budget of a condition)" in written["message"]


# --- issue #15 item 8: what a measurement writes is bounded ------------------------------------------------


async def test_a_long_value_is_truncated_with_a_marker_and_still_judged_whole() -> None:
    values = [0.5] * 5000  # "[0.5,0.5,…]" is 20 001 characters
    run, _ = await reconcile(
        analysis_run(metric("m", successCondition="all(result, # < 1)")), {"m": ValueProvider(Calls(), values)},
        Clock(),
    )
    (written,) = result_of(run, "m")["measurements"]
    assert written["phase"] == "Successful"  # the condition saw every sample
    marker = " … (truncated: 20001 characters)"
    assert written["value"] == "[" + "0.5," * ((MAX_MEASUREMENT_TEXT - len(marker) - 1) // 4) + \
        "0.5,"[: (MAX_MEASUREMENT_TEXT - len(marker) - 1) % 4] + marker
    assert len(written["value"]) == MAX_MEASUREMENT_TEXT


async def test_long_messages_and_metadata_are_truncated() -> None:
    text = "x" * (MAX_MEASUREMENT_TEXT * 3)
    failing = FailingProvider(Calls(), ProviderError(text, metadata={"ResolvedPrometheusQuery": text}))
    run, _ = await reconcile(analysis_run(metric("m")), {"m": failing}, Clock())
    (written,) = result_of(run, "m")["measurements"]
    for shown in (written["message"], written["metadata"]["ResolvedPrometheusQuery"]):
        assert len(shown) == MAX_MEASUREMENT_TEXT
        assert shown.endswith(f" … (truncated: {len(text)} characters)")


def test_a_short_text_is_kept_as_it_is() -> None:
    assert bounded_text("[0.99,0.98]") == "[0.99,0.98]"
    exactly = "y" * MAX_MEASUREMENT_TEXT
    assert bounded_text(exactly) == exactly


ODD_SECRET = 'p@ss w/rd"é'


def with_odd_token(*metrics: JsonObject) -> tuple[JsonObject, FakeKube]:
    return with_token(*metrics), FakeKube({"api": {"token": ODD_SECRET}})


def leaks(text: str) -> bool:
    """Whether ``text`` holds the odd secret as it is, percent-encoded or JSON-escaped (issue #15 item 3)."""
    forms = {ODD_SECRET, quote(ODD_SECRET, safe=""), quote(ODD_SECRET), quote_plus(ODD_SECRET),
             json.dumps(ODD_SECRET)[1:-1], json.dumps(ODD_SECRET, ensure_ascii=False)[1:-1]}
    return any(form in text for form in forms)


async def test_an_encoded_secret_in_a_provider_error_is_masked_in_status_and_events() -> None:
    """A URL in an error message carries the secret percent-encoded; a JSON body quoted in it, escaped."""
    run, kube = with_odd_token(metric("m"))
    encoded = f"GET http://x/?t={quote(ODD_SECRET, safe='')} answered 401: {json.dumps({'token': ODD_SECRET})}"
    _, outcome = await reconcile(run, {"m": FailingProvider(Calls(), ProviderError(encoded))}, Clock(), kube)
    written = json.dumps(outcome.status_patch) + json.dumps([event.message for event in outcome.events])
    assert not leaks(written) and "*****" in written


async def test_an_escaped_secret_in_a_value_is_masked() -> None:
    """A web response that echoes the secret: the value is shown as compact JSON, which escapes it."""
    run, kube = with_odd_token(metric("m", successCondition="false"))
    echoed = {"query": f"t={quote_plus(ODD_SECRET)}", "token": ODD_SECRET}
    run, outcome = await reconcile(run, {"m": ValueProvider(Calls(), [echoed])}, Clock(), kube)
    written = json.dumps(outcome.status_patch) + json.dumps([event.message for event in outcome.events])
    assert not leaks(written)
    assert result_of(run, "m")["measurements"][0]["phase"] == "Failed"


async def test_a_provider_bug_quoting_a_secret_is_not_logged(caplog: pytest.LogCaptureFixture) -> None:
    run, kube = with_odd_token(metric("m"))
    failing = FailingProvider(Calls(), RuntimeError(f"bug while sending token {ODD_SECRET}"))
    caplog.set_level(logging.DEBUG)
    run, _ = await reconcile(run, {"m": failing}, Clock(), kube)
    assert result_of(run)["measurements"][0]["message"] == "bug while sending token *****"
    logged = "\n".join(record.getMessage() + (caplog.text if record.exc_info else "") for record in caplog.records)
    assert caplog.records and not leaks(logged)


async def test_a_missing_secret_errors_the_run_with_a_clear_message() -> None:
    clock = Clock()
    run, outcome = await reconcile(with_token(metric("m")), {"m": ValueProvider(Calls(), 1)}, clock, FakeKube())
    assert run["status"]["phase"] == "Error"
    assert run["status"]["message"] == (
        'Unable to resolve metric arguments: args.token: secret "api" not found in namespace "default"'
    )
    assert [(e.type, e.reason) for e in outcome.events] == [("Warning", "AnalysisRunError")]
    assert outcome.requeue_after is None


async def test_a_missing_secret_key_errors_the_run() -> None:
    clock = Clock()
    kube = FakeKube({"api": {"password": "x"}})
    run, _ = await reconcile(with_token(metric("m")), {"m": ValueProvider(Calls(), 1)}, clock, kube)
    assert run["status"]["message"] == (
        "Unable to resolve metric arguments: args.token: key 'token' does not exist in secret 'api'"
    )


async def test_an_unreachable_api_fails_the_pass_not_the_run() -> None:
    with pytest.raises(Unreachable):
        await reconcile_run(
            with_token(metric("m")),
            kube=cast(AsyncKubeClient, FakeKube(unreachable=True)),
            now=Clock(),
            providers=by_metric({"m": ValueProvider(Calls(), 1)}),
        )


async def test_the_run_is_not_changed_in_place() -> None:
    run = analysis_run(success_rate())
    before = copy.deepcopy(run)
    await reconcile_run(run, kube=None, now=Clock(), providers=by_metric({"success-rate": ValueProvider(Calls(), [1])}))
    assert run == before


async def test_a_run_without_secrets_needs_no_client() -> None:
    outcome = await reconcile_run(
        analysis_run(success_rate()),
        kube=None,
        now=lambda: at(0),
        providers=by_metric({"success-rate": ValueProvider(Calls(), [0.99])}),
    )
    assert outcome.status_patch is not None and outcome.status_patch["phase"] == "Successful"
