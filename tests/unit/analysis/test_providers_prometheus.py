"""The prometheus provider without a server: result conversion, settings, range expressions."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from analysis.providers import ProviderError
from analysis.providers.prometheus import (
    QuerySettings,
    convert_result,
    infer_result_type,
    read_settings,
    resolve_address,
)
from analysis.providers.timeexpr import TimeExpressionError, evaluate_time, parse_go_duration, parse_step

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


def _same(actual: Any, expected: Any) -> bool:
    """Equality where NaN equals NaN, so a table can say what a NaN sample becomes."""
    if isinstance(expected, list):
        return isinstance(actual, list) and len(actual) == len(expected) and all(map(_same, actual, expected))
    if isinstance(expected, float) and math.isnan(expected):
        return isinstance(actual, float) and math.isnan(actual)
    return type(actual) is type(expected) and actual == expected


def _vector(*values: str) -> list[dict[str, Any]]:
    return [{"metric": {"i": str(i)}, "value": [1714564800.0 + i, value]} for i, value in enumerate(values)]


def _matrix(*series: tuple[str, ...]) -> list[dict[str, Any]]:
    return [
        {"metric": {"s": str(i)}, "values": [[1714564800.0 + j, v] for j, v in enumerate(values)]}
        for i, values in enumerate(series)
    ]


# --- result conversion --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("result_type", "result", "expected"),
    [
        ("scalar", [1714564800.0, "0.99"], 0.99),
        ("scalar", [1714564800.0, "1"], 1.0),
        ("scalar", [1714564800.0, "NaN"], math.nan),
        ("scalar", [1714564800.0, "+Inf"], math.inf),
        ("scalar", [1714564800.0, "-Inf"], -math.inf),
        ("vector", _vector("0.99", "0.98"), [0.99, 0.98]),
        ("vector", _vector("3", "1", "2"), [3.0, 1.0, 2.0]),  # the order returned, not sorted
        ("vector", _vector("NaN", "+Inf"), [math.nan, math.inf]),
        ("vector", [], []),
        ("matrix", _matrix(("1", "2"), ("3",)), [1.0, 2.0, 3.0]),
        ("matrix", _matrix(("NaN",)), [math.nan]),
        ("matrix", [], []),
    ],
)
def test_convert_result(result_type: str, result: Any, expected: Any) -> None:
    assert _same(convert_result(result_type, result), expected)


@pytest.mark.parametrize(
    ("result_type", "result", "message"),
    [
        ("string", [1714564800.0, "hello"], "prometheus returned a string; only scalar, vector and matrix"),
        ("histogram", [], "prometheus returned a histogram"),
        ("", [], "a result without a type"),
        ("scalar", [1714564800.0, "not a number"], "sample value that is not a number: 'not a number'"),
        ("scalar", [1.0], "malformed sample"),
        ("vector", [{"metric": {}}], "malformed sample: None"),
        ("vector", "oops", "malformed result"),
    ],
)
def test_convert_result_errors(result_type: str, result: Any, message: str) -> None:
    with pytest.raises(ProviderError, match=re.escape(message)):
        convert_result(result_type, result)


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        ([1714564800.0, "0.5"], "scalar"),
        ([1714564800.0, "NaN"], "scalar"),
        ([1714564800.0, "text"], "string"),
        (_vector("1"), "vector"),
        (_matrix(("1",)), "matrix"),
        ([], "vector"),
    ],
)
def test_infer_result_type(result: Any, expected: str) -> None:
    assert infer_result_type(result) == expected


# --- settings -----------------------------------------------------------------------------------------------


def settings(**prometheus: Any) -> QuerySettings:
    prometheus.setdefault("address", "http://prometheus:9090")
    prometheus.setdefault("query", "up")
    return read_settings(prometheus, now=NOW, environ={})


def test_defaults() -> None:
    read = settings()
    assert (read.address, read.query, read.timeout, read.insecure) == ("http://prometheus:9090", "up", 30.0, False)
    assert (read.headers, read.basic_auth, read.oauth2, read.range) == ({}, None, None, None)


def test_timeout_headers_insecure_and_basic_auth() -> None:
    read = settings(
        address="https://prometheus.example.com/prefix/",
        timeout=5,
        insecure=True,
        headers=[{"key": "X-Scope-OrgID", "value": "tenant_a"}],
        authentication={"basicAuth": {"username": "user", "password": "pw"}},
    )
    assert read.address == "https://prometheus.example.com/prefix"  # no trailing slash before /api/v1
    assert (read.timeout, read.insecure) == (5.0, True)
    assert read.headers == {"X-Scope-OrgID": "tenant_a"}
    assert read.basic_auth == ("user", "pw")


def test_zero_timeout_means_the_default() -> None:
    assert settings(timeout=0).timeout == 30.0


@pytest.mark.parametrize(
    ("prometheus", "message"),
    [
        ({"query": ""}, "prometheus query is empty"),
        ({"query": "   "}, "prometheus query is empty"),
        ({"timeout": -1}, "timeout must not be negative"),
        ({"address": "prometheus:9090"}, "prometheus address 'prometheus:9090' is not a URL"),
        ({"address": "ftp://prometheus"}, "is not a URL"),
        ({"authentication": {"sigv4": {"region": "eu-west-1"}}}, "sigv4 authentication (Amazon Managed Prometheus) "
         "is not supported"),
        ({"authentication": {"oauth2": {"clientId": "id"}}}, "oauth2 authentication needs a tokenUrl"),
        ({"timeout": "soon"}, "invalid prometheus provider: timeout"),
        ({"rangeQuery": {"start": "now() - duration(\"5m\")", "end": "now()"}}, "needs a step"),
        ({"rangeQuery": {"start": "now() - 5m", "step": "1m"}}, "rangeQuery start: unexpected '5'"),
        ({"rangeQuery": {"start": "now()", "end": "now() - duration(\"1h\")", "step": "1m"}}, "is after its end"),
        ({"rangeQuery": {"end": "later()", "step": "1m"}}, "rangeQuery end: unknown function later()"),
        ({"rangeQuery": {"start": "now()", "step": "0s"}}, "step '0s' must be a positive duration"),
        ({"rangeQuery": {"start": "now()", "step": "often"}}, "rangeQuery step: invalid duration 'often'"),
    ],
)
def test_invalid_settings(prometheus: dict[str, Any], message: str) -> None:
    with pytest.raises(ProviderError, match=re.escape(message)):
        settings(**prometheus)


def test_empty_sigv4_and_oauth2_blocks_are_ignored() -> None:
    read = settings(authentication={"sigv4": {}, "oauth2": {"scopes": []}, "basicAuth": {}})
    assert (read.basic_auth, read.oauth2) == (None, None)


def test_oauth2_settings() -> None:
    read = settings(
        authentication={
            "oauth2": {"tokenUrl": "https://idp/token", "clientId": "id", "clientSecret": "s", "scopes": ["a", "b"]}
        }
    )
    assert read.oauth2 == {
        "token_url": "https://idp/token", "client_id": "id", "client_secret": "s", "scopes": ["a", "b"]
    }


def test_range_query_is_evaluated_at_the_measurement() -> None:
    read = settings(rangeQuery={"start": 'now() - duration("5m")', "end": "now()", "step": "1m"})
    assert read.range is not None
    assert (read.range.start, read.range.end, read.range.step) == (NOW - timedelta(minutes=5), NOW, 60.0)


def test_range_query_end_defaults_to_now_and_start_to_the_end() -> None:
    read = settings(rangeQuery={"step": "30s"})
    assert read.range is not None and (read.range.start, read.range.end) == (NOW, NOW)


def test_display_address_hides_credentials() -> None:
    assert settings(address="http://user:pw@prometheus:9090").display_address == "http://prometheus:9090"
    assert settings(address="http://prometheus:9090").display_address == "http://prometheus:9090"


# --- address ------------------------------------------------------------------------------------------------


def test_address_from_the_environment() -> None:
    assert resolve_address("", {"PROMETHEUS_ADDRESS": "http://from-env:9090"}) == "http://from-env:9090"
    assert resolve_address(None, {"ARGO_ROLLOUTS_PROMETHEUS_ADDRESS": "http://argo:9090"}) == "http://argo:9090"
    both = {"PROMETHEUS_ADDRESS": "http://ours:9090", "ARGO_ROLLOUTS_PROMETHEUS_ADDRESS": "http://argo:9090"}
    assert resolve_address("", both) == "http://ours:9090"
    # The metric's own address wins over the environment.
    assert resolve_address("http://metric:9090", both) == "http://metric:9090"


def test_address_missing_everywhere() -> None:
    with pytest.raises(ProviderError, match="prometheus address is not configured"):
        resolve_address("", {})


def test_address_from_the_environment_must_be_a_url() -> None:
    with pytest.raises(ProviderError, match="PROMETHEUS_ADDRESS 'nope' is not a URL"):
        resolve_address("", {"PROMETHEUS_ADDRESS": "nope"})


# --- range expressions --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("now()", NOW),
        ('now() - duration("5m")', NOW - timedelta(minutes=5)),
        ("now()-duration('1h30m')", NOW - timedelta(hours=1, minutes=30)),
        ('now() - duration("1h") + duration("30s")', NOW - timedelta(minutes=59, seconds=30)),
        ('duration("-5m") + now()', NOW - timedelta(minutes=5)),
        ('now() - (duration("1m") + duration("1m"))', NOW - timedelta(minutes=2)),
        ('now() - -duration("1m")', NOW + timedelta(minutes=1)),
        ('now() - duration("1.5h")', NOW - timedelta(minutes=90)),
        ('now() - duration("250ms")', NOW - timedelta(milliseconds=250)),
        ('date("2024-01-01T00:00:00Z")', datetime(2024, 1, 1, tzinfo=UTC)),
        ('date("2024-01-01T00:00:00") + duration("1h")', datetime(2024, 1, 1, 1, tzinfo=UTC)),
        ('  now()  -  duration( "5m" )  ', NOW - timedelta(minutes=5)),
    ],
)
def test_evaluate_time(expression: str, expected: datetime) -> None:
    assert evaluate_time(expression, now=NOW) == expected


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("", "the expression is empty"),
        ("now", "expected '(' at position 4"),
        ("now() +", "expected now(), duration(\"…\") or date(\"…\") at position 8"),
        ("now() 5", "unexpected '5' at position 7"),
        ('duration("5m")', "is a duration, not a time"),
        ("now() + now()", "cannot compute time + time"),
        ('duration("5m") - now()', "cannot compute duration - time"),
        ("-now()", "a time cannot be negated"),
        ("later()", "unknown function later()"),
        ('now() - duration("5 minutes")', "invalid duration '5 minutes'"),
        ('date("yesterday")', "invalid date 'yesterday'"),
        ("(now()", "expected ')'"),
        ("now() ; rm -rf /", "unexpected ';'"),
    ],
)
def test_evaluate_time_errors(expression: str, message: str) -> None:
    with pytest.raises(TimeExpressionError, match=re.escape(message)):
        evaluate_time(expression, now=NOW)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("5m", 300.0), ("1h30m", 5400.0), ("-1.5h", -5400.0), ("+2s", 2.0), ("0", 0.0), ("300ms", 0.3), ("1µs", 1e-6)],
)
def test_parse_go_duration(text: str, seconds: float) -> None:
    assert parse_go_duration(text).total_seconds() == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "5", "m", "5x", "1h 30m", "-"])
def test_parse_go_duration_errors(text: str) -> None:
    with pytest.raises(TimeExpressionError):
        parse_go_duration(text)


@pytest.mark.parametrize(("text", "seconds"), [("1m", 60.0), ("15s", 15.0), ("30", 30.0), ("0.5", 0.5)])
def test_parse_step(text: str, seconds: float) -> None:
    assert parse_step(text) == seconds


@pytest.mark.parametrize("text", ["0", "-1m", "inf", "nan", "soon"])
def test_parse_step_errors(text: str) -> None:
    with pytest.raises(TimeExpressionError):
        parse_step(text)
