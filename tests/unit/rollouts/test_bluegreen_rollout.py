"""A blue-green Rollout walked through many passes: first deploy, the preview, the pause and `promote`, the switch,
the scale-down delay, auto-promotion, previewReplicaCount, full promotion, abort and retry, fast rollback."""

from __future__ import annotations

from typing import Any

import pytest

from rollouts.plan import Create
from rollouts.replicasets import SCALE_DOWN_DEADLINE_ANNOTATION
from rollouts.services import MANAGED_BY_ANNOTATION
from tests.unit.rollouts.bluegreen_builders import (
    ACTIVE,
    H1,
    H2,
    H3,
    PREVIEW,
    V1,
    V2,
    V3,
    bg_cluster,
    bg_deployed,
    events_of,
    run_until,
    to_pause,
)
from tests.unit.rollouts.builders import NAME, deadline_of, messages, reasons

MANUAL = {"autoPromotionEnabled": False}


def condition(status: dict[str, Any], type_: str) -> dict[str, Any]:
    return next(c for c in status["conditions"] if c["type"] == type_)


# --- first deploy ------------------------------------------------------------------------------------


def test_the_first_version_is_stable_at_once_and_the_services_follow() -> None:
    cluster = bg_cluster(blue_green=MANUAL)
    plan = cluster.reconcile()
    assert [w.body["metadata"]["name"] for w in plan.writes if isinstance(w, Create)] == [f"{NAME}-{H1}"]
    assert cluster.replicas_of(V1) == 3
    assert (cluster.active, cluster.preview) == (None, H1)  # the preview at once, the active once available
    assert messages(plan, "RolloutCompleted") == [f"Rollout completed update to revision 1 ({H1}): Initial deploy"]
    assert cluster.status["stableRS"] == H1
    assert (cluster.status["phase"], cluster.status["message"]) == ("Progressing", "more replicas need to be updated")

    cluster.settle()
    plan = cluster.reconcile()
    assert cluster.active == H1
    assert messages(plan, "SwitchService") == [f"Switched selector for service '{ACTIVE}' from '' to '{H1}'"]
    assert cluster.status["phase"] == "Healthy"
    assert cluster.status["blueGreen"] == {"activeSelector": H1, "previewSelector": H1}
    assert cluster.status["selector"] == f"app={NAME},rollouts-pod-template-hash={H1}"
    for name in (ACTIVE, PREVIEW):
        assert cluster.services[name]["metadata"]["annotations"][MANAGED_BY_ANNOTATION] == NAME
    assert cluster.reconcile().is_noop


def test_an_unmanaged_active_service_is_not_pointed_at_a_half_started_replica_set() -> None:
    cluster = bg_cluster()
    cluster.reconcile()
    cluster.settle(available=2)
    cluster.reconcile()
    assert cluster.active is None
    cluster.settle()
    cluster.reconcile()
    assert cluster.active == H1


def test_without_a_preview_service() -> None:
    cluster = bg_deployed(V1, preview=False, blue_green=MANUAL)
    assert cluster.status["blueGreen"] == {"activeSelector": H1}
    to_pause(cluster)
    cluster.promote()
    cluster.converge()
    assert (cluster.active, cluster.status["stableRS"], cluster.status["phase"]) == (H2, H2, "Healthy")


# --- an update ---------------------------------------------------------------------------------------


def test_a_new_version_is_behind_the_preview_service_at_once() -> None:
    cluster = bg_deployed(V1, blue_green=MANUAL)
    cluster.update(V2)
    plan = cluster.reconcile()
    assert reasons(plan) == [  # Argo's TestBlueGreenUpdate sequence
        "RolloutUpdated",
        "NewReplicaSetCreated",
        "RolloutNotCompleted",
        "ScalingReplicaSet",
        "SwitchService",
    ]
    assert (cluster.active, cluster.preview) == (H1, H2)
    assert (cluster.replicas_of(V1), cluster.replicas_of(V2)) == (3, 3)
    assert cluster.rs(V2)["metadata"]["annotations"]["rollout.argoproj.io/revision"] == "2"
    assert cluster.rollout["metadata"]["annotations"]["rollout.argoproj.io/revision"] == "2"


