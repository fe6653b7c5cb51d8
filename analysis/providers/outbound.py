"""How the providers talk to metric endpoints: one async HTTP client per measurement, a total deadline that really
ends the request, a concurrency bulkhead per endpoint, and redirects that never carry credentials elsewhere.

* **Deadline.** httpx's own timeouts bound each connect, read and write, not the exchange: a server that trickles
  a byte a second never trips them. :func:`deadline` bounds everything — waiting for a slot, connecting, sending,
  reading the whole body — and cancelling the request closes its connection, so nothing is left running.
* **Bulkhead.** At most :data:`ENDPOINT_CONCURRENCY` requests per endpoint (scheme, host, port) are open at once,
  per event loop. Requests to a slow endpoint queue behind each other (within their own deadlines) and never take
  capacity another endpoint's measurements need. Nothing is shared across endpoints: no thread pool, no slots.
* **Redirects** are followed, but a redirect to another origin drops every header the metric configured (httpx
  itself only drops ``Authorization``): an ``X-Api-Key`` meant for one server is not sent to another.
* **Logging.** httpx logs every request URL at INFO and httpcore every step at DEBUG; a URL can carry a secret
  argument. Both are quietened to WARNING when this module is imported, so neither the controller's INFO log nor
  ``-v`` shows them.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import ssl
import weakref
from collections.abc import AsyncIterator, Collection
from dataclasses import dataclass, field
from typing import Final

import httpx

ENDPOINT_CONCURRENCY: Final = 8
"""Requests open at once to one endpoint (scheme, host and port), per process."""
MAX_REDIRECTS: Final = 10
QUIETED_LOGGERS: Final = ("httpx", "httpcore")


def quiet_request_logging() -> None:
    """Raise the third-party HTTP loggers to WARNING: they log request URLs, which may hold secrets."""
    for name in QUIETED_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


quiet_request_logging()


@functools.cache
def verified_tls() -> ssl.SSLContext:
    """The one TLS context that verifies certificates; loading the CA bundle takes milliseconds of CPU on the loop's
    thread, so every request shares it."""
    return httpx.create_ssl_context()


def endpoint_key(url: httpx.URL | str) -> str:
    """``scheme://host:port`` of a URL, the unit of the bulkhead (a path or query does not make another endpoint)."""
    parsed = httpx.URL(url) if isinstance(url, str) else url
    port = parsed.port or {"http": 80, "https": 443}.get(parsed.scheme, 0)
    return f"{parsed.scheme}://{parsed.host}:{port}"


@dataclass
class _Endpoint:
    semaphore: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(ENDPOINT_CONCURRENCY))
    users: int = 0
    """Requests holding or waiting for a slot; the endpoint is forgotten when none is left."""


# Semaphores belong to one event loop (tests run one loop each; a process runs one): endpoints are kept per loop,
# and only while some request uses them, so the table does not grow with every address ever measured.
_endpoints: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, _Endpoint]] = weakref.WeakKeyDictionary()


def _endpoints_of_loop() -> dict[str, _Endpoint]:
    loop = asyncio.get_running_loop()
    table = _endpoints.get(loop)
    if table is None:
        table = _endpoints[loop] = {}
    return table


def endpoints_in_use() -> dict[str, int]:
    """The endpoints with requests open or waiting on this loop, and how many (for tests and diagnostics)."""
    return {key: endpoint.users for key, endpoint in _endpoints_of_loop().items()}


class DeadlineExceeded(Exception):
    """The request did not finish within its deadline; ``waiting`` says it never got a slot of its endpoint."""

    def __init__(self, seconds: float, *, waiting: bool) -> None:
        super().__init__(f"no answer within {seconds:g}s")
        self.seconds = seconds
        self.waiting = waiting

    def busy_note(self, slots: str) -> str:
        """What a message adds when the request never got a slot: `` (all 8 query slots of this endpoint were
        busy)`` for ``slots="query"``; nothing when it did."""
        return f" (all {ENDPOINT_CONCURRENCY} {slots} slots of this endpoint were busy)" if self.waiting else ""


@contextlib.asynccontextmanager
async def deadline(url: httpx.URL | str, seconds: float) -> AsyncIterator[None]:
    """Hold one of the endpoint's slots and bound everything inside to ``seconds`` in total.

    Raises :class:`DeadlineExceeded` when the time runs out, whether waiting for a slot or talking to the server;
    whatever was in progress is cancelled (an httpx request closes its connection).
    """
    key = endpoint_key(url)
    table = _endpoints_of_loop()
    endpoint = table.get(key)
    if endpoint is None:
        endpoint = table[key] = _Endpoint()
    endpoint.users += 1
    acquired = False
    try:
        async with asyncio.timeout(seconds):
            await endpoint.semaphore.acquire()
            acquired = True
            yield
    except TimeoutError:
        raise DeadlineExceeded(seconds, waiting=not acquired) from None
    finally:
        if acquired:
            endpoint.semaphore.release()
        endpoint.users -= 1
        if endpoint.users == 0 and table.get(key) is endpoint:
            del table[key]


def origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port


def client(
    *, verify: ssl.SSLContext | bool, request_url: str, configured_headers: Collection[str], timeout: float
) -> httpx.AsyncClient:
    """An AsyncClient that follows redirects but drops ``configured_headers`` on any hop to another origin than
    ``request_url``'s. ``timeout`` is httpx's per-operation timeout; :func:`deadline` is the total."""
    first = origin(httpx.URL(request_url))
    dropped = tuple(configured_headers)

    async def strip_cross_origin(request: httpx.Request) -> None:
        if origin(request.url) != first:
            for name in dropped:
                request.headers.pop(name, None)

    return httpx.AsyncClient(
        verify=verify,
        timeout=timeout,
        follow_redirects=True,
        max_redirects=MAX_REDIRECTS,
        event_hooks={"request": [strip_cross_origin]},
    )


async def read_limited(response: httpx.Response, limit: int) -> bytes | None:
    """The body, or None as soon as it grows past ``limit`` bytes (the rest is not read)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)
