"""The controller's cache: which Rollouts each watch event concerns, and the snapshot it builds."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from kube.resources import (
    ANALYSIS_RUNS,
    ANALYSIS_TEMPLATES,
    CLUSTER_ANALYSIS_TEMPLATES,
    DEPLOYMENTS,
    DESTINATION_RULES,
    POD_TEMPLATES,
    PODS,
    REPLICASETS,
    ROLLOUTS,
    SERVICES,
    VIRTUAL_SERVICES,
)
from rollouts.controller.cache import WATCHED_KINDS, ObjectCache, RolloutKey
from rollouts.traffic.istio import virtual_service_location

NOW = datetime(2026, 1, 1, tzinfo=UTC)
REVIEWS = RolloutKey("shop", "reviews")


def meta(name: str, uid: str, rv: int = 1, namespace: str = "shop", owner: tuple[str, str] | None = None) -> Any:
    metadata: dict[str, Any] = {"name": name, "namespace": namespace, "uid": uid, "resourceVersion": str(rv)}
    if owner is not None:
        kind, owner_uid = owner
        metadata["ownerReferences"] = [{"kind": kind, "name": "x", "uid": owner_uid, "controller": True}]
    return metadata


def rollout(rv: int = 1, *, virtual_service: str = "reviews", destination_rule: str | None = None) -> Any:
    istio: dict[str, Any] = {"virtualServices": [{"name": virtual_service, "routes": ["primary"]}]}
    if destination_rule:
        istio["destinationRule"] = {"name": destination_rule, "canarySubsetName": "c", "stableSubsetName": "s"}
    return {
        "metadata": meta("reviews", "ro-1", rv),
        "spec": {
            "strategy": {
                "canary": {
                    "canaryService": "reviews-canary",
                    "stableService": "reviews-stable",
                    "trafficRouting": {"istio": istio},
                }
            }
        },
    }


def replica_set(name: str = "reviews-abc", uid: str = "rs-1", rv: int = 2, owner: str = "ro-1") -> Any:
    return {"metadata": meta(name, uid, rv, owner=("Rollout", owner)), "spec": {"replicas": 1}}


def pod(name: str = "reviews-abc-x", owner: str = "rs-1") -> Any:
    return {"metadata": meta(name, f"pod-{name}", 3, owner=("ReplicaSet", owner))}


def plain(name: str, rv: int = 1, namespace: str = "shop") -> Any:
    return {"metadata": meta(name, f"uid-{namespace}-{name}", rv, namespace)}


def test_a_rollout_event_concerns_that_rollout() -> None:
    cache = ObjectCache()
    assert cache.observe(ROLLOUTS, None, rollout()) == {REVIEWS}


def test_children_concern_their_owner_rollout() -> None:
    cache = ObjectCache()
    cache.observe(ROLLOUTS, None, rollout())
    assert cache.observe(REPLICASETS, "ADDED", replica_set()) == {REVIEWS}
    assert cache.observe(PODS, "ADDED", pod()) == {REVIEWS}
    run = {"metadata": meta("reviews-abc-2", "ar-1", owner=("Rollout", "ro-1"))}
    assert cache.observe(ANALYSIS_RUNS, "ADDED", run) == {REVIEWS}


def test_objects_nobody_owns_or_names_concern_no_rollout() -> None:
    cache = ObjectCache()
    cache.observe(ROLLOUTS, None, rollout())
    assert cache.observe(REPLICASETS, "ADDED", replica_set(owner="someone-else")) == set()
    assert cache.observe(PODS, "ADDED", pod(owner="rs-unknown")) == set()
    assert cache.observe(SERVICES, "ADDED", plain("unrelated")) == set()


def test_services_and_istio_objects_concern_the_rollouts_that_name_them() -> None:
    cache = ObjectCache()
    cache.observe(ROLLOUTS, None, rollout(destination_rule="reviews-dr"))
    assert cache.observe(SERVICES, "ADDED", plain("reviews-canary")) == {REVIEWS}
    assert cache.observe(VIRTUAL_SERVICES, "ADDED", plain("reviews")) == {REVIEWS}
    assert cache.observe(DESTINATION_RULES, "ADDED", plain("reviews-dr")) == {REVIEWS}
    assert cache.observe(SERVICES, "ADDED", plain("reviews-canary", namespace="other")) == set()


def test_the_reverse_index_follows_a_spec_change() -> None:
    cache = ObjectCache()
    cache.observe(ROLLOUTS, None, rollout(virtual_service="old"))
    cache.observe(ROLLOUTS, "MODIFIED", rollout(2, virtual_service="new"))
    assert cache.observe(VIRTUAL_SERVICES, "MODIFIED", plain("old")) == set()
    assert cache.observe(VIRTUAL_SERVICES, "MODIFIED", plain("new")) == {REVIEWS}


def test_a_virtual_service_in_another_namespace_is_found_by_its_qualified_name() -> None:
    cache = ObjectCache()
    cache.observe(ROLLOUTS, None, rollout(virtual_service="reviews.mesh.svc.cluster.local"))
    vs = plain("reviews", namespace="mesh")
    assert cache.observe(VIRTUAL_SERVICES, "ADDED", vs) == {REVIEWS}
    snapshot = cache.snapshot_for("shop", "reviews", NOW)
    assert snapshot is not None
    assert snapshot.virtual_services == {"reviews.mesh.svc.cluster.local": vs}
    assert virtual_service_location("reviews", "shop") == ("shop", "reviews")


def test_snapshot_holds_exactly_the_rollouts_own_objects() -> None:
    cache = ObjectCache()
    cache.observe(ROLLOUTS, None, rollout(destination_rule="reviews-dr"))
    ours, theirs = replica_set(), replica_set("other-abc", "rs-9", owner="ro-9")
    for obj in (ours, theirs):
        cache.observe(REPLICASETS, None, obj)
    own_pod, other_pod = pod(), pod("other-abc-x", "rs-9")
    for obj in (own_pod, other_pod):
        cache.observe(PODS, None, obj)
    services = {name: plain(name) for name in ("reviews-canary", "reviews-stable", "unrelated")}
    for obj in services.values():
        cache.observe(SERVICES, None, obj)
    rule = plain("reviews-dr")
    cache.observe(DESTINATION_RULES, None, rule)

    snapshot = cache.snapshot_for("shop", "reviews", NOW)

    assert snapshot is not None
    assert snapshot.now == NOW
    assert snapshot.replica_sets == (ours,)
    assert snapshot.pods == (own_pod,)
    assert set(snapshot.services) == {"reviews-canary", "reviews-stable"}
    assert snapshot.virtual_services == {}  # named but not observed
    assert snapshot.destination_rule is rule


def test_an_older_version_does_not_replace_a_newer_one_nor_ask_for_a_pass() -> None:
    """The late echo of an earlier write brings nothing the version cached lacks (the pass that made the newer
    version decided from it)."""
    cache = ObjectCache()
    cache.observe(ROLLOUTS, None, rollout())
    cache.record_write(VIRTUAL_SERVICES, plain("reviews", rv=7))
    assert cache.observe(VIRTUAL_SERVICES, "MODIFIED", plain("reviews", rv=5)) == set()
    cached = cache.get(VIRTUAL_SERVICES, "shop", "reviews")
    assert cached is not None and cached["metadata"]["resourceVersion"] == "7"


def test_deletion_removes_the_object_and_its_index_entries() -> None:
    cache = ObjectCache()
    cache.observe(ROLLOUTS, None, rollout())
    cache.observe(REPLICASETS, None, replica_set())
    cache.observe(PODS, None, pod())
    assert cache.observe(REPLICASETS, "DELETED", replica_set()) == {REVIEWS}
    snapshot = cache.snapshot_for("shop", "reviews", NOW)
    assert snapshot is not None and snapshot.replica_sets == () and snapshot.pods == ()
    assert cache.observe(ROLLOUTS, "DELETED", rollout()) == {REVIEWS}
    assert cache.snapshot_for("shop", "reviews", NOW) is None
    assert cache.observe(SERVICES, "MODIFIED", plain("reviews-canary")) == set()


def test_the_answer_to_a_write_that_raced_the_deletion_does_not_bring_the_rollout_back() -> None:
    """A pass patched the Rollout (resourceVersion 2) and the Rollout was deleted; the watch's DELETED event was
    applied before the patch's answer was recorded. The Rollout stays gone: stored again, it would never leave
    (no event comes for a deleted object) and every pass would write to nothing."""
    cache = ObjectCache()
    cache.observe(ROLLOUTS, None, rollout(rv=1))
    cache.observe(ROLLOUTS, "DELETED", rollout(rv=3))
    assert cache.record_write(ROLLOUTS, rollout(rv=2)) == set()
    assert cache.snapshot_for("shop", "reviews", NOW) is None


def test_a_rollout_recreated_under_the_same_name_is_stored() -> None:
    cache = ObjectCache()
    cache.observe(ROLLOUTS, None, rollout(rv=1))
    cache.observe(ROLLOUTS, "DELETED", rollout(rv=3))
    recreated = rollout(rv=4)
    recreated["metadata"]["uid"] = "ro-2"
    assert cache.observe(ROLLOUTS, "ADDED", recreated) == {REVIEWS}
    assert cache.snapshot_for("shop", "reviews", NOW) is not None


def test_record_delete_forgets_an_object_we_deleted() -> None:
    cache = ObjectCache()
    cache.observe(ROLLOUTS, None, rollout())
    cache.observe(REPLICASETS, None, replica_set())
    cache.record_delete(REPLICASETS, "shop", "reviews-abc")
    assert cache.get(REPLICASETS, "shop", "reviews-abc") is None


def test_a_recreated_rollout_does_not_inherit_the_old_ones_children() -> None:
    cache = ObjectCache()
    cache.observe(ROLLOUTS, None, rollout())
    cache.observe(REPLICASETS, None, replica_set())
    cache.observe(ROLLOUTS, "DELETED", rollout())
    recreated = rollout(5)
    recreated["metadata"]["uid"] = "ro-2"
    cache.observe(ROLLOUTS, "ADDED", recreated)
    snapshot = cache.snapshot_for("shop", "reviews", NOW)
    assert snapshot is not None and snapshot.replica_sets == ()


# --- analysis templates ---------------------------------------------------------------------------------------


def analysed_rollout(*templates: tuple[str, bool]) -> Any:
    """The Rollout with background analysis over ``templates`` ((name, clusterScope))."""
    manifest = rollout()
    references = [{"templateName": name, **({"clusterScope": True} if cluster else {})} for name, cluster in templates]
    manifest["spec"]["strategy"]["canary"]["analysis"] = {"templates": references}
    return manifest


def analysis_template(name: str, *nested: tuple[str, bool], namespace: str = "shop", rv: int = 1) -> Any:
    references = [{"templateName": found, **({"clusterScope": True} if cluster else {})} for found, cluster in nested]
    return {
        "metadata": meta(name, f"at-{namespace}-{name}", rv, namespace),
        "spec": {"metrics": [], **({"templates": references} if references else {})},
    }


def cluster_template(name: str, *nested: tuple[str, bool], rv: int = 1) -> Any:
    template = analysis_template(name, *nested, rv=rv)
    del template["metadata"]["namespace"]
    return template


def test_the_controller_watches_analysis_templates_and_cluster_analysis_templates() -> None:
    assert ANALYSIS_TEMPLATES in WATCHED_KINDS and CLUSTER_ANALYSIS_TEMPLATES in WATCHED_KINDS


def test_a_template_concerns_the_rollouts_that_name_it_in_their_namespace() -> None:
    cache = ObjectCache()
    cache.observe(ROLLOUTS, None, analysed_rollout(("success-rate", False), ("errors", True)))
    assert cache.observe(ANALYSIS_TEMPLATES, "ADDED", analysis_template("success-rate")) == {REVIEWS}
    assert cache.observe(ANALYSIS_TEMPLATES, "ADDED", analysis_template("success-rate", namespace="other")) == set()
    assert cache.observe(CLUSTER_ANALYSIS_TEMPLATES, "ADDED", cluster_template("errors")) == {REVIEWS}
    assert cache.observe(ANALYSIS_TEMPLATES, "ADDED", analysis_template("errors")) == set()  # the cluster one
    assert cache.observe(ANALYSIS_TEMPLATES, "DELETED", analysis_template("success-rate")) == {REVIEWS}


def test_a_template_nested_in_a_named_one_concerns_the_rollout_too() -> None:
    cache = ObjectCache()
    cache.observe(ROLLOUTS, None, analysed_rollout(("outer", False)))
    cache.observe(ANALYSIS_TEMPLATES, None, analysis_template("outer", ("middle", True)))
    cache.observe(CLUSTER_ANALYSIS_TEMPLATES, None, cluster_template("middle", ("inner", False)))
    # A ClusterAnalysisTemplate's namespaced reference is to the template in the namespace of the Rollout using it.
    assert cache.observe(ANALYSIS_TEMPLATES, "ADDED", analysis_template("inner")) == {REVIEWS}
    cache.observe(CLUSTER_ANALYSIS_TEMPLATES, "MODIFIED", cluster_template("middle", rv=2))
    assert cache.observe(ANALYSIS_TEMPLATES, "MODIFIED", analysis_template("inner", rv=2)) == set()


def test_the_snapshot_holds_the_templates_named_and_nested_that_exist() -> None:
    cache = ObjectCache()
    cache.observe(ROLLOUTS, None, analysed_rollout(("outer", False), ("missing", False)))
    outer = analysis_template("outer", ("shared", True), ("outer", False))
    shared = cluster_template("shared", ("leaf", False))
    leaf = analysis_template("leaf")
    for kind, template in [(ANALYSIS_TEMPLATES, outer), (CLUSTER_ANALYSIS_TEMPLATES, shared)]:
        cache.observe(kind, None, template)
    cache.observe(ANALYSIS_TEMPLATES, None, leaf)
    cache.observe(ANALYSIS_TEMPLATES, None, analysis_template("unrelated"))
    cache.observe(ANALYSIS_TEMPLATES, None, analysis_template("leaf", namespace="other"))

    snapshot = cache.snapshot_for("shop", "reviews", NOW)

    assert snapshot is not None
    assert snapshot.analysis_templates == {"outer": outer, "leaf": leaf}
    assert snapshot.cluster_analysis_templates == {"shared": shared}


def test_an_analysis_run_status_change_queues_its_rollout_at_once() -> None:
    """The Rollout reacts to its run's verdict on the watch event, not on a timer."""
    cache = ObjectCache()
    cache.observe(ROLLOUTS, None, rollout())
    run = {"metadata": meta("reviews-abc-2", "ar-1", 4, owner=("Rollout", "ro-1")), "status": {"phase": "Running"}}
    cache.observe(ANALYSIS_RUNS, "ADDED", run)
    failed = {**run, "metadata": {**run["metadata"], "resourceVersion": "5"}, "status": {"phase": "Failed"}}
    assert cache.observe(ANALYSIS_RUNS, "MODIFIED", failed) == {REVIEWS}
    snapshot = cache.snapshot_for("shop", "reviews", NOW)
    assert snapshot is not None and snapshot.analysis_runs == (failed,)


