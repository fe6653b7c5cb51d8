"""The controller's RBAC is exactly what the controllers ask for.

The real controller process (the Rollout and analysis controllers under kopf, as `rollouts controller` assembles
them) runs against the sandbox through an auditing proxy (``tests.request_audit``), which records every request it
makes in the API server's authorization terms. A representative slice of the scenarios runs meanwhile: canaries
with Istio host and subset splits, a revision history cleanup, an abort, a restart, blue-green with pod metadata,
a canary with background and step analysis from an AnalysisTemplate and a ClusterAnalysisTemplate, and AnalysisRuns
measured by the web and the job providers with an argument from a Secret. Then:

- every (verb, group, resource) the controller requested is granted by the RBAC deploy/ binds to its
  ServiceAccount (kustomize render), in the namespace where it asked;
- every permission granted is requested at least once, except the few listed in ``NOT_EXERCISED`` with the reason
  the slice cannot reach them.

The namespaced variant (deploy/namespaced/) is enforced rather than only compared: a controller started with
``--namespace rollouts`` runs part of the slice through a proxy that refuses, with 403 Forbidden as an API server
would, everything its Role does not grant. The scenarios must still succeed, and what was refused must be only what
kopf asks for itself at cluster scope and does without.
"""

from __future__ import annotations

import base64
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import pytest

# tests/integration is not a package; the shared helpers live in the `tests` package at the repository root.
_REPO_ROOT = str(Path(__file__).resolve().parents[2])
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

from gitops.controller.application_sets import AppSetControllerOptions  # noqa: E402
from gitops.controller.controller import AppControllerOptions  # noqa: E402
from kube.resources import (  # noqa: E402
    ANALYSIS_RUNS,
    ANALYSIS_TEMPLATES,
    APPLICATION_SETS,
    APPLICATIONS,
    CLUSTER_ANALYSIS_TEMPLATES,
    CONFIGMAPS,
    DEPLOYMENTS,
    EXPERIMENTS,
    JOBS,
    NAMESPACES,
    ROLLOUTS,
    SECRETS,
)
from kube.timestamps import format_time, later  # noqa: E402
from notifications.controller import NotificationOptions  # noqa: E402
from rollouts.controller.controller import ControllerOptions  # noqa: E402
from rollouts.controller.reconciler import Decide  # noqa: E402
from sandbox.cluster import write_kubeconfig  # noqa: E402
from tests.deploy_manifests import (  # noqa: E402
    CONTROLLER,
    DEPLOY_DIR,
    INSTALL_NAMESPACE,
    NAMESPACED_DIR,
    Grant,
    Permission,
    grants_of,
    render_kustomize,
)
from tests.gitops_harness import APP_NAMESPACE, application, make_repo  # noqa: E402
from tests.rate_endpoint import RateEndpoint  # noqa: E402
from tests.request_audit import AccessRecord, AuditingProxy  # noqa: E402
from tests.rollout_harness import (  # noqa: E402
    ControllerThread,
    RolloutCluster,
    destination_rule,
    load_decide,
    reviews_objects,
    reviews_rollout,
    service,
    subset_virtual_service,
)

pytestmark = [
    pytest.mark.kubectl,
]

JsonObject = dict[str, Any]

# Granted but not requested by the slice below, each with why it is granted all the same.
NOT_EXERCISED: Final[dict[Permission, str]] = {
    Permission("get", "coordination.k8s.io", "leases"): "leader election (issue 7, next step): read the Lease",
    Permission("create", "coordination.k8s.io", "leases"): "leader election: the first replica creates the Lease",
    Permission("update", "coordination.k8s.io", "leases"): "leader election: the leader renews, a candidate takes over",
    Permission("patch", "argoproj.io", "experiments"): (
        "terminating an Experiment the Rollout no longer needs (abort, full promotion, another step): "
        "tests/integration/experiments"
    ),
}
# Paths a request may have without any RBAC rule: discovery and version, granted to every authenticated user by the
# built-in system:discovery and system:public-info-viewer ClusterRoles.
DISCOVERY_PREFIXES: Final = ("/api", "/apis", "/version", "/openapi/")
# What kopf itself asks at cluster scope. Refused, it does without — after retrying (see wait_for_kopf_watches):
# Namespaces: the ones it was given are taken as they are; CRDs: the resources found at start-up are served, those
# of CRDs installed later only after a restart.
KOPF_CLUSTER_SCOPED: Final = frozenset(
    {
        Permission("list", "", "namespaces"),
        Permission("watch", "", "namespaces"),
        Permission("list", "apiextensions.k8s.io", "customresourcedefinitions"),
        Permission("watch", "apiextensions.k8s.io", "customresourcedefinitions"),
    }
)
# Resources that exist only at cluster scope, which a Role cannot grant.
CLUSTER_SCOPED: Final = frozenset({"customresourcedefinitions", "clusteranalysistemplates", "namespaces"})
SCENARIO_TIMEOUT: Final = 20.0


