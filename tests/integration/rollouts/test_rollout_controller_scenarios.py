"""The Rollout controller end to end: the real kopf operator against the sandbox, scenario by scenario.

Each test gets a namespace of its own in one shared sandbox. Pauses are one second; the pod readiness delay is
0.1 s. Weights are read from every stored version of the VirtualService (an in-process watch of the
emulator's store), so no intermediate weight can be missed between two polls.
"""

from __future__ import annotations

import time
from typing import Any

from kube.resources import DESTINATION_RULES, REPLICASETS, ROLLOUTS, SERVICES, VIRTUAL_SERVICES
from tests.rollout_harness import (
    HASH_LABEL,
    RolloutCluster,
    destination_rule,
    host_virtual_service,
    reviews_objects,
    reviews_rollout,
    route_weights,
    service,
    subset_virtual_service,
    weight_sequence,
)

REVIEWS = "reviews"
MANAGED_BY = "argo-rollouts.argoproj.io/managed-by-rollouts"
CANARY_HOST = "reviews-canary"
STABLE_HOST = "reviews-stable"
INDEFINITE_STEPS = [
    {"setWeight": 10},
    {"pause": {}},
    {"setWeight": 30},
    {"pause": {}},
    {"setWeight": 60},
    {"pause": {}},
]


def deploy(cluster: RolloutCluster, namespace: str, **options: object) -> str:
    """Create the reviews Rollout with its Services and VirtualService; the stable hash once Healthy."""
    cluster.apply_all(namespace, reviews_objects(**options))
    status = cluster.wait_for_phase(namespace, REVIEWS, "Healthy")
    assert status.get("stableRS") == status.get("currentPodHash")
    return str(status["stableRS"])


def canary_weight(cluster: RolloutCluster, namespace: str, vs: str = REVIEWS, canary: str = CANARY_HOST) -> int:
    return route_weights(cluster.must_get(VIRTUAL_SERVICES, namespace, vs)).get(canary, 0)


def wait_for_weight(cluster: RolloutCluster, namespace: str, weight: int, **where: str) -> None:
    cluster.wait_for(
        lambda: canary_weight(cluster, namespace, **where) == weight, f"canary weight {weight} in {namespace}"
    )


def new_pod_hash(cluster: RolloutCluster, namespace: str, old: str) -> str:
    return str(
        cluster.wait_for(
            lambda: (h := cluster.status(namespace, REVIEWS).get("currentPodHash")) not in (None, old) and h,
            "a new pod-template hash",
        )
    )


def wait_for_paused_at(cluster: RolloutCluster, namespace: str, step: int) -> None:
    cluster.wait_for(
        lambda: (s := cluster.status(namespace, REVIEWS)).get("currentStepIndex") == step
        and s.get("phase") == "Paused",
        f"paused at step {step}",
    )


def service_hash(cluster: RolloutCluster, namespace: str, name: str) -> str | None:
    return cluster.must_get(SERVICES, namespace, name)["spec"]["selector"].get(HASH_LABEL)


def successful_writes(cluster: RolloutCluster, namespace: str, since: int, resource: str) -> int:
    return sum(1 for record in cluster.writes_in(namespace, since, resource) if 200 <= record.code < 300)


def assert_completed(sequence: list[int], expected_steps: list[int]) -> None:
    """The canary weights of a promoted rollout: each step's weight, maybe 100 at the end, then back to 0."""
    assert sequence in ([*expected_steps, 100, 0], [*expected_steps, 0]), sequence


# -- initial deploy and a full canary -----------------------------------------------------------------------


def test_initial_deploy_is_promoted_at_once(cluster: RolloutCluster, namespace: str) -> None:
    stable = deploy(cluster, namespace)
    cluster.wait_until_settled(namespace)

    status = cluster.status(namespace, REVIEWS)
    assert status["currentStepIndex"] == 6
    replica_set = cluster.replica_set_for_hash(namespace, stable)
    assert replica_set is not None and replica_set["spec"]["replicas"] == 5
    assert replica_set["metadata"]["name"] == f"{REVIEWS}-{stable}"
    assert service_hash(cluster, namespace, STABLE_HOST) == stable
    assert canary_weight(cluster, namespace) == 0
    assert cluster.writes_in(namespace, resource="virtualservices") == []


