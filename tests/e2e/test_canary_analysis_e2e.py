"""Analysis verdicts promote or roll back, end to end: the real controllers in the sandbox, the mesh simulator
sending traffic along the Rollout's VirtualService, and a real Prometheus scraping the mesh's Istio metrics.

The manifests are the seeds (`analysistemplate-success-rate.yaml`, `rollout-istio-canary.yaml`, the blue-green
strategy), written out here so the test does not read the shared corpus, with what a test needs changed: the
template's interval is 1 s and its rate window 10 s instead of 5 m (the query is otherwise the seed's), its
``address`` is the sandbox's Prometheus; the pauses last seconds; ``service-name`` is the canary Service's FQDN,
which is what Istio's ``destination_service`` label holds. A version whose image is ``reviews:v2-bad`` fails 40 % of
its requests (a mesh profile by image).

Every scenario runs in a namespace of its own, in one sandbox for the module; the scenario that stops Prometheus
comes last.
"""

from __future__ import annotations

import copy
import re
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

# tests/e2e is not a package; the shared harness lives in the `tests` package at the repository root.
_REPO_ROOT = str(Path(__file__).resolve().parents[2])
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

from kube.resources import (  # noqa: E402
    ANALYSIS_RUNS,
    ANALYSIS_TEMPLATES,
    ROLLOUTS,
    SERVICES,
    VIRTUAL_SERVICES,
    ResourceKind,
)
from sandbox.mesh_traffic import VersionProfile  # noqa: E402
from sandbox.prometheus import PrometheusNotInstalled, find_prometheus_binary  # noqa: E402
from tests.rollout_harness import (  # noqa: E402
    HASH_LABEL,
    RolloutCluster,
    load_decide,
    route_weights,
    service,
    weight_sequence,
)

JsonObject = dict[str, Any]

try:
    find_prometheus_binary()
    PROMETHEUS_MISSING = ""
except PrometheusNotInstalled as error:
    PROMETHEUS_MISSING = f"needs the prometheus binary (Debian package `prometheus`): {error}"

pytestmark = [
    pytest.mark.prometheus,
    pytest.mark.skipif(bool(PROMETHEUS_MISSING), reason=PROMETHEUS_MISSING or "prometheus is installed"),
]

BAD_IMAGE = "reviews:v2-bad"
BAD = VersionProfile(error_rate=0.4)
# The canary weight must be back at 0 this soon after the failing measurement is recorded.
ABORT_LATENCY_LIMIT = 2.0
TIMEOUT = 60.0

SEED_TEMPLATE = """
apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata:
  name: success-rate
spec:
  args:
    - name: service-name
  metrics:
    - name: success-rate
      interval: 1m
      successCondition: result[0] >= 0.95
      provider:
        prometheus:
          address: http://prometheus:9090
          query: |
            sum(rate(istio_requests_total{
              destination_service=~"{{args.service-name}}",
              response_code!~"5.*"
            }[5m]))
            /
            sum(rate(istio_requests_total{
              destination_service=~"{{args.service-name}}"
            }[5m]))
"""

SEED_ROLLOUT = """
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: reviews
spec:
  replicas: 5
  strategy:
    canary:
      canaryService: reviews-canary
      stableService: reviews-stable
      trafficRouting:
        istio:
          virtualServices:
            - name: reviews
              routes:
                - primary
      steps:
        - setWeight: 10
        - pause: { duration: 5m }
        - setWeight: 30
        - pause: { duration: 5m }
        - setWeight: 60
        - pause: { duration: 5m }
      analysis:
        templates:
          - templateName: success-rate
        startingStep: 2
        args:
          - name: service-name
            value: reviews-canary
  selector:
    matchLabels:
      app: reviews
  template:
    metadata:
      labels:
        app: reviews
    spec:
      containers:
        - name: reviews
          image: reviews:v2
"""

