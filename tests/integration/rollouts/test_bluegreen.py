"""Blue-green under the real controller in the sandbox: the seed `reviews-bg` Rollout with its active and preview
Services, promotion, the scale-down delay, abort, auto-promotion and a rollback within the delay.

The Rollout is the seed `rollout-bluegreen-strategy.yaml` (written out here, so the test does not read the shared
corpus), mostly **without its `prePromotionAnalysis`**, so that the other scenarios need no AnalysisTemplate;
`test_pre_promotion_analysis_gates_the_switch` runs it as written. Delays are shortened to a few seconds; the pod
readiness delay is 0.1 s.
"""

from __future__ import annotations

import copy
import time
from typing import Any

from kube.resources import ANALYSIS_RUNS, ANALYSIS_TEMPLATES, JOBS, PODS, REPLICASETS, ROLLOUTS, SERVICES
from tests.rollout_harness import HASH_LABEL, RolloutCluster

NAME = "reviews-bg"
ACTIVE = "reviews-active"
PREVIEW = "reviews-preview"
MANAGED_BY = "argo-rollouts.argoproj.io/managed-by-rollouts"
DEADLINE = "scale-down-deadline"

JsonObject = dict[str, Any]


def seed_rollout(**blue_green: Any) -> JsonObject:
    """The seed Rollout, minus `prePromotionAnalysis` (unless given), with extra blueGreen fields."""
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "metadata": {"name": NAME},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": NAME}},
            "template": {
                "metadata": {"labels": {"app": NAME}},
                "spec": {"containers": [{"name": "reviews", "image": "reviews:v2"}]},
            },
            "strategy": {
                "blueGreen": {
                    "activeService": ACTIVE,
                    "previewService": PREVIEW,
                    "autoPromotionEnabled": False,
                    **blue_green,
                }
            },
        },
    }


def seed_service(name: str) -> JsonObject:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name},
        "spec": {"selector": {"app": NAME}, "ports": [{"name": "http", "port": 9080, "targetPort": 9080}]},
    }


def deploy(cluster: RolloutCluster, namespace: str, rollout: JsonObject | None = None) -> str:
    """Create the Services and the Rollout; the first version's hash once Healthy behind both Services."""
    cluster.apply_all(namespace, [seed_service(ACTIVE), seed_service(PREVIEW), rollout or seed_rollout()])
    status = cluster.wait_for_phase(namespace, NAME, "Healthy")
    stable = str(status["stableRS"])
    assert status["blueGreen"] == {"activeSelector": stable, "previewSelector": stable}
    return stable


def selects(cluster: RolloutCluster, namespace: str, service: str) -> str | None:
    return cluster.must_get(SERVICES, namespace, service)["spec"]["selector"].get(HASH_LABEL)


def replicas_of(cluster: RolloutCluster, namespace: str, pod_hash: str) -> int:
    return int(cluster.must_get(REPLICASETS, namespace, f"{NAME}-{pod_hash}")["spec"]["replicas"])


def update(cluster: RolloutCluster, namespace: str, image: str, old: str) -> str:
    """`rollouts set image`; the new pod-template hash."""
    cluster.set_image(namespace, NAME, image)
    return str(
        cluster.wait_for(
            lambda: (h := cluster.status(namespace, NAME).get("currentPodHash")) not in (None, old) and h,
            "a new pod-template hash",
        )
    )


def wait_paused(cluster: RolloutCluster, namespace: str) -> JsonObject:
    return cluster.wait_for_phase(namespace, NAME, "Paused", message="BlueGreenPause")


# -- the seed ---------------------------------------------------------------------------------------------------


