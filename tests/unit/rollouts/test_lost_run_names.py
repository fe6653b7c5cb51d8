"""A run whose name never reached the Rollout's status (the status write was lost, and the controller restarted or
the write failed) is found again by its labels, revision and hash, as Argo finds its runs by their deterministic
names: finished or not, it is not started a second time. Only a retry (or new steps) begins a fresh attempt, whose
runs the earlier attempt's finished ones are not. Found by bench.reliability: two pre-promotion runs for one update
when the status write naming the first was lost and the run completed before the next pass."""

from __future__ import annotations

from typing import Any

import pytest

from rollouts.gating.runs import RevisionFacts, RunKind, RunRole
from rollouts.gating.tracking import AnalysisInputs, current_run
from rollouts.replicasets import REVISION_ANNOTATION

ROLE = RunRole(RunKind.PRE_PROMOTION)


def run(name: str, phase: str, *, created: str, labels: dict[str, str] | None = None, revision: str = "2",
        pod_hash: str = "abc", terminate: bool = False) -> dict[str, Any]:
    return {
        "metadata": {
            "name": name,
            "creationTimestamp": created,
            "labels": {**ROLE.labels(pod_hash), **(labels or {})},
            "annotations": {REVISION_ANNOTATION: revision},
        },
        "spec": {"terminate": True} if terminate else {},
        "status": {"phase": phase},
    }


def inputs(*runs: dict[str, Any]) -> AnalysisInputs:
    return AnalysisInputs(
        manifest={"metadata": {"name": "reviews", "namespace": "shop"}},
        runs=list(runs),
        templates={},
        cluster_templates={},
        facts=RevisionFacts(current_hash="abc", stable_hash="old", revision=2),
    )


def names(found: dict[str, Any] | None) -> str | None:
    return None if found is None else str(found["metadata"]["name"])


@pytest.mark.parametrize("phase", ["Successful", "Failed", "Error", "Inconclusive", "Running"])
def test_a_run_whose_name_was_lost_is_found_again_whatever_its_phase(phase: str) -> None:
    assert names(current_run(ROLE, None, inputs(run("reviews-abc-2-pre", phase, created="2026-12-07T06:00:00Z")))) \
        == "reviews-abc-2-pre"


def test_the_newest_of_the_role_and_revision_is_the_current_one() -> None:
    found = current_run(ROLE, None, inputs(
        run("reviews-abc-2-pre", "Failed", created="2026-12-07T06:00:00Z"),
        run("reviews-abc-2-pre.1", "Running", created="2026-12-07T06:01:00Z"),
    ))
    assert names(found) == "reviews-abc-2-pre.1"


@pytest.mark.parametrize(
    "other",
    [
        pytest.param({"revision": "1"}, id="an earlier revision"),
        pytest.param({"pod_hash": "old"}, id="another pod template"),
        pytest.param({"terminate": True}, id="terminated"),
        pytest.param({"labels": RunRole(RunKind.POST_PROMOTION).labels("abc")}, id="another role"),
    ],
)
def test_a_run_of_another_revision_role_or_one_terminated_is_not_the_current_one(other: dict[str, Any]) -> None:
    assert current_run(ROLE, None, inputs(run("x", "Successful", created="2026-12-07T06:00:00Z", **other))) is None


def test_after_a_retry_the_aborted_attempts_finished_run_is_not_this_attempts() -> None:
    failed = run("reviews-abc-2-pre", "Failed", created="2026-12-07T06:00:00Z")
    assert current_run(ROLE, None, inputs(failed), fresh_attempt=True) is None


def test_after_a_retry_a_run_this_attempt_started_is_still_found_while_it_measures() -> None:
    failed = run("reviews-abc-2-pre", "Failed", created="2026-12-07T06:00:00Z")
    started = run("reviews-abc-2-pre.1", "Running", created="2026-12-07T06:02:00Z")
    assert names(current_run(ROLE, None, inputs(failed, started), fresh_attempt=True)) == "reviews-abc-2-pre.1"