# -- the audited controller --------------------------------------------------------------------------------------


class AuditedCluster(RolloutCluster):
    """The harness's cluster with the controller logged in through an ``AuditingProxy``: ``audit.records`` holds
    every request of the controller process, and only those (the test's writes are in-process, the workload
    simulator talks to the emulator directly)."""

    def __init__(
        self,
        tmp_dir: Path,
        *,
        namespaces: tuple[str, ...] = (),
        authorize: Callable[[AccessRecord], bool] | None = None,
        applications: bool = False,
        **options: Any,
    ) -> None:
        super().__init__(tmp_dir, **options)
        self.watched = namespaces
        self.authorize = authorize
        self.audit: AuditingProxy | None = None
        self.tmp_dir = tmp_dir
        self.applications = applications

    def start(self, decide: Decide) -> None:
        self.sandbox.start()
        try:
            audit = AuditingProxy(self.sandbox.url, authorize=self.authorize)
            self.sandbox.call(audit.start)
            self.audit = audit
            for namespace in self.watched:
                self.create(NAMESPACES, None, {"metadata": {"name": namespace}})
            write_kubeconfig(self.kubeconfig, audit.url)
            options = ControllerOptions(namespaces=self.watched, workers=4, metrics_port=0)
            applications = None
            application_sets = None
            if self.applications:
                self.create(NAMESPACES, None, {"metadata": {"name": APP_NAMESPACE}})
                applications = AppControllerOptions(namespace=APP_NAMESPACE, workers=2, webhook_port=0,
                                                    cache_dir=self.tmp_dir / "repositories")
                application_sets = AppSetControllerOptions(namespace=APP_NAMESPACE, workers=2)
            # Notifications on, as `rollouts controller` runs them by default, configured in a watched namespace.
            notifications = NotificationOptions(namespace=self.watched[0] if self.watched else "default")
            # The harness's own start, but for the kubeconfig: its ControllerThread is what controller_thread reads.
            self._controller = ControllerThread(self.kubeconfig, options, decide, applications, application_sets,
                                                notifications)
            self._controller.start()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        try:
            if self._controller is not None:
                self._controller.stop()
        finally:
            try:
                if self.audit is not None:
                    self.sandbox.call(self.audit.stop)
            finally:
                self.sandbox.stop()

    def requests(self) -> list[AccessRecord]:
        assert self.audit is not None
        return list(self.audit.records)


# -- scenarios ----------------------------------------------------------------------------------------------------


def canary_with_host_split(cluster: RolloutCluster, namespace: str) -> None:
    """An update through the Services and a VirtualService's host split; revisionHistoryLimit 0 deletes the old
    ReplicaSet once it is scaled down (at once: scaleDownDelaySeconds 0)."""
    steps: list[JsonObject] = [{"setWeight": 50}, {"pause": {"duration": 1}}]
    objects = reviews_objects(steps=steps)
    objects[-1]["spec"]["revisionHistoryLimit"] = 0
    objects[-1]["spec"]["strategy"]["canary"]["scaleDownDelaySeconds"] = 0
    cluster.apply_all(namespace, objects)
    stable = cluster.wait_for_phase(namespace, "reviews", "Healthy", SCENARIO_TIMEOUT)["stableRS"]
    cluster.set_image(namespace, "reviews", "reviews:v2")
    cluster.wait_for(
        lambda: cluster.status(namespace, "reviews").get("stableRS") not in (None, stable),
        "the canary promoted",
        SCENARIO_TIMEOUT,
    )
    cluster.wait_for(lambda: len(cluster.replica_sets(namespace)) == 1, "the old ReplicaSet deleted", SCENARIO_TIMEOUT)


def canary_through_a_router(cluster: RolloutCluster, namespace: str, router: str) -> None:
    """An update weighed by NGINX Ingress (a canary Ingress created, then its weight patched) or the Gateway API
    (an HTTPRoute's backendRef weights patched), to promotion."""
    backend = {"service": {"name": "web-stable", "port": {"number": 80}}}
    routed: dict[str, JsonObject] = {
        "nginx": {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "web"},
                  "spec": {"rules": [{"host": "web.example.com", "http": {"paths": [
                      {"path": "/", "pathType": "Prefix", "backend": backend}]}}]}},
        "gateway": {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": {"name": "web"},
                    "spec": {"rules": [{"backendRefs": [{"name": "web-stable", "port": 80, "weight": 100},
                                                        {"name": "web-canary", "port": 80, "weight": 0}]}]}},
    }
    routing: JsonObject = (
        {"nginx": {"stableIngress": "web"}} if router == "nginx"
        else {"plugins": {"argoproj-labs/gatewayAPI": {"httpRoute": "web", "namespace": namespace}}}
    )
    services = [{"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
                 "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}}
                for name in ("web-stable", "web-canary")]
    rollout: JsonObject = {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {"name": "web"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "web", "image": "web:v1"}]}},
                 "strategy": {"canary": {"canaryService": "web-canary", "stableService": "web-stable",
                                         "trafficRouting": routing,
                                         "steps": [{"setWeight": 50}, {"pause": {"duration": 1}}]}}},
    }
    cluster.apply_all(namespace, [*services, routed[router], rollout])
    stable = cluster.wait_for_phase(namespace, "web", "Healthy", SCENARIO_TIMEOUT)["stableRS"]
    cluster.set_image(namespace, "web", "web:v2")
    cluster.wait_for(
        lambda: cluster.status(namespace, "web").get("stableRS") not in (None, stable),
        f"the {router} canary promoted",
        SCENARIO_TIMEOUT,
    )