def test_without_auto_promotion_it_pauses_once_the_preview_is_fully_available() -> None:
    cluster = bg_deployed(V1, blue_green=MANUAL)
    cluster.update(V2)
    cluster.reconcile()
    cluster.settle(available=2)
    cluster.reconcile()
    assert "pauseConditions" not in cluster.status  # not before every preview pod is available
    assert cluster.status["message"] == "updated replicas are still becoming available"

    cluster.advance(5)
    cluster.settle()
    plan = cluster.reconcile()
    status = cluster.status
    assert status["pauseConditions"] == [{"reason": "BlueGreenPause", "startTime": "2024-05-01T10:00:05Z"}]
    assert status["controllerPause"] is True
    assert (status["phase"], status["message"]) == ("Paused", "BlueGreenPause")
    assert messages(plan, "RolloutPaused") == ["Rollout is paused (BlueGreenPause)"]
    assert condition(status, "Progressing")["reason"] == "RolloutPaused"
    assert (cluster.active, cluster.preview) == (H1, H2)
    plan = cluster.reconcile()
    assert plan.is_noop and plan.requeue_after is None  # waits for a person, with no timer


def test_promote_switches_the_active_service_and_marks_the_new_version_stable() -> None:
    cluster = bg_deployed(V1, blue_green=MANUAL)
    to_pause(cluster)
    cluster.promote()
    plan = cluster.reconcile()
    assert cluster.active == H2
    assert messages(plan, "SwitchService") == [f"Switched selector for service '{ACTIVE}' from '{H1}' to '{H2}'"]
    assert messages(plan, "RolloutCompleted") == [
        f"Rollout completed update to revision 2 ({H2}): Completed blue-green update"
    ]
    assert "RolloutResumed" in reasons(plan)
    status = cluster.status
    assert status["stableRS"] == H2
    assert status["phase"] == "Healthy"
    assert "pauseConditions" not in status and "controllerPause" not in status
    assert condition(status, "Completed")["status"] == "True"


def test_the_previous_version_keeps_its_pods_for_the_scale_down_delay() -> None:
    cluster = bg_deployed(V1, blue_green=MANUAL)
    to_pause(cluster)
    cluster.advance(100)
    cluster.promote()
    cluster.reconcile()
    plan = cluster.reconcile()
    assert deadline_of(cluster.rs(V1)) == "2024-05-01T10:02:10Z"  # 30 s after the switch
    assert cluster.replicas_of(V1) == 3
    assert cluster.status["phase"] == "Healthy"  # old pods waiting out their delay do not hold it back
    plan = cluster.reconcile()
    assert plan.is_noop and plan.requeue_after == 30


@pytest.mark.parametrize("delay", [30, 90])
def test_the_previous_version_is_scaled_down_at_its_deadline(delay: int) -> None:
    cluster = bg_deployed(V1, blue_green={**MANUAL, "scaleDownDelaySeconds": delay})
    to_pause(cluster)
    cluster.promote()
    cluster.converge()
    assert cluster.replicas_of(V1) == 3
    cluster.advance(delay - 1)
    assert cluster.reconcile().is_noop
    cluster.advance(1)
    plan = cluster.reconcile()
    assert messages(plan, "ScalingReplicaSet") == [f"Scaled down ReplicaSet {NAME}-{H1} (revision 1) from 3 to 0"]
    assert cluster.replicas_of(V1) == 0
    assert deadline_of(cluster.rs(V1)) is None
    cluster.settle()
    assert cluster.reconcile().status_patch == {"replicas": 3}  # the pods are gone
    assert cluster.reconcile().is_noop


def test_scale_down_delay_zero_scales_the_previous_version_down_at_once() -> None:
    cluster = bg_deployed(V1, blue_green={**MANUAL, "scaleDownDelaySeconds": 0})
    to_pause(cluster)
    cluster.promote()
    cluster.converge()
    assert cluster.replicas_of(V1) == 0


def test_scale_down_delay_revision_limit_bounds_how_many_old_versions_wait() -> None:
    cluster = bg_deployed(V1, blue_green={"scaleDownDelayRevisionLimit": 1})
    cluster.update(V2)
    cluster.converge()
    assert deadline_of(cluster.rs(V1)) is not None
    cluster.update(V3)
    cluster.converge()
    assert cluster.active == H3
    assert (cluster.replicas_of(V1), cluster.replicas_of(V2), cluster.replicas_of(V3)) == (0, 3, 3)
    assert deadline_of(cluster.rs(V2)) is not None


# --- automatic promotion -------------------------------------------------------------------------------


