"""An auditing reverse proxy for the sandbox's API server: every request one client makes, in Kubernetes'
authorization vocabulary.

A real API server authorizes each request by who makes it and by its attributes — verb, API group, resource (with
its subresource), namespace and name — and ``AuditingProxy`` records exactly those attributes for the client that
talks through it. Give the controller a kubeconfig that points at the proxy and everything it asks for is recorded,
and nothing else: the test's own writes (in-process) and the workload simulator's requests (straight to the
emulator) never pass through it. The attributes come from the URL alone, as the API server's request-info
resolver derives them, so the record does not depend on how the emulator serves the request.

With ``authorize``, the proxy also enforces: a request it refuses is answered 403 Forbidden with the Status body an
API server sends, and never reaches the emulator — the client runs with exactly the permissions given.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

import aiohttp
from aiohttp import web

from sandbox.emulator.server import parse_api_path

# Headers of one hop (RFC 9110 §7.6.1) and those aiohttp recomputes for the body it actually sends.
_NOT_FORWARDED: Final = frozenset(
    {
        "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
        "transfer-encoding", "upgrade", "host", "content-length", "accept-encoding", "content-encoding",
    }
)
_WATCH_VALUES: Final = frozenset({"true", "1"})


@dataclass
class AccessRecord:
    """One request as the API server's authorizer sees it.

    ``resource`` is ``<plural>`` or ``<plural>/<subresource>`` (as RBAC rules name them), or "" for a non-resource
    URL (discovery, /version), whose ``path`` is then what a rule's ``nonResourceURLs`` would have to match.
    ``code`` is the HTTP status of the answer (0 if none came). ``created`` is the name a create's body gives its
    object (the URL of a create names none), as an audit log at the Request level shows it.
    """

    verb: str
    group: str
    resource: str
    namespace: str | None
    name: str | None
    path: str
    code: int = 0
    created: str | None = None

    @property
    def is_resource_request(self) -> bool:
        return bool(self.resource)


def access_of(method: str, path: str, query: Mapping[str, str]) -> AccessRecord:
    """The authorization attributes of a request (Kubernetes' RequestInfoFactory, for the URLs clients use)."""
    api_path = parse_api_path(path)
    if api_path is None:
        return AccessRecord(method.lower(), "", "", None, None, path)
    watching = api_path.legacy_watch or query.get("watch", "").lower() in _WATCH_VALUES
    verb = {
        "POST": "create",
        "PUT": "update",
        "PATCH": "patch",
        "DELETE": "delete" if api_path.name else "deletecollection",
    }.get(method.upper())
    if verb is None:
        if method.upper() not in ("GET", "HEAD"):
            verb = method.lower()
        elif watching:
            verb = "watch"
        else:
            verb = "get" if api_path.name else "list"
    resource = api_path.plural + (f"/{api_path.subresource}" if api_path.subresource else "")
    return AccessRecord(verb, api_path.group, resource, api_path.namespace, api_path.name, path)


def forbidden_status(record: AccessRecord, user: str) -> dict[str, object]:
    """The Status an API server answers a request refused by authorization with."""
    what = f'resource "{record.resource}" in API group "{record.group}"'
    where = f'in the namespace "{record.namespace}"' if record.namespace else "at the cluster scope"
    target = f'{record.resource.split("/")[0]}{"." + record.group if record.group else ""}'
    name = f' "{record.name}"' if record.name else ""
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": f'{target}{name} is forbidden: User "{user}" cannot {record.verb} {what} {where}',
        "reason": "Forbidden",
        "details": {"name": record.name or "", "group": record.group, "kind": record.resource.split("/")[0]},
        "code": 403,
    }


def created_name(body: bytes) -> str | None:
    """``metadata.name`` (else ``generateName``) of a create request's JSON body; None when it has neither."""
    try:
        metadata = json.loads(body).get("metadata") or {}
    except (ValueError, AttributeError):
        return None
    name = metadata.get("name") or metadata.get("generateName")
    return str(name) if name else None


class AuditingProxy:
    """A reverse proxy to ``upstream`` that records every request passing through it (``records``), and refuses
    those ``authorize`` says no to (as ``user``).

    Runs on an event loop of the caller's choosing (``await start()`` there; the sandbox's own loop suits);
    watch responses are streamed through as they come.
    """

    def __init__(
        self,
        upstream: str,
        host: str = "127.0.0.1",
        *,
        authorize: Callable[[AccessRecord], bool] | None = None,
        user: str = "system:serviceaccount:rollouts:rollouts-controller",
    ) -> None:
        self.upstream = upstream.rstrip("/")
        self.host = host
        self.authorize = authorize
        self.user = user
        self.records: list[AccessRecord] = []
        self.url = ""
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> str:
        """Listen on a free port; the proxy's URL."""
        # No timeouts and no connection limit: a watch stays open as long as its client wants it.
        self._session = aiohttp.ClientSession(
            auto_decompress=False,
            timeout=aiohttp.ClientTimeout(total=None, sock_read=None),
            connector=aiohttp.TCPConnector(limit=0),
        )
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._forward)
        # A client that goes away (a watch it closes) cancels the handler, and with it the upstream request, so no
        # stream outlives its client.
        self._runner = web.AppRunner(app, shutdown_timeout=0.5, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://{self.host}:{port}"
        return self.url

    async def stop(self) -> None:
        """Close the listener and every stream still open. Idempotent."""
        runner, self._runner = self._runner, None
        session, self._session = self._session, None
        if runner is not None:
            await runner.cleanup()
        if session is not None:
            await session.close()

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        session = self._session
        if session is None:
            raise web.HTTPServiceUnavailable(text="the auditing proxy is stopping")
        record = access_of(request.method, request.path, request.query)
        self.records.append(record)
        if self.authorize is not None and not self.authorize(record):
            record.code = 403
            return web.json_response(forbidden_status(record, self.user), status=403)
        body = await request.read()
        if record.verb == "create":
            record.created = created_name(body)
        headers = {key: value for key, value in request.headers.items() if key.lower() not in _NOT_FORWARDED}
        async with session.request(
            request.method,
            self.upstream + request.raw_path,
            headers=headers,
            data=body or None,
            allow_redirects=False,
        ) as upstream:
            record.code = upstream.status
            response = web.StreamResponse(status=upstream.status, reason=upstream.reason)
            for key, value in upstream.headers.items():
                if key.lower() not in _NOT_FORWARDED:
                    response.headers.add(key, value)
            await response.prepare(request)
            # The client going away mid-stream (a watch it closed) ends the copy; so does the upstream ending it.
            with contextlib.suppress(ConnectionError, aiohttp.ClientError):
                async for chunk in upstream.content.iter_any():
                    await response.write(chunk)
                await response.write_eof()
            return response