SEED_BLUE_GREEN = """
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: reviews-bg
spec:
  replicas: 3
  selector:
    matchLabels:
      app: reviews-bg
  template:
    metadata:
      labels:
        app: reviews-bg
    spec:
      containers:
        - name: reviews
          image: reviews:v2
  strategy:
    blueGreen:
      activeService: reviews-active
      previewService: reviews-preview
      autoPromotionEnabled: false
      prePromotionAnalysis:
        templates:
          - templateName: smoke-test
"""


# -- manifests -----------------------------------------------------------------------------------------------


def fqdn(service_name: str, namespace: str) -> str:
    return f"{service_name}.{namespace}.svc.cluster.local"


def success_rate_template(address: str, **metric_fields: Any) -> JsonObject:
    """The seed template with a 1 s interval, a 10 s rate window and the sandbox's Prometheus."""
    template: JsonObject = yaml.safe_load(SEED_TEMPLATE)
    metric = template["spec"]["metrics"][0]
    metric["interval"] = "1s"
    prometheus = metric["provider"]["prometheus"]
    prometheus["address"] = address
    prometheus["query"] = prometheus["query"].replace("[5m]", "[10s]")
    metric.update(metric_fields)
    return template


def canary_rollout(namespace: str, *, pauses: tuple[int, int, int] = (3, 3, 3)) -> JsonObject:
    """The seed Rollout at `reviews:v1`, its pauses shortened, analysing the canary Service by its FQDN."""
    rollout: JsonObject = yaml.safe_load(SEED_ROLLOUT)
    canary = rollout["spec"]["strategy"]["canary"]
    for step, seconds in zip((s for s in canary["steps"] if "pause" in s), pauses, strict=True):
        step["pause"]["duration"] = seconds
    canary["analysis"]["args"][0]["value"] = fqdn("reviews-canary", namespace)
    rollout["spec"]["template"]["spec"]["containers"][0]["image"] = "reviews:v1"
    return rollout


def route_to(name: str, destinations: dict[str, int]) -> JsonObject:
    """A VirtualService `name` with one HTTP route `primary` over ``destinations`` (host: weight)."""
    route = [{"destination": {"host": host}, "weight": weight} for host, weight in destinations.items()]
    return {
        "apiVersion": "networking.istio.io/v1alpha3",
        "kind": "VirtualService",
        "metadata": {"name": name},
        "spec": {"hosts": [name], "http": [{"name": "primary", "route": route}]},
    }


# -- observing ---------------------------------------------------------------------------------------------


