"""Invariants of ``decide`` over generated snapshots: weights are proportions, counts are never negative, the same
snapshot always gives the same plan, the steps never jump ahead without a reason, a pause step ends exactly when
its time is up or a person resumes it, and AnalysisRuns are never created twice or under a name in use."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kube.merge_patch import apply_merge_patch
from kube.timestamps import parse_time
from rollouts.hashing import steps_hash
from rollouts.plan import Create, Patch, Plan
from rollouts.reconcile import decide
from rollouts.snapshot import RolloutSnapshot
from tests.property_coverage import asserting, guarded, vacuous
from tests.unit.rollouts.builders import (
    NAME,
    UID,
    at,
    default_templates,
    hash_of,
    replica_set,
    rollout,
    service,
    virtual_service,
)
from tests.unit.rollouts.plan_invariants import check_replica_counts_never_negative, check_the_same_plan_each_time

IMAGES = ("reviews:v0", "reviews:v1", "reviews:v2")
ANALYSIS = {"templates": [{"templateName": "success-rate"}], "args": [{"name": "service-name", "value": "x"}]}

step = st.one_of(
    st.builds(lambda w: {"setWeight": w}, st.integers(0, 100)),
    st.just({"pause": {}}),
    st.builds(lambda d: {"pause": {"duration": d}}, st.integers(0, 600)),
    st.builds(lambda r: {"setCanaryScale": {"replicas": r}}, st.integers(0, 6)),
    st.builds(lambda w: {"setCanaryScale": {"weight": w}}, st.integers(0, 100)),
    st.just({"setCanaryScale": {"matchTrafficWeight": True}}),
    st.just({"analysis": ANALYSIS}),
)
PHASES = ("", "Pending", "Running", "Successful", "Failed", "Error", "Inconclusive")


@st.composite
def analysis_runs(draw: st.DrawFn, hashes: list[str]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Runs the Rollout owns (of any role, revision and phase) and the status entries naming some of them."""
    runs: list[dict[str, Any]] = []
    entries: dict[str, Any] = {}
    for number in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["Step", "Background"]))
        pod_hash, revision = draw(st.sampled_from(hashes)), draw(st.integers(1, 3))
        labels = {"rollouts-pod-template-hash": pod_hash, "rollout-type": kind}
        name = f"{NAME}-{pod_hash}-{revision}"
        if kind == "Step":
            index = draw(st.integers(0, 5))
            labels["step-index"] = str(index)
            name += f"-{index}"
        if number and draw(st.booleans()):
            name += f".{number}"
        run: dict[str, Any] = {
            "metadata": {
                "name": name,
                "creationTimestamp": at(number).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "labels": labels,
                "annotations": {"rollout.argoproj.io/revision": str(revision)},
                "ownerReferences": [{"kind": "Rollout", "name": NAME, "uid": UID, "controller": True}],
            },
            "spec": {"terminate": True} if draw(st.booleans()) else {},
            "status": {"phase": draw(st.sampled_from(PHASES)), "message": "why"},
        }
        if any(found["metadata"]["name"] == name for found in runs):
            continue
        runs.append(run)
        if draw(st.booleans()):
            key = "currentStepAnalysisRunStatus" if kind == "Step" else "currentBackgroundAnalysisRunStatus"
            entries[key] = {"name": name, "status": run["status"]["phase"] or "Pending"}
    return runs, entries


