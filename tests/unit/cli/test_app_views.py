"""`rollouts app` output and requests in argocd's shapes (argocd CLI docs: app list columns, app get resource table,
--resource GROUP:KIND:NAME, terminate-op "No operation is in progress")."""

from __future__ import annotations

from typing import Any

import pytest

from cli.app_operations import OperationRefused, parse_resource, sync_operation, terminate_patch
from cli.app_view import LIST_HEADERS, list_row, resource_rows, summary, sync_policy_word, table

APP: dict[str, Any] = {
    "metadata": {"name": "guestbook", "namespace": "argocd"},
    "spec": {"project": "default", "source": {"repoURL": "https://g/r.git", "path": "gb", "targetRevision": "HEAD"},
             "destination": {"server": "https://kubernetes.default.svc", "namespace": "default"},
             "syncPolicy": {"automated": {"prune": True}}},
    "status": {
        "sync": {"status": "Synced", "revision": "a" * 40}, "health": {"status": "Healthy"},
        "conditions": [{"type": "SyncError", "message": "m"}],
        "resources": [{"group": "apps", "kind": "Deployment", "namespace": "default", "name": "ui",
                       "status": "Synced", "health": {"status": "Healthy"}}],
        "operationState": {"phase": "Succeeded", "syncResult": {"resources": [
            {"group": "apps", "kind": "Deployment", "namespace": "default", "name": "ui", "status": "Synced",
             "message": "deployment.apps/ui configured"},
            {"group": "batch", "kind": "Job", "namespace": "default", "name": "migrate", "hookType": "PreSync",
             "hookPhase": "Succeeded", "message": "done"}]}},
    },
}


def test_list_has_argocd_columns() -> None:
    assert LIST_HEADERS == ("NAME", "CLUSTER", "NAMESPACE", "PROJECT", "STATUS", "HEALTH", "SYNCPOLICY", "CONDITIONS",
                            "REPO", "PATH", "TARGET")
    assert list_row(APP) == ["guestbook", "https://kubernetes.default.svc", "default", "default", "Synced",
                             "Healthy", "Auto-Prune", "SyncError", "https://g/r.git", "gb", "HEAD"]


@pytest.mark.parametrize(("policy", "word"), [({}, "Manual"), ({"automated": {}}, "Auto"),
                                              ({"automated": {"prune": True}}, "Auto-Prune"),
                                              ({"automated": {"enabled": False}}, "Manual")])
def test_sync_policy_words(policy: dict[str, Any], word: str) -> None:
    assert sync_policy_word({"spec": {"syncPolicy": policy}}) == word


def test_resource_rows_carry_the_last_sync_message_and_deleted_hooks() -> None:
    assert resource_rows(APP) == [
        ["apps", "Deployment", "default", "ui", "Synced", "Healthy", "", "deployment.apps/ui configured"],
        ["batch", "Job", "default", "migrate", "Succeeded", "", "PreSync", "done"],
    ]


def test_table_aligns_columns() -> None:
    assert table(("A", "BB"), [["xxx", "y"]]).splitlines() == ["A    BB", "xxx  y"]


@pytest.mark.parametrize(("spec", "resource"), [
    (":Service:web", {"group": "", "kind": "Service", "name": "web"}),
    ("apps:Deployment:shop/web", {"group": "apps", "kind": "Deployment", "name": "web", "namespace": "shop"}),
])
def test_resource_flags(spec: str, resource: dict[str, str]) -> None:
    assert parse_resource(spec) == resource


def test_a_malformed_resource_flag_says_what_is_expected() -> None:
    with pytest.raises(ValueError, match="GROUP:KIND:NAME"):
        parse_resource("Deployment/web")


def test_sync_operation_has_argocd_fields() -> None:
    operation = sync_operation(revision="v2", prune=True, dry_run=True, force=True, resources=[":Service:web"],
                               username="me")
    assert operation == {"sync": {"revision": "v2", "prune": True, "dryRun": True,
                                  "syncStrategy": {"apply": {"force": True}},
                                  "resources": [{"group": "", "kind": "Service", "name": "web"}]},
                         "initiatedBy": {"username": "me"}}


def test_terminate_needs_a_running_operation() -> None:
    running = {**APP, "status": {"operationState": {"phase": "Running"}}}
    assert terminate_patch(running) == {"status": {"operationState": {"phase": "Terminating"}}}
    with pytest.raises(OperationRefused, match="No operation is in progress"):
        terminate_patch(APP)


def test_get_shows_the_resolved_destination_clusters_name_and_server() -> None:
    app = {**APP, "spec": {**APP["spec"], "destination": {"name": "edge", "namespace": "web"}}}
    lines = [line.split() for line in summary(app, {"name": "edge", "server": "https://edge.example:6443"}).splitlines()]
    assert ["Cluster:", "edge"] in lines and ["Server:", "https://edge.example:6443"] in lines


def test_get_without_the_resolved_cluster_shows_the_destinations_own_field() -> None:
    app = {**APP, "spec": {**APP["spec"], "destination": {"name": "edge", "namespace": "web"}}}
    lines = [line.split() for line in summary(app).splitlines()]
    assert ["Server:", "edge"] in lines and not any(line[:1] == ["Cluster:"] for line in lines)
