"""Small builders for Rollout reconcile tests: manifests, owned ReplicaSets, Services, a VirtualService, analysis
templates, and a tiny in-memory cluster that carries out a Plan the way the controller would (merge patches,
creates, deletes) so a test can walk a Rollout through many passes — and plays the analysis controller when a test
says what a run measured (``finish_run``)."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from kube.merge_patch import apply_merge_patch
from kube.resources import (
    ANALYSIS_RUNS,
    DEPLOYMENTS,
    EXPERIMENTS,
    PODS,
    REPLICASETS,
    ROLLOUTS,
    SERVICES,
    VIRTUAL_SERVICES,
)
from rollouts.hashing import HASH_LABEL, pod_template_hash
from rollouts.plan import Create, Delete, Event, Patch, Plan
from rollouts.reconcile import decide
from rollouts.replicasets import REVISION_ANNOTATION, SCALE_DOWN_DEADLINE_ANNOTATION
from rollouts.services import MANAGED_BY_ANNOTATION
from rollouts.snapshot import RolloutSnapshot
from rollouts.traffic.router import TrafficRouter

JsonObject = dict[str, Any]

NAME = "reviews"
NAMESPACE = "default"
UID = "uid-reviews"
T0 = datetime(2024, 5, 1, 10, 0, 0, tzinfo=UTC)
STEPS_10_30_60: list[JsonObject] = [
    {"setWeight": 10},
    {"pause": {"duration": 60}},
    {"setWeight": 30},
    {"pause": {}},
    {"setWeight": 60},
    {"pause": {"duration": "2m"}},
]


def analysis_template(
    name: str = "success-rate",
    *,
    metrics: Sequence[str] = ("success-rate",),
    args: Sequence[JsonObject] = ({"name": "service-name"},),
    spec: Mapping[str, Any] | None = None,
    cluster: bool = False,
) -> JsonObject:
    """An AnalysisTemplate (or ClusterAnalysisTemplate) shaped like the seed's: Prometheus metrics over
    ``{{args.service-name}}``."""
    metric_specs = [
        {
            "name": metric,
            "interval": "1m",
            "successCondition": "result[0] >= 0.95",
            "provider": {
                "prometheus": {
                    "address": "http://prometheus:9090",
                    "query": 'sum(rate(istio_requests_total{destination_service=~"{{args.service-name}}"}[5m]))',
                }
            },
        }
        for metric in metrics
    ]
    metadata: JsonObject = {"name": name}
    if not cluster:
        metadata["namespace"] = NAMESPACE
    body: JsonObject = {"metrics": metric_specs, "args": copy.deepcopy(list(args))}
    body.update(copy.deepcopy(dict(spec or {})))
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "ClusterAnalysisTemplate" if cluster else "AnalysisTemplate",
        "metadata": metadata,
        "spec": body,
    }


def default_templates() -> dict[str, JsonObject]:
    """The templates the tests' analyses name when they do not bring their own."""
    return {
        "success-rate": analysis_template("success-rate"),
        "smoke": analysis_template("smoke", metrics=("smoke",), args=()),
        "smoke-test": analysis_template("smoke-test", metrics=("smoke",), args=()),
    }


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def template(image: str = "reviews:v1") -> JsonObject:
    return {
        "metadata": {"labels": {"app": NAME}},
        "spec": {"containers": [{"name": NAME, "image": image}]},
    }


def rollout(
    *,
    image: str = "reviews:v1",
    replicas: int = 5,
    steps: Sequence[JsonObject] | None = None,
    traffic_routing: bool = True,
    canary: Mapping[str, Any] | None = None,
    spec: Mapping[str, Any] | None = None,
    status: Mapping[str, Any] | None = None,
    generation: int = 1,
) -> JsonObject:
    """A canary Rollout: with traffic routing, Istio host-level through the `reviews` VirtualService."""
    strategy: JsonObject = {
        "canaryService": f"{NAME}-canary",
        "stableService": f"{NAME}-stable",
        "steps": copy.deepcopy(list(STEPS_10_30_60 if steps is None else steps)),
    }
    if traffic_routing:
        strategy["trafficRouting"] = {"istio": {"virtualService": {"name": NAME, "routes": ["primary"]}}}
    strategy.update(copy.deepcopy(dict(canary or {})))
    manifest = rollout_of({"canary": strategy}, image=image, replicas=replicas, spec=spec, generation=generation)
    if status is not None:
        manifest["status"] = copy.deepcopy(dict(status))
    return manifest


