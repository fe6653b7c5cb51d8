"""`get rollout`'s text from fixture objects: the header, the tree, icons, INFO tags and ages, as Argo prints them.

The expected texts follow the layout of Argo's own golden outputs (pkg/kubectl-argo-rollouts/cmd/get/get_test.go).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cli.tree import human_duration, pod_icon, pod_status, render_rollout

NOW = datetime(2024, 5, 10, 12, 0, 0, tzinfo=UTC)
NAMESPACE = "jesse-test"


def ts(**delta: float) -> str:
    return (NOW - timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%SZ")


WEEK_AGO = ts(days=7)


def make_rollout(name: str, strategy: dict[str, Any], status: dict[str, Any], *, replicas: int = 5,
                 paused: bool = False) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "replicas": replicas,
        "selector": {"matchLabels": {"app": name}},
        "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [{"name": name}]}},
        "strategy": strategy,
    }
    if paused:
        spec["paused"] = True
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "metadata": {"name": name, "namespace": NAMESPACE, "uid": f"{name}-uid", "generation": 3,
                     "creationTimestamp": WEEK_AGO},
        "spec": spec,
        "status": {"observedGeneration": "3", **status},
    }


def make_replicaset(rollout: dict[str, Any], pod_hash: str, revision: int, image: str, *, replicas: int,
                    available: int | None = None, created: str = WEEK_AGO,
                    annotations: dict[str, str] | None = None) -> dict[str, Any]:
    name = rollout["metadata"]["name"]
    return {
        "metadata": {
            "name": f"{name}-{pod_hash}", "namespace": NAMESPACE, "uid": f"rs-{pod_hash}", "generation": 2,
            "creationTimestamp": created,
            "labels": {"app": name, "rollouts-pod-template-hash": pod_hash},
            "annotations": {"rollout.argoproj.io/revision": str(revision), **(annotations or {})},
            "ownerReferences": [{"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "name": name,
                                 "uid": rollout["metadata"]["uid"], "controller": True}],
        },
        "spec": {"replicas": replicas, "template": {"spec": {"containers": [{"name": name, "image": image}]}}},
        "status": {"observedGeneration": 2, "replicas": replicas,
                   "availableReplicas": replicas if available is None else available},
    }


RUNNING = {"phase": "Running", "containerStatuses": [{"name": "c", "ready": True, "state": {"running": {}}}]}
CREATING = {"phase": "Pending", "containerStatuses": [
    {"name": "c", "ready": False, "state": {"waiting": {"reason": "ContainerCreating"}}}]}
PULL_BACKOFF = {"phase": "Pending", "containerStatuses": [
    {"name": "c", "ready": False, "state": {"waiting": {"reason": "ImagePullBackOff"}}}]}
CRASHING = {"phase": "Running", "containerStatuses": [
    {"name": "c", "ready": False, "restartCount": 4, "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}


def make_pod(replicaset: dict[str, Any], suffix: str, status: dict[str, Any] = RUNNING,
             created: str = WEEK_AGO) -> dict[str, Any]:
    return {
        "metadata": {"name": f"{replicaset['metadata']['name']}-{suffix}", "namespace": NAMESPACE,
                     "uid": f"pod-{replicaset['metadata']['name']}-{suffix}", "creationTimestamp": created,
                     "ownerReferences": [{"kind": "ReplicaSet", "uid": replicaset["metadata"]["uid"],
                                          "controller": True}]},
        "spec": {"containers": [{"name": "c"}]},
        "status": status,
    }


def make_analysis_run(rollout: dict[str, Any], name: str, revision: int, phase: str,
                      metric_results: list[dict[str, Any]], created: str = WEEK_AGO) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": NAMESPACE, "uid": f"run-{name}", "creationTimestamp": created,
                     "annotations": {"rollout.argoproj.io/revision": str(revision)},
                     "ownerReferences": [{"kind": "Rollout", "uid": rollout["metadata"]["uid"], "controller": True}]},
        "status": {"phase": phase, "metricResults": metric_results},
    }


def text(*args: Any, **kwargs: Any) -> str:
    return "\n".join(render_rollout(*args, NOW, **kwargs)) + "\n"


STEPS = [{"setWeight": 20}, {"pause": {}}, {"setWeight": 50}, {"pause": {"duration": "1m"}}]
ISTIO = {"istio": {"virtualService": {"name": "vs"}}}


def test_argo_golden_canary_rollout() -> None:
    """Argo's TestGetCanaryRollout, rebuilt from objects: the output must be identical."""
    rollout = make_rollout(
        "canary-demo",
        {"canary": {"steps": [{"setWeight": 20}, {"pause": {}}] * 4}},
        {"phase": "Degraded",
         "message": 'ProgressDeadlineExceeded: ReplicaSet "canary-demo-65fb5ffc84" has timed out progressing.',
         "currentStepIndex": 0, "stableRS": "877894d5b", "currentPodHash": "65fb5ffc84", "replicas": 6,
         "updatedReplicas": 1, "readyReplicas": 5, "availableReplicas": 5},
    )
    new = make_replicaset(rollout, "65fb5ffc84", 31, "argoproj/rollouts-demo:does-not-exist", replicas=1, available=0)
    stable = make_replicaset(rollout, "877894d5b", 30, "argoproj/rollouts-demo:green", replicas=5)
    old = make_replicaset(rollout, "859c99b45c", 29, "argoproj/rollouts-demo:blue", replicas=0)
    pods = [make_pod(new, "9wf5r", PULL_BACKOFF)]
    pods += [make_pod(stable, suffix) for suffix in ("6jfpt", "7jmqw", "j8g2b", "jw5qm", "kh7x4")]
    assert text(rollout, [old, stable, new], pods, []) == """\
Name:            canary-demo
Namespace:       jesse-test
Status:          ✖ Degraded
Message:         ProgressDeadlineExceeded: ReplicaSet "canary-demo-65fb5ffc84" has timed out progressing.
Strategy:        Canary
  Step:          0/8
  SetWeight:     20
  ActualWeight:  0
Images:          argoproj/rollouts-demo:does-not-exist (canary)
                 argoproj/rollouts-demo:green (stable)
Replicas:
  Desired:       5
  Current:       6
  Updated:       1
  Ready:         5
  Available:     5

NAME                                     KIND        STATUS              AGE  INFO
⟳ canary-demo                            Rollout     ✖ Degraded          7d
├──# revision:31
│  └──⧉ canary-demo-65fb5ffc84           ReplicaSet  ◌ Progressing       7d   canary
│     └──□ canary-demo-65fb5ffc84-9wf5r  Pod         ⚠ ImagePullBackOff  7d   ready:0/1
├──# revision:30
│  └──⧉ canary-demo-877894d5b            ReplicaSet  ✔ Healthy           7d   stable
│     ├──□ canary-demo-877894d5b-6jfpt   Pod         ✔ Running           7d   ready:1/1
│     ├──□ canary-demo-877894d5b-7jmqw   Pod         ✔ Running           7d   ready:1/1
│     ├──□ canary-demo-877894d5b-j8g2b   Pod         ✔ Running           7d   ready:1/1
│     ├──□ canary-demo-877894d5b-jw5qm   Pod         ✔ Running           7d   ready:1/1
│     └──□ canary-demo-877894d5b-kh7x4   Pod         ✔ Running           7d   ready:1/1
└──# revision:29
   └──⧉ canary-demo-859c99b45c           ReplicaSet  • ScaledDown        7d
"""


