"""Exporting a controller's Prometheus metrics: the ``/metrics`` server, and a counter exported under exactly
its name.

Every controller of the process registers its families in one ``CollectorRegistry``, served on one port, as
Argo Rollouts serves its Rollout and AnalysisRun metrics together on :8090.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector


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


def serve_metrics(registry: CollectorRegistry, port: int, address: str = "0.0.0.0") -> MetricsServer:
    """Serve ``registry`` at ``/metrics`` on ``port`` (0 picks a free one); raises OSError when it is taken."""
    server, thread = start_http_server(port, addr=address, registry=registry)
    return MetricsServer(server, thread)


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
