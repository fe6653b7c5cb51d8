"""Blue-green promotion analysis with the real gates: the pre-promotion AnalysisRun starts once the preview is fully
available and the switch waits for its verdict; the post-promotion run starts after the switch and the new revision is
marked stable only when it passes. Failed or Error aborts (the active Service stays on, or goes back to, the stable
version), Inconclusive pauses. The in-memory cluster plays the analysis controller (``finish_run``)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from rollouts.plan import Create, Patch, Plan
from rollouts.reconcile import decide
from tests.unit.rollouts.bluegreen_builders import (
    H1,
    H2,
    V1,
    V2,
    V3,
    BlueGreenCluster,
    bg_deployed,
    run_until,
)
from tests.unit.rollouts.builders import NAME, messages, reasons

JsonObject = dict[str, Any]

SMOKE = {"templates": [{"templateName": "smoke"}]}
MANUAL = {"autoPromotionEnabled": False}
PRE, POST = f"{NAME}-{H2}-2-pre", f"{NAME}-{H2}-2-post"
FAILED_MESSAGE = 'Metric "smoke" assessed Failed due to failed (1) > failureLimit (0): "Error Message: 0 < 1"'
TERMINATE = {"spec": {"terminate": True}}


def deployed(**blue_green: Any) -> BlueGreenCluster:
    return bg_deployed(V1, blue_green={"prePromotionAnalysis": SMOKE, **blue_green})


def updated(**blue_green: Any) -> BlueGreenCluster:
    """v1 deployed, updated to v2, reconciled until the pre-promotion run exists."""
    cluster = deployed(**blue_green)
    cluster.update(V2)
    run_until(cluster, lambda c: c.runs("PrePromotion"))
    return cluster


def run_status(cluster: BlueGreenCluster, key: str = "prePromotionAnalysisRunStatus") -> JsonObject | None:
    return cluster.blue_green.get(key)


def created(plan: Plan) -> list[str]:
    return [w.body["metadata"]["name"] for w in plan.writes if isinstance(w, Create) and w.kind.kind == "AnalysisRun"]


def terminated(plans: list[Plan]) -> list[str]:
    return [
        w.name
        for plan in plans
        for w in plan.writes
        if isinstance(w, Patch) and w.kind.kind == "AnalysisRun" and w.patch == TERMINATE
    ]


# --- pre-promotion --------------------------------------------------------------------------------------------


def test_the_pre_promotion_run_starts_once_the_preview_is_fully_available() -> None:
    cluster = deployed(**MANUAL)
    cluster.update(V2)
    cluster.reconcile()
    cluster.reconcile()
    assert cluster.runs() == []  # the preview's pods are not up yet
    cluster.settle()
    plan = cluster.reconcile()
    assert created(plan) == [PRE]
    labels = cluster.run(PRE)["metadata"]["labels"]
    assert (labels["rollout-type"], labels["rollouts-pod-template-hash"]) == ("PrePromotion", H2)
    assert "step-index" not in labels
    assert run_status(cluster) == {"name": PRE, "status": "Pending"}
    assert (cluster.status["phase"], cluster.status["message"]) == (
        "Progressing",
        f"waiting for pre-promotion analysis: AnalysisRun {PRE} is Pending",
    )
    assert "pauseConditions" not in cluster.status  # the pause comes after the analysis, as in Argo
    assert (cluster.active, cluster.preview) == (H1, H2)
    cluster.advance(3600)  # no progress deadline while waiting for a verdict
    assert cluster.reconcile().is_noop


def test_a_passed_pre_promotion_analysis_lets_the_pause_begin() -> None:
    cluster = updated(**MANUAL)
    cluster.finish_run(PRE, "Successful")
    plan = cluster.reconcile()
    assert [p["reason"] for p in cluster.status["pauseConditions"]] == ["BlueGreenPause"]
    assert messages(plan, "AnalysisRunSuccessful") == [f"Pre-promotion analysis phase Successful: AnalysisRun {PRE}"]
    assert cluster.active == H1
    cluster.promote()
    cluster.converge()
    assert (cluster.active, cluster.status["stableRS"]) == (H2, H2)
    assert [run["metadata"]["name"] for run in cluster.runs()] == [PRE]


def test_a_passed_pre_promotion_analysis_with_auto_promotion_switches_at_once() -> None:
    cluster = updated()
    cluster.finish_run(PRE, "Successful")
    cluster.reconcile()
    assert cluster.active == H2
    run_until(cluster, lambda c: c.status.get("stableRS") == H2)


@pytest.mark.parametrize("phase", ["Failed", "Error"])
def test_a_failed_pre_promotion_analysis_aborts_and_never_switches(phase: str) -> None:
    cluster = updated()
    cluster.finish_run(PRE, phase, FAILED_MESSAGE)
    plan = cluster.reconcile()
    reason = f"Pre-promotion analysis phase {phase}: AnalysisRun {PRE}: {FAILED_MESSAGE}"
    status = cluster.status
    assert status["abort"] is True
    assert (status["phase"], status["message"]) == (
        "Degraded",
        f"RolloutAborted: Rollout aborted update to revision 2: {reason}",
    )
    assert [(e.type, e.reason) for e in plan.events if e.reason in ("RolloutAborted", f"AnalysisRun{phase}")] == [
        ("Warning", f"AnalysisRun{phase}"),
        ("Warning", "RolloutAborted"),
    ]
    assert messages(plan, f"AnalysisRun{phase}") == [reason]
    assert run_status(cluster) == {"name": PRE, "status": phase, "message": FAILED_MESSAGE}
    cluster.advance(30)
    cluster.converge()
    assert cluster.active == H1
    assert cluster.replicas_of(V2) == 0
    assert f"service '{NAME}-active' from '{H1}' to '{H2}'" not in " ".join(e.message for e in cluster.events)


def test_an_inconclusive_pre_promotion_analysis_pauses_and_promote_runs_it_again() -> None:
    cluster = updated(**MANUAL)
    cluster.finish_run(PRE, "Inconclusive", 'Metric "smoke" assessed Inconclusive')
    cluster.reconcile()
    assert [p["reason"] for p in cluster.status["pauseConditions"]] == ["InconclusiveAnalysisRun"]
    assert (cluster.status["phase"], cluster.status["message"]) == ("Paused", "InconclusiveAnalysisRun")
    cluster.converge()
    assert [run["metadata"]["name"] for run in cluster.runs()] == [PRE]  # nothing new while a person decides

    cluster.promote()
    plan = cluster.reconcile()
    assert created(plan) == [f"{PRE}.1"]
    assert run_status(cluster) == {"name": f"{PRE}.1", "status": "Pending"}
    cluster.finish_run(f"{PRE}.1", "Successful")
    cluster.reconcile()
    # The promote answered the analysis, not the pause of autoPromotionEnabled: false, which comes after it.
    assert [p["reason"] for p in cluster.status["pauseConditions"]] == ["BlueGreenPause"]
    assert cluster.active == H1


def test_a_retry_after_a_failed_pre_promotion_analysis_runs_it_again() -> None:
    cluster = updated(**MANUAL, abortScaleDownDelaySeconds=0)
    cluster.finish_run(PRE, "Failed", FAILED_MESSAGE)
    cluster.reconcile()
    cluster.set_status({"abort": False})  # `rollouts retry`
    plans = run_until(cluster, lambda c: len(c.runs()) == 2)
    assert "RolloutRetry" in [reason for plan in plans for reason in reasons(plan)]
    assert run_status(cluster) == {"name": f"{PRE}.1", "status": "Pending"}
    assert "abort" not in cluster.status


def test_a_full_promotion_skips_the_analysis_and_terminates_its_run() -> None:
    cluster = updated(**MANUAL)
    cluster.finish_run(PRE, "Running")
    cluster.set_status({"promoteFull": True})
    plans = run_until(cluster, lambda c: c.status.get("stableRS") == H2)
    assert terminated(plans) == [PRE]
    assert cluster.active == H2


def test_a_new_revision_terminates_the_run_of_the_one_it_replaces() -> None:
    cluster = updated(**MANUAL)
    cluster.finish_run(PRE, "Running")
    cluster.update(V3)
    plan = cluster.reconcile()
    assert terminated([plan]) == [PRE]
    assert run_status(cluster) is None


# --- post-promotion -------------------------------------------------------------------------------------------


def switched(**blue_green: Any) -> BlueGreenCluster:
    """Updated with both analyses; the pre-promotion one passed, the switch done, the post-promotion run started."""
    cluster = updated(postPromotionAnalysis=SMOKE, **blue_green)
    cluster.finish_run(PRE, "Successful")
    run_until(cluster, lambda c: c.runs("PostPromotion"))
    return cluster


def test_the_post_promotion_run_starts_after_the_switch_and_holds_the_stable_mark() -> None:
    cluster = switched()
    assert cluster.active == H2
    assert cluster.status["stableRS"] == H1
    assert run_status(cluster, "postPromotionAnalysisRunStatus") == {"name": POST, "status": "Pending"}
    assert cluster.run(POST)["metadata"]["labels"]["rollout-type"] == "PostPromotion"
    assert cluster.status["message"] == f"waiting for post-promotion analysis: AnalysisRun {POST} is Pending"
    cluster.advance(3600)
    cluster.converge()
    assert cluster.replicas_of(V1) == 3  # the previous version stays up until the verdict


def test_a_passed_post_promotion_analysis_completes_the_update() -> None:
    cluster = switched()
    cluster.finish_run(POST, "Successful")
    plan = cluster.reconcile()
    assert cluster.status["stableRS"] == H2
    assert messages(plan, "RolloutCompleted") == [
        f"Rollout completed update to revision 2 ({H2}): Completed blue-green update"
    ]


@pytest.mark.parametrize("phase", ["Failed", "Error"])
def test_a_failed_post_promotion_analysis_takes_the_active_service_back_in_the_same_pass(phase: str) -> None:
    cluster = switched()
    cluster.finish_run(POST, phase, FAILED_MESSAGE)
    cluster.reconcile()
    assert cluster.active == H1
    assert cluster.status["stableRS"] == H1
    assert cluster.status["message"] == (
        f"RolloutAborted: Rollout aborted update to revision 2: Post-promotion analysis phase {phase}: "
        f"AnalysisRun {POST}: {FAILED_MESSAGE}"
    )
    assert cluster.replicas_of(V1) == 3


def test_the_same_snapshot_gives_the_same_plan_at_either_gate() -> None:
    cluster = switched()
    for phase in ("Running", "Successful", "Failed", "Inconclusive"):
        cluster.finish_run(POST, phase, "why")
        snapshot = cluster.snapshot()
        assert decide(snapshot) == decide(copy.deepcopy(snapshot))


def test_a_missing_template_is_an_invalid_spec() -> None:
    cluster = deployed(postPromotionAnalysis={"templates": [{"templateName": "nope", "clusterScope": True}]})
    cluster.update(V2)
    plan = cluster.reconcile()
    assert plan.writes == ()
    assert cluster.status["message"] == (
        "InvalidSpec: spec.strategy.blueGreen.postPromotionAnalysis.templates: ClusterAnalysisTemplate 'nope' not found"
    )
