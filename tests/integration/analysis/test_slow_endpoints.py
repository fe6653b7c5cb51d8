"""Issue #15 item 1: one slow metrics endpoint must not hold anything but its own measurements.

A server that trickles one byte every half second keeps every socket read within any per-read timeout, so only a
total deadline per request ends it. The tests wait on what the server sees (requests arriving, connections closed)
and bound nothing by the wall clock except a generous guard against a hang.
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest
from provider_servers import RecordingServer

from analysis.controller.controller import AnalysisController, AnalysisOptions
from analysis.providers import MeasurementContext, ProviderError, ProviderResult, provider_for
from analysis.providers.outbound import ENDPOINT_CONCURRENCY, endpoints_in_use
from kube.client import AsyncKubeClient

HANG_GUARD = 60.0
VECTOR = {"status": "success", "data": {"resultType": "vector", "result": [{"metric": {}, "value": [1, "0.75"]}]}}


def context(provider: dict[str, Any]) -> MeasurementContext:
    metric = {"name": "m", "provider": provider}
    return MeasurementContext(run_name="run", run_namespace="default", run_uid="uid", metric_name="m", metric=metric)


async def measure(provider: dict[str, Any]) -> ProviderResult:
    measurement = context(provider)
    return await provider_for(measurement.metric, kube=None).run(measurement)


async def test_prometheus_deadline_ends_a_trickling_request(http_server: RecordingServer) -> None:
    """The query's ``timeout`` bounds the whole exchange, and the request is really ended: the server sees the
    connection close (a per-read socket timeout would let the trickle go on for ever)."""
    trickle = http_server.trickle("/api/v1/query")
    with pytest.raises(ProviderError) as caught:
        await measure({"prometheus": {"address": http_server.url, "query": "up", "timeout": 1}})
    assert str(caught.value) == f"prometheus at {http_server.url} did not answer within 1s"
    await trickle.wait_until(lambda: trickle.ended == 1 and trickle.open == 0, HANG_GUARD)


async def test_web_deadline_ends_a_trickling_request(http_server: RecordingServer) -> None:
    trickle = http_server.trickle("/verdict")
    with pytest.raises(ProviderError) as caught:
        await measure({"web": {"url": f"{http_server.url}/verdict", "timeoutSeconds": 1}})
    assert str(caught.value) == f"web metric GET {http_server.url}/verdict did not answer within 1s"
    await trickle.wait_until(lambda: trickle.ended == 1 and trickle.open == 0, HANG_GUARD)


async def test_a_slow_prometheus_does_not_delay_another(
    http_server: RecordingServer, second_http_server: RecordingServer
) -> None:
    """Many queries stuck on one endpoint (more than any shared pool would have) leave another endpoint's
    query free to succeed while they are still in flight."""
    trickle = http_server.trickle("/api/v1/query")
    second_http_server.reply("/api/v1/query", json=VECTOR)
    slow = [
        asyncio.create_task(measure({"prometheus": {"address": http_server.url, "query": "up", "timeout": 600}}))
        for _ in range(24)
    ]
    try:
        await trickle.wait_until(lambda: trickle.open >= ENDPOINT_CONCURRENCY, HANG_GUARD)
        healthy = await asyncio.wait_for(
            measure({"prometheus": {"address": second_http_server.url, "query": "up", "timeout": 5}}), HANG_GUARD
        )
        assert healthy.value == [0.75]
        assert not any(task.done() for task in slow)  # the slow ones were in flight throughout
        # The bulkhead: one endpoint never has more than its share of requests open at once.
        assert trickle.open == ENDPOINT_CONCURRENCY
    finally:
        for task in slow:
            task.cancel()
        await asyncio.gather(*slow, return_exceptions=True)


async def test_cancelling_measurements_closes_their_requests(http_server: RecordingServer) -> None:
    """What stopping the controller does to the measurements in flight: cancelled, their connections close at
    once, and nothing (no worker thread reading a socket) is left behind to hold the process."""
    trickle = http_server.trickle("/api/v1/query")
    in_flight = [
        asyncio.create_task(measure({"prometheus": {"address": http_server.url, "query": "up", "timeout": 600}}))
        for _ in range(ENDPOINT_CONCURRENCY)
    ]
    await trickle.wait_until(lambda: trickle.open == ENDPOINT_CONCURRENCY, HANG_GUARD)
    for task in in_flight:
        task.cancel()
    results = await asyncio.wait_for(asyncio.gather(*in_flight, return_exceptions=True), HANG_GUARD)
    assert all(isinstance(result, asyncio.CancelledError) for result in results)
    await trickle.wait_until(lambda: trickle.open == 0 and trickle.ended == ENDPOINT_CONCURRENCY, HANG_GUARD)


async def test_the_analysis_controller_stops_with_queries_in_flight(http_server: RecordingServer) -> None:
    """SIGTERM's path: the controller's stop cancels the passes measuring against a trickling Prometheus, and
    returns; their connections are closed."""
    trickle = http_server.trickle("/api/v1/query")
    controller = AnalysisController(cast(AsyncKubeClient, object()), AnalysisOptions(workers=4))
    for index in range(3):
        metric = {"name": "m", "provider": {"prometheus": {"address": http_server.url, "query": "up"}}}
        run = {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "AnalysisRun",
            "metadata": {"name": f"run-{index}", "namespace": "default", "uid": f"uid-{index}",
                         "resourceVersion": "1"},
            "spec": {"metrics": [metric]},
        }
        controller.observe_run(None, run)
    controller.start_workers()
    await trickle.wait_until(lambda: trickle.open == 3, HANG_GUARD)
    await asyncio.wait_for(controller.stop(), HANG_GUARD)
    await trickle.wait_until(lambda: trickle.open == 0 and trickle.ended == 3, HANG_GUARD)


async def test_a_query_that_never_gets_a_slot_says_the_endpoint_was_full(http_server: RecordingServer) -> None:
    trickle = http_server.trickle("/api/v1/query")
    holding = [
        asyncio.create_task(measure({"prometheus": {"address": http_server.url, "query": "up", "timeout": 600}}))
        for _ in range(ENDPOINT_CONCURRENCY)
    ]
    try:
        await trickle.wait_until(lambda: trickle.open == ENDPOINT_CONCURRENCY, HANG_GUARD)
        with pytest.raises(ProviderError) as caught:
            await measure({"prometheus": {"address": http_server.url, "query": "up", "timeout": 1}})
        assert str(caught.value) == (
            f"prometheus at {http_server.url} did not answer within 1s "
            f"(all {ENDPOINT_CONCURRENCY} query slots of this endpoint were busy)"
        )
        assert trickle.open == ENDPOINT_CONCURRENCY  # it never reached the server
    finally:
        for task in holding:
            task.cancel()
        await asyncio.gather(*holding, return_exceptions=True)
    assert endpoints_in_use() == {}  # nothing is remembered of an endpoint no request uses
