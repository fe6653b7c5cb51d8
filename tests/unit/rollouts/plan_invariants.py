"""What every Rollout plan keeps, whatever the strategy: the property tests of both strategies check it here."""

from __future__ import annotations

import copy

from rollouts.plan import Create, Patch
from rollouts.reconcile import decide
from rollouts.snapshot import RolloutSnapshot

STATUS_COUNTS = ("replicas", "updatedReplicas", "readyReplicas", "availableReplicas", "HPAReplicas")


def check_replica_counts_never_negative(snapshot: RolloutSnapshot) -> None:
    """No ReplicaSet is created or scaled to a negative count, and no count of the new status is negative."""
    plan = decide(snapshot)
    for write in plan.writes:
        if isinstance(write, Create) and write.kind.kind == "ReplicaSet":
            assert write.body["spec"]["replicas"] >= 0
        elif isinstance(write, Patch) and write.kind.kind == "ReplicaSet":
            replicas = write.patch.get("spec", {}).get("replicas")
            assert replicas is None or replicas >= 0
    for key in STATUS_COUNTS:
        assert plan.status.get(key, 0) >= 0


def check_the_same_plan_each_time(snapshot: RolloutSnapshot) -> None:
    """The same plan for the snapshot, for a deep copy of it, and when asked again (nothing kept between passes)."""
    first = decide(snapshot)
    assert decide(copy.deepcopy(snapshot)) == first
    assert decide(snapshot) == first
