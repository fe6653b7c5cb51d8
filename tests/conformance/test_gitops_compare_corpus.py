"""The comparison over real manifests: the plain-YAML apps of argoproj/argocd-example-apps in the shared corpus.

Each app is compared three ways: before anything is applied (every resource Missing), as ``kubectl apply`` leaves it
in a cluster (server metadata, defaulted fields and status added: Synced), and after hand edits (a field the
target does not set is ignored; a changed container image makes that one resource OutOfSync).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from gitops.compare.comparison import compare_app
from gitops.compare.diff import LAST_APPLIED_ANNOTATION
from gitops.compare.hooks import is_hook
from gitops.compare.tracking import with_tracking
from gitops.resources import JsonObject, ResourceKey, namespaced_by_default
from tests.conformance.corpus import CORPUS_ENV, corpus_dir

EXAMPLE_APPS = corpus_dir() / "argocd-example-apps"
if not EXAMPLE_APPS.is_dir():
    pytest.skip(
        f"shared corpus not found at {corpus_dir()}: the comparison conformance tests need argocd-example-apps/ "
        f"(or set {CORPUS_ENV})",
        allow_module_level=True,
    )

# Directories of plain manifests (kustomization.yaml files are left out: only the manifests are read).
APP_DIRECTORIES = ["guestbook", "sync-waves", "sock-shop/base"]
DESTINATION = "demo"


def _targets(directory: Path) -> list[JsonObject]:
    targets = []
    for path in sorted(directory.glob("*.y*ml")):
        if path.name.startswith("kustomization"):
            continue
        for document in yaml.safe_load_all(path.read_text()):
            if not isinstance(document, dict) or "kind" not in document:
                continue
            metadata = document.setdefault("metadata", {})
            group = str(document.get("apiVersion", "")).rpartition("/")[0]
            if namespaced_by_default(group, document["kind"]) and not metadata.get("namespace"):
                metadata["namespace"] = DESTINATION
            targets.append(document)
    return targets


def _server_defaults(node: Any) -> None:
    """Fields the API server fills in that manifests rarely write."""
    if isinstance(node, dict):
        for container in node.get("containers") or []:
            if isinstance(container, dict):
                container.setdefault("imagePullPolicy", "Always")
                container.setdefault("terminationMessagePath", "/dev/termination-log")
                container.setdefault("terminationMessagePolicy", "File")
                container.setdefault("resources", {})
        for port in node.get("ports") or []:
            if isinstance(port, dict):
                port.setdefault("protocol", "TCP")
        for value in node.values():
            _server_defaults(value)
    elif isinstance(node, list):
        for item in node:
            _server_defaults(item)


def _as_applied(target: JsonObject, app: str) -> JsonObject:
    """The live object ``kubectl apply`` of the tracked target leaves behind."""
    tracked = with_tracking(target, app)
    live = copy.deepcopy(tracked)
    annotations = live["metadata"].setdefault("annotations", {})
    annotations[LAST_APPLIED_ANNOTATION] = json.dumps(tracked)
    live["metadata"].update(uid="0000", resourceVersion="17", generation=1, creationTimestamp="2026-01-01T00:00:00Z")
    live["metadata"]["managedFields"] = [{"manager": "kubectl-client-side-apply", "operation": "Update"}]
    spec = live.get("spec")
    _server_defaults(spec)
    if live["kind"] == "Service" and isinstance(spec, dict):
        spec.setdefault("type", "ClusterIP")
        spec.setdefault("clusterIP", "10.96.0.17")
        spec.setdefault("sessionAffinity", "None")
    if live["kind"] == "Ingress" or (isinstance(spec, dict) and spec.get("type") == "LoadBalancer"):
        live["status"] = {"loadBalancer": {"ingress": [{"ip": "192.0.2.10"}]}}
    if live["kind"] in ("Deployment", "ReplicaSet") and isinstance(spec, dict):
        replicas = spec.get("replicas", 1)
        spec.setdefault("revisionHistoryLimit", 10)
        live["status"] = {
            "observedGeneration": 1,
            "replicas": replicas,
            "updatedReplicas": replicas,
            "readyReplicas": replicas,
            "availableReplicas": replicas,
        }
    return live


def _app(name: str) -> JsonObject:
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application", "metadata": {"name": name}}


@pytest.mark.parametrize("directory", APP_DIRECTORIES)
def test_nothing_applied_yet_is_out_of_sync_and_missing(directory: str) -> None:
    targets = _targets(EXAMPLE_APPS / directory)
    assert targets, f"{directory}: no manifests read"
    comparison = compare_app(_app("example"), targets, {})
    resources = [resource for resource in comparison.resources if not resource.hook]
    assert resources and all(r.status == "OutOfSync" and r.health is not None for r in resources)
    assert all(r.health is not None and r.health.status == "Missing" for r in resources)
    assert (comparison.sync_status, comparison.health.status) == ("OutOfSync", "Missing")
    hooks = [target for target in targets if is_hook(target)]
    assert sum(resource.hook for resource in comparison.resources) == len(hooks)


@pytest.mark.parametrize("directory", APP_DIRECTORIES)
def test_as_kubectl_apply_leaves_it_is_synced_and_healthy(directory: str) -> None:
    targets = [target for target in _targets(EXAMPLE_APPS / directory) if not is_hook(target)]
    live = {ResourceKey.of(obj): obj for obj in (_as_applied(target, "example") for target in targets)}
    comparison = compare_app(_app("example"), targets, live)
    out_of_sync = {str(r.key): r.diff for r in comparison.resources if r.status != "Synced"}
    assert out_of_sync == {}
    assert (comparison.sync_status, comparison.health.status) == ("Synced", "Healthy")


def _applied(directory: str) -> tuple[list[JsonObject], dict[ResourceKey, JsonObject]]:
    targets = [target for target in _targets(EXAMPLE_APPS / directory) if not is_hook(target)]
    return targets, {ResourceKey.of(obj): obj for obj in (_as_applied(target, "example") for target in targets)}


@pytest.mark.parametrize("directory", APP_DIRECTORIES)
def test_a_label_added_by_hand_is_not_drift(directory: str) -> None:
    """Three-way diff: a field neither the target nor the last apply wrote is someone else's."""
    targets, live = _applied(directory)
    for obj in live.values():
        obj["metadata"].setdefault("labels", {})["edited-by"] = "hand"
    assert compare_app(_app("example"), targets, live).sync_status == "Synced"


@pytest.mark.parametrize("directory", APP_DIRECTORIES)
def test_a_container_image_changed_by_hand_is_drift_of_that_resource_only(directory: str) -> None:
    targets, live = _applied(directory)
    key, edited = next((key, obj) for key, obj in live.items() if "template" in (obj.get("spec") or {}))
    edited["spec"]["template"]["spec"]["containers"][0]["image"] = "edited:by-hand"
    comparison = compare_app(_app("example"), targets, live)
    assert [r.key for r in comparison.resources if r.status == "OutOfSync"] == [key]
    text = next(r.diff for r in comparison.resources if r.key == key)
    assert any(line.startswith("-") and "image: edited:by-hand" in line for line in text.splitlines())
