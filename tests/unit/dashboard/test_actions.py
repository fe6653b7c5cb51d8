"""The dashboard's buttons (dashboard/actions.py): their parameters checked before anything is sent, the CLI's own
patches sent, and what the API refuses answered with the API's words (403 Forbidden: the kubeconfig's user lacks
the RBAC; the dashboard never acts with more than it)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from dashboard.actions import ActionRefused, run_application_action, run_rollout_action
from kube.errors import ApiError
from kube.resources import ResourceKind

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
FORBIDDEN = ('rollouts.argoproj.io "reviews" is forbidden: User "viewer" cannot patch resource "rollouts/status" '
             'in API group "argoproj.io" in the namespace "shop"')


class RecordingClient:
    """Answers GETs with one object and records patches; refuses them with ``refuse`` when given."""

    def __init__(self, obj: dict[str, Any], refuse: ApiError | None = None) -> None:
        self.obj = obj
        self.refuse = refuse
        self.patches: list[tuple[str, str, Any, str | None]] = []

    def get(self, kind: ResourceKind, namespace: str | None, name: str) -> dict[str, Any]:
        return self.obj

    def patch(self, kind: ResourceKind, namespace: str | None, name: str, patch: Any, *,
              subresource: str | None = None, patch_type: str = "merge") -> dict[str, Any]:
        if self.refuse is not None:
            raise self.refuse
        self.patches.append((kind.plural, name, patch, subresource))
        return self.obj


def paused_canary() -> dict[str, Any]:
    return {"metadata": {"name": "reviews", "namespace": "shop"},
            "spec": {"strategy": {"canary": {"steps": [{"setWeight": 20}, {"pause": {}}]}},
                     "template": {"spec": {"containers": [{"name": "app", "image": "reviews:v1"}]}}},
            "status": {"currentStepIndex": 1, "pauseConditions": [{"reason": "CanaryPauseStep"}],
                       "currentPodHash": "6f7b9c", "stableRS": "5d4c8b"}}


@pytest.mark.parametrize(
    ("action", "params", "patches"),
    [
        ("abort", {}, [("rollouts", "reviews", {"status": {"abort": True}}, "status")]),
        ("retry", {}, [("rollouts", "reviews", {"status": {"abort": False}}, "status")]),
        ("promote", {}, [("rollouts", "reviews", {"status": {"pauseConditions": None}}, "status")]),
        ("promote-full", {}, [("rollouts", "reviews", {"status": {"promoteFull": True}}, "status")]),
        ("restart", {}, [("rollouts", "reviews", {"spec": {"restartAt": "2026-01-01T12:00:00Z"}}, None)]),
        ("set-image", {"container": "app", "image": "reviews:v2"}, [("rollouts", "reviews", [
            {"op": "test", "path": "/spec/template/spec/containers/0/name", "value": "app"},
            {"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": "reviews:v2"}], None)]),
    ],
)
def test_each_rollout_button_sends_the_patches_of_its_cli_command(
    action: str, params: dict[str, Any], patches: list[Any]
) -> None:
    client = RecordingClient(paused_canary())
    message = run_rollout_action(client, "shop", "reviews", action, params, NOW)  # type: ignore[arg-type]
    assert client.patches == patches
    assert "reviews" in message


@pytest.mark.parametrize(
    ("action", "params", "status", "words"),
    [
        ("set-image", {"container": "app"}, 400, "image: required"),
        ("set-image", {"container": "app", "image": "a=b"}, 400, "must not contain '='"),
        ("set-image", {"container": "nope", "image": "x:1"}, 409, 'container "nope" not found'),
        ("explode", {}, 404, "unknown rollout action"),
    ],
)
def test_a_rollout_button_with_bad_parameters_sends_nothing_and_says_why(
    action: str, params: dict[str, Any], status: int, words: str
) -> None:
    client = RecordingClient(paused_canary())
    with pytest.raises(ActionRefused) as refused:
        run_rollout_action(client, "shop", "reviews", action, params, NOW)  # type: ignore[arg-type]
    assert refused.value.status == status and words in refused.value.message
    assert client.patches == []


def test_an_action_the_rbac_forbids_answers_403_with_the_apis_message() -> None:
    client = RecordingClient(paused_canary(), refuse=ApiError(403, "Forbidden", FORBIDDEN))
    with pytest.raises(ActionRefused) as refused:
        run_rollout_action(client, "shop", "reviews", "abort", {}, NOW)  # type: ignore[arg-type]
    assert refused.value.status == 403
    assert FORBIDDEN in refused.value.message and "RBAC" in refused.value.message


@pytest.mark.parametrize(
    ("params", "words"),
    [({"id": "3"}, "id: the history ID"), ({"id": True}, "id: the history ID")],
)
def test_a_rollback_needs_an_integer_history_id(params: dict[str, Any], words: str) -> None:
    with pytest.raises(ActionRefused) as refused:
        run_application_action(RecordingClient({}), "argocd", "web", "rollback", params)  # type: ignore[arg-type]
    assert refused.value.status == 400 and words in refused.value.message


def test_a_rollback_refused_by_argo_cds_rule_says_so() -> None:
    app = {"metadata": {"name": "web", "namespace": "argocd"},
           "spec": {"syncPolicy": {"automated": {}}}, "status": {"history": [{"id": 0}, {"id": 1}]}}
    client = RecordingClient(app)
    with pytest.raises(ActionRefused) as refused:
        run_application_action(client, "argocd", "web", "rollback", {})  # type: ignore[arg-type]
    assert "rollback cannot be initiated when auto-sync is enabled" in refused.value.message
    assert client.patches == []


def test_refresh_writes_argo_cds_refresh_annotation() -> None:
    client = RecordingClient({"metadata": {"name": "web"}})
    run_application_action(client, "argocd", "web", "refresh", {"hard": True})  # type: ignore[arg-type]
    assert client.patches == [("applications", "web",
                               {"metadata": {"annotations": {"argocd.argoproj.io/refresh": "hard"}}}, None)]
