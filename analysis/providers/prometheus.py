"""The ``prometheus`` provider: one PromQL query (instant or range) over Prometheus' HTTP API.

The query runs on httpx's AsyncClient through :mod:`analysis.providers.outbound`: a total deadline (the metric's
``timeout``) that ends the request however slowly the server answers, a bulkhead of requests per endpoint so that
one slow Prometheus never takes another's capacity, and no thread that could outlive a cancelled measurement.
The answer is read whole (up to :data:`MAX_RESPONSE_BYTES`) and converted as Argo converts it.
"""

from __future__ import annotations

import json
import os
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

import httpx
from pydantic import ValidationError

from analysis.models import PrometheusMetric
from analysis.providers import outbound
from analysis.providers.base import (
    BaseProvider,
    MeasurementContext,
    ProviderError,
    ProviderResult,
    causes,
    network_reason,
    provider_section,
)
from analysis.providers.timeexpr import TimeExpressionError, evaluate_time, parse_step

RESOLVED_QUERY_KEY: Final = "ResolvedPrometheusQuery"
WARNINGS_KEY: Final = "warnings"
ADDRESS_ENV_VARS: Final = ("PROMETHEUS_ADDRESS", "ARGO_ROLLOUTS_PROMETHEUS_ADDRESS")
DEFAULT_TIMEOUT: Final = 30
MAX_RESULT_SAMPLES: Final = 50_000
"""More samples than this (series of a vector, points of a matrix) make the measurement an Error: no condition
needs them, a condition walking them would exhaust its budget, and the value could not be recorded whole."""
MAX_RESPONSE_BYTES: Final = 16 * 1024 * 1024
"""A larger answer is an Error: it is held in memory whole, and no measurement value could hold it anyway."""


# --- result conversion --------------------------------------------------------------------------------------


def sample_value(text: Any) -> float:
    """A sample value as Prometheus writes it (a string: ``"0.5"``, ``"NaN"``, ``"+Inf"``) as a float."""
    try:
        return float(text)
    except (TypeError, ValueError):
        raise ProviderError(f"prometheus returned a sample value that is not a number: {text!r}") from None


def convert_result(result_type: str, result: Any) -> float | list[float]:
    """The value the conditions see, as Argo builds it: a scalar is a float, a vector a list with one float per
    sample (in the order returned), a matrix every value of every series, flattened. Strings (and anything
    else) are errors, and so is a result of more than :data:`MAX_RESULT_SAMPLES` samples."""
    if result_type == "scalar":
        return sample_value(_pair(result)[1])
    if result_type in ("vector", "matrix"):
        _check_size(result_type, result)
    if result_type == "vector":
        return [sample_value(_pair(sample.get("value"))[1]) for sample in _series(result)]
    if result_type == "matrix":
        return [sample_value(_pair(point)[1]) for series in _series(result) for point in series.get("values") or ()]
    raise ProviderError(
        f"prometheus returned a {result_type or 'result without a type'}; only scalar, vector and matrix "
        "results can be evaluated"
    )


def _check_size(result_type: str, result: Any) -> None:
    series = _series(result)
    samples = len(series) if result_type == "vector" else sum(len(item.get("values") or ()) for item in series)
    if samples > MAX_RESULT_SAMPLES:
        raise ProviderError(
            f"prometheus returned {samples} samples, more than the {MAX_RESULT_SAMPLES} one measurement may hold; "
            "aggregate the query (sum, avg, topk, …)"
        )


def _pair(value: Any) -> Sequence[Any]:
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise ProviderError(f"prometheus returned a malformed sample: {value!r}")
    return value


def _series(result: Any) -> list[Mapping[str, Any]]:
    if not isinstance(result, list) or not all(isinstance(item, Mapping) for item in result):
        raise ProviderError(f"prometheus returned a malformed result: {str(result)[:200]}")
    return result


def infer_result_type(result: Any) -> str:
    """The result type from the shape of ``data.result``, for a response whose ``resultType`` was not seen.

    A ``[time, "text"]`` pair is a scalar when the text is a number; Prometheus writes strings only for
    string literals, which no useful analysis query returns.
    """
    if isinstance(result, list) and len(result) == 2 and not isinstance(result[0], Mapping):
        try:
            float(result[1])
        except (TypeError, ValueError):
            return "string"
        return "scalar"
    if isinstance(result, list) and result and isinstance(result[0], Mapping):
        return "matrix" if "values" in result[0] else "vector"
    return "vector"


