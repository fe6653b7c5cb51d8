"""spec.rollbackWindow.revisions: rolling back to one of the recent revisions skips the steps and the analysis and is
promoted once available (Argo's docs/features/rollback.md, and isRollbackWithinWindow: the target ReplicaSet was
created before the stable one, with fewer than `revisions` ReplicaSets created in between)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from rollouts.rollback_window import within_rollback_window
from tests.unit.rollouts.bluegreen_builders import V1 as BG_V1
from tests.unit.rollouts.bluegreen_builders import V2 as BG_V2
from tests.unit.rollouts.bluegreen_builders import V3 as BG_V3
from tests.unit.rollouts.bluegreen_builders import bg_deployed, events_of, run_until, to_pause
from tests.unit.rollouts.builders import NAME, T0, Cluster, deployed, hash_of, messages, replica_set

STEPS = [{"setWeight": 20}, {"pause": {}}]


def rs_at(image: str, minutes: int) -> dict[str, object]:
    return replica_set(image, replicas=1, created=T0 + timedelta(minutes=minutes))


@pytest.mark.parametrize(
    ("target", "stable", "revisions", "expected"),
    [
        ("v4", "v5", 1, True),  # nothing in between
        ("v3", "v5", 2, True),  # one in between (v4) < 2
        ("v2", "v5", 2, False),  # two in between (v3, v4)
        ("v2", "v5", 3, True),
        ("v5", "v4", 3, False),  # newer than the stable: not a rollback
        ("v4", "v5", 0, False),
        ("v4", "v5", None, False),
    ],
)
def test_within_the_window(target: str, stable: str, revisions: int | None, expected: bool) -> None:
    sets = {f"v{n}": rs_at(f"reviews:v{n}", n) for n in range(1, 6)}
    assert within_rollback_window(sets[target], sets[stable], list(sets.values()), revisions) is expected


def set_image(cluster: Cluster, image: str) -> None:
    cluster.set_spec({"template": {"spec": {"containers": [{"name": NAME, "image": image}]}}})


def promoted_through(images: list[str], revisions: int) -> Cluster:
    """v1 deployed, then each image rolled out (resumed at its pause) and promoted, a minute apart."""
    cluster = deployed("reviews:v1", steps=STEPS, spec={"rollbackWindow": {"revisions": revisions}})
    for image in images:
        cluster.advance(60)
        set_image(cluster, image)
        cluster.converge()
        cluster.set_status({"pauseConditions": None})
        cluster.converge()
        assert cluster.status["stableRS"] == hash_of(image)
    cluster.advance(60)
    cluster.converge()  # the previous stables' scale-down delays have passed
    return cluster


def test_a_rollback_within_the_window_skips_the_steps_and_is_promoted() -> None:
    cluster = promoted_through(["reviews:v2", "reviews:v3"], revisions=2)
    set_image(cluster, "reviews:v2")
    cluster.converge()
    assert cluster.status["stableRS"] == hash_of("reviews:v2")
    assert cluster.status["phase"] == "Healthy" and cluster.replicas_of("reviews:v2") == 5
    assert any("Rollback within window" in m for m in [e.message for e in cluster.events])
    assert "promoteFull" not in cluster.status  # nobody asked for a full promotion


def test_a_rollback_to_a_replica_set_that_still_has_pods_says_it_skips_the_steps() -> None:
    """Argo's SkipSteps "Rollback to active ReplicaSets within RollbackWindow": the target still has pods (the
    previous stable within its scale-down delay)."""
    cluster = promoted_through(["reviews:v2"], revisions=2)
    cluster.advance(60)
    set_image(cluster, "reviews:v3")
    cluster.converge()
    cluster.set_status({"pauseConditions": None})
    cluster.converge()
    assert cluster.status["stableRS"] == hash_of("reviews:v3") and cluster.replicas_of("reviews:v2") == 5
    set_image(cluster, "reviews:v2")
    plan = cluster.reconcile()
    assert messages(plan, "SkipSteps") == ["Rollback to active ReplicaSets within RollbackWindow"]
    cluster.converge()
    assert cluster.status["stableRS"] == hash_of("reviews:v2")


def test_a_rollback_beyond_the_window_runs_the_steps() -> None:
    cluster = promoted_through(["reviews:v2", "reviews:v3"], revisions=1)
    set_image(cluster, "reviews:v1")  # v2 lies between v1 and the stable v3: outside a window of 1
    cluster.converge()
    assert cluster.status["stableRS"] == hash_of("reviews:v3")
    assert cluster.status["phase"] == "Paused" and cluster.status["currentStepIndex"] == 1


def test_blue_green_a_rollback_within_the_window_switches_without_pause_or_analysis() -> None:
    """Argo's blue-green: a rollback within the window lifts the pause and is promoted "Rollback within window"
    once the active Service selects it."""
    cluster = bg_deployed(BG_V1, blue_green={"autoPromotionEnabled": False}, spec={"rollbackWindow": {"revisions": 2}})
    for image in (BG_V2, BG_V3):
        cluster.advance(60)
        to_pause(cluster, image)
        cluster.promote()
        cluster.converge()
        assert cluster.active == hash_of(image)
    cluster.advance(60)
    cluster.converge()
    cluster.update(BG_V2)
    plans = run_until(cluster, lambda c: c.status.get("stableRS") == hash_of(BG_V2))
    assert cluster.active == hash_of(BG_V2)
    assert not any(plan.status.get("pauseConditions") for plan in plans)
    assert any("Rollback within window" in message for _, message in events_of(plans))