def test_argo_golden_canary_ping_pong_rollout() -> None:
    """Argo's TestGetCanaryPingPongRollout, rebuilt from objects: the stable side (pong) and the canary's (ping)."""
    rollout = make_rollout(
        "canary-demo-pingpong",
        {"canary": {"pingPong": {"pingService": "ping", "pongService": "pong"},
                    "steps": [{"setWeight": 20}, {"pause": {}}] * 4}},
        {"phase": "Degraded",
         "message": 'ProgressDeadlineExceeded: ReplicaSet "canary-demo-65fb5ffc84" has timed out progressing.',
         "currentStepIndex": 0, "stableRS": "877894d5b", "currentPodHash": "65fb5ffc84", "replicas": 6,
         "updatedReplicas": 1, "readyReplicas": 5, "availableReplicas": 5, "canary": {"stablePingPong": "pong"}},
    )
    new = make_replicaset(rollout, "65fb5ffc84", 31, "argoproj/rollouts-demo:does-not-exist", replicas=1, available=0)
    stable = make_replicaset(rollout, "877894d5b", 30, "argoproj/rollouts-demo:green", replicas=5)
    old = make_replicaset(rollout, "859c99b45c", 29, "argoproj/rollouts-demo:blue", replicas=0)
    for rs in (new, stable, old):  # Argo's fixture names the ReplicaSets after the Rollout it copied
        rs["metadata"]["name"] = rs["metadata"]["name"].replace("canary-demo-pingpong", "canary-demo")
    pods = [make_pod(new, "9wf5r", PULL_BACKOFF)]
    pods += [make_pod(stable, suffix) for suffix in ("6jfpt", "7jmqw", "j8g2b", "jw5qm", "kh7x4")]
    assert text(rollout, [old, stable, new], pods, []) == """\
Name:            canary-demo-pingpong
Namespace:       jesse-test
Status:          ✖ Degraded
Message:         ProgressDeadlineExceeded: ReplicaSet "canary-demo-65fb5ffc84" has timed out progressing.
Strategy:        Canary
  Step:          0/8
  SetWeight:     20
  ActualWeight:  0
Images:          argoproj/rollouts-demo:does-not-exist (canary, ping)
                 argoproj/rollouts-demo:green (stable, pong)
Replicas:
  Desired:       5
  Current:       6
  Updated:       1
  Ready:         5
  Available:     5

NAME                                     KIND        STATUS              AGE  INFO
⟳ canary-demo-pingpong                   Rollout     ✖ Degraded          7d
├──# revision:31
│  └──⧉ canary-demo-65fb5ffc84           ReplicaSet  ◌ Progressing       7d   canary,ping
│     └──□ canary-demo-65fb5ffc84-9wf5r  Pod         ⚠ ImagePullBackOff  7d   ready:0/1
├──# revision:30
│  └──⧉ canary-demo-877894d5b            ReplicaSet  ✔ Healthy           7d   stable,pong
│     ├──□ canary-demo-877894d5b-6jfpt   Pod         ✔ Running           7d   ready:1/1
│     ├──□ canary-demo-877894d5b-7jmqw   Pod         ✔ Running           7d   ready:1/1
│     ├──□ canary-demo-877894d5b-j8g2b   Pod         ✔ Running           7d   ready:1/1
│     ├──□ canary-demo-877894d5b-jw5qm   Pod         ✔ Running           7d   ready:1/1
│     └──□ canary-demo-877894d5b-kh7x4   Pod         ✔ Running           7d   ready:1/1
└──# revision:29
   └──⧉ canary-demo-859c99b45c           ReplicaSet  • ScaledDown        7d
"""


