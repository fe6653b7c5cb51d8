"""The simulated mesh scraped by a real Prometheus: the analysis query users write reads a canary's health.

One sandbox and one Prometheus for the module (Prometheus needs about 6 s to its first sample). Two apps run
side by side, each a stable and a canary ReplicaSet behind their own Services, split 90/10 by a
VirtualService: `reviews` with a good canary, `ratings` with one failing 40 % of its requests, slowly.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import yaml

from sandbox.cluster import SandboxThread
from sandbox.mesh_traffic import VersionProfile

pytestmark = [pytest.mark.prometheus]

T = TypeVar("T")
HASH = "rollouts-pod-template-hash"
MERGE = {"Content-Type": "application/merge-patch+json"}
VS_PATH = "/apis/networking.istio.io/v1alpha3/namespaces/default/virtualservices"
SEED_TEMPLATE = "analysistemplate-success-rate.yaml"
# The seed template's query, used when the shared corpus is not beside the repository.
SEED_QUERY = """\
sum(rate(istio_requests_total{
  destination_service=~"{{args.service-name}}",
  response_code!~"5.*"
}[5m]))
/
sum(rate(istio_requests_total{
  destination_service=~"{{args.service-name}}"
}[5m]))
"""
P99_LATENCY = (
    "histogram_quantile(0.99, sum(rate(istio_request_duration_milliseconds_bucket"
    '{{reporter="destination",destination_service=~"{service}"}}[10s])) by (le))'
)
BAD = VersionProfile(error_rate=0.4, latency_ms=300.0, latency_jitter_ms=20.0)


def fqdn(service: str) -> str:
    return f"{service}.default.svc.cluster.local"


def seed_query() -> str:
    # Found as tests/corpus.py finds the corpus, which this directory (not a package) cannot import.
    corpus = os.environ.get("ROLLOUTS_CORPUS_DIR") or Path(__file__).resolve().parents[3].parent / "shared" / "corpus"
    path = Path(corpus) / "seeds" / SEED_TEMPLATE
    if not path.is_file():
        return SEED_QUERY
    template = yaml.safe_load(path.read_text(encoding="utf-8"))
    return str(template["spec"]["metrics"][0]["provider"]["prometheus"]["query"])


# The seed AnalysisTemplate's query, unchanged but for its window, shortened from 5m to 10s.
SUCCESS_RATE = seed_query().replace("[5m]", "[10s]")


def success_rate(service_name: str) -> str:
    """The query with the template argument filled in; Istio's destination_service is the FQDN."""
    return SUCCESS_RATE.replace("{{args.service-name}}", service_name)


def replica_set(app: str, version_hash: str, image: str, replicas: int) -> dict[str, Any]:
    labels = {"app": app, HASH: version_hash, "version": version_hash}
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": f"{app}-{version_hash}", "labels": labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": app, "image": image}]}},
        },
    }


def service(name: str, app: str, version_hash: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name},
        "spec": {"selector": {"app": app, HASH: version_hash}, "ports": [{"port": 80, "targetPort": 8080}]},
    }


def http_routes(app: str, stable: int, canary: int) -> list[dict[str, Any]]:
    return [
        {
            "name": "primary",
            "route": [
                {"destination": {"host": f"{app}-stable"}, "weight": stable},
                {"destination": {"host": f"{app}-canary"}, "weight": canary},
            ],
        }
    ]


def virtual_service(app: str) -> dict[str, Any]:
    return {
        "apiVersion": "networking.istio.io/v1alpha3",
        "kind": "VirtualService",
        "metadata": {"name": app},
        "spec": {"hosts": [app], "http": http_routes(app, 90, 10)},
    }