def test_set_image_moves_weights_10_30_60_then_promotes(cluster: RolloutCluster, namespace: str) -> None:
    stable = deploy(cluster, namespace)
    weights = cluster.record(VIRTUAL_SERVICES, namespace)
    mark = cluster.request_mark()

    cluster.set_image(namespace, REVIEWS, "reviews:v2")
    canary = new_pod_hash(cluster, namespace, stable)
    cluster.wait_for(
        lambda: cluster.status(namespace, REVIEWS).get("stableRS") == canary, "the new version promoted to stable"
    )
    cluster.wait_for_phase(namespace, REVIEWS, "Healthy")
    wait_for_weight(cluster, namespace, 0)

    sequence = weight_sequence(weights.versions(REVIEWS), CANARY_HOST)
    assert_completed(sequence, [10, 30, 60])
    assert successful_writes(cluster, namespace, mark, "virtualservices") == len(sequence)
    assert service_hash(cluster, namespace, STABLE_HOST) == canary
    assert service_hash(cluster, namespace, CANARY_HOST) == canary
    final = route_weights(cluster.must_get(VIRTUAL_SERVICES, namespace, REVIEWS))
    assert final == {STABLE_HOST: 100, CANARY_HOST: 0}
    reasons = cluster.event_reasons(namespace)
    assert "RolloutCompleted" in reasons


def test_subset_split_moves_both_virtual_services_and_labels_the_subsets(
    cluster: RolloutCluster, namespace: str
) -> None:
    host = "reviews"
    steps = [{"setWeight": 20}, {"pause": {"duration": 1}}, {"setWeight": 50}, {"pause": {"duration": 1}}]
    cluster.apply_all(
        namespace,
        [
            service(host, REVIEWS),
            destination_rule("reviews-dr", host, REVIEWS),
            subset_virtual_service("reviews", host),
            subset_virtual_service("reviews-internal", host),
            reviews_rollout(
                steps=steps, destination_rule="reviews-dr", virtual_services=["reviews", "reviews-internal"]
            ),
        ],
    )
    stable = str(cluster.wait_for_phase(namespace, REVIEWS, "Healthy")["stableRS"])
    rule = cluster.must_get(DESTINATION_RULES, namespace, "reviews-dr")
    assert {s["name"]: s["labels"].get(HASH_LABEL) for s in rule["spec"]["subsets"]}["stable"] == stable
    weights = cluster.record(VIRTUAL_SERVICES, namespace)
    mark = cluster.request_mark()

    cluster.set_image(namespace, REVIEWS, "reviews:v2")
    canary = new_pod_hash(cluster, namespace, stable)
    cluster.wait_for(
        lambda: cluster.status(namespace, REVIEWS).get("stableRS") == canary, "the new version promoted to stable"
    )
    for name in ("reviews", "reviews-internal"):
        wait_for_weight(cluster, namespace, 0, vs=name, canary="canary")

    sequences = [weight_sequence(weights.versions(name), "canary") for name in ("reviews", "reviews-internal")]
    for sequence in sequences:
        assert_completed(sequence, [20, 50])
    assert successful_writes(cluster, namespace, mark, "virtualservices") == sum(len(s) for s in sequences)
    subsets = {
        s["name"]: s["labels"].get(HASH_LABEL)
        for s in cluster.must_get(DESTINATION_RULES, namespace, "reviews-dr")["spec"]["subsets"]
    }
    assert subsets["stable"] == canary


def test_removing_subset_level_routing_lets_go_of_the_destination_rule(cluster: RolloutCluster, namespace: str) -> None:
    """Argo's Istio controller cleans a DestinationRule its managing Rollout no longer references: the subsets lose
    the pod-template hash label and the rule its managed-by annotation, so another Rollout may use it."""
    host = "reviews"
    cluster.apply_all(
        namespace,
        [
            service(host, REVIEWS),
            destination_rule("reviews-dr", host, REVIEWS),
            subset_virtual_service("reviews", host),
            reviews_rollout(steps=[{"setWeight": 20}], destination_rule="reviews-dr", virtual_services=["reviews"]),
        ],
    )
    cluster.wait_for_phase(namespace, REVIEWS, "Healthy")
    assert MANAGED_BY in cluster.must_get(DESTINATION_RULES, namespace, "reviews-dr")["metadata"]["annotations"]

    cluster.patch(ROLLOUTS, namespace, REVIEWS, {"spec": {"strategy": {"canary": {"trafficRouting": None}}}})

    def cleaned() -> dict[str, Any] | None:
        rule = cluster.must_get(DESTINATION_RULES, namespace, "reviews-dr")
        labelled = any(HASH_LABEL in (s.get("labels") or {}) for s in rule["spec"]["subsets"])
        annotated = MANAGED_BY in (rule["metadata"].get("annotations") or {})
        return None if labelled or annotated else rule

    rule = cluster.wait_for(cleaned, "the DestinationRule released")
    assert rule["spec"]["subsets"] == [
        {"name": "stable", "labels": {"app": REVIEWS}},
        {"name": "canary", "labels": {"app": REVIEWS}},
    ]