# --- configuration ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RangeSettings:
    """A metric's ``rangeQuery`` resolved at the time of the measurement: the window ``/api/v1/query_range`` is
    asked for. An ``end`` left out is that time, a ``start`` left out is the ``end``."""

    start: datetime
    end: datetime
    step: float
    """Seconds between the points of the range (``1m`` is 60.0)."""


@dataclass(frozen=True)
class QuerySettings:
    """A prometheus metric read and checked: everything one query needs."""

    address: str
    query: str
    timeout: float
    insecure: bool = False
    headers: dict[str, str] = field(default_factory=dict)
    basic_auth: tuple[str, str] | None = None
    oauth2: dict[str, Any] | None = None
    range: RangeSettings | None = None

    @property
    def display_address(self) -> str:
        """The address without credentials (``http://user:pass@host`` is a valid address)."""
        return _without_userinfo(self.address)


def _without_userinfo(address: str) -> str:
    parts = urlsplit(address)
    if parts.username is None and parts.password is None:
        return address
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port is not None else host
    return urlunsplit(parts._replace(netloc=netloc))


def _is_url(address: str) -> bool:
    parts = urlsplit(address)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def resolve_address(configured: str | None, environ: Mapping[str, str] | None = None) -> str:
    """The metric's address, else the first of PROMETHEUS_ADDRESS / ARGO_ROLLOUTS_PROMETHEUS_ADDRESS."""
    environ = os.environ if environ is None else environ
    address, source = (configured or "").strip(), "address"
    if not address:
        for name in ADDRESS_ENV_VARS:
            if environ.get(name, "").strip():
                address, source = environ[name].strip(), name
                break
    if not address:
        raise ProviderError(
            "prometheus address is not configured: set provider.prometheus.address or the "
            f"{ADDRESS_ENV_VARS[0]} environment variable of the controller"
        )
    if not _is_url(address):
        raise ProviderError(f"prometheus {source} {address!r} is not a URL such as http://prometheus:9090")
    return address.rstrip("/")


def read_settings(
    settings: Mapping[str, Any], *, now: datetime | None = None, environ: Mapping[str, str] | None = None
) -> QuerySettings:
    """Check a ``provider.prometheus`` block and evaluate its range expressions at ``now``."""
    try:
        metric = PrometheusMetric.model_validate(dict(settings))
    except ValidationError as error:
        raise ProviderError(f"invalid prometheus provider: {_first_error(error)}") from None
    query = (metric.query or "").strip()
    if not query:
        raise ProviderError("prometheus query is empty")
    if metric.timeout < 0:
        raise ProviderError(f"prometheus timeout must not be negative, got {metric.timeout}")
    # Go's zero value is how "unset" reads in a manifest written by Argo's own tools; 0 s would fail every query.
    timeout = float(metric.timeout or DEFAULT_TIMEOUT)
    headers = {header.key: header.value for header in metric.headers}
    basic_auth: tuple[str, str] | None = None
    oauth2: dict[str, Any] | None = None
    authentication = metric.authentication
    if authentication is not None:
        sigv4 = authentication.sigv4
        if sigv4 is not None and (sigv4.region or sigv4.profile or sigv4.role_arn):
            raise ProviderError(
                "prometheus sigv4 authentication (Amazon Managed Prometheus) is not supported by this controller"
            )
        oauth = authentication.oauth2
        if oauth is not None and (oauth.token_url or oauth.client_id or oauth.client_secret):
            if not oauth.token_url:
                raise ProviderError("prometheus oauth2 authentication needs a tokenUrl")
            oauth2 = {
                "token_url": oauth.token_url,
                "client_id": oauth.client_id or "",
                "client_secret": oauth.client_secret or "",
                "scopes": list(oauth.scopes),
            }
        basic = authentication.basic_auth
        if basic is not None and (basic.username or basic.password):
            basic_auth = (basic.username or "", basic.password or "")
    range_settings: RangeSettings | None = None
    if metric.range_query is not None:
        range_settings = _range(metric.range_query.start, metric.range_query.end, metric.range_query.step, now)
    return QuerySettings(
        address=resolve_address(metric.address, environ),
        query=query,
        timeout=timeout,
        insecure=metric.insecure,
        headers=headers,
        basic_auth=basic_auth,
        oauth2=oauth2,
        range=range_settings,
    )