def eventually(fetch: Callable[[], T], predicate: Callable[[T], bool], timeout: float) -> T:
    """Poll `fetch` until `predicate` holds; fail with the last value after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if predicate(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not met within {timeout}s; last value: {value!r}")
        time.sleep(0.25)


@pytest.fixture(scope="module")
def cluster() -> Iterator[SandboxThread]:
    with SandboxThread(ready_delay=0.05, mesh=True, prometheus=True, mesh_profiles={"ratings:v2": BAD}) as thread:
        with httpx.Client(base_url=thread.url) as api:
            for app in ("reviews", "ratings"):
                for body in (replica_set(app, "aaa", f"{app}:v1", 3), replica_set(app, "bbb", f"{app}:v2", 1)):
                    api.post("/apis/apps/v1/namespaces/default/replicasets", json=body).raise_for_status()
                for name, version_hash in ((f"{app}-stable", "aaa"), (f"{app}-canary", "bbb")):
                    api.post(
                        "/api/v1/namespaces/default/services", json=service(name, app, version_hash)
                    ).raise_for_status()

            # Routes only once the pods are ready: before, the canary's requests would fail with UH.
            def ready_pods() -> int:
                pods = api.get("/api/v1/namespaces/default/pods").json()["items"]
                return sum(p.get("status", {}).get("phase") == "Running" for p in pods)

            eventually(ready_pods, lambda n: n == 8, timeout=10)
            for app in ("reviews", "ratings"):
                api.post(VS_PATH, json=virtual_service(app)).raise_for_status()
        yield thread


def value(cluster: SandboxThread, promql: str) -> float | None:
    """The single value of an instant query; None when the result is empty."""
    result = cluster.prometheus.query(promql)
    assert len(result) <= 1, result
    return float(result[0]["value"][1]) if result else None


def test_prometheus_scrapes_the_mesh(cluster: SandboxThread) -> None:
    (up,) = cluster.prometheus.query('up{job="istio-mesh"}')
    assert up["value"][1] == "1" and up["metric"]["instance"] == cluster.mesh.metrics_target


def test_the_success_rate_query_tells_a_good_canary_from_a_bad_one(cluster: SandboxThread) -> None:
    def both() -> tuple[float | None, float | None]:
        return value(cluster, success_rate(fqdn("reviews-canary"))), value(
            cluster, success_rate(fqdn("ratings-canary"))
        )

    good, bad = eventually(
        both,
        lambda v: v[0] is not None and v[1] is not None and abs(v[1] - 0.6) < 0.04,
        timeout=20,
    )
    assert good == 1.0
    assert bad == pytest.approx(0.6, abs=0.04)
    # Stable versions are fine; a short service name matches nothing, as in a real mesh.
    assert value(cluster, success_rate(fqdn("ratings-stable"))) == 1.0
    assert value(cluster, success_rate("ratings-canary")) is None


def test_destination_reported_workload_success_rate_and_latency(cluster: SandboxThread) -> None:
    # Flagger's shape: by workload, as the serving proxies report it. Rollout pods are one workload (Istio
    # 1.22+), so this is the stable's 90 % at no errors plus the canary's 10 % at 40 %: 96 %.
    workload = 'reporter="destination",destination_workload_namespace="default",destination_workload="ratings"'
    query = (
        f'sum(rate(istio_requests_total{{{workload},response_code!~"5.*"}}[10s]))'
        f" / sum(rate(istio_requests_total{{{workload}}}[10s]))"
    )
    assert eventually(lambda: value(cluster, query), lambda v: v is not None and abs(v - 0.96) < 0.01, timeout=15)
    slow = value(cluster, P99_LATENCY.format(service=fqdn("ratings-canary")))
    fast = value(cluster, P99_LATENCY.format(service=fqdn("reviews-canary")))
    assert slow is not None and 250 < slow <= 500  # 300 ± 20 ms falls in Istio's 250–500 bucket
    assert fast is not None and 10 < fast <= 25  # 20 ± 5 ms


def test_weights_moved_off_the_canary_leave_its_query_nan(cluster: SandboxThread) -> None:
    """After an abort (canary weight 0, stable 100) the canary's series stay, frozen: the rate of both sides of
    the ratio falls to 0 once the window has passed, and 0/0 is NaN — a value, not an empty result. An
    analysis condition such as `result[0] >= 0.95` is then false."""
    with httpx.Client(base_url=cluster.url) as api:
        patch = {"spec": {"http": http_routes("reviews", 100, 0)}}
        api.patch(f"{VS_PATH}/reviews", json=patch, headers=MERGE).raise_for_status()
    canary = eventually(
        lambda: value(cluster, success_rate(fqdn("reviews-canary"))),
        lambda v: v is not None and math.isnan(v),
        timeout=20,
    )
    assert canary is not None and math.isnan(canary)
    requests = value(
        cluster, f'sum(rate(istio_requests_total{{destination_service=~"{fqdn("reviews-canary")}"}}[10s]))'
    )
    assert requests == 0.0
    # The stable now takes everything: 50 rps, as its own proxies count them.
    stable = fqdn("reviews-stable")
    served = value(
        cluster, f'sum(rate(istio_requests_total{{reporter="destination",destination_service="{stable}"}}[10s]))'
    )
    assert served == pytest.approx(50.0, rel=0.1)
