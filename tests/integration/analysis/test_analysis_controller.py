"""The analysis controller in the `rollouts controller` process, against the sandbox: AnalysisRuns created in the
cluster are measured and judged — a web metric against a real local HTTP server, a Job the test finishes, a
terminate, a resync that writes nothing, and the seed success-rate query against a real Prometheus scraping the
sandbox's mesh.

The web tests are async so that the HTTP server (the `http_server` fixture, on the test's own loop) answers while
the test waits; the controller and the sandbox run on threads of their own.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from provider_servers import RecordingServer

# tests/integration is not a package; the shared harness lives in the `tests` package at the repository root.
_REPO_ROOT = str(Path(__file__).resolve().parents[3])
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

from kube.object_meta import ObjectKey  # noqa: E402
from kube.resources import ANALYSIS_RUNS, JOBS, REPLICASETS, SERVICES, VIRTUAL_SERVICES  # noqa: E402
from kube.timestamps import format_time, later, parse_time  # noqa: E402
from sandbox.mesh_traffic import VersionProfile  # noqa: E402
from tests.required_tools import require_tool  # noqa: E402
from tests.rollout_harness import RolloutCluster, load_decide  # noqa: E402

JsonObject = dict[str, Any]
T = TypeVar("T")

RATE_PATH = "/rate"
HASH = "rollouts-pod-template-hash"
# The seed AnalysisTemplate's success-rate query (Argo's documented Istio example), its window cut to 10 s.
SUCCESS_RATE = (
    'sum(rate(istio_requests_total{destination_service=~"{{args.service-name}}",response_code!~"5.*"}[10s])) / '
    'sum(rate(istio_requests_total{destination_service=~"{{args.service-name}}"}[10s]))'
)
BAD = VersionProfile(error_rate=0.4, latency_ms=300.0, latency_jitter_ms=20.0)



# -- fixtures ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RolloutCluster]:
    running = RolloutCluster(tmp_path_factory.mktemp("analysis"), ready_delay=0.05)
    running.start(load_decide())
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def namespace(cluster: RolloutCluster) -> str:
    return cluster.new_namespace("ar")


# -- helpers -----------------------------------------------------------------------------------------------


def analysis_run(name: str, metric: JsonObject, args: list[JsonObject] | None = None) -> JsonObject:
    spec: JsonObject = {"metrics": [metric]}
    if args:
        spec["args"] = args
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisRun", "metadata": {"name": name}, "spec": spec}


def web_metric(url: str, **fields: Any) -> JsonObject:
    return {
        "name": "success-rate",
        "successCondition": "result >= 0.95",
        "provider": {"web": {"url": url, "jsonPath": "{$.data.rate}"}},
        **fields,
    }


def job_metric() -> JsonObject:
    container = {"name": "smoke", "image": "busybox", "command": ["sh", "-c", "exit 0"]}
    spec = {"backoffLimit": 0, "template": {"spec": {"restartPolicy": "Never", "containers": [container]}}}
    return {"name": "smoke", "provider": {"job": {"spec": spec}}}


def status_of(cluster: RolloutCluster, namespace: str, name: str) -> JsonObject:
    return dict(cluster.must_get(ANALYSIS_RUNS, namespace, name).get("status") or {})


def measurements(status: JsonObject) -> list[JsonObject]:
    found: list[JsonObject] = status["metricResults"][0]["measurements"]
    return found


def reconcile_passes(cluster: RolloutCluster, namespace: str, name: str) -> float:
    registry = cluster.analysis.metrics.registry
    return registry.get_sample_value("analysis_run_reconcile_count", {"namespace": namespace, "name": name}) or 0.0


def analysis_idle(cluster: RolloutCluster) -> bool:
    return cluster.analysis.runner.idle and cluster.analysis.events.idle


async def eventually(check: Callable[[], T], what: str, timeout: float = 10.0) -> T:
    """Poll ``check`` without blocking the test's loop (the HTTP server runs on it) until it returns something
    truthy; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        await asyncio.sleep(0.02)


async def reached(
    cluster: RolloutCluster, namespace: str, name: str, phase: str, timeout: float = 10.0
) -> JsonObject:
    try:
        return await eventually(
            lambda: (status := status_of(cluster, namespace, name)).get("phase") == phase and status,
            f"{namespace}/{name} to be {phase}",
            timeout,
        )
    except AssertionError as error:
        raise AssertionError(f"{error}; status: {status_of(cluster, namespace, name)}") from None


