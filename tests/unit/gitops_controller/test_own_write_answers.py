"""The answer to the controller's own write of an Application may carry what someone else changed just before it
landed: an ApplicationSet deleting the Application, a person editing its spec. Their watch events are then older
than the recorded answer and are skipped as already seen, so the answer itself must queue the Application — else
the deletion waits for the next poll (seen in the platform demo: a removed folder's Application kept its resources
for minutes when the ApplicationSet's delete landed just before the controller's status patch)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes.client
import pytest

from gitops.controller.controller import AppController
from kube.client import KubeClient
from tests.gitops_harness import controller_options


def application(resource_version: int, **metadata: Any) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "inventory", "namespace": "argocd", "resourceVersion": str(resource_version), **metadata},
        "spec": {"source": {"repoURL": "file:///apps.git", "path": "apps/inventory"}},
    }


@pytest.fixture
def controller(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[AppController, list[set[str]]]:
    configuration = kubernetes.client.Configuration()
    configuration.host = "http://127.0.0.1:9"  # never contacted: no pass runs here
    made = AppController(KubeClient(kubernetes.client.ApiClient(configuration)), controller_options(tmp_path))
    queued: list[set[str]] = []
    monkeypatch.setattr(made, "_queue_threadsafe", lambda names: queued.append(set(names)))
    made._app_event(None, application(10))
    queued.clear()
    return made, queued


def test_a_deletion_carried_by_our_own_write_queues_the_application(
    controller: tuple[AppController, list[set[str]]]
) -> None:
    made, queued = controller
    made._app_written(application(12, deletionTimestamp="2026-12-07T06:27:34Z", finalizers=["x"]))
    # The deletion's own watch event (resourceVersion 11) is older than the recorded answer: skipped as seen.
    made._app_event("MODIFIED", application(11, deletionTimestamp="2026-12-07T06:27:34Z"))
    assert queued == [{"inventory"}]


def test_a_spec_edit_carried_by_our_own_write_queues_the_application(
    controller: tuple[AppController, list[set[str]]]
) -> None:
    made, queued = controller
    edited = application(12)
    edited["spec"]["source"]["path"] = "apps/inventory-v2"
    made._app_written(edited)
    assert queued == [{"inventory"}]


def test_our_own_status_write_alone_queues_nothing(controller: tuple[AppController, list[set[str]]]) -> None:
    made, queued = controller
    written = application(12)
    written["status"] = {"sync": {"status": "Synced"}}
    made._app_written(written)
    made._app_event("MODIFIED", written)
    assert queued == []


def test_the_answer_to_a_write_that_raced_the_deletion_does_not_bring_the_application_back(
    controller: tuple[AppController, list[set[str]]]
) -> None:
    """The Application's DELETED event was applied before the answer to our status patch (resourceVersion 11) was
    recorded: the Application stays gone, or the controller would reconcile a deleted Application for ever."""
    made, queued = controller
    made._app_event("DELETED", application(12, uid="app-1"))
    made._app_written(application(11, uid="app-1"))
    assert not made._app_known("inventory")
    assert queued == []