def canary_with_experiment(cluster: RolloutCluster, namespace: str, web_url: str) -> None:
    """An experiment step: the Rollout creates the Experiment, the Experiment controller its ReplicaSet and the
    runs of a namespaced and a cluster-scoped template (read by name), the Experiment's success moves the canary on
    to promotion, and with successfulRunHistoryLimit 0 the finished Experiment is deleted."""
    web = {"web": {"url": web_url, "jsonPath": "{$.rate}"}}
    metric = {"name": "rate", "successCondition": "result >= 0.95", "provider": web}
    cluster.create(ANALYSIS_TEMPLATES, namespace, {"metadata": {"name": "exp-rate"}, "spec": {"metrics": [metric]}})
    if cluster.get(CLUSTER_ANALYSIS_TEMPLATES, "", "exp-rate-once") is None:
        cluster.create(
            CLUSTER_ANALYSIS_TEMPLATES, None, {"metadata": {"name": "exp-rate-once"}, "spec": {"metrics": [metric]}}
        )
    experiment = {
        "duration": "1s",
        "templates": [{"name": "canary", "specRef": "canary"}],
        "analyses": [
            {"name": "rate", "templateName": "exp-rate"},
            {"name": "cluster-rate", "templateName": "exp-rate-once", "clusterScope": True},
        ],
    }
    objects = reviews_objects(steps=[{"setWeight": 50}, {"experiment": experiment}])
    objects[-1]["spec"]["analysis"] = {"successfulRunHistoryLimit": 0}
    cluster.apply_all(namespace, objects)
    stable = cluster.wait_for_phase(namespace, "reviews", "Healthy", SCENARIO_TIMEOUT)["stableRS"]
    cluster.set_image(namespace, "reviews", "reviews:v2")
    cluster.wait_for(
        lambda: cluster.status(namespace, "reviews").get("stableRS") not in (None, stable),
        "the canary promoted after its experiment",
        SCENARIO_TIMEOUT,
    )
    # successfulRunHistoryLimit 0 keeps no successful experiment either.
    cluster.wait_for(lambda: not cluster.list(EXPERIMENTS, namespace), "the experiment deleted", SCENARIO_TIMEOUT)


def canary_with_subset_split(cluster: RolloutCluster, namespace: str) -> None:
    """An update through a DestinationRule's subsets."""
    steps: list[JsonObject] = [{"setWeight": 50}, {"pause": {"duration": 1}}]
    cluster.apply_all(
        namespace,
        [
            service("reviews", "reviews"),
            destination_rule("reviews-dr", "reviews", "reviews"),
            subset_virtual_service("reviews", "reviews"),
            reviews_rollout(steps=steps, destination_rule="reviews-dr"),
        ],
    )
    stable = cluster.wait_for_phase(namespace, "reviews", "Healthy", SCENARIO_TIMEOUT)["stableRS"]
    cluster.set_image(namespace, "reviews", "reviews:v2")
    cluster.wait_for(
        lambda: cluster.status(namespace, "reviews").get("stableRS") not in (None, stable),
        "the canary promoted",
        SCENARIO_TIMEOUT,
    )


def restart_then_abort(cluster: RolloutCluster, namespace: str) -> None:
    """A restart of every pod, then an update aborted at an indefinite pause — twice, after a retry, so that its
    Event repeats."""
    steps: list[JsonObject] = [{"setWeight": 20}, {"pause": {}}]
    cluster.apply_all(namespace, reviews_objects(steps=steps, replicas=2))
    cluster.wait_for_phase(namespace, "reviews", "Healthy", SCENARIO_TIMEOUT)
    pods_before = {pod["metadata"]["name"] for pod in cluster.pods(namespace)}
    # In the future, so that every pod there is now was created before it (timestamps are whole seconds).
    cluster.patch(ROLLOUTS, namespace, "reviews", {"spec": {"restartAt": _utc_in(2)}})
    cluster.wait_for(
        lambda: not pods_before & {pod["metadata"]["name"] for pod in cluster.pods(namespace)},
        "every pod restarted",
        SCENARIO_TIMEOUT,
    )
    cluster.set_image(namespace, "reviews", "reviews:v2")
    for _ in range(2):
        cluster.wait_for_phase(namespace, "reviews", "Paused", SCENARIO_TIMEOUT)
        cluster.abort(namespace, "reviews")
        cluster.wait_for_phase(namespace, "reviews", "Degraded", SCENARIO_TIMEOUT)
        cluster.retry(namespace, "reviews")
    cluster.wait_for_phase(namespace, "reviews", "Paused", SCENARIO_TIMEOUT)


