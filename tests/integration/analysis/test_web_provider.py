"""The web provider against a real local HTTP server."""

from __future__ import annotations

import json
import logging
import socket
from typing import Any

import pytest
from aiohttp import web
from provider_servers import RecordingServer

from analysis.providers import MeasurementContext, ProviderError, ProviderResult, mask, provider_for


def context(settings: dict[str, Any], *, secrets: tuple[str, ...] = ()) -> MeasurementContext:
    metric = {"name": "m", "provider": {"web": settings}}
    return MeasurementContext(
        run_name="run", run_namespace="default", run_uid="uid", metric_name="m", metric=metric, secrets=secrets
    )


async def measure(settings: dict[str, Any], *, secrets: tuple[str, ...] = ()) -> ProviderResult:
    metric = context(settings, secrets=secrets)
    return await provider_for(metric.metric, kube=None).run(metric)


async def measure_error(settings: dict[str, Any], *, secrets: tuple[str, ...] = ()) -> str:
    with pytest.raises(ProviderError) as caught:
        await measure(settings, secrets=secrets)
    return str(caught.value)


HEALTH = {"data": {"ok": True, "rate": 0.99}, "items": [{"value": 3}, {"value": 4}], "status": "healthy"}


@pytest.mark.parametrize(
    ("json_path", "expected"),
    [
        (None, HEALTH),
        ("{$}", HEALTH),
        ("{$.data.ok}", True),
        ("{$.data.rate}", 0.99),
        ("{.status}", "healthy"),
        ("{$.items[0].value}", 3),
        ("{$.items[*].value}", 3),  # the first of several, as Argo
    ],
)
async def test_get_with_json_path(http_server: RecordingServer, json_path: str | None, expected: Any) -> None:
    http_server.reply("/health", json=HEALTH)
    settings: dict[str, Any] = {"url": f"{http_server.url}/health"}
    if json_path is not None:
        settings["jsonPath"] = json_path
    result = await measure(settings)
    assert result == ProviderResult(value=expected)
    (request,) = http_server.received("/health")
    assert request.method == "GET" and request.body == b""


async def test_post_json_body_with_headers(http_server: RecordingServer) -> None:
    http_server.reply("/check", json={"verdict": "pass"})
    result = await measure(
        {
            "url": f"{http_server.url}/check",
            "method": "POST",
            "headers": [{"key": "Authorization", "value": "Bearer t0ken"}, {"key": "Content-Type", "value": "text/x"}],
            "jsonBody": {"service": "web", "window": [1, 2]},
            "jsonPath": "{$.verdict}",
        }
    )
    assert result.value == "pass"
    (request,) = http_server.received("/check")
    assert request.method == "POST"
    assert json.loads(request.body) == {"service": "web", "window": [1, 2]}
    assert request.headers["Authorization"] == "Bearer t0ken"
    assert request.headers["Content-Type"] == "application/json"  # a JSON body's type wins, as in Argo


async def test_put_string_body(http_server: RecordingServer) -> None:
    http_server.reply("/put", json=1)
    result = await measure({"url": f"{http_server.url}/put", "method": "PUT", "body": "a=1&b=2"})
    assert result.value == 1
    (request,) = http_server.received("/put")
    assert (request.method, request.body) == ("PUT", b"a=1&b=2")


async def test_non_2xx_is_an_error(http_server: RecordingServer) -> None:
    http_server.reply("/health", 503, json={"ok": False})
    message = await measure_error({"url": f"{http_server.url}/health"})
    assert message == (
        f"web metric GET {http_server.url}/health received non 2xx response code: 503 Service Unavailable"
    )


async def test_redirects_are_followed(http_server: RecordingServer) -> None:
    async def moved(_: web.Request) -> web.StreamResponse:
        raise web.HTTPFound("/health")

    http_server.route("/old", moved)
    http_server.reply("/health", json=HEALTH)
    assert (await measure({"url": f"{http_server.url}/old", "jsonPath": "{$.status}"})).value == "healthy"


async def test_non_json_body(http_server: RecordingServer) -> None:
    http_server.reply("/text", text="all good")
    assert (await measure({"url": f"{http_server.url}/text"})).value == "all good"
    message = await measure_error({"url": f"{http_server.url}/text", "jsonPath": "{$.ok}"})
    assert message == "the response is not JSON, so jsonPath {$.ok} cannot be applied: all good"


async def test_missing_json_path(http_server: RecordingServer) -> None:
    http_server.reply("/health", json=HEALTH)
    message = await measure_error({"url": f"{http_server.url}/health", "jsonPath": "{$.data.missing}"})
    assert message == "could not find jsonPath {$.data.missing} in the response: missing is not found in $.data"