# --- what a Rollout let go of ----------------------------------------------------------------------------------


def managed(name: str, by: str = "reviews", rv: int = 1) -> Any:
    obj = plain(name, rv)
    obj["metadata"]["annotations"] = {"argo-rollouts.argoproj.io/managed-by-rollouts": by}
    return obj


def names(objects: tuple[Any, ...]) -> list[str]:
    return [obj["metadata"]["name"] for obj in objects]


def test_a_service_the_rollout_managed_and_no_rollout_names_is_released() -> None:
    """The old active Service of a Rollout that went from blue-green to canary."""
    cache = ObjectCache()
    cache.observe(ROLLOUTS, None, rollout())
    cache.observe(SERVICES, None, managed("reviews-active"))
    cache.observe(SERVICES, None, managed("reviews-stable"))  # still named: not released
    cache.observe(SERVICES, None, managed("ratings-active", by="ratings"))  # another Rollout's
    snapshot = cache.snapshot_for("shop", "reviews", NOW)
    assert snapshot is not None
    assert names(snapshot.released_services) == ["reviews-active"]


def test_a_released_service_another_rollout_names_is_left_to_that_rollout() -> None:
    cache = ObjectCache()
    cache.observe(ROLLOUTS, None, rollout())
    other = rollout()
    other["metadata"] = meta("ratings", "ro-2")
    other["spec"]["strategy"]["canary"]["stableService"] = "reviews-active"
    cache.observe(ROLLOUTS, None, other)
    cache.observe(SERVICES, None, managed("reviews-active"))
    snapshot = cache.snapshot_for("shop", "reviews", NOW)
    assert snapshot is not None and snapshot.released_services == ()


