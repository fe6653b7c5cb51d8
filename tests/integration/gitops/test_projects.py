"""AppProjects enforced by the Application controller in the sandbox (Argo CD: user-guide/projects.md,
sync_windows.md): a refused repository is an InvalidSpecError and nothing is applied; a refused kind fails only
that sync, with Argo CD's message; a deny window holds automated syncs back and lets a manual one through when
``manualSync`` is set; the ``default`` project is created when missing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kube.client import KubeClient
from kube.resources import APP_PROJECTS, APPLICATIONS, CONFIGMAPS, NAMESPACES
from tests.gitops_harness import (
    APP_NAMESPACE,
    AppControllerThread,
    app_status,
    application,
    make_repo,
    wait_for,
    wait_synced_healthy,
)

CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  colour: blue\n"
CLUSTER_ROLE = ("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: {name}\n"
                "rules: []\n")
ALWAYS = "* * * * *"  # a window starting every minute is active at any moment


def project(name: str, **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"sourceRepos": ["*"], "destinations": [{"server": "*", "namespace": "*"}]}
    body.update(spec)
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "AppProject",
            "metadata": {"name": name, "namespace": APP_NAMESPACE}, "spec": body}


def in_project(app: dict[str, Any], name: str) -> dict[str, Any]:
    app["spec"]["project"] = name
    return app


def conditions(client: KubeClient, name: str) -> dict[str, str]:
    return {c["type"]: c["message"] for c in app_status(client, name).get("conditions") or []}


def test_the_default_project_is_created_when_missing(client: KubeClient, controller: AppControllerThread) -> None:
    created = wait_for(lambda: client.get_or_none(APP_PROJECTS, APP_NAMESPACE, "default"), "the default project")
    assert created["spec"]["sourceRepos"] == ["*"]


def test_a_repository_the_project_refuses_is_an_invalid_spec_and_nothing_is_applied(
    client: KubeClient, controller: AppControllerThread, namespace: str, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path, {"app/cm.yaml": CONFIGMAP})
    client.create(APP_PROJECTS, APP_NAMESPACE, project("strict-repos", sourceRepos=["https://github.com/org/*"]))
    client.create(APPLICATIONS, APP_NAMESPACE,
                  in_project(application("refused-repo", repo.url, "app", namespace=namespace), "strict-repos"))
    message = wait_for(lambda: conditions(client, "refused-repo").get("InvalidSpecError"), "InvalidSpecError")
    assert message == f"application repo {repo.url} is not permitted in project 'strict-repos'"
    assert client.get_or_none(CONFIGMAPS, namespace, "settings") is None


def test_a_kind_the_project_refuses_fails_only_that_sync_with_argo_cds_message(
    client: KubeClient, controller: AppControllerThread, namespace: str, tmp_path: Path
) -> None:
    role = f"{namespace}-reader"
    refused = make_repo(tmp_path / "refused", {"app/cm.yaml": CONFIGMAP, "app/role.yaml": CLUSTER_ROLE.format(
        name=role)})
    allowed = make_repo(tmp_path / "allowed", {"app/cm.yaml": CONFIGMAP})
    client.create(APP_PROJECTS, APP_NAMESPACE, project("no-cluster-kinds"))
    client.create(APPLICATIONS, APP_NAMESPACE, in_project(
        application("cluster-role-app", refused.url, "app", namespace=namespace), "no-cluster-kinds"))
    other_namespace = f"{namespace}-b"
    client.create(NAMESPACES, None, {"metadata": {"name": other_namespace}})
    client.create(APPLICATIONS, APP_NAMESPACE, in_project(
        application("plain-app", allowed.url, "app", namespace=other_namespace), "no-cluster-kinds"))

    def failed() -> dict[str, Any] | None:
        state = app_status(client, "cluster-role-app").get("operationState") or {}
        return state if state.get("phase") in ("Failed", "Error") else None

    state = wait_for(failed, "the refused sync to fail")
    assert "resource rbac.authorization.k8s.io:ClusterRole is not permitted in project no-cluster-kinds" in (
        state["message"] + " ".join(r.get("message", "") for r in state.get("syncResult", {}).get("resources", [])))
    wait_synced_healthy(client, "plain-app")
    assert client.get_or_none(CONFIGMAPS, other_namespace, "settings") is not None


def test_a_deny_window_holds_automated_sync_back_and_lets_a_manual_one_through(
    client: KubeClient, controller: AppControllerThread, namespace: str, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path, {"app/cm.yaml": CONFIGMAP})
    client.create(APP_PROJECTS, APP_NAMESPACE, project("frozen", syncWindows=[
        {"kind": "deny", "schedule": ALWAYS, "duration": "1h", "applications": ["*"], "manualSync": True}]))
    client.create(APPLICATIONS, APP_NAMESPACE,
                  in_project(application("frozen-app", repo.url, "app", namespace=namespace), "frozen"))
    # The controller compares (so it has looked) but starts no automated sync.
    wait_for(lambda: (app_status(client, "frozen-app").get("sync") or {}).get("status") == "OutOfSync",
             "the comparison")
    running = controller.controller
    assert running is not None
    mark = running.runner.passes.mark()
    running_loop = controller._loop
    assert running_loop is not None
    key = next(key for key in running._keys() if key.name == "frozen-app")
    running_loop.call_soon_threadsafe(running.runner.add, key)
    assert running.runner.passes.wait_for_pass(key, mark, 60), "the controller never looked again"
    assert not app_status(client, "frozen-app").get("operationState")
    assert client.get_or_none(CONFIGMAPS, namespace, "settings") is None

    client.patch(APPLICATIONS, APP_NAMESPACE, "frozen-app", {"operation": {
        "initiatedBy": {"username": "tester"}, "sync": {"revision": "main"}}})
    wait_synced_healthy(client, "frozen-app")
    assert client.get_or_none(CONFIGMAPS, namespace, "settings") is not None


def test_a_deny_window_without_manual_sync_holds_a_manual_sync_waiting(
    client: KubeClient, controller: AppControllerThread, namespace: str, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path, {"app/cm.yaml": CONFIGMAP})
    client.create(APP_PROJECTS, APP_NAMESPACE, project("locked", syncWindows=[
        {"kind": "deny", "schedule": ALWAYS, "duration": "1h", "applications": ["*"]}]))
    client.create(APPLICATIONS, APP_NAMESPACE, in_project(
        application("locked-app", repo.url, "app", namespace=namespace, automated=False), "locked"))
    client.patch(APPLICATIONS, APP_NAMESPACE, "locked-app", {"operation": {
        "initiatedBy": {"username": "tester"}, "sync": {"revision": "main"}}})
    state = wait_for(lambda: app_status(client, "locked-app").get("operationState"), "the operation state")
    assert state["phase"] == "Running"
    assert state["message"] == "Sync operation blocked by sync window"
    assert client.get_or_none(CONFIGMAPS, namespace, "settings") is None
