"""The prometheus provider against a real Prometheus scraping a real metrics endpoint, and against fakes for what
a real server will not do on demand (authentication, errors, slowness)."""

from __future__ import annotations

import asyncio
import base64
import math
import time
from collections.abc import Iterator
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server
from provider_servers import RecordingServer

from analysis.providers import MeasurementContext, ProviderError, ProviderResult, provider_for
from analysis.providers.prometheus import MAX_RESPONSE_BYTES, MAX_RESULT_SAMPLES
from sandbox.prometheus import PrometheusServer
from tests.required_tools import require_tool

pytestmark = pytest.mark.prometheus


@pytest.fixture(scope="module")
def metrics_endpoint() -> Iterator[str]:
    """A prometheus_client endpoint on a free port: a gauge, a labelled counter and a NaN gauge."""
    registry = CollectorRegistry()
    Gauge("provider_test_gauge", "a steady value", registry=registry).set(0.5)
    requests_total = Counter("provider_test_requests", "requests by code", ["code"], registry=registry)
    requests_total.labels(code="200").inc(9)
    requests_total.labels(code="500").inc(1)
    Gauge("provider_test_nan", "not a number", registry=registry).set(math.nan)
    server, thread = start_http_server(0, addr="127.0.0.1", registry=registry)
    try:
        yield f"127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture(scope="module")
def prometheus(metrics_endpoint: str) -> Iterator[PrometheusServer]:
    """One real Prometheus for the module: starting one and waiting for the first scrape takes about 6 s."""
    require_tool("prometheus")
    with PrometheusServer([metrics_endpoint]) as server:
        # up == 1 means one scrape; a range ending at a whole second just after it could still fall before it.
        # Two scrapes make every query here independent of where in the second it runs.
        deadline = time.monotonic() + 10
        while not server.query("count_over_time(provider_test_gauge[1m]) >= 2"):
            assert time.monotonic() < deadline, "prometheus did not scrape twice within 10 s"
            time.sleep(0.2)
        yield server


def context(prometheus: dict[str, Any], *, secrets: tuple[str, ...] = ()) -> MeasurementContext:
    metric = {"name": "m", "provider": {"prometheus": prometheus}}
    return MeasurementContext(
        run_name="run", run_namespace="default", run_uid="uid", metric_name="m", metric=metric, secrets=secrets
    )


async def measure(prometheus: dict[str, Any], *, secrets: tuple[str, ...] = ()) -> ProviderResult:
    metric = context(prometheus, secrets=secrets)
    return await provider_for(metric.metric, kube=None).run(metric)


async def measure_error(prometheus: dict[str, Any], *, secrets: tuple[str, ...] = ()) -> ProviderError:
    with pytest.raises(ProviderError) as caught:
        await measure(prometheus, secrets=secrets)
    return caught.value


# --- a real Prometheus ----------------------------------------------------------------------------------------


async def test_scalar(prometheus: PrometheusServer) -> None:
    result = await measure({"address": prometheus.url, "query": "scalar(provider_test_gauge)"})
    assert result == ProviderResult(value=0.5, metadata={"ResolvedPrometheusQuery": "scalar(provider_test_gauge)"})


async def test_vector_keeps_the_order_returned(prometheus: PrometheusServer) -> None:
    descending = await measure({"address": prometheus.url, "query": "sort_desc(provider_test_requests_total)"})
    ascending = await measure({"address": prometheus.url, "query": "sort(provider_test_requests_total)"})
    assert (descending.value, ascending.value) == ([9.0, 1.0], [1.0, 9.0])
    assert descending.phase is None  # the conditions decide


async def test_matrix_is_flattened(prometheus: PrometheusServer) -> None:
    result = await measure({"address": prometheus.url, "query": "provider_test_gauge[30s]"})
    assert isinstance(result.value, list) and result.value and set(result.value) == {0.5}