def test_canary_in_progress_with_traffic_routing() -> None:
    rollout = make_rollout(
        "canary-demo",
        {"canary": {"canaryService": "c", "stableService": "s", "steps": STEPS, "trafficRouting": ISTIO}},
        {"phase": "Progressing", "message": "more replicas need to be updated", "currentStepIndex": 2,
         "stableRS": "877894d5b", "currentPodHash": "65fb5ffc84", "replicas": 7, "updatedReplicas": 2,
         "readyReplicas": 6, "availableReplicas": 6,
         "canary": {"weights": {"canary": {"weight": 20, "podTemplateHash": "65fb5ffc84"},
                                "stable": {"weight": 80, "podTemplateHash": "877894d5b"}}}},
    )
    canary = make_replicaset(rollout, "65fb5ffc84", 2, "argoproj/rollouts-demo:yellow", replicas=3, available=1,
                             created=ts(minutes=3, seconds=20))
    stable = make_replicaset(rollout, "877894d5b", 1, "argoproj/rollouts-demo:blue", replicas=5)
    pods = [
        make_pod(canary, "9wf5r", created=ts(minutes=3, seconds=20)),
        make_pod(canary, "xk2pl", CREATING, created=ts(seconds=25)),
        make_pod(canary, "bbbbb", PULL_BACKOFF, created=ts(seconds=25)),
        *[make_pod(stable, suffix) for suffix in ("6jfpt", "7jmqw", "j8g2b", "jw5qm", "kh7x4")],
    ]
    # ActualWeight is the router's weight (20), not the step's SetWeight (50) it is still ramping to.
    assert text(rollout, [stable, canary], pods, []) == """\
Name:            canary-demo
Namespace:       jesse-test
Status:          ◌ Progressing
Message:         more replicas need to be updated
Strategy:        Canary
  Step:          2/4
  SetWeight:     50
  ActualWeight:  20
Images:          argoproj/rollouts-demo:blue (stable)
                 argoproj/rollouts-demo:yellow (canary)
Replicas:
  Desired:       5
  Current:       7
  Updated:       2
  Ready:         6
  Available:     6

NAME                                     KIND        STATUS               AGE    INFO
⟳ canary-demo                            Rollout     ◌ Progressing        7d
├──# revision:2
│  └──⧉ canary-demo-65fb5ffc84           ReplicaSet  ◌ Progressing        3m20s  canary
│     ├──□ canary-demo-65fb5ffc84-9wf5r  Pod         ✔ Running            3m20s  ready:1/1
│     ├──□ canary-demo-65fb5ffc84-bbbbb  Pod         ⚠ ImagePullBackOff   25s    ready:0/1
│     └──□ canary-demo-65fb5ffc84-xk2pl  Pod         ◌ ContainerCreating  25s    ready:0/1
└──# revision:1
   └──⧉ canary-demo-877894d5b            ReplicaSet  ✔ Healthy            7d     stable
      ├──□ canary-demo-877894d5b-6jfpt   Pod         ✔ Running            7d     ready:1/1
      ├──□ canary-demo-877894d5b-7jmqw   Pod         ✔ Running            7d     ready:1/1
      ├──□ canary-demo-877894d5b-j8g2b   Pod         ✔ Running            7d     ready:1/1
      ├──□ canary-demo-877894d5b-jw5qm   Pod         ✔ Running            7d     ready:1/1
      └──□ canary-demo-877894d5b-kh7x4   Pod         ✔ Running            7d     ready:1/1
"""


