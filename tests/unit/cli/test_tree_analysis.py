"""AnalysisRuns in `get rollout`'s tree: `α` rows under their revision with Argo's measurement counts, `⊞` Job rows
under them, and the abort message in the header in full."""

from __future__ import annotations

import re
from typing import Any

from cli.tree import render_rollout
from tests.unit.cli.test_tree import (
    NOW,
    WEEK_AGO,
    make_analysis_run,
    make_pod,
    make_replicaset,
    make_rollout,
    text,
    ts,
)


def aborted_rollout(message: str) -> dict[str, Any]:
    return make_rollout(
        "rollout-background-analysis",
        {"canary": {"steps": [{"setWeight": 20}, {"pause": {"duration": "10s"}}],
                    "analysis": {"templates": [{"templateName": "web"}]}}},
        {"phase": "Degraded", "message": message, "abort": True, "currentStepIndex": 0,
         "stableRS": "7d84d44bb8", "currentPodHash": "db976bc44", "replicas": 1, "updatedReplicas": 0,
         "readyReplicas": 1, "availableReplicas": 1},
        replicas=1,
    )


def test_argo_golden_aborted_rollout() -> None:
    """Argo's TestGetAbortedRollout, rebuilt from objects: the output must be identical."""
    rollout = aborted_rollout('RolloutAborted: metric "web" assessed Failed due to failed (1) > failureLimit (0)')
    canary = make_replicaset(rollout, "db976bc44", 2, "argoproj/rollouts-demo:yellow", replicas=0)
    stable = make_replicaset(rollout, "7d84d44bb8", 1, "argoproj/rollouts-demo:blue", replicas=1)
    run = make_analysis_run(rollout, "rollout-background-analysis-db976bc44-2", 2, "Failed",
                            [{"name": "web", "phase": "Failed", "count": 1, "failed": 1}])
    assert text(rollout, [canary, stable], [make_pod(stable, "z5wps")], [run]) == """\
Name:            rollout-background-analysis
Namespace:       jesse-test
Status:          ✖ Degraded
Message:         RolloutAborted: metric "web" assessed Failed due to failed (1) > failureLimit (0)
Strategy:        Canary
  Step:          0/2
  SetWeight:     0
  ActualWeight:  0
Images:          argoproj/rollouts-demo:blue (stable)
Replicas:
  Desired:       1
  Current:       1
  Updated:       0
  Ready:         1
  Available:     1

NAME                                                     KIND         STATUS        AGE  INFO
⟳ rollout-background-analysis                            Rollout      ✖ Degraded    7d
├──# revision:2
│  ├──⧉ rollout-background-analysis-db976bc44            ReplicaSet   • ScaledDown  7d   canary
│  └──α rollout-background-analysis-db976bc44-2          AnalysisRun  ✖ Failed      7d   ✖ 1
└──# revision:1
   └──⧉ rollout-background-analysis-7d84d44bb8           ReplicaSet   ✔ Healthy     7d   stable
      └──□ rollout-background-analysis-7d84d44bb8-z5wps  Pod          ✔ Running     7d   ready:1/1
"""


# The AnalysisRun rows of Argo's TestExperimentRollout golden, padding squeezed: there they sit under an Experiment,
# whose longer pod names set the column widths, so the cells are what must match.
GOLDEN_RUN_ROWS = """\
│  └──α rollout-experiment-analysis-random-fail-6f646bf7b7-skqcr  AnalysisRun  ? Inconclusive  7d  ✔ 4,✖ 4,? 1,⚠ 1
│     ├──⊞ rollout-experiment-analysis-random-fail-6f646bf7b7-skqcr-rzl6lt  Job  ✖ Failed  7d
│     ├──⊞ rollout-experiment-analysis-random-fail-6f646bf7b7-skqcr-r8lqpd  Job  ✔ Successful  7d
│     ├──⊞ rollout-experiment-analysis-random-fail-6f646bf7b7-skqcr-rjjsgg  Job  ✔ Successful  7d
│     ├──⊞ rollout-experiment-analysis-random-fail-6f646bf7b7-skqcr-rrnfj5  Job  ✖ Failed  7d
│     ├──⊞ rollout-experiment-analysis-random-fail-6f646bf7b7-skqcr-rx5kqk  Job  ✖ Failed  7d
│     ├──⊞ rollout-experiment-analysis-random-fail-6f646bf7b7-skqcr-rp894b  Job  ✔ Successful  7d
│     ├──⊞ rollout-experiment-analysis-random-fail-6f646bf7b7-skqcr-rmngtj  Job  ✖ Failed  7d
│     └──⊞ rollout-experiment-analysis-random-fail-6f646bf7b7-skqcr-rsxm69  Job  ✔ Successful  7d
"""


def cells(line: str) -> list[str]:
    """A tree row's cells after the branch drawing: name, kind, status, age, info."""
    return re.split(r"\s{2,}", re.sub(r"^[│├└─ ]+", "", line).strip())


