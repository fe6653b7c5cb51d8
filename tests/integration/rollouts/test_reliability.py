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
    created: collections.Counter[tuple[str, str, str]] = collections.Counter()
    for change in observed.changes:
        if change.type == "ADDED" and change.plural in ("replicasets", "analysisruns"):
            meta: dict[str, Any] = change.object["metadata"]
            owner = meta["ownerReferences"][0]["name"]
            created[(change.plural, owner, meta.get("labels", {}).get(HASH_LABEL, ""))] += 1
    # Each update makes one new ReplicaSet and one AnalysisRun (the canary's step, the blue-green's pre-promotion).
    assert created == {(plural, name, observed.final[name]["currentPodHash"]): 1
                       for name in observed.final for plural in ("replicasets", "analysisruns")}


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
