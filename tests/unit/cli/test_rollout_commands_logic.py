"""The pure parts of the rollout commands: phase reading, promote's patches, the list table, undo and set image."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from cli.listing import rollout_table
from cli.options import label_selector
from cli.phase import current_set_weight, rollout_phase
from cli.promote import promote_patches
from cli.restart import restart_at
from cli.set_image import container_names, image_patch
from cli.tree import strategy_name
from cli.undo import derives, pick_revision, without_hash_label

STEPS = [{"setWeight": 10}, {"pause": {"duration": 60}}, {"setWeight": 20}]


def canary(status: dict[str, Any], *, steps: list[dict[str, Any]] | None = None, **spec: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "can-guestbook", "namespace": "test", "uid": "u1", "generation": 1},
        "spec": {"replicas": 5, "strategy": {"canary": {"steps": STEPS if steps is None else steps}}, **spec},
        "status": status,
    }


def blue_green(status: dict[str, Any], **spec: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "bg-guestbook", "namespace": "test", "uid": "u2", "generation": 1},
        "spec": {"replicas": 5, "strategy": {"blueGreen": {"activeService": "a"}}, **spec},
        "status": status,
    }


# -- phase --------------------------------------------------------------------------------------------------


def test_a_rollout_never_reconciled_is_waiting_for_the_controller() -> None:
    assert rollout_phase(canary({})) == ("Progressing", "waiting for rollout spec update to be observed")


def test_phase_comes_from_the_controller_once_it_observed_the_spec() -> None:
    rollout = canary({"observedGeneration": "1", "phase": "Paused", "message": "CanaryPauseStep",
                      "pauseConditions": [{"reason": "CanaryPauseStep"}], "controllerPause": True})
    assert rollout_phase(rollout) == ("Paused", "CanaryPauseStep")
    rollout["metadata"]["generation"] = 2
    assert rollout_phase(rollout) == ("Progressing", "waiting for rollout spec update to be observed")


def test_a_promoted_but_not_yet_resumed_rollout_reads_as_progressing() -> None:
    rollout = canary({"observedGeneration": "1", "phase": "Paused", "controllerPause": True})
    assert rollout_phase(rollout) == ("Progressing", "waiting for rollout to unpause")


@pytest.mark.parametrize(
    ("spec", "status", "expected"),
    [
        ({}, {"conditions": [{"type": "Progressing", "reason": "RolloutAborted", "message": "boom"}]},
         ("Degraded", "RolloutAborted: boom")),
        ({}, {"conditions": [{"type": "Progressing", "reason": "ProgressDeadlineExceeded", "message": "slow"}]},
         ("Degraded", "ProgressDeadlineExceeded: slow")),
        ({"paused": True}, {}, ("Paused", "manually paused")),
        ({}, {"pauseConditions": [{"reason": "CanaryPauseStep"}], "controllerPause": True},
         ("Paused", "CanaryPauseStep")),
        ({}, {"updatedReplicas": 2}, ("Progressing", "more replicas need to be updated")),
        ({}, {"updatedReplicas": 5, "availableReplicas": 4},
         ("Progressing", "updated replicas are still becoming available")),
        ({}, {"updatedReplicas": 5, "availableReplicas": 5, "replicas": 6},
         ("Progressing", "old replicas are pending termination")),
        ({}, {"updatedReplicas": 5, "availableReplicas": 5, "replicas": 5, "stableRS": "a", "currentPodHash": "b"},
         ("Progressing", "waiting for all steps to complete")),
        ({}, {"updatedReplicas": 5, "availableReplicas": 5, "replicas": 5, "stableRS": "b", "currentPodHash": "b"},
         ("Healthy", "")),
    ],
)
def test_phase_is_computed_when_the_controller_wrote_none(
    spec: dict[str, Any], status: dict[str, Any], expected: tuple[str, str]
) -> None:
    assert rollout_phase(canary({"observedGeneration": "1", **status}, **spec)) == expected


def test_blue_green_phase_waits_for_the_active_switch() -> None:
    status = {"observedGeneration": "1", "updatedReplicas": 5, "availableReplicas": 5, "currentPodHash": "b",
              "stableRS": "a", "blueGreen": {"activeSelector": "a"}}
    assert rollout_phase(blue_green(status)) == ("Progressing", "active service cutover pending")
    status["blueGreen"] = {"activeSelector": "b"}
    assert rollout_phase(blue_green(status)) == ("Progressing", "waiting for post-promotion verification to complete")
    status["stableRS"] = "b"
    assert rollout_phase(blue_green(status)) == ("Healthy", "")


@pytest.mark.parametrize(
    ("status", "weight"),
    [({}, 10), ({"currentStepIndex": 1}, 10), ({"currentStepIndex": 2}, 20), ({"currentStepIndex": 3}, 100),
     ({"currentStepIndex": 2, "abort": True}, 0)],
)
def test_set_weight_is_the_last_set_weight_at_or_before_the_current_step(status: dict[str, Any], weight: int) -> None:
    assert current_set_weight(canary(status)) == weight


# -- promote --------------------------------------------------------------------------------------------------


def test_promote_clears_pause_conditions_on_status_only() -> None:
    rollout = canary({"currentStepIndex": 1, "pauseConditions": [{"reason": "CanaryPauseStep"}]})
    assert promote_patches(rollout, full=False) == ({"status": {"pauseConditions": None}}, None)


def test_promote_unpauses_the_spec_and_clears_pause_conditions() -> None:
    rollout = canary({"currentStepIndex": 1, "pauseConditions": [{"reason": "CanaryPauseStep"}]}, paused=True)
    assert promote_patches(rollout, full=False) == (
        {"status": {"pauseConditions": None}}, {"spec": {"paused": False}},
    )


def test_promote_skips_a_step_without_pause_condition() -> None:
    """An analysis (or any step) in progress, nothing paused: the index moves on, never past the last step."""
    assert promote_patches(canary({"currentStepIndex": 1}), full=False) == (
        {"status": {"pauseConditions": None, "currentStepIndex": 2}}, None,
    )
    assert promote_patches(canary({}), full=False) == (
        {"status": {"pauseConditions": None, "currentStepIndex": 1}}, None,
    )
    assert promote_patches(canary({"currentStepIndex": 3}), full=False) == (
        {"status": {"pauseConditions": None, "currentStepIndex": 3}}, None,
    )


def test_promote_after_an_inconclusive_analysis_also_resets_controller_pause() -> None:
    rollout = canary({"currentStepIndex": 1, "controllerPause": True,
                      "pauseConditions": [{"reason": "InconclusiveAnalysisRun"}],
                      "canary": {"currentStepAnalysisRunStatus": {"name": "r", "status": "Inconclusive"}}})
    assert promote_patches(rollout, full=False) == (
        {"status": {"pauseConditions": None, "controllerPause": False, "currentStepIndex": 2}}, None,
    )


def test_promote_of_blue_green_or_stepless_canary() -> None:
    paused = blue_green({"pauseConditions": [{"reason": "BlueGreenPause"}]})
    assert promote_patches(paused, full=False) == ({"status": {"pauseConditions": None}}, None)
    assert promote_patches(blue_green({}), full=False) == (None, None)
    assert promote_patches(canary({}, steps=[]), full=False) == (None, None)


def test_promote_full() -> None:
    assert promote_patches(canary({"stableRS": "a", "currentPodHash": "b"}), full=True) == (
        {"status": {"promoteFull": True}}, None,
    )
    assert promote_patches(canary({"stableRS": "b", "currentPodHash": "b"}), full=True) == (None, None)


# -- list -----------------------------------------------------------------------------------------------------


LIST_STATUS = {"currentStepIndex": 1, "replicas": 4, "readyReplicas": 1, "updatedReplicas": 3, "availableReplicas": 2}


def test_list_table_matches_argo() -> None:
    """The rows of Argo's TestListWithWatch, whose values are padded before the columns are aligned."""
    rollouts = [blue_green(dict(LIST_STATUS)), canary(dict(LIST_STATUS))]
    assert rollout_table(rollouts) == [
        "NAME           STRATEGY   STATUS        STEP  SET-WEIGHT  READY  DESIRED  UP-TO-DATE  AVAILABLE",
        "bg-guestbook   BlueGreen  Progressing   -     -           1/4    5        3           2",
        "can-guestbook  Canary     Progressing   1/3   10          1/4    5        3           2",
    ]