def test_paused_canary() -> None:
    rollout = make_rollout("guestbook", {"canary": {"steps": STEPS}}, {
        "phase": "Paused", "message": "CanaryPauseStep", "currentStepIndex": 1, "stableRS": "6cbccd9f99",
        "currentPodHash": "74b948fccb", "replicas": 5, "updatedReplicas": 1, "readyReplicas": 5,
        "availableReplicas": 5, "controllerPause": True,
        "pauseConditions": [{"reason": "CanaryPauseStep", "startTime": ts(minutes=2)}]})
    new = make_replicaset(rollout, "74b948fccb", 3, "argoproj/rollouts-demo:green", replicas=1, created=ts(minutes=15))
    old = make_replicaset(rollout, "6cbccd9f99", 2, "argoproj/rollouts-demo:blue", replicas=4, created=ts(hours=20))
    older = make_replicaset(rollout, "746d5fddf6", 1, "argoproj/rollouts-demo:red", replicas=0,
                            created=ts(days=3, hours=2))
    restarted = {"phase": "Running",
                 "containerStatuses": [{"name": "c", "ready": True, "restartCount": 2, "state": {"running": {}}}]}
    pods = [make_pod(new, "5jz59", restarted, created=ts(minutes=15))]
    pods += [make_pod(old, suffix, created=ts(hours=20)) for suffix in ("gk78v", "kxj8g", "t2d4f", "vvj2t")]
    # Without traffic routing, ActualWeight is the canary's share of available pods: 1 of 5.
    assert text(rollout, [older, new, old], pods, []) == """\
Name:            guestbook
Namespace:       jesse-test
Status:          ॥ Paused
Message:         CanaryPauseStep
Strategy:        Canary
  Step:          1/4
  SetWeight:     20
  ActualWeight:  20
Images:          argoproj/rollouts-demo:blue (stable)
                 argoproj/rollouts-demo:green (canary)
Replicas:
  Desired:       5
  Current:       5
  Updated:       1
  Ready:         5
  Available:     5

NAME                                   KIND        STATUS        AGE   INFO
⟳ guestbook                            Rollout     ॥ Paused      7d
├──# revision:3
│  └──⧉ guestbook-74b948fccb           ReplicaSet  ✔ Healthy     15m   canary
│     └──□ guestbook-74b948fccb-5jz59  Pod         ✔ Running     15m   ready:1/1,restarts:2
├──# revision:2
│  └──⧉ guestbook-6cbccd9f99           ReplicaSet  ✔ Healthy     20h   stable
│     ├──□ guestbook-6cbccd9f99-gk78v  Pod         ✔ Running     20h   ready:1/1
│     ├──□ guestbook-6cbccd9f99-kxj8g  Pod         ✔ Running     20h   ready:1/1
│     ├──□ guestbook-6cbccd9f99-t2d4f  Pod         ✔ Running     20h   ready:1/1
│     └──□ guestbook-6cbccd9f99-vvj2t  Pod         ✔ Running     20h   ready:1/1
└──# revision:1
   └──⧉ guestbook-746d5fddf6           ReplicaSet  • ScaledDown  3d2h
"""