def test_a_destination_rule_the_spec_no_longer_names_is_released() -> None:
    cache = ObjectCache()
    cache.observe(ROLLOUTS, None, rollout(destination_rule="reviews-rule"))
    cache.observe(DESTINATION_RULES, None, managed("reviews-rule"))
    snapshot = cache.snapshot_for("shop", "reviews", NOW)
    assert snapshot is not None and snapshot.released_destination_rules == ()
    cache.observe(ROLLOUTS, "MODIFIED", rollout(2))  # subset-level routing removed
    snapshot = cache.snapshot_for("shop", "reviews", NOW)
    assert snapshot is not None and names(snapshot.released_destination_rules) == ["reviews-rule"]


def test_a_managed_object_concerns_the_rollout_its_annotation_names() -> None:
    cache = ObjectCache()
    cache.observe(ROLLOUTS, None, rollout())
    assert cache.observe(SERVICES, "MODIFIED", managed("reviews-active")) == {REVIEWS}
    cleaned = plain("reviews-active", rv=2)
    assert cache.observe(SERVICES, "MODIFIED", cleaned) == set()
    snapshot = cache.snapshot_for("shop", "reviews", NOW)
    assert snapshot is not None and snapshot.released_services == ()


def workload_rollout() -> Any:
    manifest = rollout()
    manifest["spec"]["workloadRef"] = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "reviews-deployment"}
    return manifest