# -- abort, retry, undo -------------------------------------------------------------------------------------


def test_abort_returns_traffic_to_stable_then_retry_restarts_and_undo_rolls_back(
    cluster: RolloutCluster, namespace: str
) -> None:
    steps = [{"setWeight": 10}, {"pause": {"duration": 1}}, {"setWeight": 30}, {"pause": {}}]
    stable = deploy(cluster, namespace, steps=steps, abort_scale_down_delay=2)
    cluster.set_image(namespace, REVIEWS, "reviews:v2")
    canary = new_pod_hash(cluster, namespace, stable)
    wait_for_paused_at(cluster, namespace, 3)
    assert canary_weight(cluster, namespace) == 30

    cluster.abort(namespace, REVIEWS)
    aborted_at = time.monotonic()
    wait_for_weight(cluster, namespace, 0)
    degraded = cluster.wait_for_phase(namespace, REVIEWS, "Degraded")
    assert degraded.get("abort") is True
    assert service_hash(cluster, namespace, STABLE_HOST) == stable
    canary_rs = f"{REVIEWS}-{canary}"
    cluster.wait_for(
        lambda: cluster.must_get(REPLICASETS, namespace, canary_rs)["spec"]["replicas"] == 0,
        "the aborted canary scaled down",
    )
    # The deadline annotation keeps whole seconds, as the API's timestamps do: up to 1 s of the 2 s may be cut.
    assert time.monotonic() - aborted_at >= 1.0, "scaled down before abortScaleDownDelaySeconds (2 s)"
    assert "RolloutAborted" in cluster.event_reasons(namespace)

    weights = cluster.record(VIRTUAL_SERVICES, namespace)
    cluster.retry(namespace, REVIEWS)
    wait_for_paused_at(cluster, namespace, 3)
    assert weight_sequence(weights.versions(REVIEWS), CANARY_HOST) == [10, 30]
    assert cluster.status(namespace, REVIEWS).get("abort") in (None, False)

    cluster.undo(namespace, REVIEWS)
    cluster.wait_for(
        lambda: cluster.status(namespace, REVIEWS).get("currentPodHash") == stable, "the template of revision 1"
    )
    status = cluster.wait_for_phase(namespace, REVIEWS, "Healthy")
    assert status["stableRS"] == stable
    wait_for_weight(cluster, namespace, 0)


# -- pauses and promotion -----------------------------------------------------------------------------------


def test_indefinite_pause_holds_until_promote_and_promote_full_skips_the_rest(
    cluster: RolloutCluster, namespace: str
) -> None:
    stable = deploy(cluster, namespace, steps=INDEFINITE_STEPS)
    weights = cluster.record(VIRTUAL_SERVICES, namespace)

    cluster.set_image(namespace, REVIEWS, "reviews:v2")
    canary = new_pod_hash(cluster, namespace, stable)
    wait_for_paused_at(cluster, namespace, 1)
    pause_conditions = cluster.status(namespace, REVIEWS).get("pauseConditions") or []
    assert [c.get("reason") for c in pause_conditions] == ["CanaryPauseStep"]
    cluster.look_again(namespace, REVIEWS)  # an indefinite pause: a fresh pass moves nothing without a promote
    assert cluster.status(namespace, REVIEWS).get("currentStepIndex") == 1
    assert canary_weight(cluster, namespace) == 10

    cluster.promote(namespace, REVIEWS)
    wait_for_paused_at(cluster, namespace, 3)
    assert canary_weight(cluster, namespace) == 30

    cluster.promote_full(namespace, REVIEWS)
    cluster.wait_for(
        lambda: cluster.status(namespace, REVIEWS).get("stableRS") == canary, "full promotion to the new version"
    )
    status = cluster.wait_for_phase(namespace, REVIEWS, "Healthy")
    assert not status.get("promoteFull")
    wait_for_weight(cluster, namespace, 0)
    sequence = weight_sequence(weights.versions(REVIEWS), CANARY_HOST)
    assert 60 not in sequence, sequence
    assert_completed(sequence, [10, 30])