def test_healthy_rollout_with_scale_down_delay_and_analysis() -> None:
    rollout = make_rollout(
        "reviews",
        {"canary": {"canaryService": "c", "stableService": "s", "steps": STEPS, "trafficRouting": ISTIO}},
        {"phase": "Healthy", "currentStepIndex": 4, "stableRS": "5d8f9c7b6", "currentPodHash": "5d8f9c7b6",
         "replicas": 3, "updatedReplicas": 3, "readyReplicas": 3, "availableReplicas": 3},
        replicas=3,
    )
    current = make_replicaset(rollout, "5d8f9c7b6", 4, "reviews:v4", replicas=3,
                              created=ts(hours=3, minutes=59, seconds=30))
    deadline = (NOW + timedelta(seconds=25)).strftime("%Y-%m-%dT%H:%M:%SZ")
    previous = make_replicaset(rollout, "7c9d6b5f4", 3, "reviews:v3", replicas=3, created=ts(days=2),
                               annotations={"scale-down-deadline": deadline})
    oldest = make_replicaset(rollout, "66b7d4c9f8", 2, "reviews:v2", replicas=0, created=ts(days=9))
    pods = [make_pod(current, suffix, created=ts(hours=3, minutes=58)) for suffix in ("abcde", "fghij", "klmno")]
    pods += [make_pod(previous, suffix, created=ts(days=2)) for suffix in ("pqrst", "uvwxy", "zzzzz")]
    run = make_analysis_run(rollout, "reviews-5d8f9c7b6-4", 4, "Successful",
                            [{"name": "success-rate", "successful": 3, "phase": "Successful"}],
                            created=ts(hours=3, minutes=50))
    assert text(rollout, [oldest, previous, current], pods, [run]) == """\
Name:            reviews
Namespace:       jesse-test
Status:          ✔ Healthy
Strategy:        Canary
  Step:          4/4
  SetWeight:     100
  ActualWeight:  100
Images:          reviews:v3
                 reviews:v4 (stable)
Replicas:
  Desired:       3
  Current:       3
  Updated:       3
  Ready:         3
  Available:     3

NAME                                KIND         STATUS        AGE    INFO
⟳ reviews                           Rollout      ✔ Healthy     7d
├──# revision:4
│  ├──⧉ reviews-5d8f9c7b6           ReplicaSet   ✔ Healthy     3h59m  stable
│  │  ├──□ reviews-5d8f9c7b6-abcde  Pod          ✔ Running     3h58m  ready:1/1
│  │  ├──□ reviews-5d8f9c7b6-fghij  Pod          ✔ Running     3h58m  ready:1/1
│  │  └──□ reviews-5d8f9c7b6-klmno  Pod          ✔ Running     3h58m  ready:1/1
│  └──α reviews-5d8f9c7b6-4         AnalysisRun  ✔ Successful  3h50m  ✔ 3
├──# revision:3
│  └──⧉ reviews-7c9d6b5f4           ReplicaSet   ✔ Healthy     2d     delay:25s
│     ├──□ reviews-7c9d6b5f4-pqrst  Pod          ✔ Running     2d     ready:1/1
│     ├──□ reviews-7c9d6b5f4-uvwxy  Pod          ✔ Running     2d     ready:1/1
│     └──□ reviews-7c9d6b5f4-zzzzz  Pod          ✔ Running     2d     ready:1/1
└──# revision:2
   └──⧉ reviews-66b7d4c9f8          ReplicaSet   • ScaledDown  9d
"""