def event_messages(cluster: RolloutCluster, namespace: str, reason: str) -> list[str]:
    return [str(event.get("message")) for event in cluster.events(namespace) if event.get("reason") == reason]


# -- web -----------------------------------------------------------------------------------------------------


async def test_a_web_metric_with_count_3_and_interval_1s_runs_to_successful(
    cluster: RolloutCluster, namespace: str, http_server: RecordingServer
) -> None:
    http_server.reply(RATE_PATH, json={"data": {"rate": 0.99}})
    metric = web_metric(http_server.url + RATE_PATH, count=3, interval="1s")
    cluster.create(ANALYSIS_RUNS, namespace, analysis_run("checkout", metric))

    status = await reached(cluster, namespace, "checkout", "Successful")

    result = status["metricResults"][0]
    assert (result["phase"], result["count"], result["successful"]) == ("Successful", 3, 3)
    assert [m["value"] for m in measurements(status)] == ["0.99"] * 3
    assert len(http_server.received(RATE_PATH)) == 3
    assert status["runSummary"] == {"count": 1, "successful": 1, "failed": 0, "inconclusive": 0, "error": 0}
    events = await eventually(lambda: event_messages(cluster, namespace, "AnalysisRunSuccessful"), "the Event")
    assert events == ["Analysis Completed. Result: Successful"]
    registry = cluster.analysis.metrics.registry
    labels = {"namespace": namespace, "name": "checkout"}
    assert registry.get_sample_value("analysis_run_info", {**labels, "phase": "Successful"}) == 1
    metric_labels = {**labels, "metric": "success-rate", "type": "Web", "dry_run": "false"}
    assert registry.get_sample_value("analysis_run_metric_phase", {**metric_labels, "phase": "Successful"}) == 1
    assert registry.get_sample_value("analysis_run_metric_phase", {**metric_labels, "phase": "Running"}) == 0


async def test_a_failing_web_metric_ends_the_run_early_naming_the_metric_value_and_condition(
    cluster: RolloutCluster, namespace: str, http_server: RecordingServer
) -> None:
    http_server.reply(RATE_PATH, json={"data": {"rate": 0.5}})
    metric = web_metric(http_server.url + RATE_PATH, count=3, interval="1s")
    cluster.create(ANALYSIS_RUNS, namespace, analysis_run("checkout", metric))

    status = await reached(cluster, namespace, "checkout", "Failed")

    assert len(measurements(status)) == 1  # ended at the first failure, not after the count
    assert "success-rate: 0.5 does not satisfy result >= 0.95" in status["message"]
    assert status["message"].startswith('Metric "success-rate" assessed Failed due to failed (1) > failureLimit (0)')
    warnings = await eventually(lambda: event_messages(cluster, namespace, "AnalysisRunFailed"), "the Event")
    assert "0.5 does not satisfy result >= 0.95" in warnings[0]
    # Nothing more will be measured: no wake-up is scheduled, and a fresh pass measures nothing.
    key = ObjectKey(namespace, "checkout")
    runner = cluster.analysis.runner
    assert runner.queue.scheduled(key) is None
    mark = runner.passes.mark()
    cluster.controller_thread.call_soon(lambda: runner.add(key))
    assert await asyncio.to_thread(runner.passes.wait_for_pass, key, mark, 15)
    assert len(http_server.received(RATE_PATH)) == 1


async def test_a_slow_endpoint_holds_up_only_its_own_run(
    cluster: RolloutCluster, namespace: str, http_server: RecordingServer
) -> None:
    http_server.reply("/slow", json={"data": {"rate": 0.99}}, delay=5.0)
    http_server.reply(RATE_PATH, json={"data": {"rate": 0.99}})
    cluster.create(ANALYSIS_RUNS, namespace, analysis_run("slow", web_metric(http_server.url + "/slow")))
    await eventually(lambda: http_server.received("/slow"), "the slow request")

    cluster.create(ANALYSIS_RUNS, namespace, analysis_run("fast", web_metric(http_server.url + RATE_PATH)))

    await reached(cluster, namespace, "fast", "Successful", timeout=3)
    assert not status_of(cluster, namespace, "slow").get("metricResults")  # still waiting for its answer
    cluster.delete(ANALYSIS_RUNS, namespace, "slow")  # so that nothing of it outlives the test's server