def test_list_table_with_namespaces() -> None:
    assert rollout_table([canary(dict(LIST_STATUS))], all_namespaces=True) == [
        "NAMESPACE  NAME           STRATEGY   STATUS        STEP  SET-WEIGHT  READY  DESIRED  UP-TO-DATE  AVAILABLE",
        "test       can-guestbook  Canary     Progressing   1/3   10          1/4    5        3           2",
    ]


# -- undo, set image, restart, selectors --------------------------------------------------------------------------


def replicaset(revision: int, owner: str = "u1", image: str = "app:v1") -> dict[str, Any]:
    return {
        "metadata": {"name": f"rs-{revision}", "annotations": {"rollout.argoproj.io/revision": str(revision)},
                     "ownerReferences": [{"uid": owner, "controller": True}]},
        "spec": {"template": {"metadata": {"labels": {"app": "x", "rollouts-pod-template-hash": f"h{revision}"}},
                              "spec": {"containers": [{"name": "app", "image": image}]}}},
    }


def test_undo_picks_the_previous_revision_by_default() -> None:
    rollout = canary({})
    replicasets = [replicaset(1), replicaset(3), replicaset(2), replicaset(9, owner="someone-else")]
    assert pick_revision(rollout, replicasets, 0)[0] == 2
    assert pick_revision(rollout, replicasets, 1)[0] == 1