@st.composite
def snapshots(draw: st.DrawFn) -> RolloutSnapshot:
    traffic = draw(st.booleans())
    steps = draw(st.lists(step, max_size=6))
    if not traffic:
        steps = [s for s in steps if "setCanaryScale" not in s]
    replicas = draw(st.integers(0, 8))
    image = draw(st.sampled_from(IMAGES[1:]))
    hashes = [hash_of(i) for i in IMAGES]
    status: dict[str, Any] = {
        "currentPodHash": draw(st.sampled_from([*hashes, "other"])),
        "currentStepHash": draw(st.sampled_from([steps_hash(steps), "stale"])),
        "currentStepIndex": draw(st.integers(0, len(steps) + 1)),
        "observedGeneration": "1",
    }
    if draw(st.booleans()):
        status["stableRS"] = draw(st.sampled_from(hashes))
    if draw(st.booleans()):
        status["abort"] = True
        if draw(st.booleans()):
            status["abortedAt"] = "2024-05-01T09:59:00Z"
    elif draw(st.booleans()):
        status["abortedAt"] = "2024-05-01T09:59:00Z"
    if draw(st.booleans()):
        status["promoteFull"] = True
    if draw(st.booleans()):
        status["pauseConditions"] = [{"reason": "CanaryPauseStep", "startTime": "2024-05-01T09:58:00Z"}]
    if draw(st.booleans()):
        status["pauseConditions"] = [
            *status.get("pauseConditions", []),
            {"reason": "InconclusiveAnalysisRun", "startTime": "2024-05-01T09:58:00Z"},
        ]
    if draw(st.booleans()):
        status["controllerPause"] = True
    if traffic and draw(st.booleans()):
        weight = draw(st.integers(0, 100))
        status["canary"] = {"weights": {"canary": {"weight": weight}, "stable": {"weight": 100 - weight}}}
    runs, entries = draw(analysis_runs(hashes))
    status.setdefault("canary", {}).update(entries)
    canary: dict[str, Any] = {}
    if draw(st.booleans()):
        canary["analysis"] = {**ANALYSIS, "startingStep": draw(st.integers(0, max(len(steps) - 1, 0)))}
    manifest = rollout(
        image=image, replicas=replicas, steps=steps, traffic_routing=traffic, status=status, canary=canary
    )
    if draw(st.booleans()):
        manifest["spec"]["paused"] = True

    replica_sets = []
    for revision, rs_image in enumerate(IMAGES, start=1):
        if draw(st.booleans()):
            wanted = draw(st.integers(0, 8))
            rs = replica_set(rs_image, replicas=wanted, available=draw(st.integers(0, wanted)), revision=revision)
            if draw(st.booleans()):
                rs["metadata"]["annotations"]["scale-down-deadline"] = at(draw(st.integers(-60, 60))).strftime(
                    "%Y-%m-%dT%H:%M:%SZ"
                )
            replica_sets.append(rs)
    services = {
        f"{NAME}-{side}": service(
            f"{NAME}-{side}", selects=draw(st.sampled_from([None, *hashes])), managed=draw(st.booleans())
        )
        for side in ("canary", "stable")
    }
    return RolloutSnapshot(
        rollout=manifest,
        now=at(draw(st.integers(0, 3600))),
        replica_sets=tuple(replica_sets),
        services=services,
        virtual_services={NAME: virtual_service(draw(st.integers(0, 100)))},
        analysis_runs=tuple(runs),
        analysis_templates=default_templates(),
    )


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def rarely(draw: st.DrawFn) -> bool:
    """True in about one example in eight: an operator's flag that should not hide the common path (not 0, which
    hypothesis draws far more often than one time in eight)."""
    return draw(st.integers(0, 7)) == 5