def test_degraded_rollout_with_failed_analysis_run_and_job() -> None:
    rollout = make_rollout(
        "rollout-background-analysis",
        {"canary": {"steps": [{"setWeight": 20}, {"analysis": {"templates": [{"templateName": "web"}]}}]}},
        {"phase": "Degraded",
         "message": 'RolloutAborted: Metric "web" assessed Failed due to failed (1) > failureLimit (0)',
         "abort": True, "currentStepIndex": 0, "stableRS": "7d84d44bb8", "currentPodHash": "db976bc44",
         "replicas": 2, "updatedReplicas": 1, "readyReplicas": 1, "availableReplicas": 1},
        replicas=1,
    )
    canary = make_replicaset(rollout, "db976bc44", 2, "argoproj/rollouts-demo:bad", replicas=1, available=0,
                             created=ts(minutes=6))
    stable = make_replicaset(rollout, "7d84d44bb8", 1, "argoproj/rollouts-demo:blue", replicas=1)
    pods = [make_pod(canary, "q8k2z", CRASHING, created=ts(minutes=6)), make_pod(stable, "z5wps")]
    run = make_analysis_run(rollout, "rollout-background-analysis-db976bc44-2-1", 2, "Failed", [
        {"name": "web", "phase": "Failed", "failed": 1, "error": 1, "measurements": [
            {"phase": "Error", "startedAt": ts(minutes=5)},
            {"phase": "Failed", "startedAt": ts(minutes=4), "metadata": {"job-name": "4e2d824d.web.1"}}]}],
        created=ts(minutes=5))
    # Aborted: SetWeight drops to 0 whatever the step.
    assert text(rollout, [stable, canary], pods, [run]) == """\
Name:            rollout-background-analysis
Namespace:       jesse-test
Status:          ✖ Degraded
Message:         RolloutAborted: Metric "web" assessed Failed due to failed (1) > failureLimit (0)
Strategy:        Canary
  Step:          0/2
  SetWeight:     0
  ActualWeight:  0
Images:          argoproj/rollouts-demo:bad (canary)
                 argoproj/rollouts-demo:blue (stable)
Replicas:
  Desired:       1
  Current:       2
  Updated:       1
  Ready:         1
  Available:     1

NAME                                                     KIND         STATUS              AGE  INFO
⟳ rollout-background-analysis                            Rollout      ✖ Degraded          7d
├──# revision:2
│  ├──⧉ rollout-background-analysis-db976bc44            ReplicaSet   ◌ Progressing       6m   canary
│  │  └──□ rollout-background-analysis-db976bc44-q8k2z   Pod          ✖ CrashLoopBackOff  6m   ready:0/1,restarts:4
│  └──α rollout-background-analysis-db976bc44-2-1        AnalysisRun  ✖ Failed            5m   ✖ 1,⚠ 1
│     └──⊞ 4e2d824d.web.1                                Job          ✖ Failed            4m
└──# revision:1
   └──⧉ rollout-background-analysis-7d84d44bb8           ReplicaSet   ✔ Healthy           7d   stable
      └──□ rollout-background-analysis-7d84d44bb8-z5wps  Pod          ✔ Running           7d   ready:1/1
"""


def blue_green(preview_annotations: dict[str, str] | None = None) -> tuple[Any, ...]:
    rollout = make_rollout(
        "bluegreen-demo",
        {"blueGreen": {"activeService": "a", "previewService": "p", "autoPromotionEnabled": False}},
        {"phase": "Paused", "message": "BlueGreenPause", "stableRS": "6cbccd9f99", "currentPodHash": "74b948fccb",
         "replicas": 6, "updatedReplicas": 3, "readyReplicas": 6, "availableReplicas": 3, "controllerPause": True,
         "blueGreen": {"activeSelector": "6cbccd9f99", "previewSelector": "74b948fccb"},
         "pauseConditions": [{"reason": "BlueGreenPause", "startTime": WEEK_AGO}]},
        replicas=3,
    )
    preview = make_replicaset(rollout, "74b948fccb", 11, "argoproj/rollouts-demo:green", replicas=3,
                              annotations=preview_annotations)
    active = make_replicaset(rollout, "6cbccd9f99", 10, "argoproj/rollouts-demo:blue", replicas=3)
    old = make_replicaset(rollout, "746d5fddf6", 8, "argoproj/rollouts-demo:blue", replicas=0)
    pods = [make_pod(preview, suffix) for suffix in ("5jz59", "mkhrl", "vvj2t")]
    pods += [make_pod(active, suffix) for suffix in ("gk78v", "kxj8g", "t2d4f")]
    return rollout, [old, active, preview], pods


BLUE_GREEN = """\
Name:            bluegreen-demo
Namespace:       jesse-test
Status:          ॥ Paused
Message:         BlueGreenPause
Strategy:        BlueGreen
Images:          argoproj/rollouts-demo:blue (stable, active)
                 argoproj/rollouts-demo:green (preview)
Replicas:
  Desired:       3
  Current:       6
  Updated:       3
  Ready:         6
  Available:     3

NAME                                        KIND        STATUS        AGE  INFO
⟳ bluegreen-demo                            Rollout     ॥ Paused      7d
├──# revision:11
│  └──⧉ bluegreen-demo-74b948fccb           ReplicaSet  ✔ Healthy     7d   preview
│     ├──□ bluegreen-demo-74b948fccb-5jz59  Pod         ✔ Running     7d   ready:1/1
│     ├──□ bluegreen-demo-74b948fccb-mkhrl  Pod         ✔ Running     7d   ready:1/1
│     └──□ bluegreen-demo-74b948fccb-vvj2t  Pod         ✔ Running     7d   ready:1/1
├──# revision:10
│  └──⧉ bluegreen-demo-6cbccd9f99           ReplicaSet  ✔ Healthy     7d   stable,active
│     ├──□ bluegreen-demo-6cbccd9f99-gk78v  Pod         ✔ Running     7d   ready:1/1
│     ├──□ bluegreen-demo-6cbccd9f99-kxj8g  Pod         ✔ Running     7d   ready:1/1
│     └──□ bluegreen-demo-6cbccd9f99-t2d4f  Pod         ✔ Running     7d   ready:1/1
└──# revision:8
   └──⧉ bluegreen-demo-746d5fddf6           ReplicaSet  • ScaledDown  7d
"""