def rollout_of(strategy: JsonObject, *, image: str, replicas: int, spec: Mapping[str, Any] | None,
               generation: int) -> JsonObject:
    """The `reviews` Rollout around ``strategy`` (``{"canary": …}`` or ``{"blueGreen": …}``), ``spec`` merged in."""
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "metadata": {"name": NAME, "namespace": NAMESPACE, "uid": UID, "generation": generation},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": NAME}},
            "template": template(image),
            "strategy": strategy,
            **copy.deepcopy(dict(spec or {})),
        },
    }


def hash_of(image: str) -> str:
    return pod_template_hash(template(image))


def replica_set(
    image: str,
    *,
    replicas: int,
    available: int | None = None,
    revision: int = 1,
    created: datetime = T0,
    annotations: Mapping[str, str] | None = None,
) -> JsonObject:
    """A ReplicaSet the Rollout owns, running ``image``, with ``available`` of its pods available (default: all)."""
    pod_hash = hash_of(image)
    ready = replicas if available is None else available
    labels = {"app": NAME, HASH_LABEL: pod_hash}
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": f"{NAME}-{pod_hash}",
            "namespace": NAMESPACE,
            "uid": f"uid-{pod_hash}",
            "creationTimestamp": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "labels": labels,
            "annotations": {REVISION_ANNOTATION: str(revision), **dict(annotations or {})},
            "ownerReferences": [
                {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "name": NAME, "uid": UID, "controller": True}
            ],
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {**template(image), "metadata": {"labels": labels}},
        },
        "status": {"replicas": replicas, "readyReplicas": ready, "availableReplicas": ready},
    }


def service(name: str, *, selects: str | None = None, managed: bool = True) -> JsonObject:
    selector: JsonObject = {"app": NAME}
    if selects is not None:
        selector[HASH_LABEL] = selects
    metadata: JsonObject = {"name": name, "namespace": NAMESPACE}
    if managed:
        metadata["annotations"] = {MANAGED_BY_ANNOTATION: NAME}
    return {"apiVersion": "v1", "kind": "Service", "metadata": metadata, "spec": {"selector": selector}}


def services(*, canary: str | None = None, stable: str | None = None, managed: bool = True) -> dict[str, JsonObject]:
    return {
        f"{NAME}-canary": service(f"{NAME}-canary", selects=canary, managed=managed),
        f"{NAME}-stable": service(f"{NAME}-stable", selects=stable, managed=managed),
    }


def virtual_service(canary_weight: int = 0) -> JsonObject:
    return {
        "apiVersion": "networking.istio.io/v1beta1",
        "kind": "VirtualService",
        "metadata": {"name": NAME, "namespace": NAMESPACE},
        "spec": {
            "hosts": [NAME],
            "http": [
                {
                    "name": "primary",
                    "route": [
                        {"destination": {"host": f"{NAME}-stable"}, "weight": 100 - canary_weight},
                        {"destination": {"host": f"{NAME}-canary"}, "weight": canary_weight},
                    ],
                }
            ],
        },
    }


def canary_weight_in(vs: Mapping[str, Any]) -> int:
    for destination in vs["spec"]["http"][0]["route"]:
        if destination["destination"]["host"] == f"{NAME}-canary":
            return int(destination.get("weight", 0))
    raise AssertionError("no canary destination")


def snapshot(
    manifest: JsonObject,
    *,
    replica_sets: Iterable[JsonObject] = (),
    services_by_name: Mapping[str, JsonObject] | None = None,
    vs: JsonObject | None = None,
    pods: Iterable[JsonObject] = (),
    now: datetime = T0,
    analysis_runs: Iterable[JsonObject] = (),
    analysis_templates: Mapping[str, JsonObject] | None = None,
    cluster_analysis_templates: Mapping[str, JsonObject] | None = None,
) -> RolloutSnapshot:
    """One observation of ``manifest`` and the objects around it (by default: the Services and a VirtualService at
    rest, and the default analysis templates)."""
    return RolloutSnapshot(
        rollout=manifest,
        now=now,
        replica_sets=tuple(replica_sets),
        services=dict(services() if services_by_name is None else services_by_name),
        virtual_services={NAME: vs if vs is not None else virtual_service()},
        pods=tuple(pods),
        analysis_runs=tuple(analysis_runs),
        analysis_templates=dict(default_templates() if analysis_templates is None else analysis_templates),
        cluster_analysis_templates=dict(cluster_analysis_templates or {}),
    )


def reasons(plan: Plan) -> list[str]:
    return [event.reason for event in plan.events]


def messages(plan: Plan, reason: str) -> list[str]:
    return [event.message for event in plan.events if event.reason == reason]


def writes_of(plan: Plan, kind_name: str) -> list[Create | Patch | Delete]:
    return [write for write in plan.writes if write.kind.kind == kind_name]


# --- a tiny cluster --------------------------------------------------------------------------------


