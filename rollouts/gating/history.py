"""AnalysisRuns a Rollout no longer needs: the ones still running are terminated, the old ones deleted.

Every pass, after the strategy has said which runs are current (and whether the update is being given up, or has
moved past analysis: an abort, a full promotion, a fast rollback), what is left (Argo's reconcileAnalysisRuns):

* a run that is not current — superseded by a new revision, a retry, a re-run after an inconclusive verdict, a step
  the index moved past, a background analysis whose update completed — and still running gets
  ``{"spec":{"terminate":true}}`` (the analysis controller then ends it, Successful unless something failed);
  so does every run, current or not, when the update is aborted or analysis is skipped;
* of the runs that are not current, those of a ReplicaSet that no longer exists are deleted, and of the rest, the
  newest ``successfulRunHistoryLimit`` Successful and ``unsuccessfulRunHistoryLimit`` Failed, Error or Inconclusive
  ones are kept (5 each by default) and the older ones deleted. Runs still running are never counted.

Pure: the runs and the decisions in, the writes out (each run written only when it needs it, so a pass over a
Rollout at rest writes nothing).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from analysis.models import AnalysisPhase
from kube.json_data import JsonObject
from kube.resources import ANALYSIS_RUNS
from rollouts.gating.tracking import is_completed, is_terminating, name_of, run_phase
from rollouts.hashing import HASH_LABEL
from rollouts.plan import Delete, Patch, Write

TERMINATE_PATCH: JsonObject = {"spec": {"terminate": True}}


def terminations(
    runs: Sequence[JsonObject], *, current: Collection[str], terminate_all: bool, namespace: str
) -> list[Write]:
    """``spec.terminate`` for each run still running that is not current (every one with ``terminate_all``)."""
    return [
        Patch(kind=ANALYSIS_RUNS, namespace=namespace, name=name_of(run), patch=dict(TERMINATE_PATCH))
        for run in runs
        if (terminate_all or name_of(run) not in current) and not is_completed(run) and not is_terminating(run)
    ]


def runs_to_delete(
    runs: Sequence[JsonObject],
    *,
    current: Collection[str],
    replica_set_hashes: Collection[str],
    successful_limit: int,
    unsuccessful_limit: int,
) -> list[JsonObject]:
    """The runs that are not current and either belong to no existing ReplicaSet or are beyond the history limits
    (newest first by creation time, then name)."""
    others = [run for run in runs if name_of(run) not in current]
    others.sort(key=lambda run: (_created(run), name_of(run)), reverse=True)
    kept_successful = kept_unsuccessful = 0
    doomed: list[JsonObject] = []
    for run in others:
        pod_hash = ((run.get("metadata") or {}).get("labels") or {}).get(HASH_LABEL)
        if pod_hash not in replica_set_hashes:
            doomed.append(run)
            continue
        phase = run_phase(run)
        if phase is AnalysisPhase.SUCCESSFUL:
            kept_successful += 1
            if kept_successful > successful_limit:
                doomed.append(run)
        elif phase.completed:
            kept_unsuccessful += 1
            if kept_unsuccessful > unsuccessful_limit:
                doomed.append(run)
    return doomed


def housekeeping(
    runs: Sequence[JsonObject],
    *,
    current: Collection[str],
    terminate_all: bool,
    replica_set_hashes: Collection[str],
    successful_limit: int,
    unsuccessful_limit: int,
    namespace: str,
) -> tuple[list[Write], list[Write]]:
    """(terminations, deletions) for this pass; a run that is deleted is not terminated first."""
    doomed = runs_to_delete(
        runs,
        current=current,
        replica_set_hashes=replica_set_hashes,
        successful_limit=successful_limit,
        unsuccessful_limit=unsuccessful_limit,
    )
    doomed_names = {name_of(run) for run in doomed}
    live = [run for run in runs if name_of(run) not in doomed_names]
    deletions: list[Write] = [Delete(kind=ANALYSIS_RUNS, namespace=namespace, name=name_of(run)) for run in doomed]
    return terminations(live, current=current, terminate_all=terminate_all, namespace=namespace), deletions


def _created(run: Mapping[str, Any]) -> str:
    # RFC 3339 timestamps in UTC sort as text.
    return str((run.get("metadata") or {}).get("creationTimestamp") or "")


__all__ = ["TERMINATE_PATCH", "housekeeping", "runs_to_delete", "terminations"]