def _range(start: str | None, end: str | None, step: str | None, now: datetime | None) -> RangeSettings:
    moment = now or datetime.now(UTC)
    end_time = _time("end", end, moment) if end else moment
    start_time = _time("start", start, moment) if start else end_time
    if not step:
        raise ProviderError("prometheus rangeQuery needs a step, such as 1m")
    try:
        step_seconds = parse_step(step)
    except TimeExpressionError as error:
        raise ProviderError(f"prometheus rangeQuery step: {error}") from None
    if start_time > end_time:
        raise ProviderError(
            f"prometheus rangeQuery start ({start_time.isoformat()}) is after its end ({end_time.isoformat()})"
        )
    return RangeSettings(start=start_time, end=end_time, step=step_seconds)


def _time(field: str, expression: str, now: datetime) -> datetime:
    try:
        return evaluate_time(expression, now=now)
    except TimeExpressionError as error:
        raise ProviderError(f"prometheus rangeQuery {field}: {error}") from None


def _first_error(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first.get("loc", ()))
    return f"{where}: {first.get('msg', 'invalid')}" if where else str(first.get("msg", "invalid"))


# --- the query ----------------------------------------------------------------------------------------------


def _error_text(response: httpx.Response, body: bytes) -> str:
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = None
    if isinstance(parsed, Mapping) and parsed.get("error"):
        return str(parsed["error"])
    return body.decode("utf-8", errors="replace").strip()[:300] or _phrase(response.status_code)


def _phrase(code: int) -> str:
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return "error"


def _status_error(settings: QuerySettings, response: httpx.Response, body: bytes) -> ProviderError:
    code = response.status_code
    text = _error_text(response, body)
    # 400 is a query Prometheus cannot parse, 422 one it cannot execute: both are the query's fault.
    if code in (400, 422):
        return ProviderError(f"prometheus rejected the query ({code}): {text}")
    return ProviderError(f"prometheus at {settings.display_address} answered {code} {_phrase(code)}: {text}")


def _transport_error(where: str, settings: QuerySettings, error: httpx.HTTPError) -> ProviderError:
    if isinstance(error, httpx.TimeoutException):
        return ProviderError(f"{where} did not answer within {settings.timeout:g}s")
    if any(isinstance(cause, ssl.SSLError) for cause in causes(error)):
        return ProviderError(f"{where} failed the TLS handshake: {network_reason(error)}")
    if isinstance(error, httpx.TooManyRedirects):
        return ProviderError(f"{where} redirected more than {outbound.MAX_REDIRECTS} times")
    return ProviderError(f"{where} is unreachable: {network_reason(error)}")


def _too_large(settings: QuerySettings) -> ProviderError:
    return ProviderError(
        f"prometheus at {settings.display_address} answered with more than {MAX_RESPONSE_BYTES // (1024 * 1024)} MiB; "
        "a measurement's result must be small: aggregate the query (sum, avg, topk, …)"
    )


async def fetch_oauth2_token(settings: QuerySettings, verify: ssl.SSLContext | bool) -> str:
    """An access token by the OAuth2 client-credentials grant (RFC 6749 §4.4).

    The client authenticates with HTTP Basic first, as the RFC recommends; a server that refuses that gets the
    credentials in the form body instead — Go's oauth2 package, which Argo uses, probes the same way.
    """
    oauth = settings.oauth2 or {}
    form: dict[str, str] = {"grant_type": "client_credentials"}
    if oauth.get("scopes"):
        form["scope"] = " ".join(oauth["scopes"])
    credentials = (str(oauth.get("client_id", "")), str(oauth.get("client_secret", "")))
    url = str(oauth["token_url"])
    where = f"oauth2 token endpoint {_without_userinfo(url)}"
    try:
        # A client of its own: the token endpoint is another origin than Prometheus, and the metric's headers are
        # not sent to it (nor stripped from what this request needs).
        token_client = outbound.client(verify=verify, request_url=url, configured_headers=(), timeout=settings.timeout)
        async with token_client as client:
            response = await client.post(url, data=form, auth=credentials)
            if response.status_code in (400, 401):
                in_body = {**form, "client_id": credentials[0], "client_secret": credentials[1]}
                response = await client.post(url, data=in_body)
    except httpx.HTTPError as error:
        raise ProviderError(f"{where} is unreachable: {network_reason(error)}") from None
    if response.status_code != 200:
        raise ProviderError(f"{where} answered {response.status_code}: {_error_text(response, response.content)}")
    try:
        token = response.json().get("access_token")
    except (ValueError, AttributeError):
        token = None
    if not token:
        raise ProviderError(f"{where} returned no access_token")
    return str(token)


