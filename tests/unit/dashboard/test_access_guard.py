"""The guard in front of the dashboard's app (dashboard/server.py ``AccessGuard``): a refused request never reaches
the app, and a WebSocket (the dashboard serves none) is closed, never let through unchecked."""

from __future__ import annotations

from typing import Any

from dashboard.access_guard import AccessGuard, DashboardSettings


class CountingApp:
    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.calls += 1
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


async def guarded(scope: dict[str, Any], settings: DashboardSettings) -> tuple[int, list[dict[str, Any]]]:
    app = CountingApp()
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await AccessGuard(app, settings)(scope, receive, send)
    return app.calls, sent


def http_scope(method: str, headers: list[tuple[bytes, bytes]], query: bytes = b"") -> dict[str, Any]:
    return {"type": "http", "method": method, "path": "/rollouts", "headers": headers, "query_string": query}


async def test_a_request_without_the_token_never_reaches_the_app() -> None:
    calls, sent = await guarded(http_scope("GET", [(b"host", b"10.0.0.5:3100")]),
                                DashboardSettings(address="0.0.0.0", port=3100, token="t"))
    assert calls == 0 and sent[0]["status"] == 401


async def test_a_request_with_the_token_reaches_the_app() -> None:
    calls, sent = await guarded(http_scope("POST", [(b"authorization", b"Bearer t")]),
                                DashboardSettings(address="0.0.0.0", port=3100, token="t"))
    assert calls == 1 and sent[0]["status"] == 200


async def test_the_token_link_sets_an_http_only_strict_cookie() -> None:
    _, sent = await guarded(http_scope("GET", [], b"token=t"), DashboardSettings(address="0.0.0.0", port=3100,
                                                                               token="t"))
    cookies = [value.decode() for name, value in sent[0]["headers"] if name == b"set-cookie"]
    assert cookies == ["rollouts_dashboard_token=t; Path=/; HttpOnly; SameSite=Strict"]


async def test_a_websocket_is_closed_unchecked_or_not() -> None:
    calls, sent = await guarded({"type": "websocket", "path": "/stream/rollouts", "headers": []},
                                DashboardSettings(address="0.0.0.0", port=3100, token="t"))
    assert calls == 0 and sent == [{"type": "websocket.close", "code": 1008}]