def test_blue_green_paused() -> None:
    rollout, replicasets, pods = blue_green()
    assert text(rollout, replicasets, pods, []) == BLUE_GREEN


@pytest.mark.parametrize(
    ("deadline", "info"),
    [((NOW + timedelta(hours=4)).strftime("%Y-%m-%dT%H:%M:%SZ"), "delay:4h"), (ts(hours=1), "delay:passed")],
)
def test_blue_green_scale_down_delay(deadline: str, info: str) -> None:
    rollout, replicasets, pods = blue_green({"scale-down-deadline": deadline})
    expected = BLUE_GREEN.replace("✔ Healthy     7d   preview", f"✔ Healthy     7d   preview,{info}")
    assert text(rollout, replicasets, pods, []) == expected


def test_invalid_rollout_without_children() -> None:
    """No steps, no ReplicaSets, no controller-written phase: read from the InvalidSpec condition."""
    rollout = make_rollout("rollout-invalid", {"canary": {}}, {
        "conditions": [{"type": "InvalidSpec", "status": "True",
                        "message": "The Rollout \"rollout-invalid\" is invalid: spec.selector: Required value"}]},
        replicas=1)
    assert text(rollout, [], [], []) == """\
Name:            rollout-invalid
Namespace:       jesse-test
Status:          ✖ Degraded
Message:         InvalidSpec: The Rollout "rollout-invalid" is invalid: spec.selector: Required value
Strategy:        Canary
  Step:
  SetWeight:     100
  ActualWeight:  100
Replicas:
  Desired:       1
  Current:       0
  Updated:       0
  Ready:         0
  Available:     0

NAME               KIND     STATUS      AGE  INFO
⟳ rollout-invalid  Rollout  ✖ Degraded  7d
"""


def test_unobserved_spec_reads_as_progressing() -> None:
    """Right after `set image` the controller has not seen the new spec: a stale Healthy must not show."""
    rollout, replicasets, pods = blue_green()
    rollout["metadata"]["generation"] = 4
    assert "Status:          ◌ Progressing\nMessage:         waiting for rollout spec update to be observed\n" in (
        text(rollout, replicasets, pods, [])
    )


def test_objects_of_other_owners_are_left_out() -> None:
    rollout, replicasets, pods = blue_green()
    stranger = make_replicaset(make_rollout("other", {"canary": {}}, {}), "1234567", 99, "x:y", replicas=1)
    orphan = make_pod(stranger, "abcde")
    assert text(rollout, [*replicasets, stranger], [*pods, orphan], []) == BLUE_GREEN


def test_colors_only_when_asked_and_never_in_widths() -> None:
    rollout, replicasets, pods = blue_green()
    colored = text(rollout, replicasets, pods, [], color=True)
    assert "\x1b[" not in text(rollout, replicasets, pods, [])
    assert "\x1b[32m✔\x1b[0m Healthy" in colored
    assert "(\x1b[32mstable\x1b[0m, \x1b[32mactive\x1b[0m)" in colored
    assert "\x1b[94mbluegreen-demo-74b948fccb\x1b[0m" in colored
    assert re.sub(r"\x1b\[[0-9;]*m", "", colored) == BLUE_GREEN


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (-5, "<invalid>"), (-1, "0s"), (0, "0s"), (25, "25s"), (119, "119s"), (120, "2m"), (200, "3m20s"),
        (15 * 60, "15m"), (179 * 60, "179m"), (3 * 3600 + 59 * 60, "3h59m"), (4 * 3600, "4h"), (20 * 3600, "20h"),
        (2 * 86400, "2d"), (3 * 86400 + 2 * 3600, "3d2h"), (7 * 86400, "7d"), (9 * 86400, "9d"),
        (800 * 86400, "2y70d"), (3000 * 86400, "8y"),
    ],
)
def test_human_duration_matches_kubectl(seconds: int, expected: str) -> None:
    assert human_duration(seconds) == expected


def _status(*containers: dict[str, Any], phase: str = "Running", **extra: Any) -> dict[str, Any]:
    return {"spec": {"containers": [{"name": f"c{i}"} for i in range(len(containers))]},
            "status": {"phase": phase, "containerStatuses": list(containers), **extra}}


