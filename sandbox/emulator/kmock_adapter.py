"""Every use of kmock beyond its public API, in one place (pyproject pins kmock to the minor version these were
written against; a kmock upgrade is checked here and nowhere else).

kmock serves HTTP, parses and records requests and runs its DSL reactions; the emulator answers what those
reactions leave with the Kubernetes API's semantics. Joining the two needs:

- ``bundled_resources``: kmock's recorded list of built-in resource types (a data file in ``kmock._internal``),
  read without the deprecated importlib call of ``ResourcesArray.load_bundled``;
- ``ApiServer``: kmock's server with its process-wide DNS interception undone (``_managed_interceptor``);
- ``KmockEntry``: kmock's HTTP entry point (``_requests``, ``_errors``, ``Request._parse``,
  ``Request._raw_request``) without its URL parser's crash on collection URLs such as /api/v1/namespaces,
  handing each request to ``serve(request, raw_request)``, which the emulator implements, and ``react``, which
  runs kmock's DSL reactions (``_payloads``, ``RawHandler._handle``).
"""

from __future__ import annotations

import gzip
import importlib.resources
import json
import logging
from typing import Final

import aiohttp.web
import attrs
import kmock

from sandbox.emulator.status import ApiError

logger = logging.getLogger(__name__)

# kube-apiserver's --max-request-body-bytes default.
MAX_REQUEST_BODY_BYTES: Final = 3 * 1024 * 1024


def _status_response(error: ApiError) -> aiohttp.web.Response:
    return aiohttp.web.Response(body=json.dumps(error.to_status()).encode(), status=error.code,
                                content_type="application/json")


def bundled_resources() -> kmock.ResourcesArray:
    """The built-in resource types kmock ships (recorded from a K3s cluster)."""
    bundle = kmock.ResourcesArray()
    packed = importlib.resources.files("kmock._internal").joinpath("resources.json.gz").read_bytes()
    bundle.load_data(gzip.decompress(packed))
    return bundle


class _NoInterception(kmock.AiohttpInterceptor):
    """Stands in for kmock's DNS interceptor once it has been undone (see :class:`ApiServer`)."""

    async def __aenter__(self) -> _NoInterception:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        return None


class ApiServer(kmock.Server):
    """kmock's server without its process-wide DNS interception.

    kmock patches aiohttp's resolver for the whole process and requires servers to stop in reverse order
    of starting; emulators in several threads (one per test cluster) stop in any order. Emulator URLs are
    IP addresses, so the interception is never needed: it is undone as soon as it is installed.
    """

    async def __aenter__(self) -> ApiServer:
        await super().__aenter__()
        interceptor = self._managed_interceptor
        if interceptor is not None:
            # Nothing can run between kmock's install and this undo: neither awaits anything real.
            await interceptor.__aexit__(None, None, None)
            self._managed_interceptor = _NoInterception(self.host, self.port)
        return self


@attrs.define(kw_only=True)
class KmockEntry(kmock.KubernetesEmulator):
    """kmock's emulator with its HTTP entry point taken over: requests are parsed and recorded as kmock does (its
    DSL reactions still answer first), then passed to ``serve``.

    Bodies over ``max_request_body_bytes`` (kube-apiserver's default, 3 MiB) are refused with 413, and a bug
    anywhere below is answered as a bare 500 ``InternalError`` (it is still recorded for kmock's assertions):
    neither shows a traceback to the client.
    """

    # kmock keeps every parsed request (raw aiohttp request included) for its DSL assertions; a long
    # simulation would hoard them and slow the garbage collector, so only the newest are kept.
    kmock_request_limit: int | None = 1_000
    max_request_body_bytes: int = MAX_REQUEST_BODY_BYTES

    async def __call__(self, raw_request: aiohttp.web.BaseRequest) -> aiohttp.web.StreamResponse:
        raw_request = raw_request.clone(client_max_size=self.max_request_body_bytes)
        try:
            await raw_request.read()
        except aiohttp.web.HTTPRequestEntityTooLarge:
            return _status_response(ApiError(
                413, "RequestEntityTooLarge", f"Request entity too large: limit is {self.max_request_body_bytes}"))
        request = await self._parse_request(raw_request)
        self._requests.append(request)
        limit = self.kmock_request_limit
        if limit is not None and len(self._requests) > limit + limit // 10 + 1:
            del self._requests[: len(self._requests) - limit]
        try:
            return await self._handle(request)
        except Exception as exc:  # a bug, not an API refusal (those are answered inside serve)
            logger.exception("the API emulator failed on %s %s", raw_request.method, raw_request.path)
            if self._errors:
                self._errors[-1].append(exc)
            # As kube-apiserver answers a panic: a Status, and nothing of the server's insides.
            return _status_response(ApiError(500, "InternalError", "Internal error occurred: an emulator bug"
                                                                   f" ({type(exc).__name__}); see the server log"))

    async def _parse_request(self, raw_request: aiohttp.web.BaseRequest) -> kmock.Request:
        try:
            return await kmock.Request._parse(raw_request, id=len(self._requests))
        except (ValueError, RecursionError):  # kmock parses JSON bodies itself; serve() refuses bad ones
            body = await raw_request.read()
            return kmock.Request(
                id=len(self._requests), raw_request=raw_request, url=raw_request.url, method=raw_request.method,
                params=dict(raw_request.query), headers=dict(raw_request.headers), body=body,
                text=body.decode("utf-8", errors="replace"),
            )

    async def _handle(self, request: kmock.Request) -> aiohttp.web.StreamResponse:
        raw = request._raw_request
        assert raw is not None  # kmock sets it for every request that arrives over HTTP
        return await self.serve(request, raw)

    async def react(self, request: kmock.Request) -> aiohttp.web.StreamResponse | None:
        """The answer of a reaction added with kmock's DSL (``emulator["get /x"] << 500``), if one matches."""
        if not self._payloads:
            return None
        try:
            response: aiohttp.web.StreamResponse | None = await kmock.RawHandler._handle(self, request)
        except NotImplementedError:
            return None
        return response

    async def serve(self, request: kmock.Request, raw: aiohttp.web.BaseRequest) -> aiohttp.web.StreamResponse:
        """Answer one request kmock's reactions left unanswered."""
        raise NotImplementedError