def test_auto_promotion_without_a_delay_switches_as_soon_as_the_preview_is_available() -> None:
    cluster = bg_deployed(V1)
    cluster.update(V2)
    plans = run_until(cluster, lambda c: c.active == H2)
    assert "RolloutPaused" not in [reason for reason, _ in events_of(plans)]
    assert cluster.status["stableRS"] == H2


@pytest.mark.parametrize("seconds", [20, 45])
def test_auto_promotion_seconds_counts_from_the_preview_being_fully_available(seconds: int) -> None:
    cluster = bg_deployed(V1, blue_green={"autoPromotionSeconds": seconds})
    cluster.update(V2)
    cluster.reconcile()
    cluster.advance(7)  # the preview takes a while to come up: the countdown has not started
    cluster.settle()
    cluster.reconcile()
    assert cluster.status["pauseConditions"][0]["startTime"] == "2024-05-01T10:00:07Z"
    assert cluster.status["phase"] == "Paused"
    plan = cluster.reconcile()
    assert plan.is_noop and plan.requeue_after == seconds  # the controller looks again when the pause expires
    cluster.advance(seconds - 1)
    plan = cluster.reconcile()
    assert cluster.active == H1 and plan.requeue_after == 1
    cluster.advance(1)
    plan = cluster.reconcile()
    assert cluster.active == H2
    assert "pauseConditions" not in cluster.status
    assert messages(plan, "RolloutCompleted") == [
        f"Rollout completed update to revision 2 ({H2}): Completed blue-green update"
    ]


def test_promote_during_the_auto_promotion_countdown_switches_at_once() -> None:
    cluster = bg_deployed(V1, blue_green={"autoPromotionSeconds": 600})
    to_pause(cluster)
    cluster.promote()
    cluster.reconcile()
    assert cluster.active == H2


# --- previewReplicaCount -------------------------------------------------------------------------------


def test_preview_replica_count_keeps_the_preview_small_until_promoted() -> None:
    cluster = bg_deployed(V1, blue_green={**MANUAL, "previewReplicaCount": 1})
    to_pause(cluster)
    assert (cluster.replicas_of(V1), cluster.replicas_of(V2)) == (3, 1)
    assert cluster.status["phase"] == "Paused"

    cluster.promote()
    cluster.reconcile()
    assert cluster.blue_green["scaleUpPreviewCheckPoint"] is True
    assert "controllerPause" not in cluster.status
    cluster.reconcile()
    assert cluster.replicas_of(V2) == 3  # grows before the switch
    assert cluster.active == H1
    cluster.settle(available=2)
    cluster.reconcile()
    assert cluster.active == H1  # not before every pod is available
    cluster.settle()
    cluster.reconcile()
    assert cluster.active == H2
    assert "scaleUpPreviewCheckPoint" not in cluster.blue_green  # reset by the promotion
    cluster.converge()
    assert "pauseConditions" not in cluster.status


# --- full promotion -------------------------------------------------------------------------------------


def test_promote_full_skips_the_pause_and_the_preview_size() -> None:
    cluster = bg_deployed(V1, blue_green={**MANUAL, "previewReplicaCount": 1})
    to_pause(cluster)
    cluster.set_status({"promoteFull": True})
    cluster.reconcile()
    assert "pauseConditions" not in cluster.status
    assert cluster.replicas_of(V2) == 3
    cluster.settle()
    plan = cluster.reconcile()
    assert cluster.active == H2
    assert messages(plan, "RolloutCompleted") == [
        f"Rollout completed update to revision 2 ({H2}): Full promotion requested"
    ]
    assert "promoteFull" not in cluster.status


# --- abort and retry --------------------------------------------------------------------------------------


def test_abort_before_promotion_leaves_the_active_service_on_the_stable_version() -> None:
    cluster = bg_deployed(V1, blue_green=MANUAL)
    to_pause(cluster)
    cluster.set_status({"abort": True})
    plan = cluster.reconcile()
    assert cluster.active == H1
    assert cluster.preview == H2  # as in Argo: the aborted pods stay reachable for inspection until they go
    assert messages(plan, "RolloutAborted") == ["Rollout aborted update to revision 2"]
    status = cluster.status
    assert (status["phase"], status["message"]) == ("Degraded", "RolloutAborted: Rollout aborted update to revision 2")
    assert "pauseConditions" not in status
    assert status["abortedAt"] == "2024-05-01T10:00:00Z"
    assert status["stableRS"] == H1