async def test_terminate_ends_a_running_run_successful(
    cluster: RolloutCluster, namespace: str, http_server: RecordingServer
) -> None:
    http_server.reply(RATE_PATH, json={"data": {"rate": 0.99}})
    # An interval without a count measures until the run is terminated.
    metric = web_metric(http_server.url + RATE_PATH, interval="1s")
    cluster.create(ANALYSIS_RUNS, namespace, analysis_run("canary", metric))
    await eventually(
        lambda: (s := status_of(cluster, namespace, "canary")).get("phase") == "Running" and s.get("metricResults"),
        "the first measurement",
    )

    cluster.patch(ANALYSIS_RUNS, namespace, "canary", {"spec": {"terminate": True}})

    status = await reached(cluster, namespace, "canary", "Successful", timeout=5)
    assert status["message"] == "Run Terminated"
    assert status["metricResults"][0]["phase"] == "Successful"


async def test_a_completed_run_is_deleted_once_its_ttl_strategy_has_passed(
    cluster: RolloutCluster, namespace: str, http_server: RecordingServer
) -> None:
    """Argo's ttlStrategy: secondsAfterSuccess for a Successful run, counted from status.completedAt."""
    http_server.reply(RATE_PATH, json={"data": {"rate": 0.99}})
    run = analysis_run("short-lived", web_metric(http_server.url + RATE_PATH, count=1))
    run["spec"]["ttlStrategy"] = {"secondsAfterSuccess": 1, "secondsAfterFailure": 600}
    cluster.create(ANALYSIS_RUNS, namespace, run)
    status = await reached(cluster, namespace, "short-lived", "Successful")
    assert status.get("completedAt")
    await eventually(lambda: cluster.get(ANALYSIS_RUNS, namespace, "short-lived") is None, "the run deleted")


# -- job -----------------------------------------------------------------------------------------------------


async def test_a_job_metric_completes_as_soon_as_its_job_does(cluster: RolloutCluster, namespace: str) -> None:
    cluster.create(ANALYSIS_RUNS, namespace, analysis_run("smoke-test", job_metric()))
    status = await eventually(
        lambda: (s := status_of(cluster, namespace, "smoke-test")).get("metricResults") and s,
        "the measurement waiting on the Job",
    )
    (in_flight,) = measurements(status)
    job_name = in_flight["metadata"]["job-name"]
    assert in_flight["phase"] == "Running"
    assert cluster.must_get(JOBS, namespace, job_name)["metadata"]["ownerReferences"][0]["kind"] == "AnalysisRun"
    # Its own timer would look again only much later: what follows is the Job's watch event at work.
    assert in_flight["resumeAt"] >= _plus_seconds(in_flight["startedAt"], 10)

    cluster.patch(JOBS, namespace, job_name, {"status": {"conditions": [{"type": "Complete", "status": "True"}]}},
                  subresource="status")

    status = await reached(cluster, namespace, "smoke-test", "Successful", timeout=5)
    (finished,) = measurements(status)
    assert finished["phase"] == "Successful"
    # Taken before its own timer was due: the Job's watch event woke the run, not the resumeAt timer.
    assert parse_time(finished["finishedAt"]) < parse_time(in_flight["resumeAt"])


def _plus_seconds(timestamp: str, seconds: float) -> str:
    moment = parse_time(timestamp)
    assert moment is not None
    return format_time(later(moment, seconds))


# -- at rest ---------------------------------------------------------------------------------------------------


async def test_a_resync_of_a_completed_run_writes_nothing(
    cluster: RolloutCluster, namespace: str, http_server: RecordingServer
) -> None:
    http_server.reply(RATE_PATH, json={"data": {"rate": 1}})
    cluster.create(ANALYSIS_RUNS, namespace, analysis_run("done", web_metric(http_server.url + RATE_PATH)))
    await reached(cluster, namespace, "done", "Successful")
    await eventually(lambda: event_messages(cluster, namespace, "AnalysisRunSuccessful"), "the Event")
    await eventually(lambda: analysis_idle(cluster), "the analysis controller to be idle")
    mark, passes = cluster.request_mark(), reconcile_passes(cluster, namespace, "done")

    cluster.controller_thread.call_soon(cluster.analysis.runner.resync)

    await eventually(lambda: reconcile_passes(cluster, namespace, "done") > passes, "the resync's pass")
    await eventually(lambda: analysis_idle(cluster), "the analysis controller to be idle")
    assert cluster.writes_in(namespace, mark) == []
    assert len(http_server.received(RATE_PATH)) == 1


# -- Prometheus and the mesh -----------------------------------------------------------------------------------


def replica_set(app: str, version_hash: str, image: str, replicas: int) -> JsonObject:
    labels = {"app": app, HASH: version_hash}
    return {
        "metadata": {"name": f"{app}-{version_hash}", "labels": labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": app, "image": image}]}},
        },
    }