@dataclass
class Cluster:
    """The objects around one Rollout, changed only by carrying out Plans and by the test (pods becoming available).

    ReplicaSets never become available by themselves: ``settle()`` plays the ReplicaSet controller and kubelet.
    """

    rollout: JsonObject
    replica_sets: dict[str, JsonObject] = field(default_factory=dict)
    services: dict[str, JsonObject] = field(default_factory=lambda: services(managed=False))
    virtual_services: dict[str, JsonObject] = field(default_factory=lambda: {NAME: virtual_service(0)})
    pods: dict[str, JsonObject] = field(default_factory=dict)
    now: datetime = T0
    events: list[Event] = field(default_factory=list)
    route: TrafficRouter | None = None
    analysis_templates: dict[str, JsonObject] = field(default_factory=default_templates)
    cluster_analysis_templates: dict[str, JsonObject] = field(default_factory=dict)
    analysis_runs: dict[str, JsonObject] = field(default_factory=dict)
    experiments: dict[str, JsonObject] = field(default_factory=dict)
    background_errors_hold_promotion: bool = True
    deployments: dict[str, JsonObject] = field(default_factory=dict)
    """Workloads by name: what a Rollout's ``workloadRef`` names (a Deployment, or a ReplicaSet)."""

    def snapshot(self) -> RolloutSnapshot:
        workload_name = ((self.rollout.get("spec") or {}).get("workloadRef") or {}).get("name")
        workload = self.deployments.get(workload_name) if isinstance(workload_name, str) else None
        return RolloutSnapshot(
            rollout=copy.deepcopy(self.rollout),
            now=self.now,
            replica_sets=tuple(copy.deepcopy(rs) for rs in self.replica_sets.values()),
            services=copy.deepcopy(self.services),
            virtual_services=copy.deepcopy(self.virtual_services),
            pods=tuple(copy.deepcopy(pod) for pod in self.pods.values()),
            # Sorted by name, as the controller's cache hands them out.
            analysis_runs=tuple(copy.deepcopy(self.analysis_runs[name]) for name in sorted(self.analysis_runs)),
            experiments=tuple(copy.deepcopy(self.experiments[name]) for name in sorted(self.experiments)),
            analysis_templates=copy.deepcopy(self.analysis_templates),
            cluster_analysis_templates=copy.deepcopy(self.cluster_analysis_templates),
            background_errors_hold_promotion=self.background_errors_hold_promotion,
            workload=copy.deepcopy(workload),
        )

    def decide(self) -> Plan:
        snap = self.snapshot()
        return decide(snap) if self.route is None else decide(snap, routers={"istio": self.route})

    def apply(self, plan: Plan) -> None:
        for write in plan.writes:
            self._apply_write(write)
        if plan.status_patch is not None:
            self.rollout["status"] = apply_merge_patch(self.rollout.get("status") or {}, plan.status_patch)
        self.events.extend(plan.events)

    def reconcile(self) -> Plan:
        """One pass: decide, then carry out."""
        plan = self.decide()
        self.apply(plan)
        return plan

    def converge(self, *, limit: int = 30, settle: bool = True) -> list[Plan]:
        """Passes until one changes nothing, making ReplicaSets available after each when ``settle``."""
        plans: list[Plan] = []
        for _ in range(limit):
            plan = self.reconcile()
            plans.append(plan)
            if settle:
                self.settle()
            if plan.is_noop and (not settle or not self._unsettled_after(plan)):
                return plans
        raise AssertionError(f"no convergence in {limit} passes; last plan: {plans[-1]}")

    def _unsettled_after(self, plan: Plan) -> bool:
        return False

    def settle(self, *, only: str | None = None, available: int | None = None) -> None:
        """All pods of every ReplicaSet (or of the one running image ``only``) created, ready and available."""
        for name, rs in self.replica_sets.items():
            if only is not None and name != f"{NAME}-{hash_of(only)}":
                continue
            wanted = rs["spec"]["replicas"]
            ready = wanted if available is None else min(available, wanted)
            rs["status"] = {
                **rs.get("status", {}),
                "replicas": wanted,
                "readyReplicas": ready,
                "availableReplicas": ready,
            }

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    def set_spec(self, patch: JsonObject) -> None:
        """A user edit of the spec (bumps metadata.generation, as the API server does)."""
        self.rollout = apply_merge_patch(self.rollout, {"spec": patch})
        self.rollout["metadata"]["generation"] = self.rollout["metadata"].get("generation", 1) + 1

    def set_status(self, patch: JsonObject) -> None:
        """A CLI write to the status subresource (promote, abort, retry)."""
        self.rollout["status"] = apply_merge_patch(self.rollout.get("status") or {}, patch)

    @property
    def status(self) -> JsonObject:
        return dict(self.rollout.get("status") or {})

    def rs(self, image: str) -> JsonObject:
        return self.replica_sets[f"{NAME}-{hash_of(image)}"]

    def replicas_of(self, image: str) -> int:
        return int(self.rs(image)["spec"]["replicas"])

    @property
    def canary_weight(self) -> int:
        return canary_weight_in(self.virtual_services[NAME])

    def selector_hash(self, service_name: str) -> str | None:
        selected = self.services[service_name]["spec"]["selector"].get(HASH_LABEL)
        return str(selected) if selected is not None else None

    # -- playing the analysis controller ---------------------------------------------------------------------

    def runs(self, rollout_type: str | None = None) -> list[JsonObject]:
        """The AnalysisRuns, oldest first (by creation, then name), of one ``rollout-type`` label if given."""
        found = [
            run
            for run in self.analysis_runs.values()
            if rollout_type is None or run["metadata"]["labels"].get("rollout-type") == rollout_type
        ]
        return sorted(found, key=lambda run: (run["metadata"]["creationTimestamp"], run["metadata"]["name"]))

    def run(self, name: str) -> JsonObject:
        return self.analysis_runs[name]

    def finish_run(self, name: str, phase: str, message: str | None = None) -> None:
        """What the analysis controller writes when a run reaches ``phase`` (or ``Running``)."""
        status: JsonObject = {"phase": phase}
        if message is not None:
            status["message"] = message
        self.analysis_runs[name]["status"] = status

    def settle_runs(self) -> None:
        """Terminated runs end as the analysis controller ends them: Successful, "Run Terminated"."""
        for run in self.analysis_runs.values():
            phase = (run.get("status") or {}).get("phase") or "Pending"
            if run["spec"].get("terminate") and phase in ("Pending", "Running"):
                run["status"] = {"phase": "Successful", "message": "Run Terminated"}

    def _apply_write(self, write: Create | Patch | Delete) -> None:
        if isinstance(write, Create) and write.kind == ANALYSIS_RUNS:
            body = copy.deepcopy(write.body)
            name = body["metadata"]["name"]
            assert name not in self.analysis_runs, f"created AnalysisRun {name} twice"
            body["metadata"]["creationTimestamp"] = self.now.strftime("%Y-%m-%dT%H:%M:%SZ")
            body["metadata"]["uid"] = f"uid-{name}"
            self.analysis_runs[name] = body
        elif isinstance(write, Create) and write.kind == EXPERIMENTS:
            body = copy.deepcopy(write.body)
            name = body["metadata"]["name"]
            assert name not in self.experiments, f"created Experiment {name} twice"
            body["metadata"]["uid"] = f"uid-{name}"
            self.experiments[name] = body
        elif isinstance(write, Create):
            assert write.kind == REPLICASETS, write
            body = copy.deepcopy(write.body)
            name = body["metadata"]["name"]
            assert name not in self.replica_sets, f"created {name} twice"
            body["metadata"]["creationTimestamp"] = self.now.strftime("%Y-%m-%dT%H:%M:%SZ")
            body["metadata"]["uid"] = f"uid-{name}"
            body["status"] = {"replicas": 0, "readyReplicas": 0, "availableReplicas": 0}
            self.replica_sets[name] = body
        elif isinstance(write, Patch):
            store = self._store(write.kind)
            if write.kind == ROLLOUTS:
                self.rollout = apply_merge_patch(self.rollout, write.patch)
                return
            assert write.name in store, f"patch of missing {write.kind.kind} {write.name}"
            store[write.name] = apply_merge_patch(store[write.name], write.patch)
        else:
            store = self._store(write.kind)
            assert write.name in store, f"delete of missing {write.kind.kind} {write.name}"
            del store[write.name]

    def _store(self, kind: Any) -> dict[str, JsonObject]:
        if kind == REPLICASETS:
            return self.replica_sets
        if kind == SERVICES:
            return self.services
        if kind == VIRTUAL_SERVICES:
            return self.virtual_services
        if kind == PODS:
            return self.pods
        if kind == ANALYSIS_RUNS:
            return self.analysis_runs
        if kind == DEPLOYMENTS:
            return self.deployments
        if kind == EXPERIMENTS:
            return self.experiments
        if kind == ROLLOUTS:
            return {}
        raise AssertionError(f"unexpected write to {kind}")


def deadline_of(rs: Mapping[str, Any]) -> str | None:
    value = (rs.get("metadata", {}).get("annotations") or {}).get(SCALE_DOWN_DEADLINE_ANNOTATION)
    return str(value) if value is not None else None


def deployed(image: str = "reviews:v1", **rollout_options: Any) -> Cluster:
    """A cluster where ``image`` has been deployed and has settled (Healthy)."""
    cluster = Cluster(rollout=rollout(image=image, **rollout_options))
    cluster.converge()
    return cluster