async def test_range_query(prometheus: PrometheusServer) -> None:
    result = await measure(
        {
            "address": prometheus.url,
            "query": "provider_test_requests_total",
            "rangeQuery": {"start": 'now() - duration("10s")', "end": "now()", "step": "1s"},
        }
    )
    # Two series over up to ten steps, flattened; every point is 9 or 1.
    assert isinstance(result.value, list) and len(result.value) >= 2 and set(result.value) == {9.0, 1.0}


async def test_empty_result_is_an_empty_list(prometheus: PrometheusServer) -> None:
    result = await measure({"address": prometheus.url, "query": 'provider_test_gauge{job="absent"}'})
    assert result.value == []


async def test_nan_samples(prometheus: PrometheusServer) -> None:
    result = await measure({"address": prometheus.url, "query": "provider_test_nan"})
    assert len(result.value) == 1 and math.isnan(result.value[0])


async def test_malformed_query_is_an_error_with_prometheus_message(prometheus: PrometheusServer) -> None:
    error = await measure_error({"address": prometheus.url, "query": "sum(provider_test_gauge"})
    assert str(error).startswith("prometheus rejected the query (400): ")
    assert "parse error" in str(error)
    # What was sent is kept even though the measurement failed.
    assert error.metadata == {"ResolvedPrometheusQuery": "sum(provider_test_gauge"}


async def test_string_result_is_an_error(prometheus: PrometheusServer) -> None:
    error = await measure_error({"address": prometheus.url, "query": '"hello"'})
    assert str(error) == "prometheus returned a string; only scalar, vector and matrix results can be evaluated"


