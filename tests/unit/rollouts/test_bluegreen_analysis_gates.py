"""Pre- and post-promotion analysis: the gates the switch and the stable mark wait on. Stand-in gates show what each
verdict does to the blue-green pass, whatever the gate; test_bluegreen_promotion_analysis.py runs the real gates,
with AnalysisRuns."""

from __future__ import annotations

from typing import Any

from kube.resources import ANALYSIS_RUNS
from rollouts.bluegreen.promotion_analysis import GateState, PromotionGates
from rollouts.plan import Create
from tests.unit.rollouts.bluegreen_builders import (
    H1,
    H2,
    V1,
    V2,
    GateScript,
    bg_deployed,
    run_until,
    to_pause,
    verdict,
)
from tests.unit.rollouts.builders import NAME, NAMESPACE, messages

SMOKE = {"templates": [{"templateName": "smoke-test"}]}
MANUAL = {"autoPromotionEnabled": False}
PASSED, PENDING = verdict(GateState.PASSED), verdict(GateState.PENDING, "waiting for smoke-test")
FAILED = verdict(GateState.FAILED, 'Pre-promotion analysis phase Failed: Metric "smoke" assessed Failed')
INCONCLUSIVE = verdict(GateState.INCONCLUSIVE, "inconclusive")


# --- what the verdicts do -----------------------------------------------------------------------------


def gated(pre: list[Any] | None = None, post: list[Any] | None = None, **blue_green: Any) -> tuple[Any, ...]:
    pre_gate, post_gate = GateScript(pre or [PASSED]), GateScript(post or [PASSED])
    cluster = bg_deployed(
        V1, gates=PromotionGates(pre=pre_gate, post=post_gate), blue_green={"prePromotionAnalysis": SMOKE, **blue_green}
    )
    return cluster, pre_gate, post_gate


def test_the_pre_promotion_gate_is_asked_once_the_preview_is_fully_available() -> None:
    cluster, pre_gate, _ = gated([PENDING], **MANUAL)
    cluster.update(V2)
    cluster.reconcile()
    cluster.reconcile()
    assert pre_gate.seen == []
    cluster.settle()
    cluster.reconcile()
    context = pre_gate.seen[-1]
    assert (context.current_hash, context.stable_hash, context.revision) == (H2, H1, 2)
    assert cluster.status["message"] == "waiting for smoke-test"


def test_a_passed_pre_promotion_analysis_lets_the_pause_begin() -> None:
    cluster, _, _ = gated([PASSED], **MANUAL)
    to_pause(cluster)
    assert cluster.status["pauseConditions"][0]["reason"] == "BlueGreenPause"
    cluster.promote()
    cluster.converge()
    assert (cluster.active, cluster.status["stableRS"]) == (H2, H2)


def test_a_passed_pre_promotion_analysis_with_auto_promotion_switches() -> None:
    cluster, _, _ = gated([PENDING, PASSED])
    cluster.update(V2)
    run_until(cluster, lambda c: c.active == H2)
    assert cluster.status["stableRS"] == H2


def test_a_failed_pre_promotion_analysis_aborts_the_update() -> None:
    cluster, _, _ = gated([FAILED], **MANUAL)
    cluster.update(V2)
    plans = run_until(cluster, lambda c: c.status.get("abort"))
    assert messages(plans[-1], "RolloutAborted") == [
        f"Rollout aborted update to revision 2: {FAILED.message}"
    ]
    status = cluster.status
    assert (status["phase"], status["message"]) == (
        "Degraded",
        f"RolloutAborted: Rollout aborted update to revision 2: {FAILED.message}",
    )
    assert cluster.active == H1
    cluster.advance(30)
    cluster.converge()
    assert cluster.replicas_of(V2) == 0