def _with_init(pod: dict[str, Any]) -> dict[str, Any]:
    pod["spec"]["initContainers"] = [{"name": "init"}]
    return pod


@pytest.mark.parametrize(
    ("pod", "expected"),
    [
        (_status({"ready": True, "state": {"running": {}}}), ("Running", "1/1", 0, "✔")),
        (_status({"ready": False, "state": {"running": {}}}), ("Running", "0/1", 0, "✔")),
        (_status(phase="Pending"), ("Pending", "0/0", 0, "◌")),
        (_status({"state": {"waiting": {"reason": "ContainerCreating"}}}, phase="Pending"),
         ("ContainerCreating", "0/1", 0, "◌")),
        (_status({"state": {"waiting": {"reason": "ErrImagePull"}}}), ("ErrImagePull", "0/1", 0, "⚠")),
        (_status({"restartCount": 3, "state": {"terminated": {"reason": "Error", "exitCode": 1}}}),
         ("Error", "0/1", 3, "⚠")),
        (_status({"state": {"terminated": {"exitCode": 137}}}), ("ExitCode:137", "0/1", 0, "✖")),
        (_status({"state": {"terminated": {"signal": 9}}}), ("Signal:9", "0/1", 0, "✖")),
        (_status({"ready": True, "state": {"running": {}}}, {"state": {"terminated": {"reason": "Completed"}}}),
         ("Running", "1/2", 0, "✔")),
        (_with_init(_status({"state": {"waiting": {"reason": "PodInitializing"}}}, phase="Pending",
                            initContainerStatuses=[{"state": {"running": {}}}])),
         ("Init:0/1", "0/1", 0, "◌")),
        (_with_init(_status({"state": {"waiting": {}}}, phase="Pending",
                            initContainerStatuses=[{"restartCount": 1, "state": {"terminated": {"exitCode": 2}}}])),
         ("Init:ExitCode:2", "0/1", 1, "◌")),
        ({**_status({"ready": True, "state": {"running": {}}}), "metadata": {"deletionTimestamp": WEEK_AGO}},
         ("Terminating", "1/1", 0, "◌")),
        (_status(phase="Failed"), ("Failed", "0/0", 0, "✖")),
    ],
)
def test_pod_status_words_and_icons(pod: dict[str, Any], expected: tuple[str, str, int, str]) -> None:
    word, ready, restarts = pod_status(pod)
    assert (word, ready, restarts, pod_icon(word)) == expected


def test_an_experiment_of_the_rollout_sits_under_its_revision() -> None:
    """Argo's `get rollout` shows a step's Experiment (Σ) under the revision it ran for."""
    rollout = make_rollout(
        "rollout-experiment-step",
        {"canary": {"steps": [{"setWeight": 25}, {"experiment": {"templates": [{"name": "c", "specRef": "canary"}]}}]}},
        {"phase": "Progressing", "currentStepIndex": 1, "stableRS": "7d84d44bb8", "currentPodHash": "db976bc44",
         "replicas": 2, "updatedReplicas": 1, "readyReplicas": 2, "availableReplicas": 2},
        replicas=2,
    )
    canary = make_replicaset(rollout, "db976bc44", 2, "demo:yellow", replicas=1, created=ts(minutes=6))
    stable = make_replicaset(rollout, "7d84d44bb8", 1, "demo:blue", replicas=1)
    experiment = {
        "metadata": {"name": "rollout-experiment-step-db976bc44-2-1", "creationTimestamp": ts(minutes=5),
                     "annotations": {"rollout.argoproj.io/revision": "2"},
                     "ownerReferences": [{"kind": "Rollout", "uid": rollout["metadata"]["uid"], "controller": True}]},
        "status": {"phase": "Running"},
    }
    stranger = {**experiment, "metadata": {**experiment["metadata"], "name": "other", "ownerReferences": []}}
    lines = text(rollout, [stable, canary], [], [], experiments=[experiment, stranger]).splitlines()
    tree = lines[lines.index("") + 1:]
    assert tree[2].split() == ["├──#", "revision:2"]
    assert [line.split()[:4] for line in tree[3:5]] == [
        ["│", "├──⧉", "rollout-experiment-step-db976bc44", "ReplicaSet"],
        ["│", "└──Σ", "rollout-experiment-step-db976bc44-2-1", "Experiment"],
    ]
    assert "◌ Running" in tree[4]
    assert not any("other" in line for line in tree)
