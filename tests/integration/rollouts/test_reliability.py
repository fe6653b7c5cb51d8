"""Reliability, CI-sized (issue #15, item 7): six Rollouts with analysis — canary and blue-green, two of them a bad
version — updated while the API fails 5 % of requests, the controller is killed twice and the API is down for
5 s. The full-size run is `python -m bench.reliability` (bench/results/reliability.md).

No timing is asserted: the run waits for convergence with a generous timeout. The invariants are checked here,
against every version of the objects the emulator stored during the run, not taken from the benchmark's report.
"""

from __future__ import annotations

import collections
from typing import Any

import pytest

from bench.reliability import Observations, Plan, run

PLAN = Plan(rollouts=6, kills=2, outage_s=5.0, fault_rate=0.05, bad_every=3, kill_interval_s=3.0, seed=7,
            timeout_s=420.0)
HASH_LABEL = "rollouts-pod-template-hash"


@pytest.fixture(scope="module")
def observed() -> Observations:
    return run(PLAN)


def test_the_chaos_happened(observed: Observations) -> None:
    assert observed.kills == PLAN.kills
    assert observed.outage_s == PLAN.outage_s
    assert observed.faults.get("outage", 0) > 0
    assert sum(count for kind, count in observed.faults.items() if kind != "outage") > 0


def test_good_versions_are_promoted_and_bad_ones_aborted(observed: Observations) -> None:
    """Argo Rollouts: a successful analysis lets the update complete (stableRS = the new hash, Healthy); a failed
    one aborts it, leaving the previous ReplicaSet stable."""
    fates = {}
    for name, status in observed.final.items():
        old, new = observed.old_hashes[name], status["currentPodHash"]
        assert new != old
        if observed.bad(name):
            fates[name] = (status.get("abort"), status["stableRS"] == old)
            assert fates[name] == (True, True), status
        else:
            fates[name] = (status["phase"], status["stableRS"] == new)
            assert fates[name] == ("Healthy", True), status
    assert sum(observed.bad(name) for name in fates) == 2  # r-0002 (canary) and r-0005 (blue-green)


def test_every_stored_virtual_service_splits_exactly_100_percent(observed: Observations) -> None:
    versions = [c.object for c in observed.changes if c.plural == "virtualservices" and c.type != "DELETED"]
    assert versions, "no VirtualService was written during the update"
    for vs in versions:
        for route in vs["spec"]["http"]:
            weights = [destination.get("weight", 0) for destination in route["route"]]
            assert sum(weights) == 100 and min(weights) >= 0, (vs["metadata"]["name"], weights)


def test_no_object_is_created_twice(observed: Observations) -> None:
    """Each update makes one new ReplicaSet and one AnalysisRun (the canary's step, the blue-green's pre-promotion).

    One exception, as Argo Rollouts does it: a run that finished failing before any stored Rollout status named it
    (the pass that created it was killed, or its status write failed, before recording the name) is not taken up by
    its labels alone — after a retry such a run is the aborted attempt's — so a second run starts beside it (Argo's
    collision counter names it ``.1`` when it finds a completed run under the name). The run left behind must be
    exactly that: Failed or Error, and never named by the Rollout."""
    runs: dict[tuple[str, str, str], list[str]] = collections.defaultdict(list)
    last_phase: dict[str, str] = {}
    named: set[str] = set()
    for change in observed.changes:
        if change.plural == "rollouts" and change.type != "DELETED":
            named.update(_run_names_in(change.object.get("status") or {}))
        if change.plural not in ("replicasets", "analysisruns"):
            continue
        meta: dict[str, Any] = change.object["metadata"]
        if change.plural == "analysisruns":
            last_phase[change.name] = str((change.object.get("status") or {}).get("phase") or "")
        if change.type == "ADDED":
            owner = meta["ownerReferences"][0]["name"]
            runs[(change.plural, owner, meta.get("labels", {}).get(HASH_LABEL, ""))].append(change.name)
    assert set(runs) == {(plural, name, observed.final[name]["currentPodHash"])
                         for name in observed.final for plural in ("replicasets", "analysisruns")}
    for (plural, owner, _), created in runs.items():
        if plural == "replicasets" or len(created) == 1:
            assert len(created) == 1, (plural, owner, created)
            continue
        left_behind = created[:-1]
        assert not named & set(left_behind), f"{owner}: a second AnalysisRun beside one its status named: {created}"
        assert all(last_phase.get(name) in ("Failed", "Error") for name in left_behind), (owner, created, last_phase)


def _run_names_in(status: dict[str, Any]) -> set[str]:
    """The AnalysisRun names a Rollout status records (canary step and background runs, blue-green's)."""
    entries = [
        *((status.get("canary") or {}).get(key) for key in
          ("currentStepAnalysisRunStatus", "currentBackgroundAnalysisRunStatus")),
        *((status.get("blueGreen") or {}).get(key) for key in
          ("prePromotionAnalysisRunStatus", "postPromotionAnalysisRunStatus")),
    ]
    return {str(entry["name"]) for entry in entries if isinstance(entry, dict) and entry.get("name")}


def test_no_bad_version_is_ever_stable_or_active(observed: Observations) -> None:
    bad = {name: observed.final[name]["currentPodHash"] for name in observed.final if observed.bad(name)}
    for change in observed.changes:
        if change.type == "DELETED":
            continue
        if change.plural == "rollouts" and change.name in bad:
            assert (change.object.get("status") or {}).get("stableRS") != bad[change.name]
        if change.plural == "services" and change.name.removesuffix("-active") in bad:
            selector = change.object["spec"].get("selector", {})
            assert selector.get(HASH_LABEL) != bad[change.name.removesuffix("-active")], change.name
