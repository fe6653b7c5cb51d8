"""Health of a child Application in an App of Apps (``--application-health``).

Argo CD ≥ 1.8 has no health check for ``argoproj.io/Application`` (docs: operator-manual/health.md, "Argo CD App"),
so by default a child is left out of its parent's health and of wave gating. With the flag, a child counts as
Healthy only when Synced and Healthy for its current spec (beyond Argo CD: argo-cd #5585, #4577, #8778).
"""

from __future__ import annotations

from typing import Any

import pytest

from gitops.health import resource_health
from gitops.health.application import application_health
from gitops.resources import Health, JsonObject

SOURCE = {"repoURL": "https://git.example/apps.git", "path": "child", "targetRevision": "main"}
DESTINATION = {"server": "https://kubernetes.default.svc", "namespace": "child"}


def child(sync: str | None = "Synced", health: str | None = "Healthy", *, compared: JsonObject | None = None,
          operation_phase: str | None = None, operation: bool = False, message: str = "",
          **spec: Any) -> JsonObject:
    """A child Application whose status says ``sync``/``health``, compared against its spec unless told."""
    body: JsonObject = {"source": SOURCE, "destination": DESTINATION, **spec}
    status: JsonObject = {}
    if sync is not None:
        status["sync"] = {"status": sync, "comparedTo": compared if compared is not None else {
            "source": body.get("source"), "destination": DESTINATION}}
    if health is not None:
        status["health"] = {"status": health, **({"message": message} if message else {})}
    if operation_phase is not None:
        status["operationState"] = {"phase": operation_phase}
    obj: JsonObject = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
                       "metadata": {"name": "child-a", "namespace": "argocd"}, "spec": body, "status": status}
    if operation:
        obj["operation"] = {"sync": {"revision": "main"}}
    return obj


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        pytest.param(child(), "Healthy", id="synced-and-healthy"),
        pytest.param(child(sync="OutOfSync"), "Progressing", id="healthy-but-out-of-sync-waits"),
        pytest.param(child(health="Progressing"), "Progressing", id="synced-but-progressing-waits"),
        pytest.param(child(health="Missing"), "Progressing", id="synced-but-missing-waits"),
        pytest.param(child(sync=None, health=None), "Progressing", id="never-compared-waits"),
        pytest.param(child(sync="Unknown", health="Healthy"), "Progressing", id="comparison-error-waits"),
        pytest.param(child(health="Degraded"), "Degraded", id="degraded-child-is-degraded"),
        pytest.param(child(sync="OutOfSync", health="Degraded"), "Degraded", id="degraded-whatever-the-sync"),
        pytest.param(child(health="Suspended"), "Suspended", id="suspended-child-holds-as-suspended"),
        pytest.param(child(operation_phase="Running"), "Progressing", id="operation-running-waits"),
        pytest.param(child(operation=True), "Progressing", id="operation-requested-waits"),
        pytest.param(child(operation_phase="Succeeded"), "Healthy", id="finished-operation-does-not-wait"),
        pytest.param(child(compared={"source": {**SOURCE, "targetRevision": "v1"}, "destination": DESTINATION}),
                     "Progressing", id="status-of-an-older-spec-waits"),
        pytest.param(child(compared={"source": SOURCE, "destination": {**DESTINATION, "namespace": "old"}}),
                     "Progressing", id="status-of-an-older-destination-waits"),
    ],
)
def test_child_application_is_healthy_only_when_synced_and_healthy_for_its_current_spec(
    obj: JsonObject, expected: str
) -> None:
    assert application_health(obj).status == expected


def test_multi_source_child_is_compared_by_its_sources() -> None:
    sources = [SOURCE, {"repoURL": "https://git.example/values.git", "ref": "values"}]
    current = child(compared={"sources": sources, "destination": DESTINATION}, source=None, sources=sources)
    stale = child(compared={"sources": sources[:1], "destination": DESTINATION}, source=None, sources=sources)
    assert (application_health(current).status, application_health(stale).status) == ("Healthy", "Progressing")


def test_waiting_message_says_what_the_child_lacks() -> None:
    assert application_health(child(sync="OutOfSync")).message == (
        "waiting for the child application to be Synced (sync status: OutOfSync)")
    assert application_health(child(health="Degraded", message="Deployment web failed")) == Health(
        "Degraded", "Deployment web failed")


def test_argo_cd_assesses_no_health_for_applications_by_default() -> None:
    """Argo CD ≥ 1.8: a child Application has no health check unless one is configured."""
    assert resource_health(child(health="Degraded")) is None


def test_flag_gives_child_applications_their_health() -> None:
    assert resource_health(child(health="Degraded"), assess_applications=True) == Health(
        "Degraded", "child application is Degraded")


def test_a_lua_customization_wins_over_the_flag() -> None:
    """As for every kind, a resource.customizations.health script replaces the built-in assessment."""
    script = 'hs = {}\nhs.status = "Healthy"\nhs.message = "from lua"\nreturn hs\n'
    assessed = resource_health(child(sync="OutOfSync"), overrides={"argoproj.io_Application": script},
                               assess_applications=True)
    assert assessed == Health("Healthy", "from lua")
