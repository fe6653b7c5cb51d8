"""The provider contract: masking of secrets, provider selection, and readable network errors."""

from __future__ import annotations

import base64
import json
import re
import socket
import urllib.parse
from typing import Any

import hypothesis
import hypothesis.strategies
import pytest
import requests

from analysis.providers import MeasurementContext, MetricProvider, ProviderError, ProviderResult, provider_for
from analysis.providers.base import BaseProvider, mask, mask_value, network_reason, provider_section
from analysis.providers.job import JobProvider
from analysis.providers.prometheus import PrometheusProvider
from analysis.providers.web import WebProvider
from tests.property_coverage import asserting, guarded, vacuous


def context(metric: dict[str, Any], secrets: tuple[str, ...] = ()) -> MeasurementContext:
    return MeasurementContext(
        run_name="run", run_namespace="default", run_uid="uid", metric_name=metric.get("name", "m"),
        metric=metric, secrets=secrets,
    )


# --- masking ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "secrets", "expected"),
    [
        ("token=s3cr3t", ("s3cr3t",), "token=*****"),
        ("a s3cr3t and s3cr3t again", ("s3cr3t",), "a ***** and ***** again"),
        ("nothing here", ("s3cr3t",), "nothing here"),
        ("empty secrets are ignored", ("",), "empty secrets are ignored"),
        # The longer secret is hidden whole even though it contains the shorter one.
        ("pass=abcdef", ("abc", "abcdef"), "pass=*****"),
        ("two: alpha beta", ("alpha", "beta"), "two: ***** *****"),
    ],
)
def test_mask(text: str, secrets: tuple[str, ...], expected: str) -> None:
    assert mask(text, secrets) == expected


# Issue #15 item 3: a secret reaches text in other encodings than its own — a URL percent-encodes it, JSON escapes
# it, HTTP Basic base64-encodes it — and each of those must be hidden as the raw value is.
SECRET = 'p@ss w/rd"é+'


@pytest.mark.parametrize(
    ("encoded", "how"),
    [
        (SECRET, "as it is"),
        ("p%40ss%20w%2Frd%22%C3%A9%2B", "percent-encoded, nothing safe (quote(safe=''))"),
        ("p%40ss%20w/rd%22%C3%A9%2B", "percent-encoded, '/' kept (quote())"),
        ("p%40ss+w%2Frd%22%C3%A9%2B", "form-encoded (quote_plus())"),
        ("p%40ss%20w%2frd%22%c3%a9%2b", "percent-encoded in lower-case hex"),
        ('p@ss w/rd\\"\\u00e9+', "JSON-escaped, ASCII only (json.dumps)"),
        ('p@ss w/rd\\"é+', "JSON-escaped, UTF-8 kept (ensure_ascii=False)"),
        ('p@ss w\\/rd\\"\\u00E9\\u002b', "JSON-escaped the way other encoders do (escaped '/', upper-case hex)"),
        ("cEBzcyB3L3JkIsOpKw==", "base64"),
        ("cEBzcyB3L3JkIsOpKw", "base64 without padding"),
    ],
)
def test_mask_hides_a_secret_in_every_encoding(encoded: str, how: str) -> None:
    text = f"GET http://example/?token={encoded}&x=1 failed"
    assert mask(text, (SECRET,)) == "GET http://example/?token=*****&x=1 failed", how


def test_mask_hides_a_secret_json_escaped_twice() -> None:
    """A message quoting a JSON document that quotes the secret (an error body inside a status message)."""
    once = json.dumps({"token": SECRET})
    twice = json.dumps({"error": once})
    assert SECRET not in mask(twice, (SECRET,))
    assert "*****" in mask(twice, (SECRET,))


def test_mask_value_masks_strings_inside_json_values_only() -> None:
    value = {"token": "s3cr3t", "items": ["x-s3cr3t", 1, 2.5, None, True], "s3cr3t": 3}
    assert mask_value(value, ("s3cr3t",)) == {"token": "*****", "items": ["x-*****", 1, 2.5, None, True], "*****": 3}
    assert mask_value(0.5, ("s3cr3t",)) == 0.5


class _Leaky(BaseProvider):
    name = "leaky"

    async def _run(self, context: MeasurementContext) -> ProviderResult:
        if context.metric.get("fail"):
            raise ProviderError("cannot reach http://user:s3cr3t@host", metadata={"query": "up{key='s3cr3t'}"})
        return ProviderResult(value="echo s3cr3t", message="saw s3cr3t", metadata={"q": "s3cr3t"})


async def test_results_and_errors_are_masked() -> None:
    provider = _Leaky()
    result = await provider.run(context({"name": "m"}, secrets=("s3cr3t",)))
    assert (result.value, result.message, result.metadata) == ("echo *****", "saw *****", {"q": "*****"})
    with pytest.raises(ProviderError) as caught:
        await provider.run(context({"name": "m", "fail": True}, secrets=("s3cr3t",)))
    assert str(caught.value) == "cannot reach http://user:*****@host"
    assert caught.value.metadata == {"query": "up{key='*****'}"}
    # The unmasked original must not ride along in the chain, where a logged traceback would print it.
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


