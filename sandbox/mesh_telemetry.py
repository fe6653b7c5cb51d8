"""Istio's standard HTTP telemetry for the mesh simulator: `istio_requests_total` and
`istio_request_duration_milliseconds`, with Istio's labels and default buckets, as a prometheus_client collector.

The series are kept here rather than in prometheus_client's Counter and Histogram for two reasons. A
destination-reported series lives in the serving pod's sidecar in a real mesh, so it must disappear when the
last pod that served it does (`forget_owner`); prometheus_client's metrics can only drop label sets one by
one. And the bucket bounds are written as Envoy writes them (`le="100"`, `le="1.8e+06"`), where
prometheus_client would write `le="100.0"`, which a query on `le="100"` would not find.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from prometheus_client.metrics_core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from sandbox.mesh_traffic import UNKNOWN, Endpoint, RequestBatch

# Istio's default buckets for istio_request_duration_milliseconds.
ISTIO_DURATION_BUCKETS_MS: Final = (
    0.5, 1.0, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0, 10000.0,
    30000.0, 60000.0, 300000.0, 600000.0, 1800000.0, 3600000.0,
)  # fmt: skip
REQUESTS_METRIC: Final = "istio_requests"  # exposed as istio_requests_total
DURATION_METRIC: Final = "istio_request_duration_milliseconds"
REPORTER_SOURCE: Final = "source"
REPORTER_DESTINATION: Final = "destination"
ISTIO_LABELS: Final = (
    "reporter",
    "source_workload",
    "source_workload_namespace",
    "source_principal",
    "source_app",
    "source_version",
    "source_canonical_service",
    "source_canonical_revision",
    "source_cluster",
    "destination_workload",
    "destination_workload_namespace",
    "destination_principal",
    "destination_app",
    "destination_version",
    "destination_service",
    "destination_service_name",
    "destination_service_namespace",
    "destination_canonical_service",
    "destination_canonical_revision",
    "destination_cluster",
    "request_protocol",
    "response_code",
    "response_flags",
    "connection_security_policy",
)
CLUSTER_NAME: Final = "Kubernetes"  # Istio's default cluster name when none is configured

LabelValues = tuple[str, ...]


@dataclass(frozen=True)
class SourceIdentity:
    """Who sends the simulated requests; by default Istio's ingress gateway, where outside traffic enters."""

    workload: str = "istio-ingressgateway"
    namespace: str = "istio-system"
    app: str = "istio-ingressgateway"
    version: str = UNKNOWN
    canonical_service: str = "istio-ingressgateway"
    canonical_revision: str = "latest"


def format_bound(bound: float) -> str:
    """A bucket bound as Envoy prints it: C++'s default float format, e.g. 0.5, 100, 1.8e+06."""
    return "+Inf" if bound == float("inf") else format(bound, "g")


def label_values(reporter: str, source: SourceIdentity, batch: RequestBatch) -> LabelValues:
    """The label values, in ISTIO_LABELS order, of one batch of requests as `reporter` reports them.

    The sandbox has no mutual TLS, so principals are "unknown", and so is the connection security policy for
    both reporters (a real destination proxy would say "none"; nobody filters on it). A request that reached
    no pod has "unknown" destination workload labels: nobody answered it but the source's proxy.
    """
    destination, endpoint = batch.destination, batch.endpoint
    target = endpoint if endpoint is not None else _NOBODY
    return (
        reporter,
        source.workload,
        source.namespace,
        UNKNOWN,
        source.app,
        source.version,
        source.canonical_service,
        source.canonical_revision,
        CLUSTER_NAME,
        target.workload,
        target.namespace,
        UNKNOWN,
        target.app,
        target.version,
        destination.service_fqdn,
        destination.service_name,
        destination.service_namespace,
        target.canonical_service,
        target.canonical_revision,
        CLUSTER_NAME,
        "http",
        batch.response_code,
        batch.response_flags,
        UNKNOWN,
    )


_NOBODY: Final = Endpoint(
    namespace=UNKNOWN,
    name=UNKNOWN,
    uid="",
    labels={},
    images=(),
    workload=UNKNOWN,
    app=UNKNOWN,
    version=UNKNOWN,
    canonical_service=UNKNOWN,
    canonical_revision=UNKNOWN,
)


class _Series:
    __slots__ = ("buckets", "count", "total")

    def __init__(self, bucket_count: int) -> None:
        self.buckets = [0] * (bucket_count + 1)  # per bucket, not cumulative; the last one is +Inf
        self.count = 0
        self.total = 0.0