@pytest.mark.parametrize("delay", [30, 120])
def test_the_aborted_preview_is_scaled_down_after_abort_scale_down_delay_seconds(delay: int) -> None:
    cluster = bg_deployed(V1, blue_green={**MANUAL, "abortScaleDownDelaySeconds": delay})
    to_pause(cluster)
    cluster.set_status({"abort": True})
    plan = cluster.reconcile()
    assert deadline_of(cluster.rs(V2)) == f"2024-05-01T10:{delay // 60:02d}:{delay % 60:02d}Z"
    plan = cluster.reconcile()
    assert plan.is_noop and plan.requeue_after == delay
    cluster.advance(delay)
    plan = cluster.reconcile()
    assert messages(plan, "ScalingReplicaSet") == [f"Scaled down ReplicaSet {NAME}-{H2} (revision 2) from 3 to 0"]
    assert cluster.replicas_of(V1) == 3
    cluster.settle()
    assert cluster.reconcile().status_patch == {"replicas": 3, "updatedReplicas": 0}  # the preview pods are gone
    assert cluster.reconcile().is_noop


def test_abort_scale_down_delay_zero_leaves_the_preview_up() -> None:
    cluster = bg_deployed(V1, blue_green={**MANUAL, "abortScaleDownDelaySeconds": 0})
    to_pause(cluster)
    cluster.set_status({"abort": True})
    cluster.reconcile()
    cluster.advance(3600)
    cluster.reconcile()
    assert cluster.replicas_of(V2) == 3
    assert deadline_of(cluster.rs(V2)) is None
    assert cluster.active == H1


def test_retry_starts_the_update_again_and_pauses_before_the_switch() -> None:
    cluster = bg_deployed(V1, blue_green=MANUAL)
    to_pause(cluster)
    cluster.set_status({"abort": True})
    cluster.reconcile()
    cluster.advance(30)
    cluster.reconcile()
    assert cluster.replicas_of(V2) == 0
    cluster.set_status({"abort": False})  # what `rollouts retry` writes
    plan = cluster.reconcile()
    assert messages(plan, "RolloutRetry") == ["Retrying Rollout after abort"]
    assert "abort" not in cluster.status and "abortedAt" not in cluster.status
    assert cluster.replicas_of(V2) == 3
    assert deadline_of(cluster.rs(V2)) is None
    cluster.settle()
    cluster.reconcile()
    assert cluster.status["phase"] == "Paused" and cluster.active == H1


def test_retry_within_the_abort_delay_does_not_skip_the_pause() -> None:
    cluster = bg_deployed(V1, blue_green=MANUAL)
    to_pause(cluster)
    cluster.set_status({"abort": True})
    cluster.reconcile()
    assert deadline_of(cluster.rs(V2)) is not None
    cluster.set_status({"abort": False})
    cluster.converge()
    assert cluster.active == H1 and cluster.status["phase"] == "Paused"


def test_abort_after_the_switch_takes_the_active_service_back_to_stable() -> None:
    analysis = {"templates": [{"templateName": "smoke"}]}
    cluster = bg_deployed(V1, blue_green={"postPromotionAnalysis": analysis})
    cluster.update(V2)
    run_until(cluster, lambda c: c.active == H2)
    assert cluster.status["stableRS"] == H1  # the post-promotion analysis has not passed
    cluster.set_status({"abort": True})
    cluster.reconcile()
    assert cluster.active == H1
    assert cluster.replicas_of(V1) == 3
    assert cluster.status["phase"] == "Degraded"


def test_an_abort_of_a_fully_promoted_rollout_is_dropped() -> None:
    cluster = bg_deployed(V1)
    cluster.set_status({"abort": True})
    plan = cluster.reconcile()
    assert "abort" not in cluster.status
    assert cluster.status["phase"] == "Healthy"
    assert "RolloutAborted" not in reasons(plan)


# --- rollback ------------------------------------------------------------------------------------------------


def test_a_rollback_within_the_delay_switches_back_without_new_pods() -> None:
    cluster = bg_deployed(V1, blue_green=MANUAL)
    to_pause(cluster)
    cluster.promote()
    cluster.converge()
    assert deadline_of(cluster.rs(V1)) is not None
    cluster.advance(10)
    cluster.update(V1)  # `rollouts undo`
    plans = run_until(cluster, lambda c: c.active == H1, settle=False)
    assert len(plans) == 2  # the new revision is recorded, then the switch: no pause, no pods to wait for
    assert not [w for plan in plans for w in plan.writes if isinstance(w, Create)]
    assert "ScalingReplicaSet" not in [reason for reason, _ in events_of(plans)]
    assert cluster.status["stableRS"] == H1
    assert deadline_of(cluster.rs(V1)) is None
    assert cluster.rs(V1)["metadata"]["annotations"]["rollout.argoproj.io/revision"] == "3"
    cluster.converge()
    assert cluster.status["phase"] == "Healthy"
    assert deadline_of(cluster.rs(V2)) == "2024-05-01T10:00:40Z"  # now it is the old one that waits