def test_an_inconclusive_pre_promotion_analysis_pauses_until_a_person_decides() -> None:
    inconclusive_run = {"name": "reviews-x-2-pre", "status": "Inconclusive"}
    rerun_passed = {"name": "reviews-x-2-pre.1", "status": "Successful"}
    cluster, pre_gate, _ = gated(**MANUAL)
    pre_gate.verdicts = [
        verdict(GateState.INCONCLUSIVE, "inconclusive", run_status=inconclusive_run),
        verdict(GateState.PASSED, run_status=rerun_passed),
    ]
    cluster.update(V2)
    run_until(cluster, lambda c: bool(c.status.get("pauseConditions")))
    status = cluster.status
    assert status["pauseConditions"][0]["reason"] == "InconclusiveAnalysisRun"
    assert (status["phase"], status["message"]) == ("Paused", "InconclusiveAnalysisRun")
    assert status["blueGreen"]["prePromotionAnalysisRunStatus"] == inconclusive_run
    cluster.converge()
    assert len(pre_gate.seen) == 1  # not asked again while a person decides
    cluster.promote()
    cluster.converge()
    # The gate answered the promote (a re-run that passed); then comes the pause of autoPromotionEnabled: false,
    # which that promote did not answer.
    assert cluster.status["pauseConditions"][0]["reason"] == "BlueGreenPause"
    assert cluster.active == H1
    assert cluster.blue_green["prePromotionAnalysisRunStatus"] == rerun_passed


def test_a_failed_post_promotion_analysis_takes_the_active_service_back() -> None:
    failed = verdict(GateState.FAILED, "PostPromotionAnalysis phase Failed: too slow")
    cluster, _, _ = gated([PASSED], [PENDING, failed])
    cluster.update(V2)
    run_until(cluster, lambda c: c.status.get("abort"))
    assert cluster.status["stableRS"] == H1
    cluster.reconcile()
    assert cluster.active == H1
    assert cluster.status["message"] == (
        "RolloutAborted: Rollout aborted update to revision 2: PostPromotionAnalysis phase Failed: too slow"
    )


def test_a_passed_post_promotion_analysis_completes_the_update() -> None:
    cluster, _, post_gate = gated([PASSED], [PENDING, PENDING, PASSED], postPromotionAnalysis=SMOKE)
    cluster.update(V2)
    plans = run_until(cluster, lambda c: c.status.get("stableRS") == H2)
    assert len(post_gate.seen) == 3
    assert messages(plans[-1], "RolloutCompleted") == [
        f"Rollout completed update to revision 2 ({H2}): Completed blue-green update"
    ]


def test_a_gate_can_ask_for_writes_a_run_status_and_a_look_again() -> None:
    run = {"apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisRun", "metadata": {"name": f"{NAME}-x-2-pre"}}
    create = Create(kind=ANALYSIS_RUNS, namespace=NAMESPACE, body=run)
    running = verdict(
        GateState.PENDING,
        "waiting for pre-promotion analysis reviews-x-2-pre",
        run_status={"name": f"{NAME}-x-2-pre", "status": "Running"},
        writes=(create,),
        look_again_in=10.0,
    )
    cluster, _, _ = gated([running], **MANUAL)
    cluster.update(V2)
    cluster.reconcile()
    cluster.settle()
    plan = cluster.decide()
    assert create in plan.writes
    assert plan.requeue_after == 0  # it wrote something: look again at once (else in 10 s)
    assert plan.status["blueGreen"]["prePromotionAnalysisRunStatus"] == {"name": f"{NAME}-x-2-pre", "status": "Running"}


def test_a_new_revision_clears_the_analysis_run_statuses() -> None:
    running = verdict(GateState.PENDING, "waiting", run_status={"name": "r", "status": "Running"})
    cluster, _, _ = gated([running], **MANUAL)
    cluster.update(V2)
    cluster.reconcile()
    cluster.settle()
    cluster.reconcile()
    assert "prePromotionAnalysisRunStatus" in cluster.blue_green
    cluster.update("reviews:v3")
    cluster.reconcile()
    assert "prePromotionAnalysisRunStatus" not in cluster.blue_green


def test_a_fast_rollback_skips_both_gates() -> None:
    cluster, pre_gate, post_gate = gated([PASSED], [PASSED], postPromotionAnalysis=SMOKE, **MANUAL)
    to_pause(cluster)
    cluster.promote()
    cluster.converge()
    asked = (len(pre_gate.seen), len(post_gate.seen))
    cluster.update(V1)
    plans = run_until(cluster, lambda c: c.status.get("stableRS") == H1, settle=False)
    assert (len(pre_gate.seen), len(post_gate.seen)) == asked
    assert messages(plans[-1], "RolloutCompleted") == [
        f"Rollout completed update to revision 3 ({H1}): Rollback to '{NAME}-{H1}' within scaleDownDelay"
    ]
