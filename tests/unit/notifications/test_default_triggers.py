"""The built-in triggers against Argo's documented defaults.

Argo CD's conditions are those of its notifications catalog (``notifications_catalog/install.yaml``): each is
evaluated here over Application snapshots where it must and must not hold. Argo Rollouts' triggers are keyed on the
Event reason (``translateReasonToTrigger`` in ``utils/record/record.go``).
"""

from __future__ import annotations

from typing import Any

import pytest

from notifications.config import parse_config
from notifications.defaults import (
    APPLICATION_DEFAULTS,
    DEFAULT_APPLICATION_TRIGGERS,
    DEFAULT_ROLLOUT_TRIGGERS,
    ROLLOUT_DEFAULTS,
)
from notifications.triggers import run_trigger, trigger_for_reason

APPLICATION_CONFIG = parse_config({}, defaults=APPLICATION_DEFAULTS)
ROLLOUT_CONFIG = parse_config({}, defaults=ROLLOUT_DEFAULTS)


def app(
    *, phase: str | None = None, sync: str = "Synced", health: str = "Healthy", revision: str = "abc123",
    health_changed: str = "2024-05-01T10:00:10Z", finished: str = "2024-05-01T10:00:05Z",
) -> dict[str, Any]:
    status: dict[str, Any] = {
        "sync": {"status": sync, "revision": revision},
        "health": {"status": health, "lastTransitionTime": health_changed},
    }
    if phase is not None:
        status["operationState"] = {"phase": phase, "finishedAt": finished, "syncResult": {"revision": revision}}
    return {"metadata": {"name": "guestbook"}, "status": status}


def fires(trigger: str, application: dict[str, Any]) -> bool:
    results = run_trigger(APPLICATION_CONFIG.triggers[trigger], {"app": application})
    assert all(not result.error for result in results), results
    return any(result.triggered for result in results)


@pytest.mark.parametrize(
    ("trigger", "application", "expected"),
    [
        # on-sync-succeeded: operationState != nil and phase in ['Succeeded']
        ("on-sync-succeeded", app(phase="Succeeded"), True),
        ("on-sync-succeeded", app(phase="Running"), False),
        ("on-sync-succeeded", app(), False),
        # on-sync-failed: phase in ['Error', 'Failed']
        ("on-sync-failed", app(phase="Failed"), True),
        ("on-sync-failed", app(phase="Error"), True),
        ("on-sync-failed", app(phase="Succeeded"), False),
        ("on-sync-failed", app(), False),
        # on-sync-running: phase in ['Running']
        ("on-sync-running", app(phase="Running"), True),
        ("on-sync-running", app(phase="Succeeded"), False),
        # on-sync-status-unknown: sync.status == 'Unknown'
        ("on-sync-status-unknown", app(sync="Unknown"), True),
        ("on-sync-status-unknown", app(sync="OutOfSync"), False),
        # on-health-degraded: health.status == 'Degraded'
        ("on-health-degraded", app(health="Degraded"), True),
        ("on-health-degraded", app(health="Progressing"), False),
        # on-deployed: Succeeded, Healthy, and healthy since (not before) the operation finished
        ("on-deployed", app(phase="Succeeded"), True),
        ("on-deployed", app(phase="Succeeded", health_changed="2024-05-01T10:00:05Z"), True),
        ("on-deployed", app(phase="Succeeded", health_changed="2024-05-01T09:59:00Z"), False),
        ("on-deployed", app(phase="Succeeded", health="Progressing"), False),
        ("on-deployed", app(phase="Running"), False),
        ("on-deployed", app(), False),
    ],
)
def test_argo_cd_default_trigger_conditions(trigger: str, application: dict[str, Any], expected: bool) -> None:
    assert fires(trigger, application) is expected


@pytest.mark.parametrize("trigger", DEFAULT_APPLICATION_TRIGGERS)
def test_argo_cd_default_triggers_go_once_per_synced_revision(trigger: str) -> None:
    """Every catalog trigger has ``oncePer: app.status.operationState?.syncResult?.revision``."""
    (condition,) = APPLICATION_CONFIG.triggers[trigger]
    assert condition.once_per == "app.status.operationState?.syncResult?.revision"


def test_once_per_is_the_synced_revision_when_the_condition_holds() -> None:
    (result,) = run_trigger(APPLICATION_CONFIG.triggers["on-sync-succeeded"], {"app": app(phase="Succeeded")})
    assert result.triggered and result.once_per == "abc123"


def test_once_per_of_an_application_never_synced_is_go_nil() -> None:
    """``fmt.Sprintf("%v", nil)`` is ``<nil>``: the engine keys the state with it."""
    (result,) = run_trigger(APPLICATION_CONFIG.triggers["on-sync-status-unknown"], {"app": app(sync="Unknown")})
    assert result.triggered and result.once_per == "<nil>"


def test_once_per_is_not_evaluated_when_the_condition_does_not_hold() -> None:
    (result,) = run_trigger(APPLICATION_CONFIG.triggers["on-sync-succeeded"], {"app": app(phase="Running")})
    assert not result.triggered and result.once_per == ""


@pytest.mark.parametrize(
    ("reason", "trigger"),
    [
        ("RolloutCompleted", "on-rollout-completed"),
        ("RolloutStepCompleted", "on-rollout-step-completed"),
        ("RolloutUpdated", "on-rollout-updated"),
        ("RolloutPaused", "on-rollout-paused"),
        ("RolloutAborted", "on-rollout-aborted"),
        ("AnalysisRunFailed", "on-analysis-run-failed"),
        ("AnalysisRunError", "on-analysis-run-error"),
        ("AnalysisRunRunning", "on-analysis-run-running"),
        ("ScalingReplicaSet", "on-scaling-replica-set"),
    ],
)
def test_argo_rollouts_event_reason_names_its_trigger(reason: str, trigger: str) -> None:
    assert trigger_for_reason(reason) == trigger


@pytest.mark.parametrize("trigger", DEFAULT_ROLLOUT_TRIGGERS)
def test_argo_rollouts_default_triggers_have_no_condition_and_send_their_template(trigger: str) -> None:
    """Argo Rollouts' ``trigger.on-rollout-completed: - send: [rollout-completed]`` (no ``when``): sent on the Event."""
    (condition,) = ROLLOUT_CONFIG.triggers[trigger]
    assert condition.when == "" and condition.send == (trigger.removeprefix("on-"),)
    (result,) = run_trigger(ROLLOUT_CONFIG.triggers[trigger], {"rollout": {}}, empty_holds=True)
    assert result.triggered


def test_an_empty_condition_never_holds_for_a_level_triggered_kind() -> None:
    """The engine compiles an empty ``when`` as ``false``."""
    (result,) = run_trigger(ROLLOUT_CONFIG.triggers["on-rollout-paused"], {"app": {}})
    assert not result.triggered
