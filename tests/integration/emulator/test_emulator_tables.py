"""``meta.k8s.io`` Tables, as ``kubectl get`` asks for them: CRD printer columns and built-in printers.

Expectations are what kubectl prints against a real API server: Argo Rollouts' CRD shows DESIRED CURRENT
UP-TO-DATE AVAILABLE AGE for rollouts, Argo CD's SYNC STATUS and HEALTH STATUS for applications, and the
built-in printers of kube-apiserver (pkg/printers/internalversion) the columns listed per kind.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from emulator_helpers import deployment, read_events
from emulator_kubectl import KUBECTL, Kubectl, crd_manifest, kubectl_for, table_rows

from sandbox.emulator import EmulatorThread

TABLE_V1 = "application/json;as=Table;v=v1;g=meta.k8s.io"
TABLE_V1BETA1 = "application/json;as=Table;v=v1beta1;g=meta.k8s.io"
# What kubectl 1.32 sends for `kubectl get`.
KUBECTL_ACCEPT = f"{TABLE_V1},{TABLE_V1BETA1},application/json"
AGE = re.compile(r"^\d+s$")

needs_kubectl = pytest.mark.skipif(KUBECTL is None, reason="the kubectl binary is not on PATH")


@pytest.fixture
def kubectl(emulator_thread: EmulatorThread, tmp_path: Path) -> Kubectl:
    return kubectl_for(emulator_thread.url, tmp_path)


@pytest.fixture
def argo_crds(http: httpx.Client) -> None:
    for file_name in ("argoproj.io_rollouts.yaml", "argoproj.io_applications.yaml"):
        http.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
                  json=crd_manifest(file_name)).raise_for_status()


def _table(http: httpx.Client, path: str, accept: str = KUBECTL_ACCEPT, **params: str) -> dict[str, Any]:
    response = http.get(path, headers={"Accept": accept}, params=params)
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


def _rollout(name: str, replicas: int) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {"name": name},
        "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels},
                              "spec": {"containers": [{"name": "app", "image": "app:1"}]}},
                 "strategy": {"canary": {"steps": [{"setWeight": 20}]}}},
    }


def _application(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Application", "metadata": {"name": name},
        "spec": {"project": "default",
                 "source": {"repoURL": "https://example.com/repo.git", "path": "guestbook",
                            "targetRevision": "HEAD"},
                 "destination": {"server": "https://kubernetes.default.svc", "namespace": "default"}},
    }


ROLLOUTS = "/apis/argoproj.io/v1alpha1/namespaces/default/rollouts"
APPLICATIONS = "/apis/argoproj.io/v1alpha1/namespaces/default/applications"


def _create_rollout_with_status(http: httpx.Client) -> None:
    http.post(ROLLOUTS, json=_rollout("web", 5)).raise_for_status()
    http.patch(f"{ROLLOUTS}/web/status", headers={"Content-Type": "application/merge-patch+json"},
               json={"status": {"replicas": 6, "updatedReplicas": 1, "availableReplicas": 4}}).raise_for_status()


@needs_kubectl
@pytest.mark.kubectl
@pytest.mark.usefixtures("argo_crds")
def test_kubectl_get_rollouts_prints_argo_rollouts_columns(kubectl: Kubectl, http: httpx.Client) -> None:
    _create_rollout_with_status(http)
    header, row = table_rows(kubectl("get", "rollouts").stdout)
    assert header == ["NAME", "DESIRED", "CURRENT", "UP-TO-DATE", "AVAILABLE", "AGE"]
    assert row[:5] == ["web", "5", "6", "1", "4"]
    assert AGE.match(row[5]), row


@needs_kubectl
@pytest.mark.kubectl
@pytest.mark.usefixtures("argo_crds")
def test_kubectl_get_applications_prints_sync_and_health_status(kubectl: Kubectl, http: httpx.Client) -> None:
    http.post(APPLICATIONS, json=_application("guestbook")).raise_for_status()
    status = {"sync": {"status": "Synced", "revision": "4f2a9c1"}, "health": {"status": "Healthy"}}
    # Argo CD's Application CRD has no status subresource: its controller patches the object itself.
    http.patch(f"{APPLICATIONS}/guestbook", headers={"Content-Type": "application/merge-patch+json"},
               json={"status": status}).raise_for_status()
    assert table_rows(kubectl("get", "applications").stdout) == [
        ["NAME", "SYNC STATUS", "HEALTH STATUS"], ["guestbook", "Synced", "Healthy"]]
    # Argo CD's Revision and Project columns have priority 10: only -o wide shows them.
    assert table_rows(kubectl("get", "applications", "-o", "wide").stdout) == [
        ["NAME", "SYNC STATUS", "HEALTH STATUS", "REVISION", "PROJECT"],
        ["guestbook", "Synced", "Healthy", "4f2a9c1", "default"]]


@pytest.mark.usefixtures("argo_crds")
def test_crd_table_puts_name_first_and_carries_types_and_priorities(http: httpx.Client) -> None:
    _create_rollout_with_status(http)
    table = _table(http, ROLLOUTS)
    assert (table["kind"], table["apiVersion"]) == ("Table", "meta.k8s.io/v1")
    assert [(c["name"], c["type"], c["priority"]) for c in table["columnDefinitions"]] == [
        ("Name", "string", 0), ("Desired", "integer", 0), ("Current", "integer", 0),
        ("Up-to-date", "integer", 0), ("Available", "integer", 0), ("Age", "date", 0)]
    assert table["columnDefinitions"][0]["format"] == "name"
    [row] = table["rows"]
    assert row["cells"][:5] == ["web", 5, 6, 1, 4]
    assert table["metadata"]["resourceVersion"]


@pytest.mark.usefixtures("argo_crds")
def test_absent_column_values_are_null_cells(http: httpx.Client) -> None:
    # A Rollout no controller has reconciled yet: kubectl prints <none>... the server sends null.
    http.post(ROLLOUTS, json=_rollout("fresh", 2)).raise_for_status()
    [row] = _table(http, ROLLOUTS)["rows"]
    assert row["cells"][:5] == ["fresh", 2, None, None, None]


def test_crd_without_printer_columns_gets_name_and_age(http: httpx.Client, widgets: dict[str, Any]) -> None:
    http.post("/apis/sandbox.test/v1/namespaces/default/widgets",
              json={"apiVersion": "sandbox.test/v1", "kind": "Widget", "metadata": {"name": "w"}}
              ).raise_for_status()
    table = _table(http, "/apis/sandbox.test/v1/namespaces/default/widgets")
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Age"]
    assert table["rows"][0]["cells"][0] == "w" and AGE.match(table["rows"][0]["cells"][1])


def test_printer_column_jsonpath_filters_select_the_matching_condition(http: httpx.Client) -> None:
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "gadgets.sandbox.test"},
        "spec": {"group": "sandbox.test", "scope": "Namespaced",
                 "names": {"plural": "gadgets", "kind": "Gadget"},
                 "versions": [{"name": "v1", "served": True, "storage": True,
                               "schema": {"openAPIV3Schema": {"type": "object",
                                                              "x-kubernetes-preserve-unknown-fields": True}},
                               "additionalPrinterColumns": [
                                   {"name": "Ready", "type": "string",
                                    "jsonPath": '.status.conditions[?(@.type=="Ready")].status'},
                                   {"name": "First Host", "type": "string", "jsonPath": ".spec.hosts[0]"},
                                   {"name": "Hosts", "type": "string", "jsonPath": ".spec.hosts"},
                                   {"name": "Paused", "type": "boolean", "jsonPath": ".spec.paused",
                                    "priority": 1}]}]},
    }
    http.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", json=crd).raise_for_status()
    gadget = {"apiVersion": "sandbox.test/v1", "kind": "Gadget", "metadata": {"name": "g"},
              "spec": {"hosts": ["a.example", "b.example"], "paused": True},
              "status": {"conditions": [{"type": "Synced", "status": "False"},
                                        {"type": "Ready", "status": "True"}]}}
    http.post("/apis/sandbox.test/v1/namespaces/default/gadgets", json=gadget).raise_for_status()
    table = _table(http, "/apis/sandbox.test/v1/namespaces/default/gadgets/g")
    assert [c["priority"] for c in table["columnDefinitions"]] == [0, 0, 0, 0, 1]
    assert table["rows"][0]["cells"] == ["g", "True", "a.example", '["a.example","b.example"]', True]


@pytest.mark.parametrize(("include", "expected"), [
    (None, {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1"}),
    ("Metadata", {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1"}),
    ("Object", {"kind": "ConfigMap", "apiVersion": "v1"}),
])
def test_rows_carry_the_object_as_include_object_asks(http: httpx.Client, include: str | None,
                                                      expected: dict[str, str]) -> None:
    http.post("/api/v1/namespaces/default/configmaps",
              json={"metadata": {"name": "settings"}, "data": {"a": "1"}}).raise_for_status()
    params = {"includeObject": include} if include else {}
    [row] = _table(http, "/api/v1/namespaces/default/configmaps", **params)["rows"]
    assert {k: row["object"][k] for k in ("kind", "apiVersion")} == expected
    assert row["object"]["metadata"]["name"] == "settings"
    assert ("data" in row["object"]) == (include == "Object")


def test_include_object_none_leaves_rows_without_objects(http: httpx.Client) -> None:
    [row] = _table(http, "/api/v1/namespaces", includeObject="None", fieldSelector="metadata.name=default")["rows"]
    assert "object" not in row and row["cells"][:2] == ["default", "Active"]


def test_unknown_include_object_is_a_bad_request(http: httpx.Client) -> None:
    response = http.get("/api/v1/namespaces", headers={"Accept": TABLE_V1}, params={"includeObject": "All"})
    assert response.status_code == 400 and "includeObject" in response.json()["message"]


def test_v1beta1_tables_are_served_when_asked_first(http: httpx.Client) -> None:
    table = _table(http, "/api/v1/namespaces", accept=f"{TABLE_V1BETA1},application/json")
    assert table["apiVersion"] == "meta.k8s.io/v1beta1"
    assert table["rows"][0]["object"]["apiVersion"] == "meta.k8s.io/v1beta1"


def test_plain_json_first_in_accept_gets_the_list(http: httpx.Client) -> None:
    body = _table(http, "/api/v1/namespaces", accept=f"application/json,{TABLE_V1}")
    assert body["kind"] == "NamespaceList"


def test_list_tables_keep_paging_metadata(http: httpx.Client) -> None:
    for name in ("a", "b", "c"):
        http.post("/api/v1/namespaces/default/configmaps", json={"metadata": {"name": name}}).raise_for_status()
    table = _table(http, "/api/v1/namespaces/default/configmaps", limit="2")
    assert [row["cells"][0] for row in table["rows"]] == ["a", "b"]
    assert table["metadata"]["continue"] and table["metadata"]["remainingItemCount"] == 1


# ------------------------------------------------------------------------------------------- built-ins

def _pod(name: str, status: dict[str, Any], **spec: Any) -> dict[str, Any]:
    containers = [{"name": "app", "image": "app:1"}, {"name": "proxy", "image": "proxy:1"}]
    return {"metadata": {"name": name}, "spec": {"containers": containers, **spec}, "status": status}


POD_CASES = [
    # (pod status, READY, STATUS, RESTARTS) as kubectl shows them.
    ({"phase": "Pending"}, "0/2", "Pending", "0"),
    ({"phase": "Running", "podIP": "10.0.0.7",
      "containerStatuses": [{"name": "app", "ready": True, "restartCount": 0, "state": {"running": {}}},
                            {"name": "proxy", "ready": True, "restartCount": 0, "state": {"running": {}}}]},
     "2/2", "Running", "0"),
    ({"phase": "Running",
      "containerStatuses": [
          {"name": "app", "ready": False, "restartCount": 3,
           "state": {"waiting": {"reason": "CrashLoopBackOff"}}},
          {"name": "proxy", "ready": True, "restartCount": 0, "state": {"running": {}}}]},
     "1/2", "CrashLoopBackOff", "3"),
    ({"phase": "Failed",
      "containerStatuses": [{"name": "app", "ready": False, "restartCount": 0,
                             "state": {"terminated": {"exitCode": 137}}}]},
     "0/2", "ExitCode:137", "0"),
    ({"phase": "Succeeded",
      "containerStatuses": [{"name": "app", "ready": False, "restartCount": 0,
                             "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]},
     "0/2", "Completed", "0"),
]


@pytest.mark.parametrize(("status", "ready", "phase", "restarts"), POD_CASES)
def test_pod_columns(http: httpx.Client, status: dict[str, Any], ready: str, phase: str, restarts: str) -> None:
    http.post("/api/v1/namespaces/default/pods", json=_pod("p", {})).raise_for_status()
    http.patch("/api/v1/namespaces/default/pods/p/status",
               headers={"Content-Type": "application/merge-patch+json"}, json={"status": status}
               ).raise_for_status()
    table = _table(http, "/api/v1/namespaces/default/pods/p")
    assert [(c["name"], c["priority"]) for c in table["columnDefinitions"]] == [
        ("Name", 0), ("Ready", 0), ("Status", 0), ("Restarts", 0), ("Age", 0), ("IP", 1), ("Node", 1),
        ("Nominated Node", 1), ("Readiness Gates", 1)]
    cells = table["rows"][0]["cells"]
    assert cells[:4] == ["p", ready, phase, restarts]
    assert cells[5] == status.get("podIP", "<none>")


def test_deployment_columns(http: httpx.Client) -> None:
    http.post("/apis/apps/v1/namespaces/default/deployments", json=deployment("web", replicas=3)
              ).raise_for_status()
    http.patch("/apis/apps/v1/namespaces/default/deployments/web/status",
               headers={"Content-Type": "application/merge-patch+json"},
               json={"status": {"replicas": 3, "readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2}}
               ).raise_for_status()
    table = _table(http, "/apis/apps/v1/namespaces/default/deployments")
    names = [c["name"] for c in table["columnDefinitions"] if c["priority"] == 0]
    assert names == ["Name", "Ready", "Up-to-date", "Available", "Age"]
    cells = table["rows"][0]["cells"]
    assert cells[:4] == ["web", "2/3", 3, 2]
    assert cells[5:] == ["app,sidecar", "app:1,proxy:1", "app=web"]  # -o wide: CONTAINERS IMAGES SELECTOR


def _job(status: dict[str, Any], **spec: Any) -> dict[str, Any]:
    template = {"spec": {"restartPolicy": "Never", "containers": [{"name": "main", "image": "busybox"}]}}
    return {"metadata": {"name": "migrate"}, "spec": {"template": template, **spec}, "status": status}


JOB_CASES = [
    # (spec, status, STATUS, COMPLETIONS, DURATION): DURATION is completionTime - startTime.
    ({}, {}, "Running", "0/1", ""),
    ({"completions": 3}, {"succeeded": 3, "startTime": "2025-01-01T00:00:00Z",
                          "completionTime": "2025-01-01T00:02:05Z",
                          "conditions": [{"type": "Complete", "status": "True"}]}, "Complete", "3/3", "2m5s"),
    ({"parallelism": 2}, {"succeeded": 0, "failed": 2, "startTime": "2025-01-01T00:00:00Z",
                          "conditions": [{"type": "Failed", "status": "True"}]}, "Failed", "0/1 of 2", None),
    ({"suspend": True}, {"conditions": [{"type": "Suspended", "status": "True"}]}, "Suspended", "0/1", ""),
]


@pytest.mark.parametrize(("spec", "status", "phase", "completions", "duration"), JOB_CASES)
def test_job_columns(http: httpx.Client, spec: dict[str, Any], status: dict[str, Any], phase: str,
                     completions: str, duration: str | None) -> None:
    body = _job({}, **spec)
    http.post("/apis/batch/v1/namespaces/default/jobs", json=body).raise_for_status()
    http.patch("/apis/batch/v1/namespaces/default/jobs/migrate/status",
               headers={"Content-Type": "application/merge-patch+json"}, json={"status": status}
               ).raise_for_status()
    table = _table(http, "/apis/batch/v1/namespaces/default/jobs/migrate")
    assert [c["name"] for c in table["columnDefinitions"] if c["priority"] == 0] == [
        "Name", "Status", "Completions", "Duration", "Age"]
    cells = table["rows"][0]["cells"]
    assert cells[:3] == ["migrate", phase, completions]
    if duration is not None:
        assert cells[3] == duration
    else:  # not complete: the time since startTime (2025), shown in days or years and days
        assert re.fullmatch(r"\d+d|\d+y(\d+d)?", cells[3]), cells[3]


BUILTIN_CASES = [
    # (collection path, body, columns at priority 0, first cells) as a real kube-apiserver prints them.
    ("/apis/apps/v1/namespaces/default/replicasets",
     {"metadata": {"name": "rs"}, "spec": {"replicas": 2, "selector": {"matchLabels": {"a": "b"}},
                                           "template": {"metadata": {"labels": {"a": "b"}}}}},
     ["Name", "Desired", "Current", "Ready", "Age"], ["rs", 2, 0, 0]),
    ("/apis/apps/v1/namespaces/default/statefulsets",
     {"metadata": {"name": "db"}, "spec": {"replicas": 3, "selector": {"matchLabels": {"a": "b"}},
                                           "serviceName": "db", "template": {"metadata": {"labels": {"a": "b"}}}}},
     ["Name", "Ready", "Age"], ["db", "0/3"]),
    ("/apis/apps/v1/namespaces/default/daemonsets",
     {"metadata": {"name": "agent"}, "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": {
         "metadata": {"labels": {"a": "b"}}, "spec": {"nodeSelector": {"disk": "ssd"}}}}},
     ["Name", "Desired", "Current", "Ready", "Up-to-date", "Available", "Node Selector", "Age"],
     ["agent", 0, 0, 0, 0, 0, "disk=ssd"]),
    ("/apis/batch/v1/namespaces/default/cronjobs",
     {"metadata": {"name": "nightly"}, "spec": {"schedule": "0 3 * * *", "jobTemplate": {"spec": {
         "template": {"spec": {"containers": [{"name": "c", "image": "busybox"}]}}}}}},
     ["Name", "Schedule", "Timezone", "Suspend", "Active", "Last Schedule", "Age"],
     ["nightly", "0 3 * * *", "<none>", False, 0, "<none>"]),
    ("/api/v1/namespaces/default/services",
     {"metadata": {"name": "web"}, "spec": {"type": "NodePort", "clusterIP": "10.96.0.10",
                                            "ports": [{"port": 80, "nodePort": 30080}, {"port": 443}]}},
     ["Name", "Type", "Cluster-IP", "External-IP", "Port(s)", "Age"],
     ["web", "NodePort", "10.96.0.10", "<none>", "80:30080/TCP,443/TCP"]),
    ("/api/v1/namespaces/default/services",
     {"metadata": {"name": "lb"}, "spec": {"type": "LoadBalancer", "ports": [{"port": 80}]}},
     ["Name", "Type", "Cluster-IP", "External-IP", "Port(s)", "Age"],
     ["lb", "LoadBalancer", "<none>", "<pending>", "80/TCP"]),
    ("/api/v1/namespaces/default/configmaps",
     {"metadata": {"name": "cm"}, "data": {"a": "1", "b": "2"}, "binaryData": {"c": "AA=="}},
     ["Name", "Data", "Age"], ["cm", 3]),
    ("/api/v1/namespaces/default/secrets",
     {"metadata": {"name": "creds"}, "type": "kubernetes.io/basic-auth",
      "data": {"username": "YWRtaW4=", "password": "c2VjcmV0"}},
     ["Name", "Type", "Data", "Age"], ["creds", "kubernetes.io/basic-auth", 2]),
    ("/api/v1/namespaces/default/persistentvolumeclaims",
     {"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "standard",
                                             "resources": {"requests": {"storage": "1Gi"}}}},
     ["Name", "Status", "Volume", "Capacity", "Access Modes", "StorageClass", "VolumeAttributesClass", "Age"],
     ["data", "", "", "", "", "standard", "<unset>"]),
    ("/apis/networking.k8s.io/v1/namespaces/default/ingresses",
     {"metadata": {"name": "site"}, "spec": {"ingressClassName": "nginx", "tls": [{"hosts": ["a.example"]}],
                                             "rules": [{"host": "a.example"}, {"host": "b.example"}]}},
     ["Name", "Class", "Hosts", "Address", "Ports", "Age"], ["site", "nginx", "a.example,b.example", "", "80, 443"]),
    ("/api/v1/namespaces/default/serviceaccounts", {"metadata": {"name": "robot"}, "secrets": [{"name": "t"}]},
     ["Name", "Secrets", "Age"], ["robot", 1]),
    ("/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers",
     {"metadata": {"name": "web"}, "spec": {
         "scaleTargetRef": {"kind": "Deployment", "name": "web", "apiVersion": "apps/v1"}, "maxReplicas": 5,
         "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization",
                                                                                 "averageUtilization": 80}}}]}},
     ["Name", "Reference", "Targets", "MinPods", "MaxPods", "Replicas", "Age"],
     ["web", "Deployment/web", "cpu: <unknown>/80%", "<unset>", 5, 0]),
    ("/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers",  # as `kubectl autoscale` makes it
     {"metadata": {"name": "api"}, "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "api"},
                                            "minReplicas": 2, "maxReplicas": 4, "targetCPUUtilizationPercentage": 70}},
     ["Name", "Reference", "Targets", "MinPods", "MaxPods", "Replicas", "Age"],
     ["api", "Deployment/api", "cpu: <unknown>/70%", "2", 4, 0]),
    ("/apis/policy/v1/namespaces/default/poddisruptionbudgets",
     {"metadata": {"name": "web"}, "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app": "web"}}}},
     ["Name", "Min Available", "Max Unavailable", "Allowed Disruptions", "Age"], ["web", "N/A", "1", 0]),
    ("/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings",
     {"metadata": {"name": "read"}, "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                                                "name": "reader"},
      "subjects": [{"kind": "User", "name": "ann"}, {"kind": "ServiceAccount", "name": "robot",
                                                      "namespace": "default"}]},
     ["Name", "Role", "Age"], ["read", "Role/reader"]),
    ("/apis/storage.k8s.io/v1/storageclasses",
     {"metadata": {"name": "standard", "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
      "provisioner": "rancher.io/local-path", "volumeBindingMode": "WaitForFirstConsumer"},
     ["Name", "Provisioner", "ReclaimPolicy", "VolumeBindingMode", "AllowVolumeExpansion", "Age"],
     ["standard (default)", "rancher.io/local-path", "Delete", "WaitForFirstConsumer", False]),
    ("/apis/coordination.k8s.io/v1/namespaces/default/leases",
     {"metadata": {"name": "rollouts-controller"}, "spec": {"holderIdentity": "pod-a"}},
     ["Name", "Holder", "Age"], ["rollouts-controller", "pod-a"]),
]


@pytest.mark.parametrize(("path", "body", "columns", "cells"), BUILTIN_CASES,
                         ids=[f"{case[0].rsplit('/', 1)[-1]}-{case[1]['metadata']['name']}" for case in BUILTIN_CASES])
def test_builtin_columns(http: httpx.Client, path: str, body: dict[str, Any], columns: list[str],
                         cells: list[Any]) -> None:
    http.post(path, json=body).raise_for_status()
    table = _table(http, f"{path}/{body['metadata']['name']}")
    assert [c["name"] for c in table["columnDefinitions"] if c["priority"] == 0] == columns
    row = table["rows"][0]["cells"]
    assert row[:len(cells)] == cells
    age_index = [c["name"] for c in table["columnDefinitions"]].index("Age")
    assert AGE.match(row[age_index])


def test_binding_subjects_are_wide_columns(http: httpx.Client) -> None:
    binding = {"metadata": {"name": "read"}, "roleRef": {"kind": "ClusterRole", "name": "view",
                                                         "apiGroup": "rbac.authorization.k8s.io"},
               "subjects": [{"kind": "User", "name": "ann"}, {"kind": "Group", "name": "devs"},
                            {"kind": "ServiceAccount", "name": "robot", "namespace": "ci"}]}
    http.post("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", json=binding).raise_for_status()
    table = _table(http, "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/read")
    assert [(c["name"], c["priority"]) for c in table["columnDefinitions"]][3:] == [
        ("Users", 1), ("Groups", 1), ("ServiceAccounts", 1)]
    assert table["rows"][0]["cells"][3:] == ["ann", "devs", "ci/robot"]


def test_roles_and_crds_show_when_they_were_created(http: httpx.Client, widgets: dict[str, Any]) -> None:
    http.post("/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles",
              json={"metadata": {"name": "reader"}, "rules": []}).raise_for_status()
    for path in ("/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles/reader",
                 "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.sandbox.test"):
        table = _table(http, path)
        assert [(c["name"], c["type"]) for c in table["columnDefinitions"]] == [
            ("Name", "string"), ("Created At", "date")]
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", table["rows"][0]["cells"][1])


def test_secret_table_never_carries_values(http: httpx.Client) -> None:
    http.post("/api/v1/namespaces/default/secrets",
              json={"metadata": {"name": "creds"}, "data": {"password": "c2VjcmV0"}}).raise_for_status()
    response = http.get("/api/v1/namespaces/default/secrets", headers={"Accept": TABLE_V1})
    assert "c2VjcmV0" not in response.text


def test_event_columns(http: httpx.Client) -> None:
    event = {"metadata": {"name": "web.1"}, "type": "Warning", "reason": "BackOff", "message": " restarting ",
             "involvedObject": {"kind": "Pod", "name": "web-0", "fieldPath": "spec.containers{app}"},
             "source": {"component": "kubelet", "host": "node-1"}, "count": 4,
             "firstTimestamp": "2025-01-01T00:00:00Z", "lastTimestamp": "2025-01-01T00:00:00Z"}
    http.post("/api/v1/namespaces/default/events", json=event).raise_for_status()
    table = _table(http, "/api/v1/namespaces/default/events")
    assert [c["name"] for c in table["columnDefinitions"] if c["priority"] == 0] == [
        "Last Seen", "Type", "Reason", "Object", "Message"]
    cells = table["rows"][0]["cells"]
    assert cells[1:] == ["Warning", "BackOff", "pod/web-0", "spec.containers{app}", "kubelet, node-1", "restarting",
                         cells[0], 4, "web.1"]


@needs_kubectl
@pytest.mark.kubectl
def test_kubectl_get_pods_and_deployments_prints_their_columns(kubectl: Kubectl, http: httpx.Client) -> None:
    http.post("/apis/apps/v1/namespaces/default/deployments", json=deployment("web")).raise_for_status()
    http.post("/api/v1/namespaces/default/pods", json=_pod("web-pod", {})).raise_for_status()
    assert table_rows(kubectl("get", "deployments").stdout)[0] == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    assert table_rows(kubectl("get", "pods").stdout)[0] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert table_rows(kubectl("get", "pods", "-o", "wide").stdout)[0] == [
        "NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED NODE", "READINESS GATES"]


def test_watch_events_carry_one_row_tables_when_tables_are_asked_for(http: httpx.Client) -> None:
    # `kubectl get -w` asks for Tables on the watch too, and prints each event's row under the same header.
    http.post("/api/v1/namespaces/default/configmaps",
              json={"metadata": {"name": "settings"}, "data": {"a": "1"}}).raise_for_status()
    with http.stream("GET", "/api/v1/namespaces/default/configmaps",
                     params={"watch": "true", "timeoutSeconds": "5"}, headers={"Accept": KUBECTL_ACCEPT}) as stream:
        [event] = read_events(stream, 1)
    assert event["type"] == "ADDED"
    table = event["object"]
    assert (table["kind"], [c["name"] for c in table["columnDefinitions"]]) == ("Table", ["Name", "Data", "Age"])
    assert table["rows"][0]["cells"][:2] == ["settings", 1]
    assert table["rows"][0]["object"]["kind"] == "PartialObjectMetadata"
