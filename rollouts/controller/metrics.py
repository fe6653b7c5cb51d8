"""The controller's Prometheus metrics, under the names Argo Rollouts exports, so its dashboards keep working.

- ``rollout_info{namespace,name,strategy,traffic_router,phase}`` 1 per Rollout; ``phase`` is Argo's metric
  phase (Completed, Progressing, Paused, Timeout, Error, Abort, InvalidSpec) read from the conditions;
- ``rollout_info_replicas_{available,unavailable,desired,updated}{namespace,name}``;
- ``rollout_reconcile{namespace,name}`` histogram of pass durations in seconds;
- ``rollout_reconcile_error{namespace,name}`` count of failed passes — exported under that exact name (as
  an untyped series) because prometheus_client would add ``_total`` to a counter, which Argo's does not;
- ``rollout_events_total{namespace,name,type,reason}`` Events emitted.

Series are updated after each pass from the status it decided, and removed when the Rollout is gone.
All methods are thread-safe: the HTTP server reads from its own thread.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Mapping
from typing import Any, Final

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from kube.json_data import JsonObject, object_at
from kube.metrics_export import ExactNameCounter, MetricsServer, Probe, serve_metrics

Labels = tuple[str, str]

RECONCILE_BUCKETS: Final = (0.01, 0.15, 0.25, 0.5, 1.0)
_KEY_LABELS: Final = ("namespace", "name")


class ControllerMetrics:
    """The metric families, in a registry of their own (several controllers can live in one process)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self._info = Gauge(
            "rollout_info",
            "Information about rollout.",
            [*_KEY_LABELS, "strategy", "traffic_router", "phase"],
            registry=self.registry,
        )
        self._available = self._replicas_gauge("available", "The number of available replicas per rollout.")
        self._unavailable = self._replicas_gauge("unavailable", "The number of unavailable replicas per rollout.")
        self._desired = self._replicas_gauge("desired", "The number of desired replicas per rollout.")
        self._updated = self._replicas_gauge("updated", "The number of updated replicas per rollout.")
        self._reconcile = Histogram(
            "rollout_reconcile",
            "Rollout reconciliation performance.",
            list(_KEY_LABELS),
            buckets=RECONCILE_BUCKETS,
            registry=self.registry,
        )
        self._errors = ExactNameCounter(
            "rollout_reconcile_error", "Error occurring during the rollout", _KEY_LABELS
        )
        self.registry.register(self._errors)
        self._events = Counter(
            "rollout_events", "Count of rollout events", [*_KEY_LABELS, "type", "reason"], registry=self.registry
        )
        self._lock = threading.Lock()
        self._info_labels: dict[Labels, tuple[str, str, str]] = {}
        self._event_labels: dict[Labels, set[tuple[str, str]]] = {}

    def _replicas_gauge(self, what: str, documentation: str) -> Gauge:
        return Gauge(f"rollout_info_replicas_{what}", documentation, list(_KEY_LABELS), registry=self.registry)

    def observe_rollout(self, rollout: JsonObject, status: Mapping[str, Any]) -> None:
        """Set the info and replica series of a Rollout from its (newly decided) status."""
        key = _key(rollout)
        spec = object_at(rollout, "spec")  # an ill-formed spec (InvalidSpec) is still observed
        strategy, router = strategy_and_router(spec)
        info = (strategy, router, metric_phase(status))
        replicas = _int(status.get("replicas"))
        available = _int(status.get("availableReplicas"))
        desired = spec.get("replicas")
        with self._lock:
            previous = self._info_labels.get(key)
            if previous != info:
                if previous is not None:
                    self._info.remove(*key, *previous)
                self._info.labels(*key, *info).set(1)
                self._info_labels[key] = info
        self._available.labels(*key).set(available)
        self._unavailable.labels(*key).set(max(replicas - available, 0))
        self._desired.labels(*key).set(_int(desired) if desired is not None else 1)
        self._updated.labels(*key).set(_int(status.get("updatedReplicas")))

    def observe_reconcile(self, namespace: str, name: str, seconds: float) -> None:
        self._reconcile.labels(namespace, name).observe(seconds)

    def count_error(self, namespace: str, name: str) -> None:
        self._errors.inc((namespace, name))

    def count_event(self, namespace: str, name: str, event_type: str, reason: str) -> None:
        with self._lock:
            self._event_labels.setdefault((namespace, name), set()).add((event_type, reason))
        self._events.labels(namespace, name, event_type, reason).inc()

    def forget(self, namespace: str, name: str) -> None:
        """Remove every series of a Rollout that no longer exists."""
        key = (namespace, name)
        with self._lock:
            info = self._info_labels.pop(key, None)
            events = self._event_labels.pop(key, set())
        for event_type, reason in events:
            self._events.remove(*key, event_type, reason)
        for family in (self._available, self._unavailable, self._desired, self._updated, self._reconcile):
            with contextlib.suppress(KeyError):  # never observed
                family.remove(*key)
        self._errors.remove(key)
        if info is not None:  # last: a scrape that finds no rollout_info finds nothing else of the Rollout
            self._info.remove(*key, *info)

    def serve(
        self, port: int, address: str = "0.0.0.0", *, probes: Mapping[str, Probe] | None = None
    ) -> MetricsServer:
        """Serve /metrics (and the health ``probes``) on ``port`` (0 picks a free one) from a background thread."""
        return serve_metrics(self.registry, port, address, probes=probes)


def strategy_and_router(spec: Mapping[str, Any]) -> tuple[str, str]:
    """The ``strategy`` and ``traffic_router`` labels, as Argo names them."""
    strategy = object_at(spec, "strategy")
    if strategy.get("blueGreen") is not None:
        return "blueGreen", ""
    if strategy.get("canary") is None:
        return "none", ""
    routing = object_at(strategy, "canary", "trafficRouting")
    routers = [name for field, name in _ROUTERS if routing.get(field) is not None]
    return "canary", routers[-1] if routers else ""


_ROUTERS: Final = (
    ("alb", "ALB"),
    ("ambassador", "Ambassador"),
    ("istio", "Istio"),
    ("nginx", "Nginx"),
    ("smi", "SMI"),
    ("appMesh", "AppMesh"),
)


def metric_phase(status: Mapping[str, Any]) -> str:
    """Argo's metric phase: from the Progressing condition's reason, with InvalidSpec over everything."""
    conditions = {
        condition.get("type"): condition
        for condition in status.get("conditions") or ()
        if isinstance(condition, dict)
    }
    if "InvalidSpec" in conditions:
        return "InvalidSpec"
    reason = (conditions.get("Progressing") or {}).get("reason")
    return {
        "NewReplicaSetAvailable": "Completed",
        "RolloutPaused": "Paused",
        "ReplicaSetCreateError": "Error",
        "ProgressDeadlineExceeded": "Timeout",
        "RolloutAborted": "Abort",
    }.get(str(reason), "Progressing")


def _key(rollout: JsonObject) -> Labels:
    metadata = rollout.get("metadata") or {}
    return str(metadata.get("namespace") or ""), str(metadata.get("name") or "")


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