def blue_green_with_pod_metadata(cluster: RolloutCluster, namespace: str) -> None:
    """A blue-green update with active and preview metadata on the pods, promoted."""
    rollout = reviews_rollout(name="reviews-bg", replicas=2)
    rollout["spec"]["strategy"] = {
        "blueGreen": {
            "activeService": "reviews-active",
            "previewService": "reviews-preview",
            "autoPromotionEnabled": False,
            "activeMetadata": {"labels": {"role": "active"}},
            "previewMetadata": {"labels": {"role": "preview"}},
        }
    }
    cluster.apply_all(namespace, [service("reviews-active", "reviews-bg"), service("reviews-preview", "reviews-bg"),
                                  rollout])
    cluster.wait_for_phase(namespace, "reviews-bg", "Healthy", SCENARIO_TIMEOUT)
    cluster.set_image(namespace, "reviews-bg", "reviews:v2")
    cluster.wait_for_phase(namespace, "reviews-bg", "Paused", SCENARIO_TIMEOUT)
    cluster.wait_for(
        lambda: {(pod["metadata"].get("labels") or {}).get("role") for pod in cluster.pods(namespace)}
        == {"active", "preview"},
        "pods labelled by role",
        SCENARIO_TIMEOUT,
    )
    cluster.promote(namespace, "reviews-bg")
    cluster.wait_for_phase(namespace, "reviews-bg", "Healthy", SCENARIO_TIMEOUT)


def canary_with_analysis(cluster: RolloutCluster, namespace: str, web_url: str) -> None:
    """A canary measured by the Rollout's own AnalysisRuns: a background analysis from an AnalysisTemplate
    (terminated once the update completes) and an analysis step from a ClusterAnalysisTemplate; with
    successfulRunHistoryLimit 0 the finished runs are deleted."""
    web = {"web": {"url": web_url, "jsonPath": "{$.rate}"}}
    cluster.create(
        ANALYSIS_TEMPLATES,
        namespace,
        {"metadata": {"name": "rate"}, "spec": {"metrics": [
            {"name": "rate", "interval": "1s", "successCondition": "result >= 0.95", "provider": web}]}},
    )
    if cluster.get(CLUSTER_ANALYSIS_TEMPLATES, "", "rate-once") is None:
        cluster.create(
            CLUSTER_ANALYSIS_TEMPLATES,
            None,
            {"metadata": {"name": "rate-once"}, "spec": {"metrics": [
                {"name": "rate", "successCondition": "result >= 0.95", "provider": web}]}},
        )
    steps: list[JsonObject] = [
        {"setWeight": 50},
        {"analysis": {"templates": [{"templateName": "rate-once", "clusterScope": True}]}},
        {"pause": {"duration": 1}},
    ]
    objects = reviews_objects(steps=steps, replicas=2)
    rollout = objects[-1]
    rollout["spec"]["analysis"] = {"successfulRunHistoryLimit": 0}
    rollout["spec"]["strategy"]["canary"]["analysis"] = {"templates": [{"templateName": "rate"}]}
    cluster.apply_all(namespace, objects)
    stable = cluster.wait_for_phase(namespace, "reviews", "Healthy", SCENARIO_TIMEOUT)["stableRS"]
    cluster.set_image(namespace, "reviews", "reviews:v2")
    cluster.wait_for(lambda: len(cluster.list(ANALYSIS_RUNS, namespace)) == 2, "both AnalysisRuns", SCENARIO_TIMEOUT)
    cluster.wait_for(
        lambda: cluster.status(namespace, "reviews").get("stableRS") not in (None, stable),
        "the canary promoted",
        SCENARIO_TIMEOUT,
    )
    cluster.wait_for(lambda: not cluster.list(ANALYSIS_RUNS, namespace), "the finished runs deleted", SCENARIO_TIMEOUT)


