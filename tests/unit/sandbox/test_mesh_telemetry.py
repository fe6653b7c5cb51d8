"""Istio's metrics as the mesh simulator exposes them: labels, buckets, reporters, series lifetime."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from sandbox.mesh_telemetry import (
    ISTIO_DURATION_BUCKETS_MS,
    ISTIO_LABELS,
    IstioTelemetry,
    SourceIdentity,
    format_bound,
    label_values,
)
from sandbox.mesh_traffic import Destination, Endpoint, RequestBatch

SOURCE = SourceIdentity()


def endpoint(name: str = "reviews-bbb-1", uid: str = "uid-1") -> Endpoint:
    return Endpoint(
        namespace="default",
        name=name,
        uid=uid,
        labels={"app": "reviews", "version": "v2"},
        images=("reviews:v2",),
        workload="reviews",
        app="reviews",
        version="v2",
        canonical_service="reviews",
        canonical_revision="v2",
    )


CANARY = Destination(
    key=("default", "reviews", "primary", "1", "reviews-canary", ""),
    service_namespace="default",
    service_name="reviews-canary",
    service_fqdn="reviews-canary.default.svc.cluster.local",
    subset="",
    requests_per_second=5.0,
    endpoints=(endpoint(),),
    failure_flag="-",
)


def batch(code: str = "200", latencies: tuple[float, ...] = (20.0,), pod: Endpoint | None = None) -> RequestBatch:
    return RequestBatch(CANARY, pod if pod is not None else endpoint(), code, "-", latencies)


def test_labels_are_istios() -> None:
    labels = dict(zip(ISTIO_LABELS, label_values("destination", SOURCE, batch("503")), strict=True))
    assert labels == {
        "reporter": "destination",
        "source_workload": "istio-ingressgateway",
        "source_workload_namespace": "istio-system",
        "source_principal": "unknown",
        "source_app": "istio-ingressgateway",
        "source_version": "unknown",
        "source_canonical_service": "istio-ingressgateway",
        "source_canonical_revision": "latest",
        "source_cluster": "Kubernetes",
        "destination_workload": "reviews",
        "destination_workload_namespace": "default",
        "destination_principal": "unknown",
        "destination_app": "reviews",
        "destination_version": "v2",
        "destination_service": "reviews-canary.default.svc.cluster.local",
        "destination_service_name": "reviews-canary",
        "destination_service_namespace": "default",
        "destination_canonical_service": "reviews",
        "destination_canonical_revision": "v2",
        "destination_cluster": "Kubernetes",
        "request_protocol": "http",
        "response_code": "503",
        "response_flags": "-",
        "connection_security_policy": "unknown",
    }


def test_a_request_that_reached_no_pod_is_reported_by_its_source_only_with_unknown_workload() -> None:
    telemetry = IstioTelemetry()
    no_pod = RequestBatch(CANARY, None, "503", "UH", (0.0, 0.0))
    telemetry.record_batch(no_pod, SOURCE, report_source=False)
    (series,) = telemetry.series()
    assert series["reporter"] == "source"
    assert (series["destination_workload"], series["destination_workload_namespace"]) == ("unknown", "unknown")
    assert (series["response_code"], series["response_flags"]) == ("503", "UH")
    assert series["destination_service"] == "reviews-canary.default.svc.cluster.local"
    assert telemetry.requests(response_flags="UH") == 2


def test_served_requests_are_reported_by_both_proxies_unless_source_reports_are_off() -> None:
    both, destination_only = IstioTelemetry(), IstioTelemetry()
    both.record_batch(batch(latencies=(1.0, 2.0, 3.0)), SOURCE)
    destination_only.record_batch(batch(latencies=(1.0, 2.0, 3.0)), SOURCE, report_source=False)
    assert both.requests(reporter="destination") == both.requests(reporter="source") == 3
    assert destination_only.requests(reporter="destination") == 3
    assert destination_only.requests(reporter="source") == 0


def test_bucket_bounds_are_written_as_envoy_writes_them() -> None:
    assert [format_bound(b) for b in ISTIO_DURATION_BUCKETS_MS] == [
        "0.5", "1", "5", "10", "25", "50", "100", "250", "500", "1000", "2500", "5000", "10000",
        "30000", "60000", "300000", "600000", "1.8e+06", "3.6e+06",
    ]  # fmt: skip


def test_the_exposition_has_the_counter_and_the_histogram() -> None:
    telemetry = IstioTelemetry()
    telemetry.record(label_values("destination", SOURCE, batch()), [0.2, 10.0, 30.0, 100.0, 4_000_000.0])
    registry = CollectorRegistry()
    registry.register(telemetry)
    text = generate_latest(registry).decode()
    families = {f.name: f for f in text_string_to_metric_families(text)}
    (total,) = families["istio_requests"].samples
    assert total.name == "istio_requests_total" and total.value == 5.0
    assert total.labels["destination_service"] == "reviews-canary.default.svc.cluster.local"
    samples = families["istio_request_duration_milliseconds"].samples
    buckets = {s.labels["le"]: s.value for s in samples if s.name.endswith("_bucket")}
    assert (buckets["0.5"], buckets["10"], buckets["25"], buckets["100"], buckets["3.6e+06"], buckets["+Inf"]) == (
        1.0,
        2.0,
        2.0,
        4.0,
        4.0,
        5.0,
    )
    count = next(s.value for s in samples if s.name.endswith("_count"))
    total_ms = next(s.value for s in samples if s.name.endswith("_sum"))
    assert (count, total_ms) == (5.0, 0.2 + 10.0 + 30.0 + 100.0 + 4_000_000.0)
    assert 'le="100"' in text  # a query on le="100" finds it, as it would Envoy's


def test_destination_series_go_with_the_last_pod_that_served_them() -> None:
    telemetry = IstioTelemetry()
    first, second = endpoint("reviews-bbb-1", "uid-1"), endpoint("reviews-bbb-2", "uid-2")
    telemetry.record_batch(batch(pod=first), SOURCE)
    telemetry.record_batch(batch(pod=second), SOURCE)  # same labels: one series, served by two pods
    telemetry.forget_owner("uid-1")
    assert telemetry.requests(reporter="destination") == 2
    telemetry.forget_owner("uid-2")
    assert telemetry.requests(reporter="destination") == 0
    assert telemetry.requests(reporter="source") == 2  # the gateway still has them


def test_requests_filters_only_on_istio_labels() -> None:
    with pytest.raises(ValueError, match="pod"):
        IstioTelemetry().requests(pod="x")
