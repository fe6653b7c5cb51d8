"""App health: the worst resource health wins, in Argo CD's order, with the v3.4 Missing rule."""

from __future__ import annotations

import itertools

import pytest

from gitops.health import HEALTH_ORDER, app_health, is_worse
from gitops.resources import Health, JsonObject

LIVE: JsonObject = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}}
IGNORED: JsonObject = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "p", "annotations": {"argocd.argoproj.io/ignore-healthcheck": "true"}},
}


def test_order_is_healthy_suspended_progressing_missing_degraded_unknown() -> None:
    """gitops-engine healthOrder: Healthy < Suspended < Progressing < Missing < Degraded < Unknown."""
    assert HEALTH_ORDER == ("Healthy", "Suspended", "Progressing", "Missing", "Degraded", "Unknown")
    assert all(is_worse(better, worse) for better, worse in itertools.pairwise(HEALTH_ORDER))


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        pytest.param(["Healthy", "Progressing", "Suspended"], "Progressing", id="progressing-beats-suspended"),
        pytest.param(["Healthy", "Suspended"], "Suspended", id="suspended-beats-healthy"),
        pytest.param(["Progressing", "Degraded", "Healthy"], "Degraded", id="degraded-beats-progressing"),
        pytest.param(["Degraded", "Unknown"], "Unknown", id="unknown-is-worst"),
        pytest.param(["Healthy", "Healthy"], "Healthy", id="all-healthy"),
    ],
)
def test_worst_resource_health_wins(statuses: list[str], expected: str) -> None:
    """Argo CD setApplicationHealth: the app takes the worst health of its resources."""
    assert app_health([(LIVE, Health(status), False) for status in statuses]) == Health(expected)


def test_no_resources_is_healthy() -> None:
    """An app with nothing to deploy starts from Healthy and nothing lowers it."""
    assert app_health([]) == Health("Healthy")


def test_hooks_do_not_count() -> None:
    """Argo CD: hook resources are left out of app health."""
    assert app_health([(LIVE, Health("Healthy"), False), (LIVE, Health("Degraded"), True)]) == Health("Healthy")


def test_resources_without_health_check_do_not_count() -> None:
    """Argo CD: a resource whose kind has no health check (nil health) does not affect the app."""
    assert app_health([(LIVE, None, False), (LIVE, Health("Progressing"), False)]) == Health("Progressing")


def test_ignore_healthcheck_annotation_leaves_a_resource_out() -> None:
    """Argo CD: argocd.argoproj.io/ignore-healthcheck: "true" leaves the resource out of app health."""
    assert app_health([(IGNORED, Health("Degraded"), False), (LIVE, Health("Healthy"), False)]) == Health("Healthy")


def test_some_missing_resources_do_not_lower_health_since_v3_4() -> None:
    """Argo CD 3.4: a Missing resource is left out of the aggregate while other resources exist."""
    assert app_health([(None, None, False), (LIVE, Health("Suspended"), False)]) == Health("Suspended")


def test_every_resource_missing_makes_the_app_missing() -> None:
    """Argo CD 3.4: when no resource exists in the cluster the app is Missing."""
    assert app_health([(None, None, False), (None, Health("Missing"), False)]) == Health("Missing")


def test_a_live_resource_without_health_check_keeps_the_app_from_missing() -> None:
    """Argo CD 3.4: the Missing rule asks whether any resource is live, health check or not."""
    config_map: JsonObject = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}
    assert app_health([(None, None, False), (config_map, None, False)]) == Health("Healthy")


def test_missing_hook_does_not_make_the_app_missing() -> None:
    """Hooks are skipped before the Missing rule: a not-yet-created hook leaves a healthy app Healthy."""
    assert app_health([(None, None, True), (LIVE, Health("Healthy"), False)]) == Health("Healthy")


def test_only_hooks_is_healthy_not_missing() -> None:
    """An app whose only resources are hooks contains no resources for the Missing rule."""
    assert app_health([(None, None, True)]) == Health("Healthy")


@pytest.mark.parametrize("status", ["Missing", "Unknown"])
def test_child_application_missing_or_unknown_does_not_affect_the_parent(status: str) -> None:
    """Argo CD: a Missing or Unknown child Application (App of Apps) does not lower the parent's health."""
    child: JsonObject = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application", "metadata": {"name": "c"}}
    assert app_health([(child, Health(status), False), (LIVE, Health("Healthy"), False)]) == Health("Healthy")


def test_child_application_degraded_does_affect_the_parent() -> None:
    """With a health customization, a Degraded child Application lowers the parent's health."""
    child: JsonObject = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application", "metadata": {"name": "c"}}
    assert app_health([(child, Health("Degraded"), False)]) == Health("Degraded")
