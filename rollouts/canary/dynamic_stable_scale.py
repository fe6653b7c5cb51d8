"""``dynamicStableScale`` (traffic routing only): the stable ReplicaSet shrinks as traffic leaves it.

Without it the stable keeps all its pods until the update is promoted, so an abort can send every request back at
once. With it (Argo's CalculateReplicaCountsForTrafficRoutedCanary and reconcileTrafficRouting):

* the stable is sized for the larger of the stable weight wanted now (100 − the canary's weight) and the stable
  weight actually routed, so it shrinks only once traffic has moved off it, and grows back before traffic returns;
* after an abort the canary keeps the pods for the weight it still routes, and the canary weight falls only as fast
  as the stable's available pods can take the traffic back: 100 − 100 × available stable pods / replicas (never above
  the weight already routed);
* once promoted, the previous stable goes to 0 at once (there is no scale-down delay to wait: validation refuses
  ``scaleDownDelaySeconds`` with it).

Pure functions of plain numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class RoutedWeights:
    """The weights last routed (``status.canary.weights``)."""

    canary: int
    stable: int


def weight_to_pods(replicas: int, weight: int) -> int:
    """Pods for ``weight`` % of ``replicas``, rounded up (Argo's trafficWeightToReplicas)."""
    return math.ceil(replicas * weight / 100)


def dynamic_counts(
    replicas: int,
    *,
    desired_weight: int,
    canary: int,
    routed: RoutedWeights | None,
    aborted: bool,
    min_pods_per_replica_set: int | None = None,
) -> tuple[int, int]:
    """(canary, stable) pod counts. ``canary`` is the count sized for the step (its weight or setCanaryScale);
    ``desired_weight`` the canary weight the stable is sized against (0 for a fixed setCanaryScale count)."""
    stable = weight_to_pods(replicas, 100 - desired_weight)
    if routed is not None:
        stable = max(stable, weight_to_pods(replicas, routed.stable))
        if aborted:
            # Traffic still on the canary needs its pods until it is back on the stable.
            canary = max(canary, weight_to_pods(replicas, routed.canary))
    return _at_least(canary, min_pods_per_replica_set), _at_least(stable, min_pods_per_replica_set)


def abort_weight(replicas: int, *, stable_available: int, routed_canary: int | None) -> int:
    """The canary weight while an abort hands traffic back to a stable that is still growing."""
    if replicas <= 0:
        return 0
    weight = max(0, 100 - (100 * stable_available) // replicas)
    return min(weight, routed_canary) if routed_canary is not None else weight


def _at_least(count: int, minimum: int | None) -> int:
    """minPodsPerReplicaSet: a ReplicaSet that has pods has at least that many."""
    return max(count, minimum) if count > 0 and minimum is not None else count


__all__ = ["RoutedWeights", "abort_weight", "dynamic_counts", "weight_to_pods"]
