"""Who gets past the dashboard's front door: ``DashboardSettings`` (where it listens, its token, its action key) and
``AccessGuard``, the ASGI wrapper that applies ``dashboard.access``'s rules to every request before the app sees it."""

from __future__ import annotations

import contextlib
import json
import secrets
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cli.options import CliError
from dashboard.access import (
    TOKEN_COOKIE,
    TOKEN_QUERY,
    bind_refusal,
    host_allowed,
    presented_token,
    token_matches,
)


@dataclass
class DashboardSettings:
    """Where the dashboard listens and the token it asks for (None: loopback only, no token)."""

    address: str = "127.0.0.1"
    port: int = 3100
    token: str | None = None
    # Proves a POST came from one of our pages when there is no token (a page of another site cannot read it).
    action_key: str = field(default_factory=lambda: secrets.token_urlsafe(32))

    def __post_init__(self) -> None:
        refusal = bind_refusal(self.address, self.token)
        if refusal is not None:
            raise CliError(refusal)

    @property
    def page_key(self) -> str:
        """What the pages hand their script for the action header: the token when there is one."""
        return self.token if self.token is not None else self.action_key


class AccessGuard:
    """Checks every HTTP request before the app sees it: 401 without the token (or, with no token, a POST without
    the action key); 403 for a Host that is not the dashboard's own loopback address (DNS rebinding)."""

    def __init__(self, app: ASGIApp, settings: DashboardSettings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, send)
            return
        if scope["type"] != "http":  # a WebSocket: the dashboard serves none, and lets none in unchecked
            await send({"type": "websocket.close", "code": 1008})
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers") or []}
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        cookie = SimpleCookie()
        with contextlib.suppress(CookieError):  # a malformed Cookie header carries no token
            cookie.load(headers.get("cookie", ""))
        cookies = {key: morsel.value for key, morsel in cookie.items()}
        action = scope["method"] not in ("GET", "HEAD")
        settings = self.settings
        presented = presented_token(headers, query, cookies, action=action)
        if settings.token is not None:
            if not token_matches(presented, settings.token):
                await _refuse(send, 401, "unauthorized: this dashboard needs its token (Authorization: Bearer, "
                                         "X-Dashboard-Token, or ?token= on a page link)")
                return
        else:
            if not host_allowed(headers.get("host"), settings.address, settings.port):
                await _refuse(send, 403, "forbidden: the Host header does not name this dashboard")
                return
            if action and not token_matches(presented, settings.action_key):
                await _refuse(send, 401, "unauthorized: actions need the X-Dashboard-Token header the pages send")
                return
        if settings.token is not None and query.get(TOKEN_QUERY) and not action:
            send = _with_token_cookie(send, settings.token)
        await self.app(scope, receive, send)


def _with_token_cookie(send: Send, token: str) -> Send:
    """``send`` that also sets the token cookie (HttpOnly, SameSite=Strict), so the page's links and its event
    stream carry the token after a person opened the ?token= link."""

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            cookie = f"{TOKEN_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict"
            message = {**message, "headers": [*message.get("headers", []), (b"set-cookie", cookie.encode())]}
        await send(message)

    return sending


async def _refuse(send: Send, status: int, message: str) -> None:
    body = json.dumps({"message": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