def test_the_deployment_a_workload_ref_names_concerns_that_rollout_and_is_in_its_snapshot() -> None:
    cache = ObjectCache()
    cache.observe(ROLLOUTS, None, workload_rollout())
    assert DEPLOYMENTS in WATCHED_KINDS
    assert cache.observe(DEPLOYMENTS, "ADDED", plain("reviews-deployment")) == {REVIEWS}
    assert cache.observe(DEPLOYMENTS, "ADDED", plain("another-deployment")) == set()
    snapshot = cache.snapshot_for("shop", "reviews", NOW)
    assert snapshot is not None and snapshot.workload is not None
    assert snapshot.workload["metadata"]["name"] == "reviews-deployment"


def test_the_replica_set_a_workload_ref_names_concerns_that_rollout_and_is_in_its_snapshot() -> None:
    cache = ObjectCache()
    manifest = rollout()
    manifest["spec"]["workloadRef"] = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "reviews-template"}
    cache.observe(ROLLOUTS, None, manifest)

    assert cache.observe(REPLICASETS, "ADDED", plain("reviews-template")) == {REVIEWS}
    assert cache.observe(REPLICASETS, "ADDED", plain("another-replica-set")) == set()
    snapshot = cache.snapshot_for("shop", "reviews", NOW)
    assert snapshot is not None and snapshot.workload is not None
    assert snapshot.workload["metadata"]["name"] == "reviews-template"
    assert snapshot.replica_sets == ()  # followed, not owned