def test_argo_golden_inconclusive_run_with_jobs() -> None:
    """Every count in Argo's order, one ⊞ row per Job of the run's measurements, in the order they ran."""
    rollout = aborted_rollout("")
    name = "rollout-experiment-analysis-random-fail-6f646bf7b7-skqcr"
    jobs = [("rzl6lt", "Failed"), ("r8lqpd", "Successful"), ("rjjsgg", "Successful"), ("rrnfj5", "Failed"),
            ("rx5kqk", "Failed"), ("rp894b", "Successful"), ("rmngtj", "Failed"), ("rsxm69", "Successful")]
    run = make_analysis_run(rollout, name, 2, "Inconclusive", [{
        "name": "random-fail", "phase": "Inconclusive", "successful": 4, "failed": 4, "inconclusive": 1, "error": 1,
        "measurements": [{"phase": phase, "startedAt": WEEK_AGO, "metadata": {"job-name": f"{name}-{suffix}"}}
                         for suffix, phase in jobs],
    }])
    lines = render_rollout(rollout, [], [], [run], NOW)
    rows = lines[lines.index("") + 4:]
    assert [cells(row) for row in rows] == [cells(row) for row in GOLDEN_RUN_ROWS.splitlines()]
    assert rows[0].startswith("   └──α ") and rows[1].startswith("      ├──⊞ ") and rows[-1].startswith("      └──⊞ ")


def test_counts_are_summed_across_metrics_and_zeros_are_left_out() -> None:
    rollout = aborted_rollout("")
    run = make_analysis_run(rollout, "r", 2, "Running", [
        {"name": "a", "phase": "Successful", "successful": 3},
        {"name": "b", "phase": "Running", "successful": 1, "error": 2},
    ])
    row = next(line for line in render_rollout(rollout, [], [], [run], NOW) if "AnalysisRun" in line)
    assert cells(row) == ["α r", "AnalysisRun", "◌ Running", "7d", "✔ 4,⚠ 2"]


def test_a_run_sits_under_the_revision_it_belongs_to_even_without_the_revision_annotation() -> None:
    rollout = aborted_rollout("")
    canary = make_replicaset(rollout, "db976bc44", 2, "demo:yellow", replicas=1, created=ts(minutes=3))
    stable = make_replicaset(rollout, "7d84d44bb8", 1, "demo:blue", replicas=1)
    labelled = make_analysis_run(rollout, "labelled-only", 0, "Successful", [], created=ts(minutes=2))
    del labelled["metadata"]["annotations"]
    labelled["metadata"]["labels"] = {"rollouts-pod-template-hash": "db976bc44"}
    fresh = make_analysis_run(rollout, "not-yet-seen", 2, "", [], created=ts(minutes=1))
    del fresh["status"]
    lines = render_rollout(rollout, [canary, stable], [], [labelled, fresh], NOW)
    tree = lines[lines.index("") + 1:]
    assert [re.sub(r"^(.*?[#⧉α] \S+).*", r"\1", line) for line in tree[2:]] == [
        "├──# revision:2",
        "│  ├──⧉ rollout-background-analysis-db976bc44",
        "│  ├──α labelled-only",
        "│  └──α not-yet-seen",
        "└──# revision:1",
        "   └──⧉ rollout-background-analysis-7d84d44bb8",
    ]
    # No phase yet: the analysis controller has not picked the run up.
    assert "◷ Pending" in tree[5]


def test_runs_of_other_rollouts_are_left_out() -> None:
    rollout = aborted_rollout("")
    other = make_analysis_run(make_rollout("other", {"canary": {}}, {}), "other-run", 2, "Failed", [])
    assert not any("other-run" in line for line in render_rollout(rollout, [], [], [other], NOW))


def test_the_abort_message_is_shown_whole() -> None:
    message = (
        'RolloutAborted: Rollout aborted update to revision 2: Step-based analysis phase Failed: Metric "success-rate" '
        'assessed Failed due to failed (1) > failureLimit (0): "Error Message: success-rate: 0.71 does not satisfy '
        'result[0] >= 0.95" (query: sum(rate(istio_requests_total{destination_service=~"reviews-canary.shop.svc.'
        'cluster.local",response_code!~"5.*"}[1m])) / sum(rate(istio_requests_total{destination_service=~"reviews-'
        'canary.shop.svc.cluster.local"}[1m])))'
    )
    lines = render_rollout(aborted_rollout(message), [], [], [], NOW)
    assert f"Message:         {message}" in lines


def test_a_message_of_several_lines_continues_under_the_first() -> None:
    lines = "\n".join(render_rollout(aborted_rollout("RolloutAborted: analysis failed:\nquery returned []"), [], [],
                                     [], NOW)).splitlines()
    index = lines.index("Message:         RolloutAborted: analysis failed:")
    assert lines[index + 1] == "                 query returned []"
    assert lines[index + 2].startswith("Strategy:")
