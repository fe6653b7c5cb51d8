"""`get rollout` for blue-green Rollouts in the states the controller leaves them in: the `active`, `preview` and
`stable` tags and the `delay:…` of a ReplicaSet waiting out its scale-down delay, in the layout of Argo's golden
outputs (pkg/kubectl-argo-rollouts/cmd/get/get_test.go). The objects come from the real decisions, carried out by
the unit tests' in-memory cluster."""

from __future__ import annotations

from datetime import timedelta

from cli.tree import render_rollout
from tests.unit.rollouts.bluegreen_builders import V2, BlueGreenCluster, bg_deployed, to_pause
from tests.unit.rollouts.builders import T0

MANUAL = {"autoPromotionEnabled": False}


def deployed(**blue_green: object) -> BlueGreenCluster:
    cluster = bg_deployed(blue_green={**MANUAL, **blue_green})
    cluster.rollout["metadata"]["creationTimestamp"] = (T0 - timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return cluster


def text(cluster: BlueGreenCluster, *, later: float = 0) -> str:
    now = cluster.now + timedelta(seconds=later)
    return "\n".join(render_rollout(cluster.rollout, list(cluster.replica_sets.values()), [], [], now)) + "\n"


def test_paused_before_the_switch() -> None:
    cluster = deployed()
    to_pause(cluster, V2)
    assert text(cluster, later=60) == """\
Name:            reviews
Namespace:       default
Status:          ॥ Paused
Message:         BlueGreenPause
Strategy:        BlueGreen
Images:          reviews:v1 (stable, active)
                 reviews:v2 (preview)
Replicas:
  Desired:       3
  Current:       6
  Updated:       3
  Ready:         3
  Available:     3

NAME                        KIND        STATUS     AGE  INFO
⟳ reviews                   Rollout     ॥ Paused   7d
├──# revision:2
│  └──⧉ reviews-69776b897b  ReplicaSet  ✔ Healthy  60s  preview
└──# revision:1
   └──⧉ reviews-5495666b9c  ReplicaSet  ✔ Healthy  60s  stable,active
"""


def test_after_the_switch_the_old_version_shows_its_scale_down_delay() -> None:
    cluster = deployed(scaleDownDelaySeconds=4 * 3600)
    to_pause(cluster, V2)
    cluster.promote()
    cluster.converge()
    assert text(cluster, later=60) == """\
Name:            reviews
Namespace:       default
Status:          ✔ Healthy
Strategy:        BlueGreen
Images:          reviews:v1
                 reviews:v2 (stable, active)
Replicas:
  Desired:       3
  Current:       6
  Updated:       3
  Ready:         3
  Available:     3

NAME                        KIND        STATUS     AGE  INFO
⟳ reviews                   Rollout     ✔ Healthy  7d
├──# revision:2
│  └──⧉ reviews-69776b897b  ReplicaSet  ✔ Healthy  60s  stable,active
└──# revision:1
   └──⧉ reviews-5495666b9c  ReplicaSet  ✔ Healthy  60s  delay:3h59m
"""


def test_after_the_delay_the_old_version_is_scaled_down() -> None:
    cluster = deployed()
    to_pause(cluster, V2)
    cluster.promote()
    cluster.converge()
    cluster.advance(30)
    cluster.converge()
    tree = text(cluster).split("\n\n", 1)[1]
    assert tree == """\
NAME                        KIND        STATUS        AGE  INFO
⟳ reviews                   Rollout     ✔ Healthy     7d
├──# revision:2
│  └──⧉ reviews-69776b897b  ReplicaSet  ✔ Healthy     30s  stable,active
└──# revision:1
   └──⧉ reviews-5495666b9c  ReplicaSet  • ScaledDown  30s
"""


def test_an_aborted_update_shows_the_preview_going_after_its_delay() -> None:
    cluster = deployed()
    to_pause(cluster, V2)
    cluster.set_status({"abort": True})
    cluster.converge()
    rendered = text(cluster, later=10)
    assert "Status:          ✖ Degraded\nMessage:         RolloutAborted: Rollout aborted update to revision 2\n" in (
        rendered
    )
    assert "│  └──⧉ reviews-69776b897b  ReplicaSet  ✔ Healthy   10s  preview,delay:20s\n" in rendered
    assert "   └──⧉ reviews-5495666b9c  ReplicaSet  ✔ Healthy   10s  stable,active\n" in rendered
