"""A small real HTTP server for the provider tests: scripted answers per path, and a record of every request.

Import it as ``from provider_servers import RecordingServer``: every test directory's conftest is a module
named ``conftest``, so ``from conftest import …`` picks whichever directory's was imported first in a full run.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Received:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


@dataclass
class Trickle:
    """What a trickling route has seen: requests in progress, and requests ended (the client closed them)."""

    PERIOD = 0.5
    open: int = 0
    ended: int = 0
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def wait_until(self, check: Callable[[], bool], guard: float = 60.0) -> None:
        """Wait until ``check`` holds, looking again whenever a request arrives or ends; ``guard`` only catches a
        hang."""
        async with asyncio.timeout(guard):
            while True:
                self.changed.clear()
                if check():
                    return
                await self.changed.wait()


@dataclass
class RecordingServer:
    """aiohttp on a free loopback port, in the test's own loop; ``route`` scripts an answer for a path."""

    url: str = ""
    requests: list[Received] = field(default_factory=list)
    routes: dict[str, Handler] = field(default_factory=dict)
    released: asyncio.Event = field(default_factory=asyncio.Event)

    def route(self, path: str, handler: Handler) -> None:
        self.routes[path] = handler

    def reply(self, path: str, status: int = 200, *, json: Any = None, text: str | None = None,
              delay: float = 0.0, content_type: str | None = None) -> None:
        async def handler(_: web.Request) -> web.StreamResponse:
            if delay:
                # Ends early when the test is over, so the server's shutdown never waits on a slow answer.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.released.wait(), delay)
            if json is not None:
                return web.json_response(json, status=status)
            return web.Response(status=status, text=text or "", content_type=content_type or "text/plain")

        self.route(path, handler)

    def trickle(self, path: str) -> Trickle:
        """Answer ``path`` with 200 and a body that never ends: one byte every ``Trickle.PERIOD`` seconds (each read
        succeeds well within any socket timeout). The returned record tells when requests arrive and end."""
        trickle = Trickle()

        async def handler(request: web.Request) -> web.StreamResponse:
            response = web.StreamResponse(headers={"Content-Type": "application/json"})
            trickle.open += 1
            trickle.changed.set()
            try:
                await response.prepare(request)
                while not self.released.is_set():
                    await response.write(b" ")
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self.released.wait(), Trickle.PERIOD)
            except (ConnectionError, asyncio.CancelledError):
                pass  # the client went away, which is what the tests wait for
            finally:
                trickle.open -= 1
                trickle.ended += 1
                trickle.changed.set()
            return response

        self.route(path, handler)
        return trickle

    def received(self, path: str) -> list[Received]:
        return [request for request in self.requests if request.path == path]

    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(
            Received(request.method, request.path, dict(request.query), dict(request.headers), await request.read())
        )
        handler = self.routes.get(request.path)
        if handler is None:
            return web.Response(status=404, text=f"no route for {request.path}")
        return await handler(request)