def test_the_seed_waits_paused_with_the_preview_on_the_new_version(cluster: RolloutCluster, namespace: str) -> None:
    stable = deploy(cluster, namespace)
    for service in (ACTIVE, PREVIEW):
        assert cluster.must_get(SERVICES, namespace, service)["metadata"]["annotations"][MANAGED_BY] == NAME

    new = update(cluster, namespace, "reviews:v3", stable)
    status = wait_paused(cluster, namespace)
    assert status["pauseConditions"][0]["reason"] == "BlueGreenPause"
    assert status["controllerPause"] is True
    assert status["stableRS"] == stable
    assert status["blueGreen"] == {"activeSelector": stable, "previewSelector": new}
    assert (selects(cluster, namespace, ACTIVE), selects(cluster, namespace, PREVIEW)) == (stable, new)
    assert (replicas_of(cluster, namespace, stable), replicas_of(cluster, namespace, new)) == (3, 3)
    cluster.wait_until_settled(namespace)
    mark = cluster.request_mark()
    cluster.look_again(namespace, NAME)
    assert cluster.writes_in(namespace, mark) == []  # paused: nothing moves until someone promotes
    assert "RolloutPaused" in cluster.event_reasons(namespace)


def test_promote_switches_active_and_the_old_version_goes_after_the_delay(
    cluster: RolloutCluster, namespace: str
) -> None:
    stable = deploy(cluster, namespace, seed_rollout(scaleDownDelaySeconds=3))
    new = update(cluster, namespace, "reviews:v3", stable)
    wait_paused(cluster, namespace)

    cluster.promote(namespace, NAME)
    promoted_at = time.monotonic()
    status = cluster.wait_for_phase(namespace, NAME, "Healthy")
    assert status["stableRS"] == new
    assert selects(cluster, namespace, ACTIVE) == new
    assert "RolloutCompleted" in cluster.event_reasons(namespace)

    # The deadline may be written by the pass after the one that marked the Rollout Healthy: wait for it.
    old_rs = cluster.wait_for(
        lambda: (rs := cluster.must_get(REPLICASETS, namespace, f"{NAME}-{stable}"))
        and DEADLINE in rs["metadata"]["annotations"] and rs,
        "the old version's scale-down deadline",
    )
    assert old_rs["spec"]["replicas"] == 3  # kept for the delay: a rollback needs no new pods
    cluster.wait_for(lambda: replicas_of(cluster, namespace, stable) == 0, "the old version scaled down")
    # The deadline keeps whole seconds, as the API's timestamps do: up to 1 s of the 3 s may be cut.
    assert time.monotonic() - promoted_at >= 2.0, "scaled down before scaleDownDelaySeconds (3 s)"
    assert DEADLINE not in (cluster.must_get(REPLICASETS, namespace, f"{NAME}-{stable}")["metadata"]["annotations"])


def test_abort_before_promotion_leaves_active_untouched(cluster: RolloutCluster, namespace: str) -> None:
    stable = deploy(cluster, namespace, seed_rollout(abortScaleDownDelaySeconds=2))
    new = update(cluster, namespace, "reviews:v3", stable)
    wait_paused(cluster, namespace)
    active_versions = cluster.record(SERVICES, namespace)

    cluster.abort(namespace, NAME)
    status = cluster.wait_for_phase(namespace, NAME, "Degraded")
    assert status["message"] == "RolloutAborted: Rollout aborted update to revision 2"
    assert status["stableRS"] == stable
    cluster.wait_for(lambda: replicas_of(cluster, namespace, new) == 0, "the aborted preview scaled down")
    assert selects(cluster, namespace, ACTIVE) == stable
    assert all(v["spec"]["selector"].get(HASH_LABEL) == stable for v in active_versions.versions(ACTIVE))
    assert replicas_of(cluster, namespace, stable) == 3

    cluster.retry(namespace, NAME)
    wait_paused(cluster, namespace)
    assert replicas_of(cluster, namespace, new) == 3
    assert selects(cluster, namespace, ACTIVE) == stable


def test_auto_promotion_seconds_promotes_on_its_own(cluster: RolloutCluster, namespace: str) -> None:
    stable = deploy(cluster, namespace, seed_rollout(autoPromotionEnabled=True, autoPromotionSeconds=2))
    new = update(cluster, namespace, "reviews:v3", stable)
    paused = wait_paused(cluster, namespace)
    paused_at = time.monotonic()
    assert selects(cluster, namespace, ACTIVE) == stable
    cluster.wait_for(lambda: selects(cluster, namespace, ACTIVE) == new, "the active Service switched on its own")
    assert time.monotonic() - paused_at >= 1.0, paused
    status = cluster.wait_for_phase(namespace, NAME, "Healthy")
    assert status["stableRS"] == new


