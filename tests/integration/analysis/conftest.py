"""Fixtures of the analysis integration tests: a recording HTTP server on a free loopback port."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from provider_servers import RecordingServer

__all__ = ["RecordingServer", "http_server", "second_http_server"]


@contextlib.asynccontextmanager
async def _serving() -> AsyncIterator[RecordingServer]:
    server = RecordingServer()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", server.dispatch)
    runner = web.AppRunner(app, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    server.url = f"http://127.0.0.1:{port}"
    try:
        yield server
    finally:
        server.released.set()
        await runner.cleanup()


@pytest.fixture
async def http_server() -> AsyncIterator[RecordingServer]:
    async with _serving() as server:
        yield server


@pytest.fixture
async def second_http_server() -> AsyncIterator[RecordingServer]:
    """Another endpoint (its own port), for what one endpoint must not do to another."""
    async with _serving() as server:
        yield server
