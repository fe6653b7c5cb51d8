"""Orphaned resources in the sandbox (Argo CD: user-guide/orphaned-resources.md): with a project that sets
``orphanedResources``, the objects of the destination namespace no Application manages are listed in the status and
by ``rollouts app get``, counted in ``OrphanedResourceWarning`` ("Application has N orphaned resources", descendants
included) unless ``warn: false``, never deleted, and the warning goes once none remain. Objects Kubernetes puts in
every namespace, and those an ``ignore`` entry names, are never orphans."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

_REPO_ROOT = str(Path(__file__).resolve().parents[3])
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

from cli.main import _register_commands, app  # noqa: E402
from kube.client import KubeClient  # noqa: E402
from kube.resources import APP_PROJECTS, APPLICATIONS, CONFIGMAPS, DEPLOYMENTS, ResourceKind  # noqa: E402
from sandbox.cluster import SandboxThread  # noqa: E402
from tests.gitops_harness import (  # noqa: E402
    APP_NAMESPACE,
    AppControllerThread,
    app_status,
    application,
    make_repo,
    wait_for,
    wait_synced_healthy,
)

_register_commands()

SERVICE_ACCOUNTS = ResourceKind("", "v1", "serviceaccounts", "ServiceAccount")

SETTINGS = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  colour: blue\n"


def project(name: str, orphaned: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "AppProject",
            "metadata": {"name": name, "namespace": APP_NAMESPACE},
            "spec": {"sourceRepos": ["*"], "destinations": [{"server": "*", "namespace": "*"}],
                     "orphanedResources": orphaned}}


def configmap(client: KubeClient, namespace: str, name: str) -> None:
    client.create(CONFIGMAPS, namespace, {"metadata": {"name": name}, "data": {"made": "by hand"}})


def warning(client: KubeClient, name: str) -> str | None:
    found = [c["message"] for c in app_status(client, name).get("conditions") or []
             if c["type"] == "OrphanedResourceWarning"]
    return found[0] if found else None


def listed(client: KubeClient, name: str) -> list[tuple[str, str]]:
    return sorted((entry["kind"], entry["name"]) for entry in app_status(client, name).get("orphanedResources") or [])


def test_orphans_are_warned_about_listed_never_deleted_and_the_warning_goes_with_them(
    sandbox: tuple[SandboxThread, Path], client: KubeClient, controller: AppControllerThread, namespace: str,
    tmp_path: Path,
) -> None:
    # What Kubernetes itself puts in a namespace (the sandbox does not), then what a person made by hand.
    client.create(SERVICE_ACCOUNTS, namespace, {"metadata": {"name": "default"}})
    configmap(client, namespace, "kube-root-ca.crt")
    configmap(client, namespace, "stray")
    configmap(client, namespace, "ignored-by-rule")
    client.create(DEPLOYMENTS, namespace, {
        "metadata": {"name": "manual"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "manual"}},
                 "template": {"metadata": {"labels": {"app": "manual"}},
                              "spec": {"containers": [{"name": "web", "image": "registry.example/web:1"}]}}}})
    client.create(APP_PROJECTS, APP_NAMESPACE, project("watchful", {
        "warn": True, "ignore": [{"kind": "ConfigMap", "name": "ignored-*"}]}))
    repo = make_repo(tmp_path, {"app/settings.yaml": SETTINGS})
    name = f"{namespace}-orphans"
    manifest = application(name, repo.url, "app", namespace=namespace)
    manifest["spec"]["project"] = "watchful"
    client.create(APPLICATIONS, APP_NAMESPACE, manifest)

    # The Deployment, its ReplicaSet and its Pod, and the stray ConfigMap.
    message = wait_for(lambda: warning(client, name) == "Application has 4 orphaned resources" and warning(
        client, name), "the warning counting the Deployment's descendants")
    assert message == "Application has 4 orphaned resources"
    orphans = listed(client, name)
    assert ("ConfigMap", "stray") in orphans and ("Deployment", "manual") in orphans
    assert {kind for kind, _ in orphans} == {"ConfigMap", "Deployment", "ReplicaSet", "Pod"}
    wait_synced_healthy(client, name)
    assert client.get_or_none(CONFIGMAPS, namespace, "stray") is not None, "an orphan is never deleted"

    shown = CliRunner().invoke(app, ["app", "get", name, "--kubeconfig", str(sandbox[1])])
    assert shown.exit_code == 0, shown.output
    orphan_table = shown.output.split("ORPHANED RESOURCES\n", 1)[1]
    assert orphan_table.splitlines()[0].split() == ["GROUP", "KIND", "NAMESPACE", "NAME"]
    rows = [line.split() for line in orphan_table.splitlines()[1:] if line.strip()]
    assert ["ConfigMap", namespace, "stray"] in rows
    assert ["apps", "Deployment", namespace, "manual"] in rows
    assert len(rows) == 4

    client.delete(CONFIGMAPS, namespace, "stray")
    client.delete(DEPLOYMENTS, namespace, "manual")
    wait_for(lambda: warning(client, name) is None and not listed(client, name), "the warning to go")


def test_with_warn_false_orphans_are_listed_without_a_warning(
    client: KubeClient, controller: AppControllerThread, namespace: str, tmp_path: Path,
) -> None:
    configmap(client, namespace, "stray")
    client.create(APP_PROJECTS, APP_NAMESPACE, project("quiet", {"warn": False}))
    repo = make_repo(tmp_path, {"app/settings.yaml": SETTINGS})
    name = f"{namespace}-quiet"
    manifest = application(name, repo.url, "app", namespace=namespace)
    manifest["spec"]["project"] = "quiet"
    client.create(APPLICATIONS, APP_NAMESPACE, manifest)
    assert wait_for(lambda: listed(client, name), "the orphans listed") == [("ConfigMap", "stray")]
    assert warning(client, name) is None