def test_a_rollback_within_the_delay_switches_back_without_new_pods(cluster: RolloutCluster, namespace: str) -> None:
    stable = deploy(cluster, namespace, seed_rollout(scaleDownDelaySeconds=60))
    new = update(cluster, namespace, "reviews:v3", stable)
    wait_paused(cluster, namespace)
    cluster.promote(namespace, NAME)
    cluster.wait_for(lambda: cluster.status(namespace, NAME).get("stableRS") == new, "the new version stable")
    cluster.wait_until_settled(namespace)
    pods_before = {pod["metadata"]["name"] for pod in cluster.pods(namespace)}
    replica_sets_before = {rs["metadata"]["name"] for rs in cluster.replica_sets(namespace)}
    mark = cluster.request_mark()

    cluster.undo(namespace, NAME)  # `rollouts undo`: back to the previous revision, still up within its delay
    cluster.wait_for(lambda: selects(cluster, namespace, ACTIVE) == stable, "the active Service back on the old pods")
    status = cluster.wait_for_phase(namespace, NAME, "Healthy")
    assert status["stableRS"] == stable
    assert "pauseConditions" not in status  # no pause, although autoPromotionEnabled is false
    cluster.wait_until_settled(namespace)
    created = [r for r in cluster.writes_in(namespace, mark) if r.verb == "create" and r.resource in ("pods",)]
    assert created == []
    assert {pod["metadata"]["name"] for pod in cluster.pods(namespace)} == pods_before
    assert {rs["metadata"]["name"] for rs in cluster.replica_sets(namespace)} == replica_sets_before
    assert DEADLINE not in cluster.must_get(REPLICASETS, namespace, f"{NAME}-{stable}")["metadata"]["annotations"]
    assert DEADLINE in cluster.must_get(REPLICASETS, namespace, f"{NAME}-{new}")["metadata"]["annotations"]


# -- holding -------------------------------------------------------------------------------------------------------


def smoke_test_template() -> JsonObject:
    """The seed's `smoke-test`, as a Job metric (the test plays the Job's outcome)."""
    container = {"name": "smoke", "image": "busybox", "command": ["sh", "-c", "exit 0"]}
    job = {"backoffLimit": 0, "template": {"spec": {"restartPolicy": "Never", "containers": [container]}}}
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AnalysisTemplate",
        "metadata": {"name": "smoke-test"},
        "spec": {"metrics": [{"name": "smoke", "provider": {"job": {"spec": job}}}]},
    }


def test_pre_promotion_analysis_gates_the_switch(cluster: RolloutCluster, namespace: str) -> None:
    """The seed as written: without its `smoke-test` template the Rollout is InvalidSpec and nothing moves; once the
    template exists the pre-promotion run starts when the preview is up, and the switch waits for its verdict."""
    rollout = seed_rollout(prePromotionAnalysis={"templates": [{"templateName": "smoke-test"}]})
    cluster.apply_all(namespace, [seed_service(ACTIVE), seed_service(PREVIEW), rollout])
    status = cluster.wait_for_phase(namespace, NAME, "Degraded")
    assert status["message"] == (
        "InvalidSpec: spec.strategy.blueGreen.prePromotionAnalysis.templates: AnalysisTemplate 'smoke-test' not found"
    )
    assert cluster.replica_sets(namespace) == []

    # The template's watch event brings the Rollout back: no timer needed.
    cluster.create(ANALYSIS_TEMPLATES, namespace, smoke_test_template())
    stable = str(cluster.wait_for_phase(namespace, NAME, "Healthy")["stableRS"])  # an initial deploy: no analysis
    new = update(cluster, namespace, "reviews:v3", stable)
    run_name = f"{NAME}-{new}-2-pre"
    run = cluster.wait_for(lambda: cluster.get(ANALYSIS_RUNS, namespace, run_name), "the pre-promotion run")
    labels = run["metadata"]["labels"]
    assert (labels["rollout-type"], labels[HASH_LABEL]) == ("PrePromotion", new)
    assert run["metadata"]["ownerReferences"][0]["name"] == NAME
    status = cluster.wait_for_phase(namespace, NAME, "Progressing", message="waiting for pre-promotion analysis")
    assert (selects(cluster, namespace, ACTIVE), selects(cluster, namespace, PREVIEW)) == (stable, new)

    def owned_job() -> JsonObject | None:
        owned = (j for j in cluster.list(JOBS, namespace) if j["metadata"]["ownerReferences"][0]["name"] == run_name)
        return next(owned, None)

    job = cluster.wait_for(owned_job, "the smoke test's Job")
    complete = {"status": {"conditions": [{"type": "Complete", "status": "True"}]}}
    cluster.patch(JOBS, namespace, job["metadata"]["name"], complete, subresource="status")
    status = wait_paused(cluster, namespace)  # autoPromotionEnabled: false pauses once the analysis passed
    assert status["blueGreen"]["prePromotionAnalysisRunStatus"] == {"name": run_name, "status": "Successful"}
    assert selects(cluster, namespace, ACTIVE) == stable

    cluster.promote(namespace, NAME)
    status = cluster.wait_for_phase(namespace, NAME, "Healthy")
    assert status["stableRS"] == new
    assert selects(cluster, namespace, ACTIVE) == new