def analysis_runs(cluster: RolloutCluster, namespace: str, web_url: str) -> None:
    """A web metric whose URL comes from a Secret; a job metric whose Job completes, and one terminated while its
    Job runs."""
    cluster.create(
        SECRETS,
        namespace,
        {"metadata": {"name": "checks"}, "data": {"url": base64.b64encode(web_url.encode()).decode()}},
    )
    web_metric = {
        "name": "rate",
        "successCondition": "result >= 0.95",
        "provider": {"web": {"url": "{{args.url}}", "jsonPath": "{$.rate}"}},
    }
    web_args = [{"name": "url", "valueFrom": {"secretKeyRef": {"name": "checks", "key": "url"}}}]
    cluster.create(ANALYSIS_RUNS, namespace, analysis_run("web", web_metric, web_args))
    cluster.create(ANALYSIS_RUNS, namespace, analysis_run("job-done", job_metric()))
    cluster.create(ANALYSIS_RUNS, namespace, analysis_run("job-stopped", job_metric()))
    cluster.wait_for(lambda: _run_phase(cluster, namespace, "web") == "Successful", "the web run", SCENARIO_TIMEOUT)

    done = cluster.wait_for(lambda: _job_of(cluster, namespace, "job-done"), "job-done's Job", SCENARIO_TIMEOUT)
    complete = {"status": {"conditions": [{"type": "Complete", "status": "True"}]}}
    cluster.patch(JOBS, namespace, done, complete, subresource="status")
    cluster.wait_for(
        lambda: _run_phase(cluster, namespace, "job-done") == "Successful", "job-done's verdict", SCENARIO_TIMEOUT
    )

    stopped = cluster.wait_for(
        lambda: _job_of(cluster, namespace, "job-stopped"), "job-stopped's Job", SCENARIO_TIMEOUT
    )
    cluster.patch(ANALYSIS_RUNS, namespace, "job-stopped", {"spec": {"terminate": True}})
    cluster.wait_for(
        lambda: cluster.get(JOBS, namespace, stopped) is None, "job-stopped's Job deleted", SCENARIO_TIMEOUT
    )


APP_FILES: Final = {
    "app/settings.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  a: b\n",
    "app/web.yaml": """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: web:1}]
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports: [{port: 80}]
""",
    "app/migrate.yaml": """apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
  annotations:
    argocd.argoproj.io/hook: PreSync
    argocd.argoproj.io/hook-delete-policy: HookSucceeded
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers: [{name: migrate, image: migrate:1}]
""",
}


def application_sync(cluster: AuditedCluster, namespace: str, repo_root: Path) -> None:
    """An Application from a local Git repository: synced with a PreSync hook, a file pruned, then deleted with
    its resources (the finalizer)."""
    repo = make_repo(repo_root, APP_FILES)
    name = f"rbac-{namespace}"
    cluster.create(APPLICATIONS, APP_NAMESPACE, application(name, repo.url, "app", namespace=namespace,
                                                            finalizer=True))

    def synced() -> bool:
        status = (cluster_get(cluster, APPLICATIONS, APP_NAMESPACE, name) or {}).get("status") or {}
        return (status.get("sync") or {}).get("status") == "Synced" and (status.get("health") or {}).get(
            "status") == "Healthy"

    wait_until(synced, f"application {name} Synced and Healthy")
    repo.commit({"app/settings.yaml": APP_FILES["app/settings.yaml"].replace("a: b", "a: c"),
                 "app/web.yaml": APP_FILES["app/web.yaml"].replace("web:1", "web:2")}, "update")
    refresh(cluster, name)

    def updated() -> bool:
        web = cluster_get(cluster, DEPLOYMENTS, namespace, "web") or {}
        settings = cluster_get(cluster, CONFIGMAPS, namespace, "settings") or {}
        image = web.get("spec", {}).get("template", {}).get("spec", {}).get("containers", [{}])[0].get("image")
        return image == "web:2" and settings.get("data") == {"a": "c"}

    wait_until(updated, "the new image and settings applied")
    repo.commit({"app/settings.yaml": None}, "drop the ConfigMap")
    refresh(cluster, name)
    wait_until(lambda: cluster_get(cluster, CONFIGMAPS, namespace, "settings") is None, "the ConfigMap pruned")
    cluster.sandbox.emulator.delete_object(APPLICATIONS.group, APPLICATIONS.version, APPLICATIONS.plural,
                                           APP_NAMESPACE, name)
    wait_until(lambda: cluster_get(cluster, DEPLOYMENTS, namespace, "web") is None, "the cascade deleting web")
    wait_until(lambda: cluster_get(cluster, APPLICATIONS, APP_NAMESPACE, name) is None, "the Application gone")


