"""The Application controller against the sandbox, with real Git repositories: Argo CD's documented behaviour of
automated sync (docs: user-guide/auto_sync.md), sync phases and waves (user-guide/sync-waves.md), resource hooks
(user-guide/resource_hooks.md), prune, self-heal and the allowEmpty guard."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

_REPO_ROOT = str(Path(__file__).resolve().parents[3])
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

from kube.client import KubeClient  # noqa: E402
from kube.resources import APPLICATIONS, CONFIGMAPS, DEPLOYMENTS, JOBS, NAMESPACES, SERVICES  # noqa: E402
from sandbox.cluster import SandboxThread  # noqa: E402
from sandbox.recorder import ChangeRecorder, Resource  # noqa: E402
from tests.gitops_harness import (  # noqa: E402
    APP_NAMESPACE,
    AppControllerThread,
    GitRepo,
    app_status,
    application,
    git_daemon,
    make_repo,
    wait_for,
    wait_synced_healthy,
)

APPS = Path(__file__).parent / "apps"
TRACKING = "argocd.argoproj.io/tracking-id"


def repo_with(tmp_path: Path, app_dir: str, into: str | None = None) -> GitRepo:
    repo = make_repo(tmp_path)
    repo.copy_tree(APPS / app_dir, into or app_dir)
    repo.commit({}, f"add {app_dir}")
    return repo


def create(client: KubeClient, manifest: dict[str, Any]) -> str:
    client.create(APPLICATIONS, APP_NAMESPACE, manifest)
    return str(manifest["metadata"]["name"])


def test_an_application_from_a_file_repository_syncs_to_synced_and_healthy(
    client: KubeClient, controller: AppControllerThread, namespace: str, tmp_path: Path
) -> None:
    repo = repo_with(tmp_path, "guestbook")
    name = create(client, application(f"{namespace}-guestbook", repo.url, "guestbook", namespace=namespace))
    status = wait_synced_healthy(client, name)
    head = repo.commit({}, "nothing")  # a later commit; the status names the one synced
    deployment = client.get(DEPLOYMENTS, namespace, "guestbook-ui")
    # Argo CD 3.x tracks by annotation: <app>:<group>/<kind>:<namespace>/<name>.
    assert deployment["metadata"]["annotations"][TRACKING] == f"{name}:apps/Deployment:{namespace}/guestbook-ui"
    assert status["sync"]["revision"] != head and len(status["sync"]["revision"]) == 40
    assert [(r["kind"], r["status"]) for r in sorted(status["resources"], key=lambda r: r["kind"])] == [
        ("Deployment", "Synced"), ("Service", "Synced")]
    assert status["history"][0]["revision"] == status["sync"]["revision"]
    assert status["summary"]["images"] == ["gcr.io/heptio-images/ks-guestbook-demo:0.2"]
    assert status["operationState"]["phase"] == "Succeeded"


def test_an_application_served_by_git_daemon_syncs(
    client: KubeClient, controller: AppControllerThread, namespace: str, tmp_path: Path
) -> None:
    repo = repo_with(tmp_path, "guestbook")
    with git_daemon(tmp_path) as base_url:
        name = create(client, application(f"{namespace}-daemon", f"{base_url}/{repo.bare.name}", "guestbook",
                                          namespace=namespace))
        wait_synced_healthy(client, name)
    assert client.get(SERVICES, namespace, "guestbook-ui")["spec"]["ports"][0]["port"] == 80


def test_writes_follow_phase_then_wave_then_kind(
    sandbox: tuple[SandboxThread, Path], client: KubeClient, controller: AppControllerThread, namespace: str,
    tmp_path: Path,
) -> None:
    """Argo CD applies PreSync hooks, then each wave lowest first (kinds in its order within a wave: Service
    before Deployment), then PostSync hooks — and starts a wave only once the previous one is healthy."""
    repo = repo_with(tmp_path, "waves")
    resources = [Resource("batch", "v1", "jobs"), Resource("", "v1", "configmaps"), Resource("", "v1", "services"),
                 Resource("apps", "v1", "deployments")]
    with ChangeRecorder(sandbox[0].emulator, resources) as recorder:
        name = create(client, application(f"{namespace}-waves", repo.url, "waves", namespace=namespace))
        wait_synced_healthy(client, name)
    created = [(c.plural, c.name) for c in recorder.changes_since(0)
               if c.namespace == namespace and c.type == "ADDED"]
    assert created == [
        ("jobs", "migrate"),
        ("configmaps", "settings"),
        ("services", "backend"),
        ("deployments", "backend"),
        ("deployments", "frontend"),
        ("jobs", "smoke-test"),
    ]
    # The PostSync hook with HookSucceeded is deleted once it succeeded.
    wait_for(lambda: client.get_or_none(JOBS, namespace, "smoke-test") is None, "the smoke-test hook deleted")


def test_self_heal_reverts_a_manual_edit(
    client: KubeClient, controller: AppControllerThread, namespace: str, tmp_path: Path
) -> None:
    repo = repo_with(tmp_path, "guestbook")
    name = create(client, application(f"{namespace}-heal", repo.url, "guestbook", namespace=namespace))
    wait_synced_healthy(client, name)
    client.patch(DEPLOYMENTS, namespace, "guestbook-ui", {"spec": {"replicas": 3}})
    wait_for(lambda: client.get(DEPLOYMENTS, namespace, "guestbook-ui")["spec"]["replicas"] == 1,
             "self-heal to put replicas back to 1")
    wait_synced_healthy(client, name)


@pytest.mark.parametrize("prune", [False, True], ids=["prune-off", "prune-on"])
def test_a_file_removed_from_git_is_pruned_only_with_prune_on(
    client: KubeClient, controller: AppControllerThread, namespace: str, tmp_path: Path, prune: bool
) -> None:
    repo = repo_with(tmp_path, "guestbook")
    name = create(client, application(f"{namespace}-prune", repo.url, "guestbook", namespace=namespace,
                                      automated={"prune": prune}))
    wait_synced_healthy(client, name)
    repo.commit({"guestbook/ui-service.yaml": None}, "drop the service")
    client.patch(APPLICATIONS, APP_NAMESPACE, name, {"metadata": {"annotations": {
        "argocd.argoproj.io/refresh": "normal"}}})
    if prune:
        wait_for(lambda: client.get_or_none(SERVICES, namespace, "guestbook-ui") is None, "the service pruned")
        wait_synced_healthy(client, name)
    else:
        def requires_pruning() -> bool:
            status = app_status(client, name)
            return status.get("sync", {}).get("status") == "OutOfSync" and any(
                r.get("kind") == "Service" and r.get("requiresPruning") for r in status.get("resources") or [])

        wait_for(requires_pruning, "the service reported as requiring pruning")
        assert client.get_or_none(SERVICES, namespace, "guestbook-ui") is not None


def test_an_empty_render_never_prunes(
    client: KubeClient, controller: AppControllerThread, namespace: str, tmp_path: Path
) -> None:
    """Argo CD: "Skipping sync attempt to <rev>: auto-sync will wipe out all resources" unless allowEmpty."""
    repo = repo_with(tmp_path, "guestbook")
    name = create(client, application(f"{namespace}-empty", repo.url, "guestbook", namespace=namespace))
    wait_synced_healthy(client, name)
    revision = repo.commit({"guestbook/ui-service.yaml": None, "guestbook/ui-deployment.yaml": None,
                            "guestbook/NOTES.md": "nothing to deploy\n"}, "empty the directory")
    client.patch(APPLICATIONS, APP_NAMESPACE, name, {"metadata": {"annotations": {
        "argocd.argoproj.io/refresh": "normal"}}})

    def refused() -> str | None:
        for item in app_status(client, name).get("conditions") or []:
            if item.get("type") == "SyncError" and "auto-sync will wipe out all resources" in item.get("message", ""):
                return str(item["message"])
        return None

    message = wait_for(refused, "the SyncError condition of the allowEmpty guard")
    assert revision in message
    assert client.get_or_none(DEPLOYMENTS, namespace, "guestbook-ui") is not None
    assert client.get_or_none(SERVICES, namespace, "guestbook-ui") is not None


FAILING_HOOK = """apiVersion: batch/v1
kind: Job
metadata:
  name: schema-migration
  annotations:
    argocd.argoproj.io/hook: PreSync
