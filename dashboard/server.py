"""The dashboard's ASGI app (starlette) and the uvicorn server that runs it.

Routes (every one behind ``AccessGuard``: the token, or on loopback without one the Host check):

- ``GET /rollouts``, ``/rollouts/{namespace}/{name}``, ``/applications``, ``/applications/{namespace}/{name}``:
  server-rendered pages; ``GET /stream/…`` (the same paths): server-sent events whose each message is the page's
  live part rendered again after a change the watches reported (only when it changed);
- ``GET /applications/{namespace}/{name}/diff``: what a sync would change, rendered on request;
- ``POST /api/rollouts/{namespace}/{name}/{action}`` and ``/api/applications/{namespace}/{name}/{action}``: the
  buttons (JSON body for their parameters), through ``dashboard.actions``;
- ``GET /static/dashboard.js|css``: the committed script and style sheet.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Route
from starlette.types import ASGIApp

from cli.options import CliError, Cluster
from dashboard.access_guard import AccessGuard, DashboardSettings
from dashboard.actions import ActionRefused, run_application_action, run_rollout_action
from dashboard.application_pages import ResourceDiff, application_view, applications_view, diff_view
from dashboard.live_cache import LiveCache
from dashboard.page_layout import View, not_found_view, page_html
from dashboard.rollout_pages import rollout_view, rollouts_list_view
from kube.errors import KubeError
from kube.resources import ANALYSIS_RUNS, APPLICATIONS, EXPERIMENTS, PODS, REPLICASETS, ROLLOUTS

if TYPE_CHECKING:
    from kube.client import KubeClient

STATIC_DIR: Final = Path(__file__).parent / "static"
STATIC_FILES: Final = {"dashboard.js": "text/javascript", "dashboard.css": "text/css"}
KEEPALIVE_SECONDS: Final = 15.0
# A burst of watch events (a rollout step touches the Rollout, ReplicaSets and pods) is one message, not many.
MIN_MESSAGE_SECONDS: Final = 0.1


ViewOf = Callable[[Request], View]


class Dashboard:
    """The pages, streams and actions over one client and its live cache."""

    def __init__(self, settings: DashboardSettings, client: KubeClient, cache: LiveCache,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.settings = settings
        self.client = client
        self.cache = cache
        self.clock = clock

    # -- views --------------------------------------------------------------------------------------------

    def rollouts(self, request: Request) -> View:
        return rollouts_list_view(self.cache.objects(ROLLOUTS), self.cache.unavailable.get(ROLLOUTS),
                                  self.cache.objects(REPLICASETS))

    def rollout(self, request: Request) -> View:
        namespace, name = request.path_params["namespace"], request.path_params["name"]
        rollout = self.cache.find(ROLLOUTS, namespace, name)
        if rollout is None:
            return not_found_view(f"rollout {namespace}/{name}")
        cache = self.cache
        return rollout_view(rollout, cache.objects(REPLICASETS, namespace), cache.objects(PODS, namespace),
                            cache.objects(ANALYSIS_RUNS, namespace), cache.objects(EXPERIMENTS, namespace),
                            self.clock())

    def applications(self, request: Request) -> View:
        return applications_view(self.cache.objects(APPLICATIONS), self.cache.unavailable.get(APPLICATIONS))

    def application(self, request: Request) -> View:
        namespace, name = request.path_params["namespace"], request.path_params["name"]
        app = self.cache.find(APPLICATIONS, namespace, name)
        return not_found_view(f"application {namespace}/{name}") if app is None else application_view(app)

    # -- responses ----------------------------------------------------------------------------------------

    def page(self, view_of: ViewOf) -> Callable[[Request], Awaitable[Response]]:
        async def handle(request: Request) -> Response:
            view = view_of(request)
            status = 200 if view.found else 404
            html = page_html(view, stream_path="/stream" + request.url.path, action_key=self.settings.page_key,
                             failure=self.cache.failure)
            return HTMLResponse(html, status_code=status)

        return handle

    def stream(self, view_of: ViewOf) -> Callable[[Request], Awaitable[Response]]:
        async def handle(request: Request) -> Response:
            return StreamingResponse(self._messages(request, view_of), media_type="text/event-stream",
                                     headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

        return handle

    async def _messages(self, request: Request, view_of: ViewOf) -> AsyncIterator[str]:
        last: str | None = None
        seen = -1
        while not await request.is_disconnected():
            version = self.cache.version
            html = view_of(request).live_html
            if html != last:
                yield server_sent_event(html)
                last = html
            elif version == seen:
                yield ": keep-alive\n\n"
            seen = version
            await self.cache.wait_newer(version, KEEPALIVE_SECONDS)
            await asyncio.sleep(MIN_MESSAGE_SECONDS)

    async def rollout_action(self, request: Request) -> Response:
        params = await _json_body(request)
        if isinstance(params, Response):
            return params
        namespace, name, action = (request.path_params[k] for k in ("namespace", "name", "action"))
        return await _acted(asyncio.to_thread(run_rollout_action, self.client, namespace, name, action, params,
                                              self.clock()))

    async def application_action(self, request: Request) -> Response:
        params = await _json_body(request)
        if isinstance(params, Response):
            return params
        namespace, name, action = (request.path_params[k] for k in ("namespace", "name", "action"))
        return await _acted(asyncio.to_thread(run_application_action, self.client, namespace, name, action, params))

    async def diff(self, request: Request) -> Response:
        namespace, name = request.path_params["namespace"], request.path_params["name"]
        app = self.cache.find(APPLICATIONS, namespace, name)
        if app is None:
            view = not_found_view(f"application {namespace}/{name}")
        else:
            diffs, error = await asyncio.to_thread(out_of_sync_diffs, Cluster(self.client, namespace), app)
            view = diff_view(app, diffs, error)
        return HTMLResponse(page_html(view, stream_path="", action_key=self.settings.page_key,
                                      failure=self.cache.failure), status_code=404 if app is None else 200)

    async def static(self, request: Request) -> Response:
        name = request.path_params["name"]
        if name not in STATIC_FILES:
            return PlainTextResponse("not found", status_code=404)
        return Response((STATIC_DIR / name).read_bytes(), media_type=STATIC_FILES[name],
                        headers={"Cache-Control": "no-cache"})


def server_sent_event(data: str) -> str:
    """One SSE message carrying ``data`` (each of its lines a ``data:`` field, as the format requires)."""
    return "".join(f"data: {line}\n" for line in data.split("\n")) + "\n"


async def _json_body(request: Request) -> dict[str, Any] | Response:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        return JSONResponse({"message": "the request body is not JSON"}, status_code=400)
    if not isinstance(body, dict):
        return JSONResponse({"message": "the request body must be a JSON object"}, status_code=400)
    return body


async def _acted(action: Awaitable[str]) -> Response:
    try:
        message = await action
    except ActionRefused as refused:
        return JSONResponse({"message": refused.message}, status_code=refused.status)
    return JSONResponse({"message": message})


def out_of_sync_diffs(cluster: Cluster, app: dict[str, Any]) -> tuple[list[ResourceDiff], str | None]:
    """The OutOfSync resources' diffs, rendered as `rollouts app diff` renders them; or why they cannot be."""
    from cli.app_diff import live_objects, rendered_targets
    from gitops.compare.comparison import compare_app

    try:
        targets, _ = rendered_targets(cluster, app, local=None, revision=None)
        comparison = compare_app(app, targets, live_objects(cluster, app, targets))
    except (CliError, KubeError) as error:
        return [], " ".join(str(error).split())
    diffs = []
    for resource in comparison.resources:
        if resource.hook or resource.status != "OutOfSync":
            continue
        key = resource.key
        note = ("extraneous: not in Git; a sync with prune deletes it" if resource.requires_pruning
                else "missing from the cluster" if resource.live is None else "")
        diffs.append(ResourceDiff(f"{key.group}/{key.kind} {key.namespace}/{key.name}", note, resource.diff))
    return diffs, None


