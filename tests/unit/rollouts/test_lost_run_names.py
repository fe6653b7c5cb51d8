"""A run whose name never reached the Rollout's status (the status write was lost) is found again by its labels,
revision and hash, as Argo finds its runs by their deterministic names: still measuring, or already successful, it
is not started a second time. A finished run that did not succeed is not taken up by its labels alone (after a
retry it is the aborted attempt's), and a fresh attempt (a retry's pass, new steps) takes only one still measuring.
Found by bench.reliability: two pre-promotion runs for one update when the status write naming the first was lost
and the run succeeded before the next pass."""

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


@pytest.mark.parametrize("phase", ["Successful", "Running", "Pending"])
def test_a_run_whose_name_was_lost_is_found_again_while_it_measures_or_once_it_succeeded(phase: str) -> None:
    assert names(current_run(ROLE, None, inputs(run("reviews-abc-2-pre", phase, created="2026-12-07T06:00:00Z")))) \
        == "reviews-abc-2-pre"


@pytest.mark.parametrize("phase", ["Failed", "Error", "Inconclusive"])
def test_a_finished_run_that_did_not_succeed_is_not_taken_up_by_its_labels(phase: str) -> None:
    assert current_run(ROLE, None, inputs(run("reviews-abc-2-pre", phase, created="2026-12-07T06:00:00Z"))) is None


def test_the_newest_of_the_role_and_revision_is_the_current_one() -> None:
    found = current_run(ROLE, None, inputs(
        run("reviews-abc-2-pre", "Successful", created="2026-12-07T06:00:00Z"),
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


def test_in_a_fresh_attempt_an_earlier_finished_run_is_not_this_attempts() -> None:
    succeeded = run("reviews-abc-2-pre", "Successful", created="2026-12-07T06:00:00Z")
    assert current_run(ROLE, None, inputs(succeeded), fresh_attempt=True) is None


def test_after_a_retry_a_run_this_attempt_started_is_still_found_while_it_measures() -> None:
    failed = run("reviews-abc-2-pre", "Failed", created="2026-12-07T06:00:00Z")
    started = run("reviews-abc-2-pre.1", "Running", created="2026-12-07T06:02:00Z")
    assert names(current_run(ROLE, None, inputs(failed, started), fresh_attempt=True)) == "reviews-abc-2-pre.1"