async def test_timeout(http_server: RecordingServer) -> None:
    http_server.reply("/slow", json=HEALTH, delay=5.0)
    # The server answers after 5 s: a timeout not applied would give a measurement, not this error.
    message = await measure_error({"url": f"{http_server.url}/slow", "timeoutSeconds": 1})
    assert message == f"web metric GET {http_server.url}/slow did not answer within 1s"


async def test_unreachable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    message = await measure_error({"url": f"http://127.0.0.1:{port}/health"})
    assert message == f"web metric GET http://127.0.0.1:{port}/health is unreachable: connection refused"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"url": ""}, "web metric url is empty"),
        ({"url": "ftp://example/x"}, "web metric url 'ftp://example/x' must start with http:// or https://"),
        ({"url": "http://x", "body": "a"}, "web metric body/jsonBody needs method POST or PUT, not GET"),
        ({"url": "http://x", "jsonPath": "$.data"}, "jsonPath '$.data' must be a single {…} expression"),
        ({"url": "http://x", "method": "DELETE"}, "invalid web provider: method"),
    ],
)
async def test_invalid_settings(settings: dict[str, Any], message: str) -> None:
    assert (await measure_error(settings)).startswith(message)


async def test_secrets_are_masked(http_server: RecordingServer) -> None:
    http_server.reply("/echo", json={"token": "s3cr3t", "ok": True})
    result = await measure({"url": f"{http_server.url}/echo?key=s3cr3t"}, secrets=("s3cr3t",))
    assert result.value == {"token": "*****", "ok": True}
    http_server.reply("/fail", 500, text="")
    message = await measure_error({"url": f"{http_server.url}/fail?key=s3cr3t"}, secrets=("s3cr3t",))
    assert "s3cr3t" not in message and "key=*****" in message
    # The server got the real value: masking is for what is shown, not what is sent.
    assert http_server.received("/echo")[0].query == {"key": "s3cr3t"}


# --- issue #15 item 3: secrets in outbound requests --------------------------------------------------------

SECRET = "s3cr3t/v@lue"


def redirect(to: str) -> Any:
    async def handler(_: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(to)

    return handler


async def test_a_redirect_to_another_origin_drops_the_metric_headers(
    http_server: RecordingServer, second_http_server: RecordingServer
) -> None:
    """httpx drops only ``Authorization`` when a redirect leaves the origin; a custom header such as ``X-Api-Key``
    would reach the other server. None of the metric's headers do."""
    http_server.route("/verdict", redirect(f"{second_http_server.url}/landing"))
    second_http_server.reply("/landing", json={"ok": True})
    headers = [{"key": "X-Api-Key", "value": SECRET}, {"key": "Authorization", "value": f"Bearer {SECRET}"}]
    result = await measure({"url": f"{http_server.url}/verdict", "headers": headers, "jsonPath": "{$.ok}"})
    assert result.value is True
    assert http_server.received("/verdict")[0].headers["X-Api-Key"] == SECRET
    (landed,) = second_http_server.received("/landing")
    assert "X-Api-Key" not in landed.headers and "Authorization" not in landed.headers


async def test_a_redirect_within_the_origin_keeps_the_metric_headers(http_server: RecordingServer) -> None:
    http_server.route("/verdict", redirect("/landing"))
    http_server.reply("/landing", json={"ok": True})
    headers = [{"key": "X-Api-Key", "value": SECRET}]
    await measure({"url": f"{http_server.url}/verdict", "headers": headers, "jsonPath": "{$.ok}"})
    assert http_server.received("/landing")[0].headers["X-Api-Key"] == SECRET


async def test_request_urls_are_not_logged_even_at_debug(
    http_server: RecordingServer, caplog: pytest.LogCaptureFixture
) -> None:
    """What ``rollouts controller -v`` logs: third-party request logging stays off, so a URL carrying a secret
    argument is not written to the log in any form."""
    http_server.reply("/verdict", json={"ok": True})
    http_server.reply("/api/v1/query", json={"status": "success", "data": {"resultType": "vector", "result": []}})
    caplog.set_level(logging.DEBUG)
    await measure({"url": f"{http_server.url}/verdict?token={SECRET}"}, secrets=(SECRET,))
    prometheus = {"address": http_server.url, "query": f'up{{token="{SECRET}"}}'}
    measurement = MeasurementContext(
        run_name="run", run_namespace="default", run_uid="uid", metric_name="m",
        metric={"name": "m", "provider": {"prometheus": prometheus}}, secrets=(SECRET,),
    )
    await provider_for(measurement.metric, kube=None).run(measurement)
    # The test's own server (aiohttp) logs what it received; that is not the controller's log.
    logged = "\n".join(record.getMessage() for record in caplog.records if not record.name.startswith("aiohttp"))
    assert mask(logged, (SECRET,)) == logged, "a secret (in some encoding) was logged"
