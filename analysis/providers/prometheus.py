"""The ``prometheus`` provider: one PromQL query (instant or range) through prometheus-api-client.

The client is blocking (requests), so each query runs on a small thread pool of this module's own; the event
loop never waits on the network, and slow Prometheus servers cannot starve the loop's default executor, which
asyncio also uses for DNS look-ups. The client returns only ``data.result``; the response's ``resultType``
(a scalar and a string look alike without it), its ``warnings`` and the error text of a refused query are
read from the raw response, which a requests response hook hands over.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

import requests
import urllib3.exceptions
from prometheus_api_client import PrometheusConnect
from prometheus_api_client.exceptions import PrometheusApiClientException
from pydantic import ValidationError
from urllib3.util.retry import Retry

from analysis.models import PrometheusMetric
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
WORKERS: Final = 16
# Added to the query timeout before the loop gives up on the worker thread: requests' own timeouts bound
# each socket operation, not the whole exchange, so a server trickling bytes could otherwise hold a measurement.
_GRACE: Final = 2.0

_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="prometheus-query")
        return _executor


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
    else) are errors."""
    if result_type == "scalar":
        return sample_value(_pair(result)[1])
    if result_type == "vector":
        return [sample_value(_pair(sample.get("value"))[1]) for sample in _series(result)]
    if result_type == "matrix":
        return [sample_value(_pair(point)[1]) for series in _series(result) for point in series.get("values") or ()]
    raise ProviderError(
        f"prometheus returned a {result_type or 'result without a type'}; only scalar, vector and matrix "
        "results can be evaluated"
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
    start: datetime
    end: datetime
    step: float


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


@dataclass
class _Exchange:
    """The raw side of one query, filled in by the response hook on the worker thread."""

    response: requests.Response | None = None


def _session(settings: QuerySettings, exchange: _Exchange) -> requests.Session:
    session = requests.Session()
    session.verify = not settings.insecure

    def remember(response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
        exchange.response = response
        return response

    session.hooks["response"].append(remember)
    return session


def _error_text(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, Mapping) and body.get("error"):
        return str(body["error"])
    return response.text.strip()[:300] or _phrase(response.status_code)


def _phrase(code: int) -> str:
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return "error"


def _status_error(settings: QuerySettings, response: requests.Response) -> ProviderError:
    code = response.status_code
    text = _error_text(response)
    # 400 is a query Prometheus cannot parse, 422 one it cannot execute: both are the query's fault.
    if code in (400, 422):
        return ProviderError(f"prometheus rejected the query ({code}): {text}")
    return ProviderError(f"prometheus at {settings.display_address} answered {code} {_phrase(code)}: {text}")


def _timed_out(error: BaseException) -> bool:
    for cause in causes(error):
        if isinstance(cause, urllib3.exceptions.NewConnectionError):
            # A refused or unroutable connection; urllib3 derives it from ConnectTimeoutError for history's sake.
            return False
        if isinstance(cause, requests.Timeout | urllib3.exceptions.TimeoutError | TimeoutError):
            return True
    return False


def _connection_error(settings: QuerySettings, error: requests.RequestException) -> ProviderError:
    where = settings.display_address
    if _timed_out(error):
        return ProviderError(f"prometheus at {where} did not answer within {settings.timeout:g}s")
    if isinstance(error, requests.exceptions.SSLError):
        return ProviderError(f"prometheus at {where} failed the TLS handshake: {network_reason(error)}")
    return ProviderError(f"prometheus at {where} is unreachable: {network_reason(error)}")


def fetch_oauth2_token(settings: QuerySettings, session: requests.Session) -> str:
    """An access token by the OAuth2 client-credentials grant (RFC 6749 §4.4).

    The client authenticates with HTTP Basic first, as the RFC recommends; a server that refuses that gets the
    credentials in the form body instead — Go's oauth2 package, which Argo uses, probes the same way.
    """
    oauth = settings.oauth2 or {}
    form: dict[str, str] = {"grant_type": "client_credentials"}
    if oauth.get("scopes"):
        form["scope"] = " ".join(oauth["scopes"])
    credentials = (oauth.get("client_id", ""), oauth.get("client_secret", ""))
    url = str(oauth["token_url"])
    try:
        response = session.post(url, data=form, auth=credentials, timeout=settings.timeout)
        if response.status_code in (400, 401):
            in_body = {**form, "client_id": credentials[0], "client_secret": credentials[1]}
            response = session.post(url, data=in_body, timeout=settings.timeout)
    except requests.RequestException as error:
        raise ProviderError(
            f"oauth2 token endpoint {_without_userinfo(url)} is unreachable: {network_reason(error)}"
        ) from error
    if response.status_code != 200:
        raise ProviderError(
            f"oauth2 token endpoint {_without_userinfo(url)} answered {response.status_code}: {_error_text(response)}"
        )
    try:
        token = response.json().get("access_token")
    except (ValueError, AttributeError):
        token = None
    if not token:
        raise ProviderError(f"oauth2 token endpoint {_without_userinfo(url)} returned no access_token")
    return str(token)


def _not_a_result(settings: QuerySettings, exchange: _Exchange, error: Exception) -> ProviderError:
    # A 200 that is not Prometheus' JSON: a proxy's login page, say.
    snippet = exchange.response.text.strip()[:200] if exchange.response is not None else str(error)
    return ProviderError(
        f"prometheus at {settings.display_address} answered with something that is not a query result: {snippet}"
    )


def query_prometheus(settings: QuerySettings) -> tuple[str, Any, list[str]]:
    """Send the query (blocking): the result type, ``data.result`` and any warnings."""
    exchange = _Exchange()
    session = _session(settings, exchange)
    headers = dict(settings.headers)
    try:
        if settings.oauth2 is not None:
            headers["Authorization"] = f"Bearer {fetch_oauth2_token(settings, session)}"
        client = PrometheusConnect(
            url=settings.address,
            headers=headers,
            disable_ssl=settings.insecure,
            # No retries inside a measurement: the runner retries Errors on its own schedule, as Argo does.
            # read=False: a read timeout surfaces as itself, not as "max retries exceeded" (requests' own default).
            retry=Retry(total=0, read=False, raise_on_status=False),
            auth=settings.basic_auth,
            session=session,
            timeout=settings.timeout,
        )
        # Prometheus stops evaluating at this timeout too, rather than finishing work nobody waits for.
        params = {"timeout": f"{settings.timeout:g}s"}
        if settings.range is not None:
            result = client.custom_query_range(
                settings.query,
                start_time=settings.range.start,
                end_time=settings.range.end,
                step=f"{settings.range.step:g}",
                params=params,
            )
        else:
            result = client.custom_query(settings.query, params=params)
    except PrometheusApiClientException as error:
        if exchange.response is None:
            raise ProviderError(f"prometheus at {settings.display_address} failed: {error}") from error
        raise _status_error(settings, exchange.response) from error
    except requests.exceptions.InvalidJSONError as error:
        # Checked before RequestException, which it also is: the server answered, with something else than JSON.
        raise _not_a_result(settings, exchange, error) from error
    except requests.RequestException as error:
        raise _connection_error(settings, error) from error
    except (ValueError, KeyError, TypeError) as error:
        raise _not_a_result(settings, exchange, error) from error
    finally:
        session.close()
    result_type, warnings = "", []
    if exchange.response is not None:
        try:
            body = exchange.response.json()
            result_type = str(body["data"].get("resultType", ""))
            warnings = [str(warning) for warning in body.get("warnings") or ()]
        except (ValueError, KeyError, TypeError, AttributeError):
            pass
    return result_type or infer_result_type(result), result, warnings


class PrometheusProvider(BaseProvider):
    """Measures a metric with one PromQL query; the conditions judge the value."""

    name = "prometheus"

    async def _run(self, context: MeasurementContext) -> ProviderResult:
        _, section = provider_section(context.metric)
        query = str(section.get("query") or "")
        metadata = {RESOLVED_QUERY_KEY: query} if query else {}
        try:
            settings = read_settings(section)
            loop = asyncio.get_running_loop()
            try:
                result_type, result, warnings = await asyncio.wait_for(
                    loop.run_in_executor(_pool(), query_prometheus, settings), settings.timeout + _GRACE
                )
            except TimeoutError:
                raise ProviderError(
                    f"prometheus at {settings.display_address} did not answer within {settings.timeout:g}s"
                ) from None
            value = convert_result(result_type, result)
        except ProviderError as error:
            raise ProviderError(error.message, metadata={**metadata, **error.metadata}) from error
        if warnings:
            metadata[WARNINGS_KEY] = ", ".join(f'"{warning}"' for warning in warnings)
        return ProviderResult(value=value, metadata=metadata)