def create_app(settings: DashboardSettings, client: KubeClient, cache: LiveCache,
               clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> ASGIApp:
    """The dashboard's ASGI app over a started ``cache`` (whose owner starts and stops it)."""
    dashboard = Dashboard(settings, client, cache, clock)
    views: list[tuple[str, ViewOf]] = [
        ("/rollouts", dashboard.rollouts),
        ("/rollouts/{namespace}/{name}", dashboard.rollout),
        ("/applications", dashboard.applications),
        ("/applications/{namespace}/{name}", dashboard.application),
    ]
    routes = [Route("/", lambda request: RedirectResponse("/rollouts"), methods=["GET"])]
    for path, view_of in views:
        routes.append(Route(path, dashboard.page(view_of), methods=["GET"]))
        routes.append(Route("/stream" + path, dashboard.stream(view_of), methods=["GET"]))
    routes += [
        Route("/applications/{namespace}/{name}/diff", dashboard.diff, methods=["GET"]),
        Route("/api/rollouts/{namespace}/{name}/{action}", dashboard.rollout_action, methods=["POST"]),
        Route("/api/applications/{namespace}/{name}/{action}", dashboard.application_action, methods=["POST"]),
        Route("/static/{name}", dashboard.static, methods=["GET"]),
    ]
    return AccessGuard(Starlette(routes=routes), settings)


def listening_socket(address: str, port: int) -> socket.socket:
    """A socket bound to ``address`` and ``port`` (0: any free port), ready for uvicorn; an OSError names both."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((address.strip("[]"), port))
    except OSError as error:
        sock.close()
        raise OSError(f"cannot listen on {address}:{port}: {error.strerror or error}") from None
    sock.listen(128)
    return sock


def dashboard_url(settings: DashboardSettings) -> str:
    """The address a person opens; never with the token in it (it would end up in terminals and logs)."""
    host = settings.address
    if host in ("0.0.0.0", "::"):
        host = "127.0.0.1" if host == "0.0.0.0" else "[::1]"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{settings.port}/rollouts"


class DashboardServer:
    """The dashboard served by uvicorn on a thread of its own (the `dashboard` command, the demo, the tests)."""

    def __init__(self, settings: DashboardSettings, client: KubeClient, namespace: str | None = None) -> None:
        self._socket = listening_socket(settings.address, settings.port)
        settings.port = int(self._socket.getsockname()[1])
        self.settings = settings
        self.cache = LiveCache(client, namespace)
        app = create_app(settings, client, self.cache)
        config = uvicorn.Config(app, log_level="warning", lifespan="off", timeout_graceful_shutdown=1)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._serve, name="dashboard", daemon=True)
        self.error: BaseException | None = None
        self._stopped = threading.Event()

    @property
    def url(self) -> str:
        return dashboard_url(self.settings)

    def _serve(self) -> None:
        try:
            self._server.run(sockets=[self._socket])
        except BaseException as error:  # handed to start() and the caller
            self.error = error

    def _start_cache(self) -> None:
        """The first lists and the watches; a KubeError (the API unreachable, the kubeconfig refused) as it is."""
        try:
            self.cache.start()
        except BaseException:
            self.cache.stop()
            self._socket.close()
            raise

    def start(self, timeout: float = 30.0) -> DashboardServer:
        """Serve; return once it answers (its cache listed), or raise why it did not start."""
        self._start_cache()
        self._thread.start()
        deadline = time.monotonic() + timeout
        # uvicorn says `started` once the socket serves.
        while not self._server.started and self._thread.is_alive() and time.monotonic() < deadline:
            self._stopped.wait(0.05)
        if not self._server.started:
            self.stop()
            raise RuntimeError(f"the dashboard did not start: {self.error!r}")
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout)
        self.cache.stop()
        self._socket.close()

    def run(self, announce: Callable[[str], None] = lambda url: None) -> None:
        """Serve on this thread until interrupted (uvicorn ends on SIGINT or SIGTERM); ``announce`` gets the
        address once the cluster has answered the first lists."""
        self._start_cache()
        announce(self.url)
        try:
            self._server.run(sockets=[self._socket])
        finally:
            self.cache.stop()
            self._socket.close()

    @contextlib.contextmanager
    def running(self) -> Iterator[DashboardServer]:
        self.start()
        try:
            yield self
        finally:
            self.stop()