@st.composite
def mid_update_snapshots(
    draw: st.DrawFn, *, analysis_step: bool = False, failing: bool = False, pause_step: bool = False
) -> RolloutSnapshot:
    """A Rollout part-way through an update from v1 (stable, revision 1) to v2 (revision 2) with traffic routing,
    its status consistent with its spec (step hash, pod hash, revision), so that the pass gets as far as the step,
    the weights and the analysis — where the invariants have something to say.

    ``analysis_step``: the current step is an analysis step; ``failing``: its run exists and has failed or errored;
    ``pause_step``: the current step is a pause (timed or not), its condition present or not, resumed or not.
    """
    stable, current = hash_of(IMAGES[1]), hash_of(IMAGES[2])
    steps = draw(st.lists(step, min_size=1, max_size=6))
    index = draw(st.integers(0, len(steps) - 1))
    if analysis_step or failing:
        steps[index] = {"analysis": ANALYSIS}
    if pause_step:
        steps[index] = draw(st.sampled_from([{"pause": {}}, {"pause": {"duration": draw(st.integers(0, 600))}}]))
    replicas = draw(st.integers(1, 8))
    status: dict[str, Any] = {
        "currentPodHash": current,
        "currentStepHash": steps_hash(steps),
        "currentStepIndex": index,
        "stableRS": stable,
        "observedGeneration": "1",
    }
    weight = draw(st.integers(0, 100))
    status["canary"] = {"weights": {"canary": {"weight": weight, "podTemplateHash": current},
                                    "stable": {"weight": 100 - weight, "podTemplateHash": stable}}}
    if rarely(draw):
        status["abort"] = True
    if rarely(draw):
        status["promoteFull"] = True
    if rarely(draw):
        status["pauseConditions"] = [{"reason": "CanaryPauseStep", "startTime": "2024-05-01T09:58:00Z"}]
    if pause_step:
        # Neither an abort nor a full promotion: the pause alone decides whether the step ends.
        status.pop("abort", None)
        status.pop("promoteFull", None)
        status["pauseConditions"] = (
            [{"reason": "CanaryPauseStep", "startTime": stamp(at(-draw(st.integers(0, 600))))}]
            if draw(st.booleans())
            else []
        )
        if draw(st.booleans()):
            status["controllerPause"] = True
    runs: list[dict[str, Any]] = []
    if failing or (analysis_step and rarely(draw)):
        # A run of the current step; when not failing, under a name that a new run must not take again.
        phase = draw(st.sampled_from(["Failed", "Error"])) if failing else draw(st.sampled_from(PHASES))
        name = f"{NAME}-{current}-2-{index}"
        runs.append({
            "metadata": {
                "name": name,
                "creationTimestamp": at(0).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "labels": {"rollouts-pod-template-hash": current, "rollout-type": "Step", "step-index": str(index)},
                "annotations": {"rollout.argoproj.io/revision": "2"},
                "ownerReferences": [{"kind": "Rollout", "name": NAME, "uid": UID, "controller": True}],
            },
            "spec": {},
            "status": {"phase": phase, "message": "why"},
        })
        if failing:
            status["canary"]["currentStepAnalysisRunStatus"] = {"name": name, "status": phase}
    manifest = rollout(image=IMAGES[2], replicas=replicas, steps=steps, traffic_routing=True, status=status)
    manifest["metadata"]["annotations"] = {"rollout.argoproj.io/revision": "2"}
    canary_replicas = draw(st.integers(0, replicas))
    replica_sets = (
        replica_set(IMAGES[1], replicas=replicas, revision=1),
        replica_set(IMAGES[2], replicas=canary_replicas, available=draw(st.integers(0, canary_replicas)),
                    revision=2),
    )
    return RolloutSnapshot(
        rollout=manifest,
        now=at(draw(st.integers(0, 600 if pause_step else 3600))),
        replica_sets=replica_sets,
        services={f"{NAME}-canary": service(f"{NAME}-canary", selects=current),
                  f"{NAME}-stable": service(f"{NAME}-stable", selects=stable)},
        virtual_services={NAME: virtual_service(weight)},
        analysis_runs=tuple(runs),
        analysis_templates=default_templates(),
    )


SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@guarded(min_share=0.8)
@SETTINGS
@given(mid_update_snapshots())
def test_weights_are_proportions_that_sum_to_100(snapshot: RolloutSnapshot) -> None:
    """Argo's weights: the canary gets w % and the stable 100 − w %, in the status and in every route written."""
    plan = decide(snapshot)
    weights = (plan.status.get("canary") or {}).get("weights")
    checked = False
    if weights is not None and "podTemplateHash" in weights.get("canary", {}):
        asserting("status weights")
        checked = True
        assert 0 <= weights["canary"]["weight"] <= 100
        assert weights["canary"]["weight"] + weights["stable"]["weight"] == 100
    for write in plan.writes:
        if isinstance(write, Patch) and write.kind.kind == "VirtualService":
            asserting("routes written")
            checked = True
            routed = apply_merge_patch(snapshot.virtual_services[NAME], write.patch)
            for route in routed["spec"]["http"]:
                shares = [destination["weight"] for destination in route["route"]]
                assert all(0 <= share <= 100 for share in shares)
                assert sum(shares) == 100
                if weights is not None and "podTemplateHash" in weights.get("canary", {}):
                    # What the canary Service gets is what the status says the canary gets (never swapped).
                    by_host = {target["destination"]["host"]: target["weight"] for target in route["route"]}
                    assert by_host.get(f"{NAME}-canary") == weights["canary"]["weight"], (by_host, weights)
    if not checked:
        vacuous("no weights decided")


@SETTINGS
@given(snapshots())
def test_replica_counts_are_never_negative(snapshot: RolloutSnapshot) -> None:
    check_replica_counts_never_negative(snapshot)


@SETTINGS
@given(snapshots())
def test_the_same_snapshot_always_gives_the_same_plan(snapshot: RolloutSnapshot) -> None:
    check_the_same_plan_each_time(snapshot)


