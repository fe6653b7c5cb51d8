"""The analysis controller's Prometheus metrics, under the names Argo Rollouts exports, so its dashboards keep
working. Registered in the registry the Rollout controller serves, so both are on one port.

- ``analysis_run_info{namespace,name,phase}`` 1 per run, ``phase`` its status phase (Pending when unset);
- ``analysis_run_phase{namespace,name,phase}`` one series per phase, 1 for the run's phase and 0 for the others
  (Argo keeps it, deprecated, beside ``analysis_run_info``);
- ``analysis_run_metric_type{namespace,name,metric,type}`` 1 per metric, ``type`` Argo's provider type
  (Prometheus, Web, Job, …);
- ``analysis_run_metric_phase{namespace,name,metric,type,dry_run,phase}`` one series per phase per metric, 1 for the
  metric's phase (Pending until it has a result);
- ``analysis_run_reconcile{namespace,name}`` histogram of pass durations in seconds;
- ``analysis_run_reconcile_error{namespace,name}`` failed passes, exported under exactly that name as Argo does.

As Argo computes the first four from its informer's cache, these follow every run as observed (watch events and
our own writes), completed runs included, and are removed when the run is gone. Thread-safe: the HTTP server
reads from its own thread.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from prometheus_client import CollectorRegistry
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from analysis.runner.rules import is_dry_run
from kube.metrics_export import ReconcileMetrics

PHASES: Final = ("Pending", "Error", "Failed", "Successful", "Running", "Inconclusive")
"""The phases a series is exported for, in Argo's order."""
_KEY_LABELS: Final = ("namespace", "name")
# Argo's metricproviders.Type: the first provider set, in this order, under this name.
_PROVIDER_TYPES: Final = (
    ("prometheus", "Prometheus"),
    ("job", "Job"),
    ("kayenta", "Kayenta"),
    ("web", "Web"),
    ("datadog", "Datadog"),
    ("wavefront", "Wavefront"),
    ("newRelic", "NewRelic"),
    ("cloudWatch", "CloudWatch"),
    ("graphite", "Graphite"),
    ("influxdb", "Influxdb"),
    ("skywalking", "SkyWalking"),
    ("plugin", "RpcPlugin"),
)
UNKNOWN_PROVIDER: Final = "Unknown Provider"


@dataclass(frozen=True)
class _MetricSeries:
    name: str
    type: str
    dry_run: bool
    phase: str


@dataclass(frozen=True)
class _RunSeries:
    phase: str
    metrics: tuple[_MetricSeries, ...]


class AnalysisMetrics:
    """The analysis metric families, in ``registry`` (the one the process serves) or a registry of their own."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self._runs = _RunCollector()
        self.registry.register(self._runs)
        self._passes = ReconcileMetrics(
            self.registry,
            "analysis_run",
            reconcile_help="Analysis Run reconciliation performance.",
            error_help="Error occurring during the analysis run",
        )

    def observe_run(self, run: Mapping[str, Any]) -> None:
        """Set a run's info and phase series from the run as observed."""
        metadata = run.get("metadata") or {}
        key = (str(metadata.get("namespace") or ""), str(metadata.get("name") or ""))
        self._runs.set(key, run_series(run))

    def observe_reconcile(self, namespace: str, name: str, seconds: float) -> None:
        self._passes.observe_reconcile(namespace, name, seconds)

    def count_error(self, namespace: str, name: str) -> None:
        self._passes.count_error(namespace, name)

    def forget(self, namespace: str, name: str) -> None:
        """Remove every series of a run that no longer exists."""
        self._passes.forget(namespace, name)
        self._runs.remove((namespace, name))


def run_series(run: Mapping[str, Any]) -> _RunSeries:
    """What the phase series of a run say: its phase, and each metric's provider type, dry-run flag and phase."""
    spec = run.get("spec") or {}
    status = run.get("status") or {}
    results = {
        str(result.get("name")): result
        for result in status.get("metricResults") or ()
        if isinstance(result, Mapping)
    }
    metrics = tuple(
        _MetricSeries(
            name=str(metric.get("name") or ""),
            type=provider_type(metric),
            dry_run=is_dry_run(spec, str(metric.get("name") or "")),
            phase=str((results.get(str(metric.get("name") or "")) or {}).get("phase") or "Pending"),
        )
        for metric in spec.get("metrics") or ()
        if isinstance(metric, Mapping)
    )
    return _RunSeries(str(status.get("phase") or "Pending"), metrics)


def provider_type(metric: Mapping[str, Any]) -> str:
    """Argo's name for a metric's provider: ``Prometheus``, ``Web``, ``Job`` …, ``Unknown Provider`` for none."""
    provider = metric.get("provider")
    if not isinstance(provider, Mapping):
        return UNKNOWN_PROVIDER
    for key, name in _PROVIDER_TYPES:
        if provider.get(key) is not None:
            return name
    return UNKNOWN_PROVIDER


class _RunCollector(Collector):
    """The per-run gauges, built at scrape time from the latest series of each run."""

    def __init__(self) -> None:
        self._series: dict[tuple[str, str], _RunSeries] = {}
        self._lock = threading.Lock()

    def set(self, key: tuple[str, str], series: _RunSeries) -> None:
        with self._lock:
            self._series[key] = series

    def remove(self, key: tuple[str, str]) -> None:
        with self._lock:
            self._series.pop(key, None)

    def collect(self) -> Iterable[Metric]:
        with self._lock:
            runs = list(self._series.items())
        info = GaugeMetricFamily("analysis_run_info", "Information about analysis run.", labels=[*_KEY_LABELS, "phase"])
        phases = GaugeMetricFamily(
            "analysis_run_phase",
            "Information on the state of the Analysis Run (DEPRECATED - use analysis_run_info)",
            labels=[*_KEY_LABELS, "phase"],
        )
        types = GaugeMetricFamily(
            "analysis_run_metric_type",
            "Information on the type of a specific metric in the Analysis Runs",
            labels=[*_KEY_LABELS, "metric", "type"],
        )
        metric_phases = GaugeMetricFamily(
            "analysis_run_metric_phase",
            "Information on the duration of a specific metric in the Analysis Run",
            labels=[*_KEY_LABELS, "metric", "type", "dry_run", "phase"],
        )
        for (namespace, name), series in runs:
            info.add_metric([namespace, name, series.phase], 1)
            for phase in PHASES:
                phases.add_metric([namespace, name, phase], float(series.phase == phase))
            for metric in series.metrics:
                types.add_metric([namespace, name, metric.name, metric.type], 1)
                dry_run = "true" if metric.dry_run else "false"
                for phase in PHASES:
                    metric_phases.add_metric(
                        [namespace, name, metric.name, metric.type, dry_run, phase], float(metric.phase == phase)
                    )
        return [info, phases, types, metric_phases]

    def describe(self) -> Iterable[Metric]:
        return self.collect()