def test_the_pod_template_a_workload_ref_names_concerns_that_rollout_and_is_in_its_snapshot() -> None:
    cache = ObjectCache()
    manifest = rollout()
    manifest["spec"]["workloadRef"] = {"apiVersion": "v1", "kind": "PodTemplate", "name": "reviews-pods"}
    cache.observe(ROLLOUTS, None, manifest)

    assert POD_TEMPLATES in WATCHED_KINDS
    assert cache.observe(POD_TEMPLATES, "ADDED", plain("reviews-pods")) == {REVIEWS}
    snapshot = cache.snapshot_for("shop", "reviews", NOW)
    assert snapshot is not None and snapshot.workload is not None
    assert snapshot.workload["metadata"]["name"] == "reviews-pods"


def test_the_snapshot_names_replica_sets_of_the_rollouts_name_that_it_does_not_own() -> None:
    cache = ObjectCache()
    cache.observe(ROLLOUTS, None, rollout())
    cache.observe(REPLICASETS, "ADDED", replica_set("reviews-abc", "rs-1"))  # the Rollout's own
    cache.observe(REPLICASETS, "ADDED", replica_set("reviews-def", "rs-2", owner="deployment-uid"))
    cache.observe(REPLICASETS, "ADDED", replica_set("ratings-abc", "rs-3", owner="deployment-uid"))
    snapshot = cache.snapshot_for("shop", "reviews", NOW)
    assert snapshot is not None and snapshot.foreign_replica_set_names == {"reviews-def"}
    cache.observe(REPLICASETS, "DELETED", replica_set("reviews-def", "rs-2", owner="deployment-uid"))
    snapshot = cache.snapshot_for("shop", "reviews", NOW)
    assert snapshot is not None and snapshot.foreign_replica_set_names == frozenset()