def application_set(cluster: AuditedCluster, namespace: str, repo_root: Path) -> None:
    """An ApplicationSet with a list generator: its Application created, replaced when the template changes, and
    deleted when its element goes (Argo CD's default applicationsSync policy, sync), its status written each time."""
    repo = make_repo(repo_root, {"app/settings.yaml": APP_FILES["app/settings.yaml"]}, name="appset-repo")
    name = f"rbac-set-{namespace}"
    template = application("{{name}}", repo.url, "app", namespace=namespace, automated=False)
    template["metadata"] = {"name": "{{name}}", "labels": {"generation": "first"}}
    body = {"apiVersion": "argoproj.io/v1alpha1", "kind": "ApplicationSet",
            "metadata": {"name": name, "namespace": APP_NAMESPACE},
            "spec": {"generators": [{"list": {"elements": [{"name": f"{name}-app"}]}}],
                     "syncPolicy": {"preserveResourcesOnDeletion": True},
                     "template": {"metadata": template["metadata"], "spec": template["spec"]}}}
    cluster.create(APPLICATION_SETS, APP_NAMESPACE, body)
    app = f"{name}-app"
    wait_until(lambda: cluster_get(cluster, APPLICATIONS, APP_NAMESPACE, app) is not None, f"{app} generated")
    body["spec"]["template"]["metadata"]["labels"] = {"generation": "second"}
    cluster.patch(APPLICATION_SETS, APP_NAMESPACE, name, {"spec": {"template": body["spec"]["template"]}})
    wait_until(lambda: ((cluster_get(cluster, APPLICATIONS, APP_NAMESPACE, app) or {}).get("metadata") or {}).get(
        "labels", {}).get("generation") == "second", f"{app} updated from the new template")
    cluster.patch(APPLICATION_SETS, APP_NAMESPACE, name, {"spec": {"generators": [{"list": {"elements": []}}]}})
    wait_until(lambda: cluster_get(cluster, APPLICATIONS, APP_NAMESPACE, app) is None, f"{app} deleted")


def refresh(cluster: AuditedCluster, name: str) -> None:
    cluster.sandbox.emulator.patch_object(APPLICATIONS.group, APPLICATIONS.version, APPLICATIONS.plural,
                                          APP_NAMESPACE, name, {"metadata": {"annotations": {
                                              "argocd.argoproj.io/refresh": "normal"}}})


def cluster_get(cluster: AuditedCluster, kind: Any, namespace: str, name: str) -> JsonObject | None:
    found: JsonObject | None = cluster.sandbox.emulator.get_object(kind.group, kind.version, kind.plural, namespace,
                                                                   name)
    return found


