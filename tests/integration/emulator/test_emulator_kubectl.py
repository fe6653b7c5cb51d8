"""kubectl against the emulator: discovery with short names, get/watch, apply, patch, delete, create ns."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from emulator_helpers import WIDGET_CRD, configmap, deployment, eventually

from sandbox.emulator import ApiEmulator, EmulatorThread

KUBECTL = shutil.which("kubectl")

pytestmark = [
    pytest.mark.kubectl,
]

Kubectl = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def kubectl(emulator_thread: EmulatorThread, tmp_path: Path) -> Kubectl:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "emulator",
                      "cluster": {"server": emulator_thread.url, "insecure-skip-tls-verify": True}}],
        "users": [{"name": "tester", "user": {"token": "not-checked"}}],
        "contexts": [{"name": "emulator", "context": {"cluster": "emulator", "user": "tester",
                                                      "namespace": "default"}}],
        "current-context": "emulator",
    }))

    def run(*args: str, stdin: str | None = None, check: bool = True,
            timeout: float = 20) -> subprocess.CompletedProcess[str]:
        assert KUBECTL is not None
        command = [KUBECTL, f"--kubeconfig={kubeconfig}", f"--cache-dir={tmp_path / 'cache'}", *args]
        result = subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({result.returncode}): {result.stderr}")
        return result

    return run


def _yaml(*bodies: dict[str, Any]) -> str:
    return yaml.safe_dump_all(bodies)


def test_kubectl_create_namespace(kubectl: Kubectl, emulator: ApiEmulator) -> None:
    assert "namespace/team-a created" in kubectl("create", "ns", "team-a").stdout
    namespace = emulator.get_object("", "v1", "namespaces", None, "team-a")
    assert namespace is not None and namespace["status"]["phase"] == "Active"


def test_kubectl_get_with_short_names(kubectl: Kubectl, http: httpx.Client) -> None:
    http.post("/apis/apps/v1/namespaces/default/deployments", json=deployment("web")).raise_for_status()
    http.post("/api/v1/namespaces/default/pods",
              json={"metadata": {"name": "web-pod"}, "spec": {"containers": [{"name": "c", "image": "i"}]}},
              ).raise_for_status()
    rs = {"metadata": {"name": "web-rs"}, "spec": {"selector": {"matchLabels": {"a": "b"}},
                                                   "template": {"metadata": {"labels": {"a": "b"}}}}}
    http.post("/apis/apps/v1/namespaces/default/replicasets", json=rs).raise_for_status()
    for short, expected in [("ns", "default"), ("po", "web-pod"), ("rs", "web-rs"), ("deploy", "web")]:
        result = kubectl("get", short, "-o", "name")
        assert expected in result.stdout, (short, result.stdout)
        assert "could also match" not in result.stderr, result.stderr


def test_kubectl_apply_creates_then_updates(kubectl: Kubectl, emulator: ApiEmulator) -> None:
    manifest = _yaml(deployment("web", image="app:1"), configmap("settings", mode="a"))
    out = kubectl("apply", "--validate=false", "-f", "-", stdin=manifest).stdout
    assert "deployment.apps/web created" in out and "configmap/settings created" in out
    out = kubectl("apply", "--validate=false", "-f", "-",
                  stdin=_yaml(deployment("web", image="app:2"), configmap("settings", mode="b"))).stdout
    assert "deployment.apps/web configured" in out and "configmap/settings configured" in out
    stored = emulator.get_object("apps", "v1", "deployments", "default", "web")
    assert stored is not None
    containers = stored["spec"]["template"]["spec"]["containers"]
    assert [(c["name"], c["image"]) for c in containers] == [("app", "app:2"), ("sidecar", "proxy:1")]
    assert stored["metadata"]["generation"] == 2
    settings = emulator.get_object("", "v1", "configmaps", "default", "settings")
    assert settings is not None and settings["data"] == {"mode": "b"}
    again = kubectl("apply", "--validate=false", "-f", "-",
                    stdin=_yaml(deployment("web", image="app:2"), configmap("settings", mode="b"))).stdout
    assert "unchanged" in again


def test_kubectl_patch_merge_json_strategic(kubectl: Kubectl, emulator: ApiEmulator, http: httpx.Client) -> None:
    http.post("/apis/apps/v1/namespaces/default/deployments", json=deployment("web")).raise_for_status()
    kubectl("patch", "deploy", "web", "--type", "merge", "-p", json.dumps({"metadata": {"labels": {"a": "b"}}}))
    kubectl("patch", "deploy", "web", "--type", "json",
            "-p", json.dumps([{"op": "replace", "path": "/spec/replicas", "value": 4}]))
    kubectl("patch", "deploy", "web", "--type", "strategic", "-p", json.dumps(
        {"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "app:9"}]}}}}))
    stored = emulator.get_object("apps", "v1", "deployments", "default", "web")
    assert stored is not None
    assert stored["metadata"]["labels"] == {"a": "b"}
    assert stored["spec"]["replicas"] == 4
    assert [c["image"] for c in stored["spec"]["template"]["spec"]["containers"]] == ["app:9", "proxy:1"]
    failed = kubectl("patch", "deploy", "web", "--type", "json",
                     "-p", json.dumps([{"op": "test", "path": "/spec/replicas", "value": 1}]), check=False)
    assert failed.returncode != 0


def test_kubectl_delete(kubectl: Kubectl, emulator: ApiEmulator, http: httpx.Client) -> None:
    http.post("/api/v1/namespaces/default/configmaps", json=configmap("doomed")).raise_for_status()
    assert 'configmap "doomed" deleted' in kubectl("delete", "cm", "doomed").stdout
    assert emulator.get_object("", "v1", "configmaps", "default", "doomed") is None
    missing = kubectl("delete", "cm", "doomed", check=False)
    assert missing.returncode != 0 and "NotFound" in missing.stderr


def test_kubectl_delete_namespace_waits_for_contents(kubectl: Kubectl, emulator: ApiEmulator) -> None:
    kubectl("create", "ns", "scratch")
    kubectl("apply", "--validate=false", "-n", "scratch", "-f", "-", stdin=_yaml(configmap("a")))
    kubectl("delete", "ns", "scratch")
    assert emulator.get_object("", "v1", "namespaces", None, "scratch") is None
    assert emulator.list_objects("", "v1", "configmaps", "scratch") == []


def test_kubectl_get_watch_streams_changes(kubectl: Kubectl, http: httpx.Client) -> None:
    http.post("/api/v1/namespaces/default/configmaps", json=configmap("first")).raise_for_status()
    results: dict[str, subprocess.CompletedProcess[str]] = {}
    watcher = threading.Thread(target=lambda: results.setdefault(
        "watch", kubectl("get", "cm", "-w", "-o", "name", "--request-timeout=2s", check=False)))
    watcher.start()
    time.sleep(0.7)  # let kubectl list and start watching
    http.post("/api/v1/namespaces/default/configmaps", json=configmap("second")).raise_for_status()
    watcher.join(timeout=10)
    lines = results["watch"].stdout.split()
    assert lines[:2] == ["configmap/first", "configmap/second"]


def test_kubectl_custom_resource_by_short_name(kubectl: Kubectl, emulator: ApiEmulator) -> None:
    kubectl("apply", "--validate=false", "-f", "-", stdin=_yaml(WIDGET_CRD))
    widget = {"apiVersion": "sandbox.test/v1", "kind": "Widget", "metadata": {"name": "w1"}, "spec": {"size": 1}}
    kubectl("apply", "--validate=false", "-f", "-", stdin=_yaml(widget))
    assert kubectl("get", "wd", "-o", "name").stdout.strip() == "widget.sandbox.test/w1"
    assert "widget.sandbox.test/w1" in kubectl("get", "gadgets", "-o", "name").stdout
    widget["spec"] = {"size": 3}
    assert "configured" in kubectl("apply", "--validate=false", "-f", "-", stdin=_yaml(widget)).stdout
    stored = emulator.get_object("sandbox.test", "v1", "widgets", "default", "w1")
    assert stored is not None and stored["spec"] == {"size": 3}
    kubectl("scale", "wd", "w1", "--replicas=5")
    eventually(lambda: (emulator.get_object("sandbox.test", "v1", "widgets", "default", "w1") or {})
               .get("spec", {}).get("size") == 5)


def test_kubectl_get_json_output_round_trips(kubectl: Kubectl, http: httpx.Client) -> None:
    http.post("/api/v1/namespaces/default/configmaps", json=configmap("a", k="v")).raise_for_status()
    listed = json.loads(kubectl("get", "cm", "-o", "json").stdout)
    assert [item["metadata"]["name"] for item in listed["items"]] == ["a"]
    assert listed["items"][0]["data"] == {"k": "v"}
