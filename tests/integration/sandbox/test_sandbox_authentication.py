"""A sandbox started with a bearer token is a cluster that checks credentials: requests without the token get the
API server's 401 Status, its kubeconfig carries the token, and its own simulators still work (they present it)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from kube.client import KubeClient
from kube.errors import ApiError
from kube.resources import DEPLOYMENTS, NAMESPACES
from sandbox.cluster import SandboxThread
from tests.gitops_harness import wait_for

TOKEN = "only-this-one"


@pytest.fixture(scope="module")
def guarded() -> Iterator[SandboxThread]:
    running = SandboxThread(ready_delay=0.0, bearer_token=TOKEN)
    running.start()
    try:
        yield running
    finally:
        running.stop()


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer not-it"}])
def test_a_request_without_the_token_gets_401_unauthorized(guarded: SandboxThread, headers: dict[str, str]) -> None:
    answer = httpx.get(f"{guarded.url}/api/v1/namespaces", headers=headers)
    assert answer.status_code == 401
    assert answer.json() == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                             "message": "Unauthorized", "reason": "Unauthorized", "code": 401}


def test_a_client_from_a_kubeconfig_with_another_token_is_refused(guarded: SandboxThread, tmp_path: Path) -> None:
    kubeconfig = guarded.write_kubeconfig(tmp_path / "kubeconfig")
    kubeconfig.write_text(kubeconfig.read_text().replace(TOKEN, "stolen"))
    client = KubeClient.from_kubeconfig(str(kubeconfig))
    with pytest.raises(ApiError) as refused:
        client.list(NAMESPACES)
    assert refused.value.code == 401


def test_its_kubeconfig_and_its_simulators_present_the_token(guarded: SandboxThread, tmp_path: Path) -> None:
    client = KubeClient.from_kubeconfig(str(guarded.write_kubeconfig(tmp_path / "kubeconfig")))
    client.create(DEPLOYMENTS, "default", {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "web", "image": "nginx"}]}}}})

    def ready() -> bool:
        return (client.get(DEPLOYMENTS, "default", "web").get("status") or {}).get("readyReplicas") == 1

    # The workload simulator, an HTTP client of the API, makes the pod ready only if it is let in.
    wait_for(ready, "the workload simulator to make the Deployment ready", timeout=30.0)
