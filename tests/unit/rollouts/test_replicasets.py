"""ReplicaSet helpers: finding them by role, the patches that scale and annotate them, revisions."""

from __future__ import annotations

from rollouts.replicasets import (
    group_replica_sets,
    revision_history_to_delete,
    revision_sync_patch,
    scale_patch,
)
from tests.unit.rollouts.builders import NAME, at, deployed, hash_of, replica_set, template

V1, V2, V3 = "reviews:v1", "reviews:v2", "reviews:v3"


def test_replica_sets_are_grouped_by_pod_template_hash() -> None:
    groups = group_replica_sets(
        [replica_set(V3, replicas=0), replica_set(V2, replicas=1), replica_set(V1, replicas=5)],
        hash_of(V2),
        hash_of(V1),
    )
    assert groups.new is not None and groups.new["metadata"]["name"] == f"{NAME}-{hash_of(V2)}"
    assert groups.stable is not None and groups.stable["metadata"]["name"] == f"{NAME}-{hash_of(V1)}"
    assert [rs["metadata"]["name"] for rs in groups.others] == [f"{NAME}-{hash_of(V3)}"]
    assert groups.stable_is_distinct


def test_once_promoted_new_and_stable_are_the_same_replica_set() -> None:
    groups = group_replica_sets([replica_set(V1, replicas=5)], hash_of(V1), hash_of(V1))
    assert groups.new is groups.stable
    assert not groups.stable_is_distinct
    assert len(groups.all) == 1


def test_scaling_patches_only_what_differs() -> None:
    rs = replica_set(V1, replicas=2, annotations={"rollout.argoproj.io/desired-replicas": "5"})
    assert scale_patch(rs, 2, 5) is None
    assert scale_patch(rs, 3, 5) == {"spec": {"replicas": 3}}
    assert scale_patch(rs, 3, 6) == {
        "spec": {"replicas": 3},
        "metadata": {"annotations": {"rollout.argoproj.io/desired-replicas": "6"}},
    }


def test_a_reused_replica_set_gets_the_next_revision() -> None:
    assert revision_sync_patch(replica_set(V1, replicas=5, revision=1), 3, 0) == {
        "metadata": {"annotations": {"rollout.argoproj.io/revision": "3"}}
    }
    assert revision_sync_patch(replica_set(V1, replicas=5, revision=3), 3, 0) is None


def test_history_clean_up_keeps_the_newest_and_anything_with_pods() -> None:
    others = [replica_set(f"reviews:v{n}", replicas=0, created=at(n)) for n in (3, 1, 2)]
    doomed = revision_history_to_delete(others, 1)
    assert [rs["metadata"]["name"] for rs in doomed] == [
        f"{NAME}-{hash_of('reviews:v1')}",
        f"{NAME}-{hash_of('reviews:v2')}",
    ]
    assert revision_history_to_delete(others, 10) == []


def test_a_new_replica_set_copies_min_ready_seconds_and_the_desired_size() -> None:
    cluster = deployed(V1, spec={"minReadySeconds": 7})
    cluster.set_spec({"template": template(V2)})
    cluster.reconcile()
    rs = cluster.rs(V2)
    assert rs["spec"]["minReadySeconds"] == 7
    assert rs["spec"]["replicas"] == 0
    assert rs["metadata"]["annotations"]["rollout.argoproj.io/revision"] == "2"
    assert rs["metadata"]["annotations"]["rollout.argoproj.io/desired-replicas"] == "5"
    assert cluster.rollout["metadata"]["annotations"]["rollout.argoproj.io/revision"] == "2"
