"""``kubectl create <kind>``: client-go's typed clients send protobuf, which the emulator decodes for these kinds.

The expected objects are what kubectl's generators build (``kubectl create deployment x --image=y`` makes one
container named after the image, labels ``app: x``, one replica), as a real API server stores them.
"""

from __future__ import annotations

import base64
from pathlib import Path

import httpx
import pytest
from kubectl_runner import KUBECTL, Kubectl, kubectl_for

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


def test_unsupported_kind_is_refused_naming_the_fix(kubectl: Kubectl) -> None:
    result = kubectl("create", "quota", "small", "--hard=pods=2", check=False)
    assert result.returncode != 0
    assert "protobuf bodies of v1/ResourceQuota are not supported" in result.stderr
    assert "--dry-run=client -o yaml | kubectl apply -f -" in result.stderr


def test_the_suggested_fix_works(kubectl: Kubectl, emulator: ApiEmulator) -> None:
    manifest = kubectl("create", "quota", "small", "--hard=pods=2", "--dry-run=client", "-o", "yaml").stdout
    kubectl("apply", "-f", "-", stdin=manifest)
    quota = emulator.get_object("", "v1", "resourcequotas", "default", "small")
    assert quota is not None and quota["spec"]["hard"] == {"pods": "2"}


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
