"""The controller's Prometheus metrics: Argo's names and labels, served over HTTP, removed with the Rollout."""

from __future__ import annotations

import urllib.request
from typing import Any

import pytest

from rollouts.controller.metrics import ControllerMetrics, metric_phase, strategy_and_router


def rollout(**spec: Any) -> dict[str, Any]:
    return {"metadata": {"namespace": "shop", "name": "reviews"}, "spec": spec}


ISTIO_CANARY = {"replicas": 5, "strategy": {"canary": {"trafficRouting": {"istio": {"virtualService": {}}}}}}
HEALTHY = {
    "replicas": 6,
    "availableReplicas": 4,
    "updatedReplicas": 5,
    "conditions": [{"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"}],
}


@pytest.mark.parametrize(
    ("conditions", "phase"),
    [
        ([], "Progressing"),
        ([{"type": "Progressing", "reason": "NewReplicaSetAvailable"}], "Completed"),
        ([{"type": "Progressing", "reason": "RolloutPaused"}], "Paused"),
        ([{"type": "Progressing", "reason": "RolloutAborted"}], "Abort"),
        ([{"type": "Progressing", "reason": "ProgressDeadlineExceeded"}], "Timeout"),
        ([{"type": "Progressing", "reason": "RolloutPaused"}, {"type": "InvalidSpec"}], "InvalidSpec"),
    ],
)
def test_the_phase_label_follows_argo(conditions: list[dict[str, str]], phase: str) -> None:
    assert metric_phase({"conditions": conditions}) == phase


def test_strategy_and_router_labels() -> None:
    assert strategy_and_router(ISTIO_CANARY) == ("canary", "Istio")
    assert strategy_and_router({"strategy": {"canary": {}}}) == ("canary", "")
    assert strategy_and_router({"strategy": {"blueGreen": {}}}) == ("blueGreen", "")
    assert strategy_and_router({}) == ("none", "")


def test_rollout_series_follow_the_status_and_go_with_the_rollout() -> None:
    metrics = ControllerMetrics()
    value = metrics.registry.get_sample_value
    key = {"namespace": "shop", "name": "reviews"}
    info = {**key, "strategy": "canary", "traffic_router": "Istio"}

    metrics.observe_rollout(rollout(**ISTIO_CANARY), {"conditions": []})
    metrics.observe_rollout(rollout(**ISTIO_CANARY), HEALTHY)
    metrics.count_event("shop", "reviews", "Normal", "RolloutCompleted")
    metrics.count_error("shop", "reviews")

    assert value("rollout_info", {**info, "phase": "Completed"}) == 1
    assert value("rollout_info", {**info, "phase": "Progressing"}) is None  # the old phase's series is gone
    assert value("rollout_info_replicas_available", key) == 4
    assert value("rollout_info_replicas_unavailable", key) == 2
    assert value("rollout_info_replicas_desired", key) == 5
    assert value("rollout_info_replicas_updated", key) == 5
    assert value("rollout_events_total", {**key, "type": "Normal", "reason": "RolloutCompleted"}) == 1
    assert value("rollout_reconcile_error", key) == 1

    metrics.forget("shop", "reviews")
    for name in ("rollout_info_replicas_available", "rollout_reconcile_error"):
        assert value(name, key) is None
    assert value("rollout_info", {**info, "phase": "Completed"}) is None
    assert value("rollout_events_total", {**key, "type": "Normal", "reason": "RolloutCompleted"}) is None


def test_metrics_are_served_over_http_under_argos_names() -> None:
    metrics = ControllerMetrics()
    metrics.observe_rollout(rollout(**ISTIO_CANARY), HEALTHY)
    metrics.observe_reconcile("shop", "reviews", 0.02)
    metrics.count_error("shop", "reviews")
    server = metrics.serve(0, "127.0.0.1")
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/metrics", timeout=5) as response:
            text = response.read().decode()
    finally:
        server.close()
    assert (
        'rollout_info{name="reviews",namespace="shop",phase="Completed",strategy="canary",traffic_router="Istio"} 1.0'
        in text
    )
    assert 'rollout_reconcile_error{name="reviews",namespace="shop"} 1.0' in text
    assert 'rollout_reconcile_bucket{le="0.15",name="reviews",namespace="shop"} 1.0' in text
    assert "rollout_info_replicas_unavailable" in text
