"""The sandbox's service mesh: simulated request traffic along Istio VirtualServices (and NGINX canary Ingresses and
Gateway API HTTPRoutes, see `sandbox.mesh_ingress`), reported as Istio reports it.

`MeshSimulator` watches VirtualServices, DestinationRules, Ingresses, HTTPRoutes, Services and Pods over the API
(one list+watch per type, like the workload simulator), and on every tick sends each reached HTTP route's
requests to its destinations' ready pods (see `sandbox.mesh_traffic`). It counts them in Istio's standard metrics
(`sandbox.mesh_telemetry`), served on a loopback metrics endpoint for a real Prometheus to scrape, so that an
analysis reads a canary's success rate and latency as it would in a cluster with Istio.

One loop ticks for the whole mesh, and only while some VirtualService, Ingress or HTTPRoute exists. Routes are
re-planned on the tick after a watched object changes, never more often, so a burst of pod events costs one re-plan.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Mapping
from typing import Final

import aiohttp.web
import httpx
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from kube.resources import DESTINATION_RULES, HTTP_ROUTES, INGRESSES, PODS, SERVICES, VIRTUAL_SERVICES, ResourceKind
from kube.work_queue import cancel_tasks
from sandbox.background import Background, started_part
from sandbox.informer import Informer, ObjectKey, object_key
from sandbox.mesh_ingress import plan_http_route_routes, plan_ingress_routes
from sandbox.mesh_telemetry import IstioTelemetry, SourceIdentity
from sandbox.mesh_traffic import (
    DEFAULT_CLUSTER_DOMAIN,
    DestinationRuleIndex,
    JsonDict,
    RoutePlan,
    TrafficSimulator,
    VersionProfile,
    plan_routes,
    ready_endpoints,
)

logger = logging.getLogger(__name__)

# After a stall (a debugger, a suspended laptop) the next tick covers at most this long, so that it stays
# short; the traffic of the rest of the stall is lost, as if the clients had stalled too.
MAX_TICK_SECONDS: Final = 1.0
METRICS_PATH: Final = "/metrics"
_NOT_STARTED: Final = "the mesh simulator is not started"


class MeshSimulator(Background):
    """Simulated clients calling every VirtualService (and Ingress and HTTPRoute), and the Istio telemetry of their
    requests.

    `requests_per_second` is per VirtualService host and reached HTTP route. Each pod behaves as the
    `VersionProfile` of its first container image found in `profiles`, else as `default_profile`; change one
    while running with `set_profile`. `seed` fixes the latencies drawn, so runs repeat. Requests come from
    `source` (Istio's ingress gateway by default) and are reported by both the destination's proxy
    (reporter="destination") and the source's (reporter="source"; off with `report_source=False`).
    """

    def __init__(
        self,
        api_url: str,
        *,
        headers: Mapping[str, str] | None = None,
        requests_per_second: float = 50.0,
        profiles: Mapping[str, VersionProfile] | None = None,
        default_profile: VersionProfile | None = None,
        tick_seconds: float = 0.25,
        seed: int = 0,
        host: str = "127.0.0.1",
        port: int = 0,
        source: SourceIdentity | None = None,
        report_source: bool = True,
        cluster_domain: str = DEFAULT_CLUSTER_DOMAIN,
    ) -> None:
        if requests_per_second < 0:
            raise ValueError("requests_per_second must not be negative")
        if tick_seconds <= 0:
            raise ValueError("tick_seconds must be positive")
        self.api_url = api_url.rstrip("/")
        self._headers = dict(headers or {})  # the emulator's credentials, when it checks them
        self.requests_per_second = requests_per_second
        self.tick_seconds = tick_seconds
        self.source = source if source is not None else SourceIdentity()
        self.report_source = report_source
        self.cluster_domain = cluster_domain
        self.telemetry = IstioTelemetry()
        self.registry = CollectorRegistry(auto_describe=True)
        self.registry.register(self.telemetry)
        self.traffic = TrafficSimulator(profiles=profiles, default_profile=default_profile, seed=seed)
        self._host = host
        self._requested_port = port
        self._port: int | None = None
        self._client: httpx.AsyncClient | None = None
        self._runner: aiohttp.web.AppRunner | None = None
        self._informers: dict[ResourceKind, Informer] = {}
        self._ticker: asyncio.Task[None] | None = None
        self._dirty = True
        self._wake: asyncio.Event | None = None
        self._ticks = 0

    # -- what callers use --

    @property
    def metrics_target(self) -> str:
        """`127.0.0.1:PORT`, as a Prometheus scrape target."""
        return f"{self._host}:{started_part(self._port, _NOT_STARTED)}"

    @property
    def metrics_url(self) -> str:
        return f"http://{self.metrics_target}{METRICS_PATH}"

    @property
    def ticks(self) -> int:
        """How many ticks of traffic have been sent: something to wait on rather than on wall-clock time."""
        return self._ticks

    def set_profile(self, image: str, profile: VersionProfile) -> None:
        """Make pods of `image` behave as `profile` from the next tick on.

        Safe from any thread: one dictionary assignment, which the tick reads whole.
        """
        self.traffic.set_profile(image, profile)

    def metrics_text(self) -> str:
        """The metrics page as Prometheus would scrape it."""
        return generate_latest(self.registry).decode()

    # -- lifecycle --

    async def start(self) -> None:
        """List the watched types, serve the metrics endpoint, start ticking. Idempotent."""
        if self._client is not None:
            return
        self._client = httpx.AsyncClient(base_url=self.api_url, headers=self._headers, timeout=httpx.Timeout(10.0))
        self._wake = asyncio.Event()  # made here, on the loop that will run it
        self._dirty = True
        handlers = {
            PODS: self._on_pod,
            SERVICES: self._on_change,
            VIRTUAL_SERVICES: self._on_virtual_service,
            DESTINATION_RULES: self._on_change,
            # NGINX canary Ingresses and Gateway API HTTPRoutes carry traffic too (the other routers a Rollout drives).
            INGRESSES: self._on_virtual_service,
            HTTP_ROUTES: self._on_virtual_service,
        }
        self._informers = {kind: Informer(self._client, kind.path(), handler) for kind, handler in handlers.items()}
        try:
            for informer in self._informers.values():
                await informer.start()
            await self._serve_metrics()
        except BaseException:
            await self.stop()
            raise
        self._ticker = asyncio.create_task(self._tick_forever(), name="mesh traffic")

    async def stop(self) -> None:
        """Stop ticking, watching and serving. Idempotent; the counted telemetry stays readable."""
        ticker, self._ticker = self._ticker, None
        if ticker is not None:
            await cancel_tasks([ticker])
        informers, self._informers = self._informers, {}
        for informer in informers.values():
            await informer.stop()
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()
        self._port = None

    # -- watch events: note that the routes must be re-planned; the next tick does it --

    def _on_change(self, event_type: str, obj: JsonDict, old: JsonDict | None) -> None:
        self._dirty = True

    def _on_virtual_service(self, event_type: str, obj: JsonDict, old: JsonDict | None) -> None:
        self._dirty = True
        if self._wake is not None:
            self._wake.set()

    def _on_pod(self, event_type: str, pod: JsonDict, old: JsonDict | None) -> None:
        self._dirty = True
        if event_type == "DELETED":
            # Its sidecar, and with it the series it reported as destination, is gone.
            uid = (pod.get("metadata") or {}).get("uid")
            if uid:
                self.telemetry.forget_owner(str(uid))

    # -- the traffic --

    async def _tick_forever(self) -> None:
        assert self._wake is not None
        loop = asyncio.get_running_loop()
        last = loop.time()
        while True:
            if not any(len(self._watched(kind)) for kind in (VIRTUAL_SERVICES, INGRESSES, HTTP_ROUTES)):
                # Nothing to send traffic along: sleep until a route appears, not tick by tick.
                self._wake.clear()
                await self._wake.wait()
                last = loop.time()
                continue
            await asyncio.sleep(max(0.0, last + self.tick_seconds - loop.time()))
            now = loop.time()
            elapsed, last = min(now - last, MAX_TICK_SECONDS), now
            try:
                self._tick(elapsed)
            except Exception:  # one bad object must not stop the mesh; the next change re-plans
                logger.exception("mesh traffic tick failed")

    def _tick(self, elapsed: float) -> None:
        if self._dirty:
            self._dirty = False
            self.traffic.set_routes(self._plan())
        for batch in self.traffic.tick(elapsed):
            self.telemetry.record_batch(batch, self.source, report_source=self.report_source)
        self._ticks += 1

    def _plan(self) -> list[RoutePlan]:
        services: dict[ObjectKey, JsonDict] = {object_key(s): s for s in self._watched(SERVICES)}
        endpoints = ready_endpoints(self._watched(PODS))
        rate, domain = self.requests_per_second, self.cluster_domain
        return [
            *plan_routes(
                self._watched(VIRTUAL_SERVICES),
                services,
                DestinationRuleIndex.build(self._watched(DESTINATION_RULES), domain),
                endpoints,
                requests_per_second=rate,
                cluster_domain=domain,
            ),
            *plan_ingress_routes(
                self._watched(INGRESSES), services, endpoints, requests_per_second=rate, cluster_domain=domain
            ),
            *plan_http_route_routes(
                self._watched(HTTP_ROUTES), services, endpoints, requests_per_second=rate, cluster_domain=domain
            ),
        ]

    # -- the metrics endpoint --

    async def _serve_metrics(self) -> None:
        app = aiohttp.web.Application()
        app.router.add_get(METRICS_PATH, self._metrics_handler)
        # No access log: Prometheus scrapes every second.
        runner = aiohttp.web.AppRunner(app, access_log=None)
        await runner.setup()
        self._runner = runner
        # Bound here rather than by aiohttp, so that port 0 yields a port we can name.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self._host, self._requested_port))
            sock.listen(128)
            sock.setblocking(False)
            await aiohttp.web.SockSite(runner, sock).start()
        except BaseException:
            sock.close()
            raise
        self._port = int(sock.getsockname()[1])

    async def _metrics_handler(self, request: aiohttp.web.Request) -> aiohttp.web.Response:
        return aiohttp.web.Response(body=generate_latest(self.registry), headers={"Content-Type": CONTENT_TYPE_LATEST})

    def _watched(self, kind: ResourceKind) -> Informer:
        """The cache of one watched type."""
        return started_part(self._informers.get(kind), _NOT_STARTED)