def test_the_echo_of_a_version_already_cached_concerns_no_rollout() -> None:
    """The watch's echo of the controller's own write changes nothing: the writing pass asked for its follow-up."""
    cache = ObjectCache()
    cache.observe(ROLLOUTS, None, rollout())
    cache.record_write(VIRTUAL_SERVICES, plain("reviews", rv=7))
    assert cache.observe(VIRTUAL_SERVICES, "MODIFIED", plain("reviews", rv=7)) == set()
    assert cache.observe(VIRTUAL_SERVICES, "MODIFIED", plain("reviews", rv=8)) == {REVIEWS}


def test_the_echo_of_a_rollout_status_write_asks_for_no_pass() -> None:
    cache = ObjectCache()
    cache.observe(ROLLOUTS, None, rollout(rv=1))
    cache.record_write(ROLLOUTS, rollout(rv=2))
    assert cache.observe(ROLLOUTS, "MODIFIED", rollout(rv=2)) == set()
    assert cache.observe(ROLLOUTS, "MODIFIED", rollout(rv=3)) == {REVIEWS}


# --- pod events that decide nothing ----------------------------------------------------------------------------


def pod_version(rv: int, *, status: Any = None, labels: Any = None, node: str | None = None) -> Any:
    """The Pod of ``pod()`` at resourceVersion ``rv``, with a status, labels and the node it was bound to."""
    manifest = pod()
    manifest["metadata"]["resourceVersion"] = str(rv)
    if labels is not None:
        manifest["metadata"]["labels"] = labels
    manifest["spec"] = {"nodeName": node} if node else {}
    manifest["status"] = status or {"phase": "Pending"}
    return manifest


RUNNING = {"phase": "Running", "podIP": "10.0.0.7",
           "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": "2026-01-01T00:00:00Z"}]}


def cache_with_pod(rollout_manifest: Any) -> ObjectCache:
    cache = ObjectCache()
    cache.observe(ROLLOUTS, None, rollout_manifest)
    cache.observe(REPLICASETS, None, replica_set())
    cache.observe(PODS, "ADDED", pod_version(3))
    return cache


def test_a_new_or_deleted_pod_concerns_its_rollout() -> None:
    cache = ObjectCache()
    cache.observe(ROLLOUTS, None, rollout())
    cache.observe(REPLICASETS, None, replica_set())
    assert cache.observe(PODS, "ADDED", pod_version(3)) == {REVIEWS}
    assert cache.observe(PODS, "DELETED", pod_version(4)) == {REVIEWS}