def test_a_new_template_mid_rollout_restarts_and_the_stable_image_is_a_fast_rollback(
    cluster: RolloutCluster, namespace: str
) -> None:
    stable = deploy(cluster, namespace, steps=INDEFINITE_STEPS)
    cluster.set_image(namespace, REVIEWS, "reviews:v2")
    second = new_pod_hash(cluster, namespace, stable)
    wait_for_paused_at(cluster, namespace, 1)
    cluster.promote(namespace, REVIEWS)
    wait_for_paused_at(cluster, namespace, 3)

    cluster.set_image(namespace, REVIEWS, "reviews:v3")
    third = new_pod_hash(cluster, namespace, second)
    wait_for_paused_at(cluster, namespace, 1)
    assert cluster.status(namespace, REVIEWS)["currentPodHash"] == third
    assert canary_weight(cluster, namespace) == 10
    assert service_hash(cluster, namespace, CANARY_HOST) == third
    assert service_hash(cluster, namespace, STABLE_HOST) == stable

    weights = cluster.record(VIRTUAL_SERVICES, namespace)
    cluster.set_image(namespace, REVIEWS, "reviews:v1")
    cluster.wait_for(
        lambda: cluster.status(namespace, REVIEWS).get("currentPodHash") == stable, "the stable template back"
    )
    status = cluster.wait_for_phase(namespace, REVIEWS, "Healthy")  # no promote needed: no steps ran
    assert status["stableRS"] == stable
    assert status["currentStepIndex"] == len(INDEFINITE_STEPS)
    wait_for_weight(cluster, namespace, 0)
    assert weight_sequence(weights.versions(REVIEWS), CANARY_HOST) in ([10, 0], [0])


# -- drift and invalid specs --------------------------------------------------------------------------------


def test_an_out_of_band_weight_edit_is_reverted(cluster: RolloutCluster, namespace: str) -> None:
    stable = deploy(cluster, namespace, steps=INDEFINITE_STEPS)
    cluster.set_image(namespace, REVIEWS, "reviews:v2")
    new_pod_hash(cluster, namespace, stable)
    wait_for_paused_at(cluster, namespace, 1)
    assert canary_weight(cluster, namespace) == 10

    vs = cluster.must_get(VIRTUAL_SERVICES, namespace, REVIEWS)
    http = vs["spec"]["http"]
    for destination in http[0]["route"]:
        destination["weight"] = 50
    cluster.patch(VIRTUAL_SERVICES, namespace, REVIEWS, {"spec": {"http": http}})

    wait_for_weight(cluster, namespace, 10)
    assert route_weights(cluster.must_get(VIRTUAL_SERVICES, namespace, REVIEWS)) == {
        STABLE_HOST: 90,
        CANARY_HOST: 10,
    }


def test_an_invalid_rollout_gets_invalid_spec_and_nothing_else_changes(
    cluster: RolloutCluster, namespace: str
) -> None:
    invalid = reviews_rollout(steps=[{"setWeight": 130}, {"pause": {}}])
    cluster.apply_all(
        namespace,
        [
            service(CANARY_HOST, REVIEWS),
            service(STABLE_HOST, REVIEWS),
            host_virtual_service(REVIEWS, STABLE_HOST, CANARY_HOST),
            invalid,
        ],
    )

    def invalid_spec() -> dict[str, object] | None:
        conditions = cluster.status(namespace, REVIEWS).get("conditions") or []
        return next((c for c in conditions if c.get("type") == "InvalidSpec"), None)

    condition = cluster.wait_for(invalid_spec, "an InvalidSpec condition")
    cluster.wait_until_settled(namespace)
    assert "setWeight" in str(condition.get("message"))
    assert cluster.status(namespace, REVIEWS).get("phase") == "Degraded"
    assert cluster.replica_sets(namespace) == []
    touched = {record.resource for record in cluster.writes_in(namespace)}
    assert touched <= {"rollouts", "events"}, touched
    assert service_hash(cluster, namespace, CANARY_HOST) is None
    assert route_weights(cluster.must_get(VIRTUAL_SERVICES, namespace, REVIEWS)) == {
        STABLE_HOST: 100,
        CANARY_HOST: 0,
    }


# -- idempotence, events, metrics ---------------------------------------------------------------------------