@dataclass(eq=False)  # the store keeps its subscribers in a set
class TimedRecorder:
    """Every stored version of one kind's objects in one namespace, with the moment it was stored."""

    namespace: str
    versions: list[tuple[float, JsonObject]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def offer(self, event: Any) -> None:
        obj = event.object
        if str(event.type) != "DELETED" and (obj.get("metadata") or {}).get("namespace") == self.namespace:
            with self._lock:
                self.versions.append((time.monotonic(), copy.deepcopy(obj)))

    def close(self) -> None:
        pass

    def of(self, name: str) -> list[tuple[float, JsonObject]]:
        with self._lock:
            return [(moment, obj) for moment, obj in self.versions if obj["metadata"]["name"] == name]


def record(cluster: RolloutCluster, kind: ResourceKind, namespace: str) -> TimedRecorder:
    """Record, as the API server stores them, the versions of ``kind`` objects in ``namespace`` from now on."""
    emulator = cluster.sandbox.emulator
    spec = emulator.registry.get(kind.group, kind.version, kind.plural)
    assert spec is not None, f"{kind.plural} not registered"
    recorder = TimedRecorder(namespace)
    emulator.store.subscribe(spec.storage_key, recorder, None)
    return recorder


def runs_of(cluster: RolloutCluster, namespace: str, rollout_type: str) -> list[JsonObject]:
    return [
        run
        for run in cluster.list(ANALYSIS_RUNS, namespace)
        if run["metadata"].get("labels", {}).get("rollout-type") == rollout_type
    ]


def metric_result(run: JsonObject) -> JsonObject:
    results: list[JsonObject] = (run.get("status") or {}).get("metricResults") or []
    return results[0] if results else {}


def events(cluster: RolloutCluster, namespace: str, reason: str) -> list[JsonObject]:
    return [event for event in cluster.events(namespace) if event.get("reason") == reason]


def selects(cluster: RolloutCluster, namespace: str, service_name: str) -> str | None:
    return cluster.must_get(SERVICES, namespace, service_name)["spec"]["selector"].get(HASH_LABEL)


def status_line(cluster: RolloutCluster, namespace: str, name: str) -> str:
    status = cluster.status(namespace, name)
    return f"phase={status.get('phase')!r} message={status.get('message')!r} step={status.get('currentStepIndex')}"


# -- the sandbox ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mesh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RolloutCluster]:
    running = RolloutCluster(
        tmp_path_factory.mktemp("e2e-analysis"),
        ready_delay=0.1,
        mesh=True,
        prometheus=True,
        mesh_profiles={BAD_IMAGE: BAD},
    )
    running.start(load_decide())
    try:
        yield running
    finally:
        running.stop()


def deploy_canary(cluster: RolloutCluster, *, pauses: tuple[int, int, int] = (3, 3, 3), **metric: Any) -> str:
    """A namespace with the seed template and Rollout deployed at `reviews:v1` (Healthy, traffic flowing)."""
    namespace = cluster.new_namespace("e2e")
    cluster.create(ANALYSIS_TEMPLATES, namespace, success_rate_template(cluster.sandbox.prometheus.url, **metric))
    cluster.create(SERVICES, namespace, service("reviews-canary", "reviews"))
    cluster.create(SERVICES, namespace, service("reviews-stable", "reviews"))
    cluster.create(VIRTUAL_SERVICES, namespace, route_to("reviews", {"reviews-stable": 100, "reviews-canary": 0}))
    cluster.create(ROLLOUTS, namespace, canary_rollout(namespace, pauses=pauses))
    cluster.wait_for_phase(namespace, "reviews", "Healthy", timeout=TIMEOUT)
    return namespace


def background_run(cluster: RolloutCluster, namespace: str) -> JsonObject:
    found = cluster.wait_for(
        lambda: runs_of(cluster, namespace, "Background"), "the background AnalysisRun", timeout=TIMEOUT
    )
    assert len(found) == 1, [run["metadata"]["name"] for run in found]
    return dict(found[0])


# -- (a) a healthy version --------------------------------------------------------------------------------------


def test_a_healthy_version_passes_every_measurement_and_is_promoted(mesh: RolloutCluster) -> None:
    namespace = deploy_canary(mesh)
    weights = mesh.record(VIRTUAL_SERVICES, namespace)
    stable = mesh.status(namespace, "reviews")["stableRS"]

    mesh.set_image(namespace, "reviews", "reviews:v2")

    status = mesh.wait_for_phase(namespace, "reviews", "Healthy", timeout=TIMEOUT)
    new = status["currentPodHash"]
    assert new != stable and status["stableRS"] == new
    # Once promoted, the new version is the stable one behind both Services: the canary's share goes back to 0.
    mesh.wait_for(
        lambda: route_weights(mesh.must_get(VIRTUAL_SERVICES, namespace, "reviews"))["reviews-canary"] == 0
        and selects(mesh, namespace, "reviews-stable") == new,
        "the stable Service on the new version and the weights back to it",
    )
    assert weight_sequence(weights.versions("reviews"), "reviews-canary") == [10, 30, 60, 100, 0]

    run = background_run(mesh, namespace)
    assert run["metadata"]["name"] == f"reviews-{new}-2"
    assert run["metadata"]["labels"]["rollout-type"] == "Background"
    assert run["spec"]["args"] == [{"name": "service-name", "value": fqdn("reviews-canary", namespace)}]
    # The update did not wait for the analysis: the run measuring until then was terminated, as Successful. (The
    # termination is written in the same pass as the routes, after them: wait for it rather than race it.)
    mesh.wait_for(
        lambda: mesh.must_get(ANALYSIS_RUNS, namespace, run["metadata"]["name"])["spec"].get("terminate") is True,
        "the background run to be terminated",
    )
    run = mesh.wait_for(
        lambda: (r := mesh.must_get(ANALYSIS_RUNS, namespace, run["metadata"]["name"]))["status"].get("phase")
        == "Successful"
        and r,
        "the background run to end",
    )
    result = metric_result(run)
    assert result["count"] >= 1 and result["successful"] == result["count"], result
    assert (result.get("failed", 0), result.get("error", 0), result.get("inconclusive", 0)) == (0, 0, 0)
    assert not events(mesh, namespace, "RolloutAborted")


# -- (b) a version failing 40 % of its requests -------------------------------------------------------------------


def test_a_failing_version_is_aborted_within_two_seconds_of_the_failing_measurement(mesh: RolloutCluster) -> None:
    namespace = deploy_canary(mesh)
    runs = record(mesh, ANALYSIS_RUNS, namespace)
    routes = record(mesh, VIRTUAL_SERVICES, namespace)
    stable = mesh.status(namespace, "reviews")["stableRS"]

    mesh.set_image(namespace, "reviews", BAD_IMAGE)

    status = mesh.wait_for_phase(namespace, "reviews", "Degraded", timeout=TIMEOUT)
    assert status["abort"] is True and status["stableRS"] == stable
    run_name = background_run(mesh, namespace)["metadata"]["name"]
    message = status["message"]
    reason = f"Background analysis phase Failed: AnalysisRun {run_name}: "
    assert message.startswith(f"RolloutAborted: Rollout aborted update to revision 2: {reason}")
    assert 'Metric "success-rate" assessed Failed due to failed (1) > failureLimit (0)' in message
    assert "does not satisfy result[0] >= 0.95" in message
    # The value measured: 40 % of the canary's requests fail, so about 0.6 (the rate window's edges move it a little).
    measured = re.search(r"success-rate: ([0-9.]+) does not satisfy", message)
    assert measured is not None and 0.45 <= float(measured.group(1)) <= 0.75

    # The failing measurement as the analysis controller recorded it, and the route back to stable after it.
    failed_at = next(
        moment
        for moment, version in runs.of(run_name)
        if any(m.get("phase") == "Failed" for m in metric_result(version).get("measurements") or [])
    )
    routed = mesh.wait_for(
        lambda: next(
            (
                moment
                for moment, version in routes.of("reviews")
                if moment >= failed_at and route_weights(version)["reviews-canary"] == 0
            ),
            None,
        ),
        "the canary weight back at 0",
    )
    latency = routed - failed_at
    print(f"\nabort latency: canary weight 0 written {latency * 1000:.0f} ms after the failing measurement")
    assert latency < ABORT_LATENCY_LIMIT, f"the canary weight went back to 0 only {latency:.2f}s later"
    assert max(route_weights(version)["reviews-canary"] for _, version in routes.of("reviews")) > 0

    assert selects(mesh, namespace, "reviews-canary") == stable
    aborted = mesh.wait_for(lambda: events(mesh, namespace, "RolloutAborted"), "the RolloutAborted Event")
    assert aborted[0]["type"] == "Warning"
    assert f"success-rate: {measured.group(1)} does not satisfy result[0] >= 0.95" in aborted[0]["message"]
    failed = mesh.wait_for(lambda: events(mesh, namespace, "AnalysisRunFailed"), "the AnalysisRunFailed Event")
    rollout_failed = [event for event in failed if event["involvedObject"]["kind"] == "Rollout"]
    assert rollout_failed and rollout_failed[0]["type"] == "Warning"
    assert rollout_failed[0]["message"] in aborted[0]["message"]


# -- (d) blue-green: a failing pre-promotion analysis ---------------------------------------------------------


def test_a_failing_pre_promotion_analysis_never_switches_the_active_service(mesh: RolloutCluster) -> None:
    namespace = mesh.new_namespace("e2e-bg")
    template = success_rate_template(mesh.sandbox.prometheus.url, count=5)
    template["metadata"]["name"] = "smoke-test"
    mesh.create(ANALYSIS_TEMPLATES, namespace, template)
    rollout: JsonObject = yaml.safe_load(SEED_BLUE_GREEN)
    rollout["spec"]["template"]["spec"]["containers"][0]["image"] = "reviews:v1"
    analysis = rollout["spec"]["strategy"]["blueGreen"]["prePromotionAnalysis"]
    analysis["args"] = [{"name": "service-name", "value": fqdn("reviews-preview", namespace)}]
    for name in ("reviews-active", "reviews-preview"):
        mesh.create(SERVICES, namespace, service(name, "reviews-bg"))
        # People test the preview through it: traffic for the analysis to measure.
        mesh.create(VIRTUAL_SERVICES, namespace, route_to(name, {name: 100}))
    mesh.create(ROLLOUTS, namespace, rollout)
    stable = mesh.wait_for_phase(namespace, "reviews-bg", "Healthy", timeout=TIMEOUT)["stableRS"]
    services = mesh.record(SERVICES, namespace)

    mesh.set_image(namespace, "reviews-bg", BAD_IMAGE)

    status = mesh.wait_for_phase(namespace, "reviews-bg", "Degraded", timeout=TIMEOUT)
    new = status["currentPodHash"]
    (run,) = runs_of(mesh, namespace, "PrePromotion")
    assert run["metadata"]["name"] == f"reviews-bg-{new}-2-pre"
    assert status["message"].startswith(
        f"RolloutAborted: Rollout aborted update to revision 2: Pre-promotion analysis phase Failed: "
        f"AnalysisRun reviews-bg-{new}-2-pre: "
    )
    assert "does not satisfy result[0] >= 0.95" in status["message"]
    assert status["blueGreen"]["prePromotionAnalysisRunStatus"]["status"] == "Failed"
    assert selects(mesh, namespace, "reviews-active") == stable
    active_history = {
        version["spec"]["selector"].get(HASH_LABEL) for version in services.versions("reviews-active")
    }
    assert new not in active_history, "the active Service selected the failed version at some point"
    assert status["stableRS"] == stable


# -- (c) Prometheus goes away ---------------------------------------------------------------------------------


def test_an_unreachable_prometheus_ends_in_error_and_an_abort_never_a_promotion(mesh: RolloutCluster) -> None:
    # The pause after 30 % outlasts the analysis' error retries (10 s apart): without the Error verdict the update
    # would be completed by the time the test gives up.
    namespace = deploy_canary(mesh, pauses=(3, 120, 3), consecutiveErrorLimit=2)
    stable = mesh.status(namespace, "reviews")["stableRS"]
    mesh.set_image(namespace, "reviews", "reviews:v2")
    run_name = background_run(mesh, namespace)["metadata"]["name"]
    mesh.wait_for(
        lambda: metric_result(mesh.must_get(ANALYSIS_RUNS, namespace, run_name)).get("successful", 0) >= 1,
        "a first successful measurement",
        timeout=TIMEOUT,
    )

    mesh.sandbox.prometheus.stop()

    status = mesh.wait_for_phase(namespace, "reviews", "Degraded", timeout=TIMEOUT)
    assert status["abort"] is True
    assert status["stableRS"] == stable and status["currentStepIndex"] == 0
    message = status["message"]
    assert f"Background analysis phase Error: AnalysisRun {run_name}: " in message
    assert 'Metric "success-rate" assessed Error due to consecutiveErrors (3) > consecutiveErrorLimit (2)' in message
    result = metric_result(mesh.must_get(ANALYSIS_RUNS, namespace, run_name))
    assert result["error"] == 3 and result["successful"] >= 1
    assert route_weights(mesh.must_get(VIRTUAL_SERVICES, namespace, "reviews"))["reviews-canary"] == 0
    assert not [
        event for event in events(mesh, namespace, "RolloutCompleted") if "revision 2" in event.get("message", "")
    ]
    assert status_line(mesh, namespace, "reviews").startswith("phase='Degraded'")