def test_a_pods_status_or_binding_alone_asks_for_no_pass() -> None:
    """Phase, IPs, readiness and the node decide nothing for a Rollout that restarts no pods (the readiness it
    counts comes with its ReplicaSet's status); the cache still holds the new version."""
    cache = cache_with_pod(rollout())
    assert cache.observe(PODS, "MODIFIED", pod_version(4, node="node-1")) == set()
    assert cache.observe(PODS, "MODIFIED", pod_version(5, status=RUNNING, node="node-1")) == set()
    snapshot = cache.snapshot_for("shop", "reviews", NOW)
    assert snapshot is not None and snapshot.pods[0]["status"] == RUNNING


def test_a_pods_labels_concern_its_rollout() -> None:
    """Ephemeral metadata is decided per pod from its labels and annotations."""
    cache = cache_with_pod(rollout())
    assert cache.observe(PODS, "MODIFIED", pod_version(4, labels={"role": "canary"})) == {REVIEWS}


def test_a_pods_readiness_concerns_a_rollout_that_restarts_pods() -> None:
    """spec.restartAt: the restart deletes a batch only while enough pods are available, counted pod by pod."""
    restarting = rollout()
    restarting["spec"]["restartAt"] = "2026-01-01T00:00:00Z"
    cache = cache_with_pod(restarting)
    assert cache.observe(PODS, "MODIFIED", pod_version(4, status=RUNNING)) == {REVIEWS}


# --- our own writes' echoes ------------------------------------------------------------------------------------


def test_the_echo_of_a_write_under_way_asks_for_no_pass_even_ahead_of_its_answer() -> None:
    """The watch may deliver our patch's result before the client gets the answer; it is exactly the cached
    object with the patch applied (versions and generation apart), so the writing pass decides from it itself."""
    cache = ObjectCache()
    cache.observe(ROLLOUTS, None, rollout())
    cache.observe(VIRTUAL_SERVICES, None, plain("reviews", rv=5))
    cache.expect_echo(VIRTUAL_SERVICES, "shop", "reviews", {"spec": {"http": [{"name": "primary"}]}})
    echo = plain("reviews", rv=6)
    echo["metadata"]["generation"] = 2
    echo["spec"] = {"http": [{"name": "primary"}]}
    assert cache.observe(VIRTUAL_SERVICES, "MODIFIED", echo) == set()
    cached = cache.get(VIRTUAL_SERVICES, "shop", "reviews")
    assert cached is not None and cached["metadata"]["resourceVersion"] == "6"


def test_a_change_beside_our_write_still_asks_for_a_pass() -> None:
    """Someone else's change reached the object too: the event is not our echo."""
    cache = ObjectCache()
    cache.observe(ROLLOUTS, None, rollout())
    cache.observe(VIRTUAL_SERVICES, None, plain("reviews", rv=5))
    cache.expect_echo(VIRTUAL_SERVICES, "shop", "reviews", {"spec": {"http": [{"name": "primary"}]}})
    changed = plain("reviews", rv=6)
    changed["spec"] = {"http": [{"name": "primary"}], "hosts": ["reviews"]}
    assert cache.observe(VIRTUAL_SERVICES, "MODIFIED", changed) == {REVIEWS}


def test_an_echo_expected_of_a_failed_write_is_forgotten() -> None:
    cache = ObjectCache()
    cache.observe(ROLLOUTS, None, rollout())
    cache.observe(VIRTUAL_SERVICES, None, plain("reviews", rv=5))
    cache.expect_echo(VIRTUAL_SERVICES, "shop", "reviews", {"spec": {"http": []}})
    cache.forget_echo(VIRTUAL_SERVICES, "shop", "reviews")
    same_content = plain("reviews", rv=6)
    same_content["spec"] = {"http": []}
    assert cache.observe(VIRTUAL_SERVICES, "MODIFIED", same_content) == {REVIEWS}