async def test_default_resume_measures_again_and_terminate_is_a_no_op() -> None:
    provider = _Leaky()
    result = await provider.resume(context({"name": "m"}), {})
    assert result.value == "echo s3cr3t"
    assert await provider.terminate(context({"name": "m"}), {}) is None
    assert await provider.garbage_collect(context({"name": "m"}), 1) is None


# --- selection ----------------------------------------------------------------------------------------------


def test_provider_for_picks_by_the_provider_key() -> None:
    kube: Any = object()
    prometheus = provider_for({"name": "m", "provider": {"prometheus": {"query": "up"}}}, kube=None)
    web = provider_for({"name": "m", "provider": {"web": {"url": "http://x"}}}, kube=None)
    job = provider_for({"name": "m", "provider": {"job": {"spec": {}}}}, kube=kube)
    assert isinstance(prometheus, PrometheusProvider) and prometheus.name == "prometheus"
    assert isinstance(web, WebProvider) and web.name == "web"
    assert isinstance(job, JobProvider) and job.name == "job" and job.kube is kube
    for provider in (prometheus, web, job):
        assert isinstance(provider, MetricProvider)


@pytest.mark.parametrize(
    ("provider", "message"),
    [
        ({"datadog": {"query": "x"}}, "provider datadog is not supported by this controller"),
        ({"newRelic": {"query": "x"}}, "provider newRelic is not supported"),
        ({"plugin": {"argoproj-labs/sample": {}}}, "provider plugin/argoproj-labs/sample is not supported"),
        ({}, "metric 'm' has no provider"),
        ({"web": {"url": "u"}, "prometheus": {"query": "q"}}, "exactly one provider, found: web, prometheus"),
        ({"web": None}, "exactly one provider, found: none"),
        ({"web": "http://x"}, "provider web must be an object"),
    ],
)
def test_provider_for_refuses(provider: dict[str, Any], message: str) -> None:
    with pytest.raises(ProviderError, match=re.escape(message)):
        provider_for({"name": "m", "provider": provider}, kube=None)


def test_provider_for_without_a_provider_section() -> None:
    with pytest.raises(ProviderError, match="has no provider"):
        provider_for({"name": "m"}, kube=None)


def test_job_provider_needs_a_kube_client() -> None:
    with pytest.raises(ProviderError, match="needs a Kubernetes client"):
        provider_for({"name": "m", "provider": {"job": {"spec": {}}}}, kube=None)


def test_provider_section_returns_the_settings() -> None:
    name, settings = provider_section({"name": "m", "provider": {"web": {"url": "http://x"}}})
    assert (name, dict(settings)) == ("web", {"url": "http://x"})


# --- network errors -----------------------------------------------------------------------------------------


def _chained(outer: BaseException, inner: BaseException) -> BaseException:
    outer.__cause__ = inner
    return outer


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (ConnectionRefusedError(111, "Connection refused"), "connection refused"),
        (_chained(RuntimeError("pool"), ConnectionRefusedError(111, "Connection refused")), "connection refused"),
        (socket.gaierror(-2, "Name or service not known"), "name resolution failed (Name or service not known)"),
        (OSError(113, "No route to host"), "no route to host"),
        (RuntimeError("plain"), "plain"),
        (RuntimeError(), "RuntimeError"),
    ],
)
def test_network_reason(error: BaseException, reason: str) -> None:
    assert network_reason(error) == reason


def test_network_reason_digs_through_requests() -> None:
    # A real refused connection, as requests reports it: four layers deep.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(requests.ConnectionError) as caught:
        requests.get(f"http://127.0.0.1:{port}/", timeout=2)
    assert network_reason(caught.value) == "connection refused"


def test_the_base64_of_a_very_short_secret_is_not_looked_for() -> None:
    """``MQ`` (the base64 of ``1``) is in too much ordinary text; the secret itself still is masked."""
    assert mask("MQTT broker at 1.2.3.4", ("1",)) == "MQTT broker at *****.2.3.4"


ENCODINGS: dict[str, Any] = {
    "raw": lambda secret: secret,
    "quote": lambda secret: urllib.parse.quote(secret, safe=""),
    "quote, / kept": urllib.parse.quote,
    "quote_plus": urllib.parse.quote_plus,
    "json": lambda secret: json.dumps(secret)[1:-1],
    "json, utf-8": lambda secret: json.dumps(secret, ensure_ascii=False)[1:-1],
    "json twice": lambda secret: json.dumps(json.dumps(secret))[3:-3],
    "base64": lambda secret: base64.b64encode(secret.encode()).decode(),
}


@guarded(min_share=0.8)
@hypothesis.settings(max_examples=100, deadline=None)
@hypothesis.given(
    secret=hypothesis.strategies.text(min_size=1, max_size=24).filter(lambda text: "*" not in text),
    encoding=hypothesis.strategies.sampled_from(sorted(ENCODINGS)),
)
def test_no_encoding_of_a_secret_survives_masking(secret: str, encoding: str) -> None:
    """Whatever the secret (any characters, beyond the BMP too) and whichever encoding carried it, the masked
    text no longer holds it in that encoding."""
    encoded = ENCODINGS[encoding](secret)
    if encoding == "base64" and len(secret.encode()) < 6:
        return vacuous("base64 is looked for only in secrets of 6 bytes or more")
    asserting(encoding)
    assert encoded not in mask(f"<{encoded}>", (secret,))
