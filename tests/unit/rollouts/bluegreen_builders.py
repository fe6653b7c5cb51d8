"""Builders for blue-green reconcile tests: a blue-green Rollout, its active and preview Services, and the in-memory
cluster of ``builders`` with a way to pass stand-in promotion-analysis gates."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rollouts.bluegreen.promotion_analysis import DEFAULT_GATES, GateContext, GateResult, GateState, PromotionGates
from rollouts.bluegreen.reconcile import plan_blue_green
from rollouts.models import Rollout
from rollouts.plan import Plan
from rollouts.reconcile import decide
from tests.unit.rollouts.builders import NAME, Cluster, hash_of, rollout_of, service, template

ACTIVE = f"{NAME}-active"
PREVIEW = f"{NAME}-preview"
V1, V2, V3 = "reviews:v1", "reviews:v2", "reviews:v3"
H1, H2, H3 = hash_of(V1), hash_of(V2), hash_of(V3)

JsonObject = dict[str, Any]


def bg_rollout(
    *,
    image: str = V1,
    replicas: int = 3,
    blue_green: Mapping[str, Any] | None = None,
    preview: bool = True,
    spec: Mapping[str, Any] | None = None,
    generation: int = 1,
) -> JsonObject:
    """A blue-green Rollout with `reviews-active` and (unless ``preview=False``) `reviews-preview`."""
    strategy: JsonObject = {"activeService": ACTIVE}
    if preview:
        strategy["previewService"] = PREVIEW
    strategy.update(copy.deepcopy(dict(blue_green or {})))
    return rollout_of({"blueGreen": strategy}, image=image, replicas=replicas, spec=spec, generation=generation)


def bg_services(
    *, active: str | None = None, preview: str | None = None, managed: bool = False, with_preview: bool = True
) -> dict[str, JsonObject]:
    found = {ACTIVE: service(ACTIVE, selects=active, managed=managed)}
    if with_preview:
        found[PREVIEW] = service(PREVIEW, selects=preview, managed=managed)
    return found


@dataclass
class GateScript:
    """A stand-in gate: the verdicts it gives, one per call (the last one repeats), and the contexts it saw."""

    verdicts: list[GateResult]
    seen: list[GateContext] = field(default_factory=list)

    def __call__(self, context: GateContext) -> GateResult:
        self.seen.append(context)
        return self.verdicts[min(len(self.seen), len(self.verdicts)) - 1]


def verdict(state: GateState, message: str | None = None, **extra: Any) -> GateResult:
    return GateResult(state, message, **extra)


@dataclass
class BlueGreenCluster(Cluster):
    """The in-memory cluster, deciding with ``gates`` (the real ones by default, through ``decide``)."""

    gates: PromotionGates = DEFAULT_GATES

    def decide(self) -> Plan:
        snap = self.snapshot()
        if self.gates is DEFAULT_GATES:
            return decide(snap)
        return plan_blue_green(snap, Rollout.from_dict(snap.rollout), gates=self.gates)

    @property
    def active(self) -> str | None:
        return self.selector_hash(ACTIVE)

    @property
    def preview(self) -> str | None:
        return self.selector_hash(PREVIEW)

    @property
    def blue_green(self) -> JsonObject:
        return dict(self.status.get("blueGreen") or {})

    def update(self, image: str) -> None:
        """What `rollouts set image` does: a new pod template."""
        self.set_spec({"template": template(image)})

    def promote(self) -> None:
        """What `rollouts promote` writes for a paused blue-green Rollout."""
        self.set_status({"pauseConditions": None})


def bg_cluster(*, image: str = V1, gates: PromotionGates = DEFAULT_GATES, **options: Any) -> BlueGreenCluster:
    with_preview = options.get("preview", True)
    return BlueGreenCluster(
        rollout=bg_rollout(image=image, **options),
        services=bg_services(with_preview=with_preview),
        virtual_services={},
        gates=gates,
    )


def bg_deployed(image: str = V1, *, gates: PromotionGates = DEFAULT_GATES, **options: Any) -> BlueGreenCluster:
    """A cluster where ``image`` has been deployed blue-green and has settled (Healthy, both Services on it)."""
    cluster = bg_cluster(image=image, gates=gates, **options)
    cluster.converge()
    return cluster


def run_until(cluster: BlueGreenCluster, done: Any, *, limit: int = 20, settle: bool = True) -> list[Plan]:
    """Reconcile (settling pods after each pass) until ``done(cluster)``; the plans made on the way."""
    plans: list[Plan] = []
    for _ in range(limit):
        if done(cluster):
            return plans
        plans.append(cluster.reconcile())
        if settle:
            cluster.settle()
    if done(cluster):
        return plans
    raise AssertionError(f"not done after {limit} passes; status: {cluster.status}")


def to_pause(cluster: BlueGreenCluster, image: str = V2) -> list[Plan]:
    """Update to ``image`` and reconcile until the controller pauses before the switch."""
    cluster.update(image)
    return run_until(cluster, lambda c: bool(c.status.get("pauseConditions")))


def events_of(plans: list[Plan]) -> list[tuple[str, str]]:
    return [(event.reason, event.message) for plan in plans for event in plan.events]