async def test_address_from_the_environment(prometheus: PrometheusServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROMETHEUS_ADDRESS", prometheus.url)
    result = await measure({"query": "scalar(provider_test_gauge)"})
    assert result.value == 0.5


async def test_secrets_are_masked_in_the_resolved_query(prometheus: PrometheusServer) -> None:
    result = await measure(
        {"address": prometheus.url, "query": 'provider_test_requests_total{code="200"}'}, secrets=("200",)
    )
    assert result.value == [9.0]
    assert result.metadata == {"ResolvedPrometheusQuery": 'provider_test_requests_total{code="*****"}'}


async def test_stopped_server_is_unreachable() -> None:
    require_tool("prometheus")
    server = PrometheusServer(wait_for_targets=False)
    await server.start_async()
    address = server.url
    assert (await measure({"address": address, "query": "vector(1)"})).value == [1.0]
    await server.stop_async()
    error = await measure_error({"address": address, "query": "vector(1)"})
    assert str(error) == f"prometheus at {address} is unreachable: connection refused"


# --- fakes: authentication, failures, slowness --------------------------------------------------------------

VECTOR = {"status": "success", "data": {"resultType": "vector", "result": [{"metric": {}, "value": [1, "0.75"]}]}}


async def test_headers_and_basic_auth_reach_the_server(http_server: RecordingServer) -> None:
    http_server.reply("/api/v1/query", json=VECTOR)
    result = await measure(
        {
            "address": http_server.url,
            "query": "up",
            "timeout": 7,
            "headers": [{"key": "X-Scope-OrgID", "value": "tenant_a"}],
            "authentication": {"basicAuth": {"username": "grafana", "password": "s3cr3t"}},
        }
    )
    assert result.value == [0.75]
    (request,) = http_server.received("/api/v1/query")
    assert request.headers["X-Scope-OrgID"] == "tenant_a"
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(b"grafana:s3cr3t").decode()
    assert request.query == {"query": "up", "timeout": "7s"}


async def test_oauth2_client_credentials(http_server: RecordingServer) -> None:
    http_server.reply("/token", json={"access_token": "tok-123", "token_type": "Bearer", "expires_in": 60})
    http_server.reply("/api/v1/query", json=VECTOR)
    oauth2 = {"tokenUrl": f"{http_server.url}/token", "clientId": "id", "clientSecret": "sec", "scopes": ["read"]}
    result = await measure({"address": http_server.url, "query": "up", "authentication": {"oauth2": oauth2}})
    assert result.value == [0.75]
    (token_request,) = http_server.received("/token")
    assert token_request.method == "POST"
    assert token_request.headers["Authorization"] == "Basic " + base64.b64encode(b"id:sec").decode()
    assert sorted(token_request.body.decode().split("&")) == ["grant_type=client_credentials", "scope=read"]
    (query,) = http_server.received("/api/v1/query")
    assert query.headers["Authorization"] == "Bearer tok-123"


async def test_oauth2_falls_back_to_credentials_in_the_body(http_server: RecordingServer) -> None:
    from aiohttp import web

    async def token(request: web.Request) -> web.StreamResponse:
        form = await request.post()
        if "Authorization" in request.headers or form.get("client_secret") != "sec":
            return web.json_response({"error": "invalid_client"}, status=401)
        return web.json_response({"access_token": "from-body"})

    http_server.route("/token", token)
    http_server.reply("/api/v1/query", json=VECTOR)
    oauth2 = {"tokenUrl": f"{http_server.url}/token", "clientId": "id", "clientSecret": "sec"}
    await measure({"address": http_server.url, "query": "up", "authentication": {"oauth2": oauth2}})
    assert len(http_server.received("/token")) == 2
    assert http_server.received("/api/v1/query")[0].headers["Authorization"] == "Bearer from-body"


async def test_oauth2_token_refused(http_server: RecordingServer) -> None:
    http_server.reply("/token", 403, json={"error": "access_denied"})
    oauth2 = {"tokenUrl": f"{http_server.url}/token", "clientId": "id", "clientSecret": "sec"}
    error = await measure_error({"address": http_server.url, "query": "up", "authentication": {"oauth2": oauth2}})
    assert str(error) == f"oauth2 token endpoint {http_server.url}/token answered 403: access_denied"


async def test_server_errors_name_the_status(http_server: RecordingServer) -> None:
    http_server.reply("/api/v1/query", 503, text="overloaded")
    error = await measure_error({"address": http_server.url, "query": "up"})
    assert str(error) == f"prometheus at {http_server.url} answered 503 Service Unavailable: overloaded"
    # A failing server is asked once per measurement: the runner, not the client, retries.
    assert len(http_server.received("/api/v1/query")) == 1


async def test_unauthorized(http_server: RecordingServer) -> None:
    http_server.reply("/api/v1/query", 401, text="")
    error = await measure_error({"address": http_server.url, "query": "up"})
    assert str(error) == f"prometheus at {http_server.url} answered 401 Unauthorized: Unauthorized"


async def test_not_a_query_result(http_server: RecordingServer) -> None:
    http_server.reply("/api/v1/query", text="<html>login</html>", content_type="text/html")
    error = await measure_error({"address": http_server.url, "query": "up"})
    assert str(error) == (
        f"prometheus at {http_server.url} answered with something that is not a query result: <html>login</html>"
    )


async def test_warnings_are_kept(http_server: RecordingServer) -> None:
    http_server.reply("/api/v1/query", json={**VECTOR, "warnings": ["partial response", "slow"]})
    result = await measure({"address": http_server.url, "query": "up"})
    assert result.metadata == {"ResolvedPrometheusQuery": "up", "warnings": '"partial response", "slow"'}


async def test_timeout_without_blocking_the_loop(http_server: RecordingServer) -> None:
    http_server.reply("/api/v1/query", json=VECTOR, delay=5.0)
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.05)
            ticks += 1

    ticker = asyncio.create_task(tick())
    started = time.monotonic()
    try:
        error = await measure_error({"address": http_server.url, "query": "up", "timeout": 1})
    finally:
        ticker.cancel()
    elapsed = time.monotonic() - started
    assert str(error) == f"prometheus at {http_server.url} did not answer within 1s"
    assert elapsed > 0.9  # it did wait for the timeout (an upper bound would only measure the machine's load)
    # The loop kept running while the query waited (about 20 ticks in one second).
    assert ticks >= 10


