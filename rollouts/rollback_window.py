"""``spec.rollbackWindow.revisions``: going back to a recent revision is fast-tracked, as a fast rollback is.

A change of template that leads back to an older ReplicaSet (created before the stable one) is a rollback; it is
within the window when fewer than ``revisions`` ReplicaSets were created between that one and the stable one (Argo's
isRollbackWithinWindow). Such a rollback skips the steps and the analysis and is promoted once its pods are
available ("Rollback within window"), as if the steps had never been there.

Pure: a function of the observed ReplicaSets.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from kube.timestamps import parse_time

# A ReplicaSet an Experiment created is not a revision of the Rollout.
EXPERIMENT_NAME_ANNOTATION = "experiment.argoproj.io/experiment-name"


def _created(rs: Mapping[str, Any]) -> datetime | None:
    return parse_time(str((rs.get("metadata") or {}).get("creationTimestamp") or ""))


def within_rollback_window(
    new: Mapping[str, Any] | None,
    stable: Mapping[str, Any] | None,
    replica_sets: Sequence[Mapping[str, Any]],
    revisions: int | None,
) -> bool:
    """Whether moving to ``new`` from ``stable`` is a rollback within the last ``revisions`` revisions."""
    if new is None or stable is None or not revisions or revisions <= 0:
        return False
    new_created, stable_created = _created(new), _created(stable)
    if new_created is None or stable_created is None or not new_created < stable_created:
        return False
    between = sum(
        1
        for rs in replica_sets
        if not ((rs.get("metadata") or {}).get("annotations") or {}).get(EXPERIMENT_NAME_ANNOTATION)
        and (created := _created(rs)) is not None
        and new_created < created < stable_created
    )
    return between < revisions


__all__ = ["within_rollback_window"]
