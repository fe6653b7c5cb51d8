"""Exporting a controller's Prometheus metrics: the ``/metrics`` server, and a counter exported under exactly
its name.

Every controller of the process registers its families in one ``CollectorRegistry``, served on one port, as
Argo Rollouts serves its Rollout and AnalysisRun metrics together on :8090. The same port answers the kubelet's
probes (``/healthz``, ``/readyz``): one port to expose, one to keep open in a NetworkPolicy.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, Histogram, make_wsgi_app
from prometheus_client.exposition import ThreadingWSGIServer
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

Probe = Callable[[], tuple[bool, str]]
"""A health check: whether it passes, and a line saying why (the probe's response body)."""


@dataclass
class MetricsServer:
    """A running ``/metrics`` endpoint on a thread of its own."""

    server: WSGIServer
    thread: threading.Thread

    @property
    def port(self) -> int:
        return int(self.server.server_port)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def serve_metrics(
    registry: CollectorRegistry, port: int, address: str = "0.0.0.0", *, probes: Mapping[str, Probe] | None = None
) -> MetricsServer:
    """Serve ``registry`` at ``/metrics`` on ``port`` (0 picks a free one), and each probe at its path (200 when
    it passes, 503 when not, with its message either way); raises OSError when the port is taken."""
    family, host = _address_family(address, port)

    class Server(ThreadingWSGIServer):
        address_family = family

    server = make_server(host, port, _probing_app(make_wsgi_app(registry), dict(probes or {})), Server,
                         handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="metrics-server", daemon=True)
    thread.start()
    return MetricsServer(server, thread)


def _probing_app(metrics_app: Any, probes: dict[str, Probe]) -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        probe = probes.get(str(environ.get("PATH_INFO") or ""))
        if probe is None:
            return list(metrics_app(environ, start_response))
        try:
            passed, message = probe()
        except Exception as error:  # a broken check must answer "unhealthy", not kill the request thread
            logger.exception("health probe %s failed", environ.get("PATH_INFO"))
            passed, message = False, f"the check failed: {type(error).__name__}: {error}"
        body = (message + "\n").encode()
        status = "200 OK" if passed else "503 Service Unavailable"
        start_response(status, [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))])
        return [body]

    return app


def _address_family(address: str, port: int) -> tuple[socket.AddressFamily, str]:
    """The family to bind ``address`` with (an IPv6 address needs AF_INET6), as prometheus_client chooses it."""
    family, _, _, _, sockaddr = socket.getaddrinfo(address, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    return family, str(sockaddr[0])


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """A probe every few seconds would flood the log; Prometheus and the kubelet keep their own records."""


class ExactNameCounter(Collector):
    """A labelled count exported under exactly its name.

    prometheus_client appends ``_total`` to a counter's name; Argo's Go client does not, and its dashboards query
    ``rollout_reconcile_error`` and ``analysis_run_reconcile_error`` as they are. Exported untyped, as a series
    named like a counter without the suffix must be. Thread-safe.
    """

    def __init__(self, name: str, documentation: str, label_names: Iterable[str]) -> None:
        self._name = name
        self._documentation = documentation
        self._label_names = tuple(label_names)
        self._values: dict[tuple[str, ...], float] = {}
        self._lock = threading.Lock()

    def inc(self, labels: tuple[str, ...], amount: float = 1.0) -> None:
        with self._lock:
            self._values[labels] = self._values.get(labels, 0.0) + amount

    def remove(self, labels: tuple[str, ...]) -> None:
        with self._lock:
            self._values.pop(labels, None)

    def collect(self) -> Iterable[Metric]:
        metric = Metric(self._name, self._documentation, "unknown")
        with self._lock:
            values = list(self._values.items())
        for labels, value in values:
            metric.add_sample(self._name, dict(zip(self._label_names, labels, strict=True)), value)
        return [metric]

    def describe(self) -> Iterable[Metric]:
        return [Metric(self._name, self._documentation, "unknown")]


ARGO_RECONCILE_BUCKETS: Final = (0.01, 0.15, 0.25, 0.5, 1.0)
"""The buckets Argo Rollouts gives its reconcile histograms, in seconds."""


class ReconcileMetrics:
    """A controller's passes per object, as Argo Rollouts exports them: ``<prefix>_reconcile{namespace,name}``, a
    histogram of pass durations in seconds, and ``<prefix>_reconcile_error{namespace,name}``, failed passes under
    exactly that name. It is the ``PassMetrics`` a ``kube.controller_runner.ControllerRunner`` records into."""

    def __init__(self, registry: CollectorRegistry, prefix: str, *, reconcile_help: str, error_help: str) -> None:
        self._durations = Histogram(
            f"{prefix}_reconcile", reconcile_help, ["namespace", "name"], buckets=ARGO_RECONCILE_BUCKETS,
            registry=registry,
        )
        self._errors = ExactNameCounter(f"{prefix}_reconcile_error", error_help, ("namespace", "name"))
        registry.register(self._errors)

    def observe_reconcile(self, namespace: str, name: str, seconds: float) -> None:
        """Record one pass over the object and how long it took."""
        self._durations.labels(namespace, name).observe(seconds)

    def count_error(self, namespace: str, name: str) -> None:
        """Count one failed pass over the object."""
        self._errors.inc((namespace, name))

    def forget(self, namespace: str, name: str) -> None:
        """Drop the object's series, once it is gone."""
        with contextlib.suppress(KeyError):
            self._durations.remove(namespace, name)
        self._errors.remove((namespace, name))
