"""The ``web`` provider: one HTTP request; the (JSON) response, narrowed by ``jsonPath``, is the value.

Argo's rules: GET unless told otherwise; ``body`` or ``jsonBody`` (not both, and not with GET); a JSON body
is sent as ``application/json``; anything but 2xx is an Error; a response that is not JSON is the value as
text when ``jsonPath`` is the whole document (``{$}``). The request runs on httpx's AsyncClient through
:mod:`analysis.providers.outbound`: ``timeoutSeconds`` bounds the whole exchange, one endpoint's requests are
bounded in number, and a redirect to another origin does not carry the metric's headers.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Mapping
from typing import Any, Final

import httpx
from pydantic import ValidationError

from analysis.models import WebMetric
from analysis.providers import outbound
from analysis.providers.base import (
    BaseProvider,
    MeasurementContext,
    ProviderError,
    ProviderResult,
    network_reason,
    provider_section,
)
from analysis.providers.jsonpath import JsonPath, JsonPathError, compile_json_path

DEFAULT_TIMEOUT: Final = 10
MAX_BODY_BYTES: Final = 10 * 1024 * 1024
"""A response larger than this is an Error: the whole body is held in memory to be parsed."""


def _settings(section: Mapping[str, Any]) -> WebMetric:
    try:
        return WebMetric.model_validate(dict(section))
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ()))
        raise ProviderError(f"invalid web provider: {where}: {first.get('msg', 'invalid')}") from None


def request_body(metric: WebMetric) -> tuple[bytes | None, dict[str, str]]:
    """The bytes to send and the headers they imply; raises ProviderError for combinations Argo refuses."""
    has_body = bool(metric.body)
    has_json = metric.json_body is not None
    if has_body and has_json:
        raise ProviderError("web metric sets both body and jsonBody; use one of them")
    if (has_body or has_json) and metric.method == "GET":
        raise ProviderError("web metric body/jsonBody needs method POST or PUT, not GET")
    if has_json:
        return json.dumps(metric.json_body, separators=(",", ":")).encode(), {"Content-Type": "application/json"}
    if has_body:
        return (metric.body or "").encode(), {}
    return None, {}


def extract_value(content: bytes, path: JsonPath) -> Any:
    """The value a web metric yields: the JSONPath's first match, or the text of a non-JSON body at ``{$}``."""
    text = content.decode("utf-8", errors="replace")
    try:
        document = json.loads(text)
    except ValueError:
        if path.is_root:
            return text
        snippet = text.strip()[:200] or "(empty)"
        raise ProviderError(f"the response is not JSON, so jsonPath {path.text} cannot be applied: {snippet}") from None
    try:
        return path.first(document)
    except JsonPathError as error:
        raise ProviderError(f"could not find jsonPath {path.text} in the response: {error}") from None


class WebProvider(BaseProvider):
    """Measures a metric with one HTTP request; the conditions judge the value."""

    name = "web"

    async def _run(self, context: MeasurementContext) -> ProviderResult:
        _, section = provider_section(context.metric)
        metric = _settings(section)
        url = (metric.url or "").strip()
        if not url:
            raise ProviderError("web metric url is empty")
        try:
            path = compile_json_path(metric.json_path)
        except JsonPathError as error:
            raise ProviderError(str(error)) from None
        content, implied_headers = request_body(metric)
        headers = {header.key: header.value for header in metric.headers}
        # As in Argo, a JSON body's content type wins over a header the template sets.
        headers.update(implied_headers)
        timeout = metric.timeout_seconds if metric.timeout_seconds > 0 else DEFAULT_TIMEOUT
        verify: ssl.SSLContext | bool = False if metric.insecure else outbound.verified_tls()
        where = f"web metric {metric.method} {url}"
        try:
            async with (
                outbound.deadline(url, timeout),
                outbound.client(verify=verify, request_url=url, configured_headers=headers, timeout=timeout) as client,
                client.stream(metric.method, url, headers=headers, content=content) as response,
            ):
                if not 200 <= response.status_code < 300:
                    raise ProviderError(
                        f"{where} received non 2xx response code: "
                        f"{response.status_code} {response.reason_phrase}".rstrip()
                    )
                body = await outbound.read_limited(response, MAX_BODY_BYTES)
                if body is None:
                    raise ProviderError(
                        f"web metric response from {url} is larger than {MAX_BODY_BYTES // (1024 * 1024)} MiB"
                    )
        except outbound.DeadlineExceeded as exceeded:
            busy = exceeded.busy_note("request")
            raise ProviderError(f"{where} did not answer within {timeout}s{busy}") from None
        except httpx.TimeoutException:
            raise ProviderError(f"{where} did not answer within {timeout}s") from None
        except httpx.InvalidURL as error:
            raise ProviderError(f"web metric url {url!r} is not valid: {error}") from None
        except httpx.UnsupportedProtocol:
            raise ProviderError(f"web metric url {url!r} must start with http:// or https://") from None
        except httpx.TooManyRedirects:
            raise ProviderError(f"{where} redirected more than {outbound.MAX_REDIRECTS} times") from None
        except httpx.HTTPError as error:
            raise ProviderError(f"{where} is unreachable: {network_reason(error)}") from None
        return ProviderResult(value=extract_value(body, path))
