"""``kubectl create <kind>``: client-go's typed clients send protobuf, which the emulator decodes for these kinds.

The expected objects are what kubectl's generators build (``kubectl create deployment x --image=y`` makes one
container named after the image, labels ``app: x``, one replica), as a real API server stores them.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import httpx
import pytest
from emulator_kubectl import KUBECTL, Kubectl, kubectl_for

from sandbox.emulator import ApiEmulator, EmulatorThread

pytestmark = [
    pytest.mark.kubectl,
    pytest.mark.skipif(KUBECTL is None, reason="the kubectl binary is not on PATH"),
]


@pytest.fixture
def kubectl(emulator_thread: EmulatorThread, tmp_path: Path) -> Kubectl:
    return kubectl_for(emulator_thread.url, tmp_path)


def test_create_deployment(kubectl: Kubectl, emulator: ApiEmulator) -> None:
    assert "deployment.apps/web created" in kubectl("create", "deployment", "web", "--image=nginx:1.27",
                                                    "--port=80").stdout
    live = emulator.get_object("apps", "v1", "deployments", "default", "web")
    assert live is not None
    assert live["metadata"]["labels"] == {"app": "web"}
    assert live["spec"]["replicas"] == 1
    assert live["spec"]["selector"] == {"matchLabels": {"app": "web"}}
    assert live["spec"]["template"]["metadata"]["labels"] == {"app": "web"}
    assert live["spec"]["template"]["spec"]["containers"] == [
        {"name": "nginx", "image": "nginx:1.27", "ports": [{"containerPort": 80}]}]


def test_create_deployment_keeps_an_explicit_zero_replicas(kubectl: Kubectl, emulator: ApiEmulator) -> None:
    # replicas is a pointer in Go: 0 is sent, and must not turn into the default of 1.
    kubectl("create", "deployment", "idle", "--image=nginx", "--replicas=0")
    live = emulator.get_object("apps", "v1", "deployments", "default", "idle")
    assert live is not None and live["spec"]["replicas"] == 0


def test_create_deployment_with_a_command(kubectl: Kubectl, emulator: ApiEmulator) -> None:
    kubectl("create", "deployment", "sleeper", "--image=busybox", "--", "sleep", "3600")
    live = emulator.get_object("apps", "v1", "deployments", "default", "sleeper")
    assert live is not None
    assert live["spec"]["template"]["spec"]["containers"][0]["command"] == ["sleep", "3600"]


def test_create_job(kubectl: Kubectl, emulator: ApiEmulator) -> None:
    assert "job.batch/migrate created" in kubectl("create", "job", "migrate", "--image=busybox", "--",
                                                  "echo", "done").stdout
    live = emulator.get_object("batch", "v1", "jobs", "default", "migrate")
    assert live is not None
    assert live["spec"]["template"]["spec"] == {
        "containers": [{"name": "migrate", "image": "busybox", "command": ["echo", "done"]}],
        "restartPolicy": "Never"}


def test_create_cronjob(kubectl: Kubectl, emulator: ApiEmulator) -> None:
    kubectl("create", "cronjob", "nightly", "--image=busybox", "--schedule=0 3 * * *")
    live = emulator.get_object("batch", "v1", "cronjobs", "default", "nightly")
    assert live is not None
    assert live["spec"]["schedule"] == "0 3 * * *"
    job_template = live["spec"]["jobTemplate"]
    assert job_template["metadata"]["name"] == "nightly"
    assert job_template["spec"]["template"]["spec"]["restartPolicy"] == "OnFailure"


def test_create_service_clusterip(kubectl: Kubectl, emulator: ApiEmulator) -> None:
    assert "service/api created" in kubectl("create", "service", "clusterip", "api", "--tcp=80:8080").stdout
    live = emulator.get_object("", "v1", "services", "default", "api")
    assert live is not None
    assert live["spec"]["type"] == "ClusterIP"
    assert live["spec"]["selector"] == {"app": "api"}
    assert live["spec"]["ports"] == [{"name": "80-8080", "protocol": "TCP", "port": 80, "targetPort": 8080}]


def test_create_service_nodeport_and_headless(kubectl: Kubectl, emulator: ApiEmulator) -> None:
    kubectl("create", "service", "nodeport", "edge", "--tcp=443:https", "--node-port=30443")
    kubectl("create", "service", "clusterip", "db", "--clusterip=None")
    edge = emulator.get_object("", "v1", "services", "default", "edge")
    db = emulator.get_object("", "v1", "services", "default", "db")
    assert edge is not None and db is not None
    assert edge["spec"]["ports"] == [
        {"name": "443-https", "protocol": "TCP", "port": 443, "targetPort": "https", "nodePort": 30443}]
    assert db["spec"]["clusterIP"] == "None"


def test_create_configmap_secret_and_serviceaccount(kubectl: Kubectl, emulator: ApiEmulator) -> None:
    kubectl("create", "configmap", "settings", "--from-literal=mode=fast")
    kubectl("create", "secret", "generic", "creds", "--from-literal=password=s3cret")
    kubectl("create", "serviceaccount", "robot")
    configmap = emulator.get_object("", "v1", "configmaps", "default", "settings")
    secret = emulator.get_object("", "v1", "secrets", "default", "creds")
    assert configmap is not None and configmap["data"] == {"mode": "fast"}
    assert secret is not None and base64.b64decode(secret["data"]["password"]) == b"s3cret"
    assert emulator.get_object("", "v1", "serviceaccounts", "default", "robot") is not None


def test_create_ingress(kubectl: Kubectl, emulator: ApiEmulator) -> None:
    kubectl("create", "ingress", "site", "--class=nginx", "--rule=a.example/api*=api:80,tls=site-tls",
            "--default-backend=web:http")
    live = emulator.get_object("networking.k8s.io", "v1", "ingresses", "default", "site")
    assert live is not None
    assert live["spec"] == {
        "ingressClassName": "nginx",
        "defaultBackend": {"service": {"name": "web", "port": {"name": "http"}}},
        "tls": [{"hosts": ["a.example"], "secretName": "site-tls"}],
        # `http` sits in the rule itself: Go embeds IngressRuleValue without a JSON name.
        "rules": [{"host": "a.example", "http": {"paths": [
            {"path": "/api", "pathType": "Prefix",
             "backend": {"service": {"name": "api", "port": {"number": 80}}}}]}}],
    }


def test_create_role_and_rolebinding(kubectl: Kubectl, emulator: ApiEmulator) -> None:
    kubectl("create", "role", "reader", "--verb=get,list", "--resource=pods,deployments.apps")
    kubectl("create", "rolebinding", "read", "--role=reader", "--user=ann", "--serviceaccount=default:robot")
    role = emulator.get_object("rbac.authorization.k8s.io", "v1", "roles", "default", "reader")
    binding = emulator.get_object("rbac.authorization.k8s.io", "v1", "rolebindings", "default", "read")
    assert role is not None and binding is not None
    assert role["rules"] == [  # the core group is the empty string, kept
        {"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods"]},
        {"verbs": ["get", "list"], "apiGroups": ["apps"], "resources": ["deployments"]}]
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"}
    assert binding["subjects"] == [
        {"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "ann"},
        {"kind": "ServiceAccount", "name": "robot", "namespace": "default"}]


def test_create_pdb_keeps_a_zero_max_unavailable(kubectl: Kubectl, emulator: ApiEmulator) -> None:
    kubectl("create", "pdb", "strict", "--selector=app=web", "--max-unavailable=0")
    kubectl("create", "pdb", "half", "--selector=app=web", "--min-available=50%")
    strict = emulator.get_object("policy", "v1", "poddisruptionbudgets", "default", "strict")
    half = emulator.get_object("policy", "v1", "poddisruptionbudgets", "default", "half")
    assert strict is not None and strict["spec"] == {"maxUnavailable": 0, "selector": {"matchLabels": {"app": "web"}}}
    assert half is not None and half["spec"]["minAvailable"] == "50%"


def test_create_quota_and_autoscale(kubectl: Kubectl, emulator: ApiEmulator) -> None:
    kubectl("create", "quota", "small", "--hard=pods=2,requests.cpu=500m")
    kubectl("create", "deployment", "web", "--image=nginx")
    kubectl("autoscale", "deployment", "web", "--min=2", "--max=5", "--cpu-percent=80")
    quota = emulator.get_object("", "v1", "resourcequotas", "default", "small")
    hpa = emulator.get_object("autoscaling", "v1", "horizontalpodautoscalers", "default", "web")
    assert quota is not None and quota["spec"]["hard"] == {"pods": "2", "requests.cpu": "500m"}
    assert hpa is not None and hpa["spec"] == {
        "scaleTargetRef": {"kind": "Deployment", "name": "web", "apiVersion": "apps/v1"},
        "minReplicas": 2, "maxReplicas": 5, "targetCPUUtilizationPercentage": 80}


def test_create_job_from_a_cronjob(kubectl: Kubectl, emulator: ApiEmulator) -> None:
    kubectl("create", "cronjob", "nightly", "--image=busybox", "--schedule=0 3 * * *")
    kubectl("create", "job", "manual", "--from=cronjob/nightly")
    job = emulator.get_object("batch", "v1", "jobs", "default", "manual")
    cronjob = emulator.get_object("batch", "v1", "cronjobs", "default", "nightly")
    assert job is not None and cronjob is not None
    assert job["metadata"]["annotations"] == {"cronjob.kubernetes.io/instantiate": "manual"}
    assert job["metadata"]["ownerReferences"][0]["uid"] == cronjob["metadata"]["uid"]


def test_a_field_the_decoder_does_not_know_is_refused_naming_the_fix(kubectl: Kubectl) -> None:
    # A CronJob applied with volumes (not among the fields kubectl's generators set): `kubectl create job
    # --from` copies them into a protobuf body, which is refused rather than stored without its volumes.
    cronjob = {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "backup"},
               "spec": {"schedule": "0 3 * * *", "jobTemplate": {"spec": {"template": {"spec": {
                   "restartPolicy": "OnFailure", "volumes": [{"name": "data", "emptyDir": {}}],
                   "containers": [{"name": "c", "image": "busybox"}]}}}}}}
    kubectl("apply", "-f", "-", stdin=json.dumps(cronjob))
    result = kubectl("create", "job", "now", "--from=cronjob/backup", check=False)
    assert result.returncode != 0
    assert "field number 1 of spec.template.spec is set" in result.stderr
    assert "--dry-run=client -o yaml | kubectl apply -f -" in result.stderr
    manifest = kubectl("create", "job", "now", "--from=cronjob/backup", "--dry-run=client", "-o", "yaml").stdout
    kubectl("apply", "-f", "-", stdin=manifest)  # the fix the message names


def test_a_protobuf_field_the_decoder_does_not_know_is_refused_not_dropped(http: httpx.Client) -> None:
    # A Deployment whose spec sets field 8 (rollbackTo, not in apps/v1): decoding it away would lose data.
    type_meta = b"\n\x07apps/v1\x12\nDeployment"
    metadata = b"\n\x01x"
    spec = b"\x42\x02\x08\x05"  # field 8, length-delimited, holding field 1 = 5
    raw = b"\n" + bytes([len(metadata)]) + metadata + b"\x12" + bytes([len(spec)]) + spec
    body = b"k8s\x00\n" + bytes([len(type_meta)]) + type_meta + b"\x12" + bytes([len(raw)]) + raw
    response = http.post("/apis/apps/v1/namespaces/default/deployments", content=body,
                         headers={"Content-Type": "application/vnd.kubernetes.protobuf"})
    assert response.status_code == 415, response.text
    assert "field number 8 of spec is set" in response.json()["message"]