def _query_params(settings: QuerySettings) -> tuple[str, dict[str, str]]:
    # Prometheus stops evaluating at this timeout too, rather than finishing work nobody waits for.
    params = {"query": settings.query, "timeout": f"{settings.timeout:g}s"}
    if settings.range is None:
        return "/api/v1/query", params
    params.update(
        start=f"{settings.range.start.timestamp():.3f}",
        end=f"{settings.range.end.timestamp():.3f}",
        step=f"{settings.range.step:g}",
    )
    return "/api/v1/query_range", params


def _parse_answer(settings: QuerySettings, body: bytes) -> tuple[str, Any, list[str]]:
    try:
        parsed = json.loads(body)
        data = parsed["data"]
        result = data["result"]
    except (ValueError, KeyError, TypeError):
        # A 200 that is not Prometheus' JSON: a proxy's login page, say.
        snippet = body.decode("utf-8", errors="replace").strip()[:200]
        raise ProviderError(
            f"prometheus at {settings.display_address} answered with something that is not a query result: {snippet}"
        ) from None
    result_type = str(data.get("resultType") or "") if isinstance(data, Mapping) else ""
    warnings = [str(warning) for warning in parsed.get("warnings") or ()]
    return result_type or infer_result_type(result), result, warnings


async def query_prometheus(settings: QuerySettings) -> tuple[str, Any, list[str]]:
    """Send the query: the result type, ``data.result`` and any warnings.

    The whole exchange (an OAuth2 token, the query, the body) holds one of the endpoint's slots and ends at
    ``settings.timeout`` (see :mod:`analysis.providers.outbound`). No retries: the runner retries Errors on its
    own schedule, as Argo does.
    """
    path, params = _query_params(settings)
    headers = dict(settings.headers)
    auth = settings.basic_auth
    where = f"prometheus at {settings.display_address}"
    verify: ssl.SSLContext | bool = False if settings.insecure else outbound.verified_tls()
    try:
        async with outbound.deadline(settings.address, settings.timeout):
            if settings.oauth2 is not None:
                headers["Authorization"] = f"Bearer {await fetch_oauth2_token(settings, verify)}"
            async with (
                outbound.client(
                    verify=verify, request_url=settings.address, configured_headers=headers, timeout=settings.timeout
                ) as client,
                client.stream("GET", settings.address + path, params=params, headers=headers, auth=auth) as response,
            ):
                body = await outbound.read_limited(response, MAX_RESPONSE_BYTES)
                if body is None:
                    raise _too_large(settings)
                if response.status_code != 200:
                    raise _status_error(settings, response, body)
    except outbound.DeadlineExceeded as exceeded:
        busy = exceeded.busy_note("query")
        raise ProviderError(f"{where} did not answer within {settings.timeout:g}s{busy}") from None
    except httpx.InvalidURL as error:
        raise ProviderError(f"prometheus address {settings.display_address!r} is not valid: {error}") from None
    except httpx.HTTPError as error:
        raise _transport_error(where, settings, error) from None
    return _parse_answer(settings, body)


class PrometheusProvider(BaseProvider):
    """Measures a metric with one PromQL query; the conditions judge the value."""

    name = "prometheus"

    async def _run(self, context: MeasurementContext) -> ProviderResult:
        _, section = provider_section(context.metric)
        query = str(section.get("query") or "")
        metadata = {RESOLVED_QUERY_KEY: query} if query else {}
        try:
            settings = read_settings(section)
            result_type, result, warnings = await query_prometheus(settings)
            value = convert_result(result_type, result)
        except ProviderError as error:
            raise ProviderError(error.message, metadata={**metadata, **error.metadata}) from error
        if warnings:
            metadata[WARNINGS_KEY] = ", ".join(f'"{warning}"' for warning in warnings)
        return ProviderResult(value=value, metadata=metadata)