def mesh_service(name: str, app: str, version_hash: str) -> JsonObject:
    return {"metadata": {"name": name}, "spec": {"selector": {"app": app, HASH: version_hash}, "ports": [{"port": 80}]}}


def split_90_10(app: str) -> JsonObject:
    route = [
        {"destination": {"host": f"{app}-stable"}, "weight": 90},
        {"destination": {"host": f"{app}-canary"}, "weight": 10},
    ]
    return {"metadata": {"name": app}, "spec": {"hosts": [app], "http": [{"name": "primary", "route": route}]}}


@pytest.fixture(scope="module")
def mesh_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RolloutCluster]:
    """The controllers with the mesh simulator and a real Prometheus: `reviews` (a good canary) and `ratings` (a
    canary failing 40 % of its requests), each split 90/10 by a VirtualService, in namespace default."""
    require_tool("prometheus")
    running = RolloutCluster(
        tmp_path_factory.mktemp("mesh"), ready_delay=0.05, mesh=True, prometheus=True, mesh_profiles={"ratings:v2": BAD}
    )
    running.start(load_decide())
    try:
        for app in ("reviews", "ratings"):
            running.create(REPLICASETS, "default", replica_set(app, "aaa", f"{app}:v1", 3))
            running.create(REPLICASETS, "default", replica_set(app, "bbb", f"{app}:v2", 1))
            running.create(SERVICES, "default", mesh_service(f"{app}-stable", app, "aaa"))
            running.create(SERVICES, "default", mesh_service(f"{app}-canary", app, "bbb"))
        # Routes only once the pods are ready: before, the canary's requests would fail with no healthy upstream.
        running.wait_for(
            lambda: sum((pod.get("status") or {}).get("phase") == "Running" for pod in running.pods("default")) == 8,
            "8 running pods",
        )
        for app in ("reviews", "ratings"):
            running.create(VIRTUAL_SERVICES, "default", split_90_10(app))
        yield running
    finally:
        running.stop()


def prometheus_run(name: str, service: str, address: str) -> JsonObject:
    metric = {
        "name": "success-rate",
        "interval": "1s",
        "count": 3,
        "successCondition": "result[0] >= 0.95",
        "provider": {"prometheus": {"address": address, "query": SUCCESS_RATE}},
    }
    return analysis_run(name, metric, [{"name": "service-name", "value": f"{service}.default.svc.cluster.local"}])


@pytest.mark.prometheus
def test_the_seed_success_rate_query_passes_a_good_canary_and_fails_a_bad_one(mesh_cluster: RolloutCluster) -> None:
    prometheus = mesh_cluster.sandbox.prometheus

    def success_rate(service: str) -> float | None:
        query = SUCCESS_RATE.replace("{{args.service-name}}", f"{service}.default.svc.cluster.local")
        result = prometheus.query(query)
        return float(result[0]["value"][1]) if result else None

    def rates_settled() -> bool:
        good, bad = success_rate("reviews-canary"), success_rate("ratings-canary")
        # Until the 5xx series has two samples, rate() leaves it out and the bad canary reads 1.0; the runs start
        # only once Prometheus sees what they are meant to judge (an empty result would be an Error measurement).
        return good is not None and good >= 0.95 and bad is not None and bad < 0.95

    mesh_cluster.wait_for(rates_settled, "mesh traffic with both canaries' rates settled", 25)
    mesh_cluster.create(ANALYSIS_RUNS, "default", prometheus_run("reviews-canary", "reviews-canary", prometheus.url))
    mesh_cluster.create(ANALYSIS_RUNS, "default", prometheus_run("ratings-canary", "ratings-canary", prometheus.url))

    def phase(name: str) -> str | None:
        return status_of(mesh_cluster, "default", name).get("phase")

    mesh_cluster.wait_for(lambda: phase("reviews-canary") == "Successful", "the good canary's run to succeed", 15)
    mesh_cluster.wait_for(lambda: phase("ratings-canary") == "Failed", "the bad canary's run to fail", 15)

    good = status_of(mesh_cluster, "default", "reviews-canary")
    assert good["metricResults"][0]["count"] == 3
    resolved = good["metricResults"][0]["metadata"]["ResolvedPrometheusQuery"]
    assert 'destination_service=~"reviews-canary.default.svc.cluster.local"' in resolved
    bad = status_of(mesh_cluster, "default", "ratings-canary")
    assert "does not satisfy result[0] >= 0.95" in bad["message"]
    assert len(measurements(bad)) == 1