class IstioTelemetry(Collector):
    """The request counter and duration histogram of every (reporter, source, destination, outcome).

    Safe to use from several threads: the simulator records on its event loop while a scrape may collect
    from another thread.
    """

    def __init__(self, buckets: Sequence[float] = ISTIO_DURATION_BUCKETS_MS) -> None:
        self._bounds = tuple(sorted(buckets))
        self._bound_labels = [format_bound(b) for b in self._bounds] + ["+Inf"]
        self._series: dict[LabelValues, _Series] = {}
        # Destination-reported series live as long as one of the pods that served them does.
        self._owners: dict[LabelValues, set[str]] = {}
        self._owned: dict[str, set[LabelValues]] = {}
        self._lock = threading.Lock()

    def record(self, labels: LabelValues, latencies_ms: Sequence[float], owner: str | None = None) -> None:
        """Count one request per latency; `owner` (a pod uid) ties the series' lifetime to that pod's."""
        if len(labels) != len(ISTIO_LABELS):
            raise ValueError(f"expected {len(ISTIO_LABELS)} label values, got {len(labels)}")
        bounds = self._bounds
        with self._lock:
            series = self._series.get(labels)
            if series is None:
                series = self._series[labels] = _Series(len(bounds))
            for latency in latencies_ms:
                series.buckets[bisect.bisect_left(bounds, latency)] += 1
                series.total += latency
            series.count += len(latencies_ms)
            if owner:
                self._owners.setdefault(labels, set()).add(owner)
                self._owned.setdefault(owner, set()).add(labels)

    def record_batch(self, batch: RequestBatch, source: SourceIdentity, *, report_source: bool = True) -> None:
        """Count a batch as Istio's proxies report it: the destination pod's, and the source's if asked.

        A request that found no pod never reached a destination proxy, so only its source reports it, even
        when source reports are off: otherwise the failure would not show at all.
        """
        if batch.endpoint is not None:
            labels = label_values(REPORTER_DESTINATION, source, batch)
            self.record(labels, batch.latencies_ms, owner=batch.endpoint.uid)
        if report_source or batch.endpoint is None:
            self.record(label_values(REPORTER_SOURCE, source, batch), batch.latencies_ms)

    def forget_owner(self, owner: str) -> None:
        """The pod `owner` is gone: drop the series no remaining pod serves."""
        with self._lock:
            for labels in self._owned.pop(owner, ()):
                owners = self._owners.get(labels)
                if owners is None:
                    continue
                owners.discard(owner)
                if not owners:
                    del self._owners[labels]
                    self._series.pop(labels, None)

    def requests(self, **selector: str) -> int:
        """The number of requests counted in series whose labels have the given values (for tests, tools)."""
        wanted = _positions(selector)
        with self._lock:
            return sum(s.count for labels, s in self._series.items() if all(labels[i] == v for i, v in wanted))

    def series(self) -> list[Mapping[str, str]]:
        with self._lock:
            return [dict(zip(ISTIO_LABELS, labels, strict=True)) for labels in self._series]

    def describe(self) -> Iterable[Metric]:
        return [
            CounterMetricFamily(REQUESTS_METRIC, _REQUESTS_HELP, labels=ISTIO_LABELS),
            HistogramMetricFamily(DURATION_METRIC, _DURATION_HELP, labels=ISTIO_LABELS),
        ]

    def collect(self) -> Iterator[Metric]:
        requests = CounterMetricFamily(REQUESTS_METRIC, _REQUESTS_HELP, labels=ISTIO_LABELS)
        durations = HistogramMetricFamily(DURATION_METRIC, _DURATION_HELP, labels=ISTIO_LABELS)
        with self._lock:
            snapshot = [(labels, s.count, list(s.buckets), s.total) for labels, s in self._series.items()]
        for labels, count, buckets, total in snapshot:
            requests.add_metric(labels, float(count))
            cumulative, running = [], 0
            for bound, number in zip(self._bound_labels, buckets, strict=True):
                running += number
                cumulative.append((bound, float(running)))
            durations.add_metric(labels, cumulative, total)
        yield requests
        yield durations


_REQUESTS_HELP: Final = "Requests handled by an Istio proxy (simulated)."
_DURATION_HELP: Final = "Duration of requests in milliseconds (simulated)."


def _positions(selector: Mapping[str, str]) -> list[tuple[int, str]]:
    unknown = set(selector) - set(ISTIO_LABELS)
    if unknown:
        raise ValueError(f"not Istio labels: {', '.join(sorted(unknown))}")
    return [(ISTIO_LABELS.index(name), value) for name, value in selector.items()]