async def test_credentials_in_the_address_are_not_shown(http_server: RecordingServer) -> None:
    http_server.reply("/api/v1/query", 500, json={"status": "error", "error": "boom"})
    address = http_server.url.replace("http://", "http://user:hunter2@")
    error = await measure_error({"address": address, "query": "up"})
    assert str(error) == f"prometheus at {http_server.url} answered 500 Internal Server Error: boom"


# --- issue #15 item 8: a result too large for an AnalysisRun ------------------------------------------------


async def test_a_vector_with_too_many_series_is_an_error_that_says_so(http_server: RecordingServer) -> None:
    """600 000 series would make the run unwritable (etcd's object size limit); the measurement is an Error that
    names the size, and the run can record it."""
    series = MAX_RESULT_SAMPLES + 1
    sample = {"metric": {}, "value": [1, "1"]}
    http_server.reply("/api/v1/query", json={"status": "success",
                                             "data": {"resultType": "vector", "result": [sample] * series}})
    error = await measure_error({"address": http_server.url, "query": "up"})
    assert str(error) == (
        f"prometheus returned {series} samples, more than the {MAX_RESULT_SAMPLES} one measurement may hold; "
        "aggregate the query (sum, avg, topk, …)"
    )
    assert error.metadata == {"ResolvedPrometheusQuery": "up"}


async def test_a_matrix_counts_every_point(http_server: RecordingServer) -> None:
    points = [[index, "1"] for index in range(MAX_RESULT_SAMPLES // 2 + 1)]
    matrix = [{"metric": {"i": "0"}, "values": points}, {"metric": {"i": "1"}, "values": points}]
    http_server.reply("/api/v1/query", json={"status": "success", "data": {"resultType": "matrix", "result": matrix}})
    error = await measure_error({"address": http_server.url, "query": "up[1h]"})
    assert str(error).startswith(f"prometheus returned {len(points) * 2} samples, more than the ")


async def test_an_answer_larger_than_the_limit_is_an_error_without_reading_it_all(
    http_server: RecordingServer,
) -> None:
    http_server.reply("/api/v1/query", text=" " * (MAX_RESPONSE_BYTES + 1), content_type="application/json")
    error = await measure_error({"address": http_server.url, "query": "up"})
    assert str(error) == (
        f"prometheus at {http_server.url} answered with more than 16 MiB; a measurement's result must be small: "
        "aggregate the query (sum, avg, topk, …)"
    )


async def test_a_redirect_to_another_origin_drops_the_headers_and_the_oauth2_token(
    http_server: RecordingServer, second_http_server: RecordingServer
) -> None:
    """Issue #15 item 3: ``X-Scope-OrgID`` and the bearer token are for the Prometheus the metric names."""
    from aiohttp import web

    async def moved(_: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(f"{second_http_server.url}/api/v1/query?query=up")

    http_server.reply("/token", json={"access_token": "tok-123"})
    http_server.route("/api/v1/query", moved)
    second_http_server.reply("/api/v1/query", json=VECTOR)
    oauth2 = {"tokenUrl": f"{http_server.url}/token", "clientId": "id", "clientSecret": "sec"}
    result = await measure({
        "address": http_server.url, "query": "up", "authentication": {"oauth2": oauth2},
        "headers": [{"key": "X-Scope-OrgID", "value": "tenant_a"}],
    })
    assert result.value == [0.75]
    assert http_server.received("/api/v1/query")[0].headers["Authorization"] == "Bearer tok-123"
    (landed,) = second_http_server.received("/api/v1/query")
    assert "Authorization" not in landed.headers and "X-Scope-OrgID" not in landed.headers