def test_a_rollback_after_the_delay_is_an_ordinary_update() -> None:
    cluster = bg_deployed(V1, blue_green=MANUAL)
    to_pause(cluster)
    cluster.promote()
    cluster.converge()
    cluster.advance(30)
    cluster.converge()
    assert cluster.replicas_of(V1) == 0
    cluster.update(V1)
    run_until(cluster, lambda c: bool(c.status.get("pauseConditions")))
    assert cluster.active == H2 and cluster.replicas_of(V1) == 3


def test_going_back_to_the_stable_version_before_promotion_needs_no_switch() -> None:
    cluster = bg_deployed(V1, blue_green=MANUAL)
    to_pause(cluster)
    cluster.update(V1)
    cluster.converge()
    status = cluster.status
    assert (cluster.active, cluster.preview, status["stableRS"], status["phase"]) == (H1, H1, H1, "Healthy")
    assert SCALE_DOWN_DEADLINE_ANNOTATION in cluster.rs(V2)["metadata"]["annotations"]
    cluster.advance(30)
    cluster.converge()
    assert cluster.replicas_of(V2) == 0


def test_a_new_version_during_the_pause_replaces_the_preview() -> None:
    cluster = bg_deployed(V1, blue_green=MANUAL)
    to_pause(cluster)
    cluster.update(V3)
    run_until(cluster, lambda c: c.preview == H3 and bool(c.status.get("pauseConditions")))
    assert (cluster.active, cluster.preview) == (H1, H3)
    cluster.advance(30)
    cluster.converge()
    assert cluster.replicas_of(V2) == 0


# --- holding ----------------------------------------------------------------------------------------------------


def test_spec_paused_holds_both_services() -> None:
    cluster = bg_deployed(V1, blue_green=MANUAL)
    cluster.set_spec({"paused": True})
    cluster.update(V2)
    cluster.converge()
    assert (cluster.active, cluster.preview) == (H1, H1)
    assert (cluster.status["phase"], cluster.status["message"]) == ("Paused", "manually paused")
    cluster.set_spec({"paused": False})
    cluster.converge()
    assert (cluster.active, cluster.preview) == (H1, H2)
    assert cluster.status["message"] == "BlueGreenPause"


def test_a_preview_that_never_becomes_available_times_out() -> None:
    cluster = bg_deployed(V1, blue_green=MANUAL, spec={"progressDeadlineSeconds": 60})
    cluster.update(V2)
    cluster.reconcile()
    plan = cluster.reconcile()
    assert plan.requeue_after == 60
    cluster.advance(60)
    plan = cluster.reconcile()
    assert "ProgressDeadlineExceeded" in reasons(plan)
    assert cluster.status["phase"] == "Degraded"
    assert cluster.active == H1


def test_progress_deadline_abort_gives_up_on_the_update() -> None:
    cluster = bg_deployed(V1, blue_green=MANUAL, spec={"progressDeadlineSeconds": 60, "progressDeadlineAbort": True})
    cluster.update(V2)
    cluster.reconcile()
    cluster.reconcile()
    cluster.advance(60)
    cluster.reconcile()
    assert cluster.status["abort"] is True
    cluster.reconcile()
    assert deadline_of(cluster.rs(V2)) is not None  # the preview goes after abortScaleDownDelaySeconds
    assert cluster.active == H1


def test_an_active_selector_reset_mid_update_goes_back_to_the_stable_version() -> None:
    cluster = bg_deployed(V1, blue_green=MANUAL)
    cluster.update(V2)
    cluster.reconcile()
    del cluster.services[ACTIVE]["spec"]["selector"]["rollouts-pod-template-hash"]  # e.g. a GitOps sync
    plan = cluster.reconcile()
    assert cluster.active == H1
    assert messages(plan, "SwitchService") == [f"Switched selector for service '{ACTIVE}' from '' to '{H1}'"]
    run_until(cluster, lambda c: bool(c.status.get("pauseConditions")))
    assert (cluster.active, cluster.status["stableRS"], cluster.status["phase"]) == (H1, H1, "Paused")
