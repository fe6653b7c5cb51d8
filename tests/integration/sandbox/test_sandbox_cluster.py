"""The whole sandbox in one object, on the caller's loop or on a thread for blocking clients."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from kubernetes import client, config

from sandbox.cluster import Sandbox, SandboxError, SandboxThread

WIDGET_CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  names: {kind: Widget, listKind: WidgetList, plural: widgets, singular: widget}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
    subresources: {status: {}}
---
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources: [widgets.yaml]
"""


@pytest.fixture(scope="module")
def sandbox_thread() -> Iterator[SandboxThread]:
    with SandboxThread(ready_delay=0.05, namespaces=("default", "prod")) as thread:
        yield thread


@pytest.fixture
def kube_api(sandbox_thread: SandboxThread, tmp_path: Path) -> client.ApiClient:
    path = sandbox_thread.write_kubeconfig(tmp_path / "kubeconfig")
    return config.new_client_from_config(config_file=str(path))


def test_kubeconfig_points_a_kubernetes_client_at_the_sandbox(sandbox_thread: SandboxThread, tmp_path: Path) -> None:
    path = sandbox_thread.write_kubeconfig(tmp_path / "kubeconfig")
    written = yaml.safe_load(path.read_text())
    assert written["current-context"] == "sandbox"
    assert written["clusters"][0]["cluster"] == {"server": sandbox_thread.url, "insecure-skip-tls-verify": True}
    assert written["contexts"][0]["context"]["namespace"] == "default"
    assert path.stat().st_mode & 0o777 == 0o600
    api = config.new_client_from_config(config_file=str(path))
    names = {ns.metadata.name for ns in client.CoreV1Api(api).list_namespace().items}
    assert {"default", "prod"} <= names


def test_istio_resources_are_served_at_every_version(kube_api: client.ApiClient) -> None:
    custom = client.CustomObjectsApi(kube_api)
    body = {
        "apiVersion": "networking.istio.io/v1beta1",
        "kind": "VirtualService",
        "metadata": {"name": "web"},
        "spec": {"hosts": ["web"], "http": [{"route": [{"destination": {"host": "web"}, "weight": 100}]}]},
    }
    custom.create_namespaced_custom_object("networking.istio.io", "v1beta1", "default", "virtualservices", body)
    for version in ("v1alpha3", "v1beta1", "v1"):
        got = custom.get_namespaced_custom_object("networking.istio.io", version, "default", "virtualservices", "web")
        assert got["spec"]["http"][0]["route"][0]["weight"] == 100
        assert got["apiVersion"] == f"networking.istio.io/{version}"
    rule = {"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule", "metadata": {"name": "web"}}
    rule["spec"] = {"host": "web", "subsets": [{"name": "stable", "labels": {"app": "web"}}]}
    custom.create_namespaced_custom_object("networking.istio.io", "v1", "default", "destinationrules", rule)
    resources = client.ApisApi(kube_api).get_api_versions()
    istio = next(g for g in resources.groups if g.name == "networking.istio.io")
    assert {v.version for v in istio.versions} == {"v1alpha3", "v1beta1", "v1"}


def test_a_deployment_made_by_a_blocking_client_comes_up(kube_api: client.ApiClient) -> None:
    apps = client.AppsV1Api(kube_api)
    body: dict[str, Any] = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "api", "namespace": "prod"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "api"}},
            "template": {
                "metadata": {"labels": {"app": "api"}},
                "spec": {"containers": [{"name": "api", "image": "api:1"}]},
            },
        },
    }
    apps.create_namespaced_deployment("prod", body)
    deadline = time.monotonic() + 5
    while True:
        status = apps.read_namespaced_deployment_status("api", "prod").status
        if status is not None and status.available_replicas == 2 and status.updated_replicas == 2:
            break
        assert time.monotonic() < deadline, f"deployment never became available: {status}"
        time.sleep(0.05)
    pods = client.CoreV1Api(kube_api).list_namespaced_pod("prod", label_selector="app=api").items
    assert [p.status.phase for p in pods] == ["Running", "Running"]


def test_call_runs_coroutines_on_the_sandbox_loop(sandbox_thread: SandboxThread) -> None:
    async def count_namespaces(url: str) -> int:
        async with httpx.AsyncClient(base_url=url) as http:
            return len((await http.get("/api/v1/namespaces")).json()["items"])

    assert sandbox_thread.call(count_namespaces, sandbox_thread.url) >= 2


async def test_project_crds_are_loaded_from_the_given_directories(tmp_path: Path) -> None:
    (tmp_path / "widgets.yaml").write_text(WIDGET_CRD)
    async with (
        Sandbox(crd_dirs=[tmp_path], simulate_workloads=False) as sandbox,
        httpx.AsyncClient(base_url=sandbox.url) as http,
    ):
        created = await http.post(
            "/apis/example.com/v1/namespaces/default/widgets",
            json={"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}},
        )
        assert created.status_code == 201
        crds = (await http.get("/apis/apiextensions.k8s.io/v1/customresourcedefinitions")).json()["items"]
        assert {c["metadata"]["name"] for c in crds} >= {
            "widgets.example.com",
            "virtualservices.networking.istio.io",
            "destinationrules.networking.istio.io",
        }


async def test_an_unreadable_crd_file_fails_before_anything_listens(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("kind: [unclosed")
    with pytest.raises(SandboxError, match=r"broken\.yaml"):
        await Sandbox(crd_dirs=[tmp_path]).start()


async def test_a_missing_crd_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SandboxError, match="does not exist"):
        await Sandbox(crd_dirs=[tmp_path / "absent"]).start()


def test_a_port_in_use_is_raised_from_start() -> None:
    with SandboxThread() as first:
        port = int(first.url.rsplit(":", 1)[1])
        with pytest.raises(OSError):
            SandboxThread(port=port).start()