@SETTINGS
@given(snapshots())
def test_steps_never_skip_ahead_without_a_reason(snapshot: RolloutSnapshot) -> None:
    plan: Plan = decide(snapshot)
    old = snapshot.rollout.get("status") or {}
    before = old.get("currentStepIndex", 0)
    after = plan.status.get("currentStepIndex")
    if after is None or after <= before + 1:
        return
    reasons = {event.reason for event in plan.events}
    promoted = "RolloutCompleted" in reasons or "SkipSteps" in reasons
    full_promotion = bool(old.get("promoteFull"))
    already_stable = old.get("stableRS") == plan.status.get("currentPodHash")
    assert promoted or full_promotion or already_stable, (before, after, plan.events)


@guarded(min_share=0.5)
@SETTINGS
@given(mid_update_snapshots(analysis_step=True))
def test_analysis_runs_are_created_once_per_role_and_never_under_a_name_in_use(snapshot: RolloutSnapshot) -> None:
    plan = decide(snapshot)
    created = [w.body for w in plan.writes if isinstance(w, Create) and w.kind.kind == "AnalysisRun"]
    if not created:
        vacuous("no run created")
    else:
        asserting("runs created")
    names = [run["metadata"]["name"] for run in created]
    assert len(set(names)) == len(names)
    assert not set(names) & {run["metadata"]["name"] for run in snapshot.analysis_runs}
    roles = [run["metadata"]["labels"]["rollout-type"] for run in created]
    assert len(set(roles)) == len(roles)
    if (snapshot.rollout.get("status") or {}).get("abort") or plan.status.get("abort"):
        assert created == []  # an aborted update starts no analysis


@guarded(min_share=0.8)
@SETTINGS
@given(mid_update_snapshots(failing=True))
def test_a_failed_or_errored_current_run_is_never_promoted_past(snapshot: RolloutSnapshot) -> None:
    """The steps never complete on the strength of a failed analysis, and the update is aborted (an initial deploy,
    a fast rollback or a full promotion skip analysis altogether, as in Argo)."""
    plan = decide(snapshot)
    entries = (plan.status.get("canary") or {}).values()
    failing = [e for e in entries if isinstance(e, dict) and e.get("status") in ("Failed", "Error")]
    if failing:
        asserting("a failing current run")
    else:
        vacuous("no failing run")
    completed = [e.message for e in plan.events if e.reason == "RolloutCompleted" and "canary steps" in e.message]
    assert not (failing and completed), (failing, completed)
    if failing and not (snapshot.rollout.get("status") or {}).get("promoteFull"):
        # "A Failed or Error AnalysisRun aborts" (a full promotion overrides the abort, as in Argo).
        assert plan.status.get("abort") is True, (failing, plan.status.get("abort"))


@guarded(min_share=0.9)
@SETTINGS
@given(mid_update_snapshots(pause_step=True))
def test_a_pause_step_ends_only_when_its_time_is_up_or_a_person_resumes_it(snapshot: RolloutSnapshot) -> None:
    """Argo's pause step: with a duration it completes once the duration has passed since the CanaryPauseStep
    condition's startTime; without one it waits until ``promote`` clears the condition (``controllerPause`` with no
    CanaryPauseStep condition means resumed); a duration of 0 ends as it starts. And it does end then; until then
    the pause is marked by a CanaryPauseStep condition (and controllerPause from the pass that starts it)."""
    status = snapshot.rollout["status"]
    plan = decide(snapshot)
    index = status["currentStepIndex"]
    duration = snapshot.rollout["spec"]["strategy"]["canary"]["steps"][index]["pause"].get("duration")
    condition = next((c for c in status.get("pauseConditions", []) if c["reason"] == "CanaryPauseStep"), None)
    asserting("at a pause step")
    if condition is not None:
        started = parse_time(condition["startTime"])
        assert started is not None
        over = duration is not None and snapshot.now >= started + timedelta(seconds=duration)
    else:
        over = bool(status.get("controllerPause")) or duration == 0
    moved_on = plan.status.get("currentStepIndex") == index + 1
    assert moved_on == over, (duration, condition, status.get("controllerPause"), snapshot.now, plan.events)
    if not over:
        # The pause is marked by its CanaryPauseStep condition (kept, or added from now with controllerPause).
        reasons = [found["reason"] for found in plan.status.get("pauseConditions", [])]
        assert "CanaryPauseStep" in reasons, plan.status
        assert condition is not None or plan.status.get("controllerPause") is True, plan.status
