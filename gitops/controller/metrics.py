"""The Application controller's Prometheus metrics, under Argo CD's names so its dashboards keep working:

- ``argocd_app_info{namespace,name,project,repo,dest_server,dest_namespace,sync_status,health_status,operation}`` 1
  per Application;
- ``argocd_app_sync_total{namespace,name,project,phase,dest_server}`` completed sync operations by phase;
- ``argocd_app_reconcile{namespace,dest_server}`` histogram of reconciliation durations in seconds;
- ``argocd_git_request_total{repo,request_type}`` Git requests (``ls-remote``, ``fetch``) the controller caused.

Thread-safe: passes run on worker threads and the HTTP server reads from its own.
"""

from __future__ import annotations

import threading
from typing import Final

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from kube.json_data import JsonObject

# Argo CD's buckets for argocd_app_reconcile.
RECONCILE_BUCKETS: Final = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)
_INFO_LABELS: Final = (
    "namespace", "name", "project", "repo", "dest_server", "dest_namespace", "sync_status", "health_status",
    "operation",
)


class AppMetrics:
    """The families, registered in ``registry`` (the process's one registry, served on the metrics port)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self._info = Gauge("argocd_app_info", "Information about application.", list(_INFO_LABELS),
                           registry=self.registry)
        self._sync = Counter(
            "argocd_app_sync", "Number of application syncs.",
            ["namespace", "name", "project", "phase", "dest_server"], registry=self.registry,
        )
        self._reconcile = Histogram(
            "argocd_app_reconcile", "Application reconciliation performance in seconds.",
            ["namespace", "dest_server"], buckets=RECONCILE_BUCKETS, registry=self.registry,
        )
        self._git = Counter(
            "argocd_git_request", "Number of git requests performed by repo server",
            ["repo", "request_type"], registry=self.registry,
        )
        self._lock = threading.Lock()
        self._info_labels: dict[tuple[str, str], tuple[str, ...]] = {}
        self._destinations: dict[tuple[str, str], str] = {}
        # Argo CD exports no reconcile-error series for Applications; the count is kept for tests and logs only.
        self.errors = 0

    def observe_app(self, app: JsonObject) -> None:
        """Set the Application's info series from its spec and (newly written) status."""
        metadata = app.get("metadata") or {}
        spec = app.get("spec") or {}
        status = app.get("status") or {}
        source = spec.get("source") or ((spec.get("sources") or [{}])[0])
        destination = spec.get("destination") or {}
        operation = "sync" if app.get("operation") else ""
        labels = (
            str(metadata.get("namespace") or ""), str(metadata.get("name") or ""), str(spec.get("project") or ""),
            str(source.get("repoURL") or ""), str(destination.get("server") or destination.get("name") or ""),
            str(destination.get("namespace") or ""), str((status.get("sync") or {}).get("status") or ""),
            str((status.get("health") or {}).get("status") or ""), operation,
        )
        key = (labels[0], labels[1])
        with self._lock:
            self._destinations[key] = labels[4]
            previous = self._info_labels.get(key)
            if previous == labels:
                return
            if previous is not None:
                self._info.remove(*previous)
            self._info.labels(*labels).set(1)
            self._info_labels[key] = labels

    def forget_app(self, namespace: str, name: str) -> None:
        with self._lock:
            self._destinations.pop((namespace, name), None)
            previous = self._info_labels.pop((namespace, name), None)
            if previous is not None:
                self._info.remove(*previous)

    # -- the runner's PassMetrics -------------------------------------------------------------------------

    def observe_reconcile(self, namespace: str, name: str, seconds: float) -> None:
        """One pass over an Application, in ``argocd_app_reconcile{namespace,dest_server}``."""
        with self._lock:
            destination = self._destinations.get((namespace, name), "")
        self._reconcile.labels(namespace, destination).observe(seconds)

    def count_error(self, namespace: str, name: str) -> None:
        with self._lock:
            self.errors += 1

    def forget(self, namespace: str, name: str) -> None:
        self.forget_app(namespace, name)

    def count_sync(self, app: JsonObject, phase: str) -> None:
        metadata = app.get("metadata") or {}
        spec = app.get("spec") or {}
        destination = spec.get("destination") or {}
        self._sync.labels(
            str(metadata.get("namespace") or ""), str(metadata.get("name") or ""), str(spec.get("project") or ""),
            phase, str(destination.get("server") or destination.get("name") or ""),
        ).inc()

    def count_git_request(self, repo: str, request_type: str) -> None:
        self._git.labels(repo, request_type).inc()