def test_a_resync_of_a_healthy_rollout_writes_nothing(cluster: RolloutCluster, namespace: str) -> None:
    deploy(cluster, namespace)
    cluster.wait_until_settled(namespace)
    passes = cluster.passes(namespace, REVIEWS)
    mark = cluster.request_mark()

    cluster.resync()
    cluster.wait_for(lambda: cluster.passes(namespace, REVIEWS) > passes, "a resync pass")
    cluster.resync()
    cluster.wait_for(lambda: cluster.passes(namespace, REVIEWS) > passes + 1, "a second resync pass")

    assert cluster.writes_in(namespace, mark) == []


def test_kopf_leaves_no_annotations_or_finalizers_on_any_object(cluster: RolloutCluster, namespace: str) -> None:
    deploy(cluster, namespace)
    cluster.wait_until_settled(namespace)
    for kind in (ROLLOUTS, REPLICASETS, SERVICES, VIRTUAL_SERVICES):
        for obj in cluster.list(kind, namespace):
            metadata = obj["metadata"]
            assert not [key for key in metadata.get("annotations") or {} if "kopf" in key], metadata
            assert not metadata.get("finalizers"), metadata


def test_events_name_the_rollout_and_the_controller(cluster: RolloutCluster, namespace: str) -> None:
    deploy(cluster, namespace)
    events = cluster.wait_for(lambda: cluster.events(namespace), "an Event")
    rollout = cluster.rollout(namespace, REVIEWS)
    for event in events:
        assert event["involvedObject"]["kind"] == "Rollout"
        assert event["involvedObject"]["name"] == REVIEWS
        assert event["involvedObject"]["uid"] == rollout["metadata"]["uid"]
        assert event["source"]["component"] == "rollouts-controller"
        assert event["metadata"]["name"].startswith(f"{REVIEWS}.")
        assert event["type"] in ("Normal", "Warning")


def test_events_follow_argos_sequence_from_added_to_informer_to_an_update(
    cluster: RolloutCluster, namespace: str
) -> None:
    """Argo's e2e sequence (TestCanaryAbortRetryPromote): RolloutAddedToInformer when the controller's cache takes
    the Rollout in, then the initial deploy; an update says RolloutNotCompleted right after its ReplicaSet."""
    stable = deploy(cluster, namespace, steps=[{"setWeight": 10}, {"pause": {}}])
    reasons = cluster.wait_for(
        lambda: (found := cluster.event_reasons(namespace)) and "RolloutCompleted" in found and found,
        "the initial deploy's Events",
    )
    assert reasons[0] == "RolloutAddedToInformer"
    assert reasons.count("RolloutAddedToInformer") == 1
    cluster.set_image(namespace, REVIEWS, "reviews:v2")
    new_pod_hash(cluster, namespace, stable)
    after = cluster.wait_for(
        lambda: (found := cluster.event_reasons(namespace)[len(reasons):]) and "RolloutNotCompleted" in found and found,
        "RolloutNotCompleted",
    )
    start = after.index("RolloutUpdated")
    assert after[start : start + 3] == ["RolloutUpdated", "NewReplicaSetCreated", "RolloutNotCompleted"]


def test_metrics_describe_the_rollout_until_it_is_deleted(cluster: RolloutCluster, namespace: str) -> None:
    deploy(cluster, namespace)
    registry = cluster.controller.metrics.registry
    labels = {"namespace": namespace, "name": REVIEWS}

    def info() -> float | None:
        return registry.get_sample_value(
            "rollout_info", {**labels, "strategy": "canary", "traffic_router": "Istio", "phase": "Completed"}
        )

    cluster.wait_for(lambda: info() == 1, "rollout_info with phase Completed")
    assert registry.get_sample_value("rollout_info_replicas_desired", labels) == 5
    cluster.wait_for(
        lambda: registry.get_sample_value("rollout_info_replicas_available", labels) == 5, "5 available replicas"
    )
    assert (registry.get_sample_value("rollout_reconcile_count", labels) or 0) >= 1

    def info_series() -> list[dict[str, str]]:
        """Every rollout_info series of this Rollout, whatever its phase label (a pass may change it on deletion)."""
        return [sample.labels for family in registry.collect() if family.name == "rollout_info"
                for sample in family.samples
                if sample.labels.get("namespace") == namespace and sample.labels.get("name") == REVIEWS]

    cluster.delete(ROLLOUTS, namespace, REVIEWS)
    cluster.wait_for(lambda: not info_series(), "the rollout's series removed")  # removed last of its series
    assert registry.get_sample_value("rollout_info_replicas_desired", labels) is None
    assert registry.get_sample_value("rollout_reconcile_count", labels) is None