def test_a_resync_of_a_paused_rollout_writes_nothing(cluster: RolloutCluster, namespace: str) -> None:
    stable = deploy(cluster, namespace)
    update(cluster, namespace, "reviews:v3", stable)
    wait_paused(cluster, namespace)
    cluster.wait_until_settled(namespace)
    mark = cluster.request_mark()
    passes = cluster.passes(namespace, NAME)
    cluster.resync()
    cluster.wait_for(lambda: cluster.passes(namespace, NAME) > passes, "a resync pass")
    cluster.wait_until_settled(namespace)
    assert cluster.writes_in(namespace, mark) == []


def test_pods_carry_the_metadata_of_their_role(cluster: RolloutCluster, namespace: str) -> None:
    rollout = seed_rollout(
        activeMetadata={"labels": {"role": "active"}}, previewMetadata={"labels": {"role": "preview"}}
    )
    stable = deploy(cluster, namespace, copy.deepcopy(rollout))
    new = update(cluster, namespace, "reviews:v3", stable)
    wait_paused(cluster, namespace)

    def roles() -> dict[str, set[str]]:
        found: dict[str, set[str]] = {}
        for pod in cluster.list(PODS, namespace):
            labels = pod["metadata"].get("labels") or {}
            found.setdefault(labels.get(HASH_LABEL, ""), set()).add(labels.get("role", ""))
        return found

    cluster.wait_for(lambda: roles().get(new) == {"preview"} and roles().get(stable) == {"active"}, "roles by pods")
    cluster.promote(namespace, NAME)
    cluster.wait_for_phase(namespace, NAME, "Healthy")
    cluster.wait_for(lambda: roles().get(new) == {"active"}, "the new pods labelled active")


def test_a_rollout_turned_canary_lets_go_of_its_blue_green_services(cluster: RolloutCluster, namespace: str) -> None:
    """Argo's Service controller removes the pod-template hash from the selector of a Service no Rollout references:
    once the canary is done, the old active Service still selects the Rollout's pods (here: none would be left)."""
    stable = deploy(cluster, namespace)
    canary = {"blueGreen": None, "canary": {"steps": [{"setWeight": 50}]}}
    cluster.patch(ROLLOUTS, namespace, NAME, {"spec": {"strategy": canary}})
    new = update(cluster, namespace, "reviews:v3", stable)
    cluster.wait_for(
        lambda: cluster.status(namespace, NAME).get("stableRS") == new and replicas_of(cluster, namespace, stable) == 0,
        "the canary promoted and the first revision scaled down",
    )
    for service in (ACTIVE, PREVIEW):
        released = cluster.wait_for(
            lambda service=service: (found := cluster.must_get(SERVICES, namespace, service))
            and HASH_LABEL not in found["spec"]["selector"]
            and found,
            f"{service} released",
        )
        assert released["spec"]["selector"] == {"app": NAME}
        assert MANAGED_BY not in (released["metadata"].get("annotations") or {})