def wait_until(check: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def analysis_run(name: str, metric: JsonObject, args: list[JsonObject] | None = None) -> JsonObject:
    return {"metadata": {"name": name}, "spec": {"metrics": [metric], **({"args": args} if args else {})}}


def job_metric() -> JsonObject:
    container = {"name": "smoke", "image": "busybox", "command": ["sh", "-c", "true"]}
    spec = {"backoffLimit": 0, "template": {"spec": {"restartPolicy": "Never", "containers": [container]}}}
    return {"name": "smoke", "provider": {"job": {"spec": spec}}}


def _job_of(cluster: RolloutCluster, namespace: str, run: str) -> str | None:
    for job in cluster.list(JOBS, namespace):
        if any(owner.get("name") == run for owner in job["metadata"].get("ownerReferences") or ()):
            return str(job["metadata"]["name"])
    return None


def _run_phase(cluster: RolloutCluster, namespace: str, name: str) -> str | None:
    return (cluster.must_get(ANALYSIS_RUNS, namespace, name).get("status") or {}).get("phase")


def _utc_in(seconds: float) -> str:
    return format_time(later(datetime.now(UTC), seconds))


# -- fixtures -----------------------------------------------------------------------------------------------------


def run_all(cluster: AuditedCluster, scenarios: dict[str, Callable[[], None]]) -> None:
    """Run the scenarios side by side (each in its own namespace); fail naming every one that failed."""
    with ThreadPoolExecutor(max_workers=len(scenarios)) as pool:
        futures = {name: pool.submit(scenario) for name, scenario in scenarios.items()}
    failures = [f"{name}: {future.exception()}" for name, future in futures.items() if future.exception()]
    assert not failures, "scenarios failed:\n" + "\n".join(failures)


@pytest.fixture(scope="module")
def clusterwide_requests(tmp_path_factory: pytest.TempPathFactory) -> list[AccessRecord]:
    """Every request of a cluster-wide controller through the whole slice."""
    decide = load_decide()
    cluster = AuditedCluster(tmp_path_factory.mktemp("rbac"), ready_delay=0.05, applications=True)
    cluster.start(decide)
    repos = tmp_path_factory.mktemp("rbac-git")
    try:
        with RateEndpoint() as rates:
            spaces = {
                name: cluster.new_namespace("rbac")
                for name in ("host", "subset", "nginx", "gateway", "restart", "bluegreen", "analysis",
                             "canary-analysis", "gitops", "appset", "experiment")
            }
            run_all(
                cluster,
                {
                    "host": lambda: canary_with_host_split(cluster, spaces["host"]),
                    "subset": lambda: canary_with_subset_split(cluster, spaces["subset"]),
                    "nginx": lambda: canary_through_a_router(cluster, spaces["nginx"], "nginx"),
                    "gateway": lambda: canary_through_a_router(cluster, spaces["gateway"], "gateway"),
                    "restart": lambda: restart_then_abort(cluster, spaces["restart"]),
                    "bluegreen": lambda: blue_green_with_pod_metadata(cluster, spaces["bluegreen"]),
                    "analysis": lambda: analysis_runs(cluster, spaces["analysis"], rates.url),
                    "canary-analysis": lambda: canary_with_analysis(cluster, spaces["canary-analysis"], rates.url),
                    "gitops": lambda: application_sync(cluster, spaces["gitops"], repos),
                    "appset": lambda: application_set(cluster, spaces["appset"], repos),
                    "experiment": lambda: canary_with_experiment(cluster, spaces["experiment"], rates.url),
                },
            )
            for namespace in spaces.values():
                cluster.wait_until_settled(namespace)
            cluster.wait_for(lambda: cluster.analysis.events.idle, "the analysis controller's Events posted")
        return cluster.requests()
    finally:
        cluster.stop()


@pytest.fixture(scope="module")
def namespaced_requests(
    tmp_path_factory: pytest.TempPathFactory, namespaced_grants: list[Grant]
) -> list[AccessRecord]:
    """Every request of a controller watching only namespace `rollouts` with only the namespaced variant's
    permissions, through a canary and the AnalysisRuns."""

    def authorize(record: AccessRecord) -> bool:
        if not record.is_resource_request:
            return record.verb == "get" and record.path.startswith(DISCOVERY_PREFIXES)
        return any(grant.allows(permission_of(record), record.namespace) for grant in namespaced_grants)

    decide = load_decide()
    cluster = AuditedCluster(
        tmp_path_factory.mktemp("rbac-ns"), ready_delay=0.05, namespaces=(INSTALL_NAMESPACE,), authorize=authorize
    )
    cluster.start(decide)
    try:
        wait_for_kopf_watches(cluster, INSTALL_NAMESPACE)
        with RateEndpoint() as rates:
            run_all(
                cluster,
                {
                    "host": lambda: canary_with_host_split(cluster, INSTALL_NAMESPACE),
                    "analysis": lambda: analysis_runs(cluster, INSTALL_NAMESPACE, rates.url),
                },
            )
            cluster.wait_until_settled(INSTALL_NAMESPACE)
        return cluster.requests()
    finally:
        cluster.stop()


def wait_for_kopf_watches(cluster: AuditedCluster, namespace: str, timeout: float = 10.0) -> None:
    """Wait until kopf watches Rollouts in ``namespace``.

    A namespaced controller must start watching at once: it never lists Namespaces (its Role cannot), which would
    hold kopf back through its start-up retries for about a minute.
    """

    def watching() -> bool:
        return any(
            r.verb == "watch" and r.resource == "rollouts" and r.namespace == namespace and r.code == 200
            for r in cluster.requests()
        )

    cluster.wait_for(watching, f"kopf to watch rollouts in {namespace}", timeout)
    assert not any(r.resource == "namespaces" and r.code == 403 for r in cluster.requests())


@pytest.fixture(scope="module")
def clusterwide_grants() -> list[Grant]:
    return grants_of(render_kustomize(DEPLOY_DIR), CONTROLLER, INSTALL_NAMESPACE)


@pytest.fixture(scope="module")
def namespaced_grants() -> list[Grant]:
    return grants_of(render_kustomize(NAMESPACED_DIR), CONTROLLER, INSTALL_NAMESPACE)


# -- the checks ---------------------------------------------------------------------------------------------------


def permission_of(record: AccessRecord) -> Permission:
    return Permission(record.verb, record.group, record.resource)


def resource_requests(records: list[AccessRecord]) -> list[AccessRecord]:
    return [record for record in records if record.is_resource_request]


def ungranted(records: list[AccessRecord], grants: list[Grant]) -> list[str]:
    """Each distinct (permission, namespace) no grant allows, with one request that needed it."""
    missing: dict[str, str] = {}
    for record in resource_requests(records):
        permission = permission_of(record)
        if not any(grant.allows(permission, record.namespace) for grant in grants):
            where = f"in namespace {record.namespace}" if record.namespace else "at cluster scope"
            missing.setdefault(f"{permission} {where}", record.path)
    return [f"{what} (e.g. {path})" for what, path in sorted(missing.items())]


def test_the_slice_exercised_both_controllers(clusterwide_requests: list[AccessRecord]) -> None:
    requested = {permission_of(record) for record in clusterwide_requests}
    # A guard against a vacuous pass: the writes of the Rollout controller and of the analysis controller.
    assert Permission("patch", "argoproj.io", "rollouts/status") in requested
    assert Permission("patch", "argoproj.io", "analysisruns/status") in requested
    assert Permission("create", "batch", "jobs") in requested


def test_every_request_of_the_controllers_is_granted_by_the_cluster_role(
    clusterwide_requests: list[AccessRecord], clusterwide_grants: list[Grant]
) -> None:
    missing = ungranted(clusterwide_requests, clusterwide_grants)
    assert not missing, "requested but not granted by deploy/ RBAC:\n" + "\n".join(missing)


def test_every_permission_granted_is_requested_or_explained(
    clusterwide_requests: list[AccessRecord], clusterwide_grants: list[Grant]
) -> None:
    requested = {permission_of(record) for record in resource_requests(clusterwide_requests)}
    granted = {permission for grant in clusterwide_grants for permission in grant.permissions()}
    unused = sorted(str(p) for p in granted - requested - NOT_EXERCISED.keys())
    assert not unused, "granted by deploy/ RBAC but never requested (drop them, or say why in NOT_EXERCISED):\n" + (
        "\n".join(unused)
    )
    stale = sorted(str(p) for p in NOT_EXERCISED.keys() & requested)
    assert not stale, "exercised now, so no longer to be explained away in NOT_EXERCISED:\n" + "\n".join(stale)
    not_granted = sorted(str(p) for p in NOT_EXERCISED.keys() - granted)
    assert not not_granted, "NOT_EXERCISED lists permissions deploy/ does not grant:\n" + "\n".join(not_granted)


def test_the_rbac_has_no_wildcards_and_no_non_resource_urls(clusterwide_grants: list[Grant]) -> None:
    for grant in clusterwide_grants:
        for rule in grant.rules:
            for field in ("apiGroups", "resources", "verbs"):
                assert "*" not in (rule.get(field) or ()), f"{grant.role}: wildcard in {field}: {rule}"
            assert not rule.get("nonResourceURLs"), f"{grant.role}: nonResourceURLs: {rule}"


def test_the_lease_is_granted_only_in_the_controllers_namespace(clusterwide_grants: list[Grant]) -> None:
    scopes = {
        grant.namespace for grant in clusterwide_grants for p in grant.permissions() if p.resource == "leases"
    }
    assert scopes == {INSTALL_NAMESPACE}


def test_the_controller_asks_nothing_outside_the_api_but_discovery(
    clusterwide_requests: list[AccessRecord],
) -> None:
    others = {
        f"{record.verb.upper()} {record.path}"
        for record in clusterwide_requests
        if not record.is_resource_request
        and not (record.verb == "get" and record.path.startswith(DISCOVERY_PREFIXES))
    }
    assert not others, f"non-resource requests beyond discovery: {sorted(others)}"


def test_secrets_are_read_one_by_name_or_watched_only_in_the_applications_namespace(
    clusterwide_requests: list[AccessRecord],
) -> None:
    """AnalysisRun arguments: one Secret by name. Repository credentials: the Application controller's watch of
    Argo CD's namespace, as Argo CD's controller watches its own."""
    secrets = {(r.verb, r.name is not None, r.namespace if r.verb in ("list", "watch") else None)
               for r in clusterwide_requests if r.resource == "secrets"}
    assert secrets == {("get", True, None), ("list", False, APP_NAMESPACE), ("watch", False, APP_NAMESPACE)}


def test_a_namespaced_controller_does_its_work_with_only_the_namespaced_role(
    namespaced_requests: list[AccessRecord], namespaced_grants: list[Grant]
) -> None:
    # The fixture's scenarios succeeded with everything else refused; and nothing in its namespace was refused.
    assert all(grant.namespace == INSTALL_NAMESPACE for grant in namespaced_grants), "a cluster-wide grant"
    refused_inside = ungranted([r for r in namespaced_requests if r.namespace == INSTALL_NAMESPACE], namespaced_grants)
    assert not refused_inside, "refused in its own namespace by deploy/namespaced/:\n" + "\n".join(refused_inside)


def test_what_the_namespaced_role_refuses_is_only_what_kopf_does_without(
    namespaced_requests: list[AccessRecord],
) -> None:
    refused = {permission_of(record) for record in resource_requests(namespaced_requests) if record.code == 403}
    assert refused <= KOPF_CLUSTER_SCOPED, sorted(str(p) for p in refused - KOPF_CLUSTER_SCOPED)


def test_the_namespaced_role_is_the_cluster_role_without_cluster_scoped_resources(
    clusterwide_grants: list[Grant], namespaced_grants: list[Grant]
) -> None:
    clusterwide = {p for grant in clusterwide_grants for p in grant.permissions() if p.resource not in CLUSTER_SCOPED}
    namespaced = {p for grant in namespaced_grants for p in grant.permissions()}
    assert namespaced == clusterwide
