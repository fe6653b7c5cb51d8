"""``kube.metrics_export.ReconcileMetrics`` as a controller runner records into it: Argo Rollouts' per-object
``<prefix>_reconcile`` histogram and ``<prefix>_reconcile_error`` counter."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from kube.controller_runner import PassMetrics
from kube.metrics_export import ReconcileMetrics


def _metrics(registry: CollectorRegistry) -> PassMetrics:
    # Typed as the runner's protocol: mypy proves ReconcileMetrics is one without a wrapper.
    return ReconcileMetrics(registry, "experiment", reconcile_help="passes", error_help="failed passes")


def test_a_pass_is_one_observation_of_the_objects_reconcile_histogram() -> None:
    registry = CollectorRegistry()
    _metrics(registry).observe_reconcile("team", "exp", 0.2)
    labels = {"namespace": "team", "name": "exp"}
    assert registry.get_sample_value("experiment_reconcile_count", labels) == 1.0
    assert registry.get_sample_value("experiment_reconcile_sum", labels) == 0.2
    # Argo's buckets are 0.01, 0.15, 0.25, 0.5 and 1 s: a 0.2 s pass falls in the 0.25 one and not the 0.15 one.
    assert registry.get_sample_value("experiment_reconcile_bucket", {**labels, "le": "0.15"}) == 0.0
    assert registry.get_sample_value("experiment_reconcile_bucket", {**labels, "le": "0.25"}) == 1.0


def test_a_failed_pass_counts_under_the_exact_error_name() -> None:
    registry = CollectorRegistry()
    metrics = _metrics(registry)
    metrics.count_error("team", "exp")
    metrics.count_error("team", "exp")
    assert registry.get_sample_value("experiment_reconcile_error", {"namespace": "team", "name": "exp"}) == 2.0