def test_undo_explains_a_missing_revision() -> None:
    rollout = canary({})
    with pytest.raises(Exception, match=r'revision 7 of rollout "can-guestbook" not found \(its revisions: 1, 2\)'):
        pick_revision(rollout, [replicaset(1), replicaset(2)], 7)
    with pytest.raises(Exception, match="has no previous revision"):
        pick_revision(rollout, [replicaset(1)], 0)


def test_undo_strips_the_hash_label_and_compares_like_argo() -> None:
    template = without_hash_label(replicaset(2)["spec"]["template"])
    assert template["metadata"]["labels"] == {"app": "x"}
    assert derives({"metadata": {"labels": {"app": "x"}}, "spec": {"containers": [{"name": "app"}]}}, template)
    assert not derives({"spec": {"containers": [{"name": "app", "image": "app:v2"}]}}, template)


def test_set_image_patch_tests_names_before_replacing() -> None:
    spec = {"initContainers": [{"name": "init", "image": "i:1"}],
            "containers": [{"name": "app", "image": "a:1"}, {"name": "sidecar", "image": "s:1"}]}
    assert image_patch(spec, "sidecar", "s:2", base="/spec/template/spec") == [
        {"op": "test", "path": "/spec/template/spec/containers/1/name", "value": "sidecar"},
        {"op": "replace", "path": "/spec/template/spec/containers/1/image", "value": "s:2"},
    ]
    assert len(image_patch(spec, "*", "all:1", base="")) == 6
    assert image_patch(spec, "nope", "x:1", base="") == []
    assert container_names(spec) == "init: init; app, sidecar"


def test_restart_at_is_rfc3339_utc_in_whole_seconds() -> None:
    assert restart_at(datetime(2024, 5, 10, 12, 0, 0, 750000, tzinfo=UTC), 90) == "2024-05-10T12:01:30Z"


def test_label_selector_from_match_labels_and_expressions() -> None:
    selector = {"matchLabels": {"app": "x", "tier": "web"},
                "matchExpressions": [{"key": "env", "operator": "In", "values": ["a", "b"]},
                                     {"key": "canary", "operator": "DoesNotExist"}]}
    assert label_selector(selector) == "app=x,!canary,env in (a,b),tier=web"
    assert label_selector({}) is None


def test_strategy_names() -> None:
    assert (strategy_name(canary({})), strategy_name(blue_green({}))) == ("Canary", "BlueGreen")