spec:
  backoffLimit: 0
  template:
    metadata:
      annotations:
        sandbox.rollouts/exit-code: "1"   # the sandbox's kubelet: the container exits with 1
    spec:
      restartPolicy: Never
      containers:
        - name: migrate
          image: migrations:v2
"""
AFTER_HOOK = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: after-migration\ndata:\n  a: b\n"


def failed_presync_operation(client: KubeClient, namespace: str, tmp_path: Path) -> dict[str, Any]:
    """A manual sync of a PreSync Job that fails and a ConfigMap; the operation state once it failed."""
    repo = make_repo(tmp_path, {"app/job.yaml": FAILING_HOOK, "app/config.yaml": AFTER_HOOK})
    name = create(client, application(f"{namespace}-presync", repo.url, "app", namespace=namespace,
                                      automated=False))
    client.patch(APPLICATIONS, APP_NAMESPACE, name, {"operation": {"sync": {}, "initiatedBy": {"username": "t"}}})

    def failed() -> dict[str, Any] | None:
        state = app_status(client, name).get("operationState") or {}
        return state if state.get("phase") == "Failed" else None

    state: dict[str, Any] = wait_for(failed, "the operation to fail", timeout=60)
    return state


def test_a_failing_presync_job_stops_the_sync_before_anything_else_is_applied(
    client: KubeClient, controller: AppControllerThread, namespace: str, tmp_path: Path
) -> None:
    """Argo CD (resource_hooks.md): a failed PreSync hook fails the sync; the Sync phase never runs."""
    state = failed_presync_operation(client, namespace, tmp_path)
    hooks = [r for r in state["syncResult"]["resources"] if r.get("hookType") == "PreSync"]
    assert [(r["name"], r["hookPhase"]) for r in hooks] == [("schema-migration", "Failed")]
    assert client.get_or_none(CONFIGMAPS, namespace, "after-migration") is None


def test_the_failed_operation_message_names_the_failing_job(
    client: KubeClient, controller: AppControllerThread, namespace: str, tmp_path: Path
) -> None:
    state = failed_presync_operation(client, namespace, tmp_path)
    assert state["message"].startswith("one or more synchronization tasks completed unsuccessfully, reason: ")
    assert "PreSync hook batch/Job/schema-migration failed" in state["message"]


def test_the_refresh_annotation_is_removed_once_the_refresh_is_done(
    client: KubeClient, controller: AppControllerThread, namespace: str, tmp_path: Path
) -> None:
    repo = repo_with(tmp_path, "guestbook")
    name = create(client, application(f"{namespace}-refresh", repo.url, "guestbook", namespace=namespace,
                                      automated=False))
    wait_for(lambda: app_status(client, name).get("sync", {}).get("status") == "OutOfSync", "OutOfSync")
    client.patch(APPLICATIONS, APP_NAMESPACE, name, {"metadata": {"annotations": {
        "argocd.argoproj.io/refresh": "hard"}}})
    wait_for(lambda: "argocd.argoproj.io/refresh" not in (
        client.get(APPLICATIONS, APP_NAMESPACE, name)["metadata"].get("annotations") or {}), "the annotation gone")


def test_create_namespace_creates_the_destination_and_the_app_stays_synced(
    client: KubeClient, controller: AppControllerThread, namespace: str, tmp_path: Path
) -> None:
    """Argo CD (sync-options.md, CreateNamespace=true): the destination namespace is created before the sync; it is
    not one of the app's resources, so it is never reported as requiring pruning."""
    repo = repo_with(tmp_path, "guestbook")
    destination = f"{namespace}-created"
    name = create(client, application(f"{namespace}-ns", repo.url, "guestbook", namespace=destination,
                                      sync_options=["CreateNamespace=true"]))
    status = wait_synced_healthy(client, name)
    assert client.get_or_none(NAMESPACES, None, destination) is not None
    assert {r["kind"] for r in status["resources"]} == {"Deployment", "Service"}


def test_server_side_apply_writes_as_the_argocd_controller_field_manager(
    client: KubeClient, controller: AppControllerThread, namespace: str, tmp_path: Path
) -> None:
    """Argo CD (sync-options.md, ServerSideApply=true): an apply patch as field manager argocd-controller."""
    repo = repo_with(tmp_path, "guestbook")
    name = create(client, application(f"{namespace}-ssa", repo.url, "guestbook", namespace=namespace,
                                      sync_options=["ServerSideApply=true"]))
    wait_synced_healthy(client, name)
    managers = {entry.get("manager") for entry in client.get(SERVICES, namespace, "guestbook-ui")["metadata"].get(
        "managedFields") or []}
    assert "argocd-controller" in managers
