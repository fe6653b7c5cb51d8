"""canaryMetadata and stableMetadata (Argo's canary "ephemeral metadata"): labels and annotations on the pods of the
canary and of the stable ReplicaSet, through each one's pod template and on the pods it already has; once the canary
becomes the stable, its pods carry stableMetadata and lose canaryMetadata."""

from __future__ import annotations

import json
from typing import Any

from rollouts.hashing import HASH_LABEL
from rollouts.models import PodMetadata
from rollouts.pod_metadata import EPHEMERAL_METADATA_ANNOTATION, metadata_by_role
from rollouts.replicasets import ReplicaSetGroups
from tests.unit.rollouts.builders import NAME, NAMESPACE, Cluster, deployed, hash_of, replica_set

V1, V2 = "reviews:v1", "reviews:v2"
ROLES = {
    "canaryMetadata": {"labels": {"role": "canary"}, "annotations": {"team/canary": "yes"}},
    "stableMetadata": {"labels": {"role": "stable"}},
}
STEPS = [{"setWeight": 20}, {"pause": {}}]


def template_metadata(cluster: Cluster, image: str) -> dict[str, Any]:
    return dict(cluster.rs(image)["spec"]["template"]["metadata"])


def pod(image: str, suffix: str, labels: dict[str, str], annotations: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"{NAME}-{hash_of(image)}-{suffix}",
            "namespace": NAMESPACE,
            "labels": {"app": NAME, HASH_LABEL: hash_of(image), **labels},
            "annotations": dict(annotations or {}),
        },
    }


def paused_at_the_canary() -> Cluster:
    cluster = deployed(V1, steps=STEPS, canary=ROLES)
    cluster.set_spec({"template": {"spec": {"containers": [{"name": NAME, "image": V2}]}}})
    cluster.converge()
    return cluster


def test_the_first_revision_is_stable_and_gets_the_stable_metadata() -> None:
    cluster = deployed(V1, steps=STEPS, canary=ROLES)
    assert template_metadata(cluster, V1)["labels"]["role"] == "stable"
    recorded = cluster.rs(V1)["metadata"]["annotations"][EPHEMERAL_METADATA_ANNOTATION]
    assert json.loads(recorded) == {"labels": {"role": "stable"}}


def test_the_canary_replica_set_gets_the_canary_metadata_and_the_stable_keeps_its_own() -> None:
    cluster = paused_at_the_canary()
    canary = template_metadata(cluster, V2)
    assert canary["labels"]["role"] == "canary"
    assert canary["annotations"]["team/canary"] == "yes"
    assert template_metadata(cluster, V1)["labels"]["role"] == "stable"


def test_existing_pods_are_labelled_for_their_role() -> None:
    cluster = paused_at_the_canary()
    cluster.pods = {p["metadata"]["name"]: p for p in (pod(V1, "a", {}), pod(V2, "b", {}))}
    cluster.converge()
    assert cluster.pods[f"{NAME}-{hash_of(V1)}-a"]["metadata"]["labels"]["role"] == "stable"
    canary_pod = cluster.pods[f"{NAME}-{hash_of(V2)}-b"]["metadata"]
    assert canary_pod["labels"]["role"] == "canary"
    assert canary_pod["annotations"] == {"team/canary": "yes"}


def test_on_promotion_the_canary_takes_the_stable_metadata_and_loses_the_canary_metadata() -> None:
    cluster = paused_at_the_canary()
    cluster.pods = {
        p["metadata"]["name"]: p
        for p in (pod(V1, "a", {"role": "stable"}), pod(V2, "b", {"role": "canary"}, {"team/canary": "yes"}))
    }
    cluster.set_status({"pauseConditions": None})
    cluster.converge()
    assert cluster.status["stableRS"] == hash_of(V2)
    promoted = template_metadata(cluster, V2)
    assert promoted["labels"]["role"] == "stable"
    assert "team/canary" not in (promoted.get("annotations") or {})
    new_pod = cluster.pods[f"{NAME}-{hash_of(V2)}-b"]["metadata"]
    assert new_pod["labels"]["role"] == "stable" and not new_pod.get("annotations")
    # The old stable plays no role any more: what was injected is taken off, and nothing else.
    assert "role" not in template_metadata(cluster, V1)["labels"]
    assert "role" not in cluster.pods[f"{NAME}-{hash_of(V1)}-a"]["metadata"]["labels"]
    assert cluster.reconcile().is_noop


def test_the_selector_labels_are_never_overridden_by_pod_metadata() -> None:
    roles = {"canaryMetadata": {"labels": {"app": "other", HASH_LABEL: "x", "role": "canary"}}}
    cluster = deployed(V1, steps=STEPS, canary=roles)
    cluster.set_spec({"template": {"spec": {"containers": [{"name": NAME, "image": V2}]}}})
    cluster.converge()
    labels = template_metadata(cluster, V2)["labels"]
    assert labels["app"] == NAME and labels[HASH_LABEL] == hash_of(V2) and labels["role"] == "canary"


def test_without_metadata_nothing_is_written_for_it() -> None:
    cluster = paused_at_the_canary_without_roles()
    assert EPHEMERAL_METADATA_ANNOTATION not in (cluster.rs(V2)["metadata"].get("annotations") or {})
    assert "role" not in template_metadata(cluster, V2)["labels"]


def paused_at_the_canary_without_roles() -> Cluster:
    cluster = deployed(V1, steps=STEPS)
    cluster.set_spec({"template": {"spec": {"containers": [{"name": NAME, "image": V2}]}}})
    cluster.converge()
    return cluster


CANARY, STABLE = PodMetadata(labels={"r": "c"}), PodMetadata(labels={"r": "s"})


def test_roles_mid_update_new_is_canary_stable_is_stable_others_none() -> None:
    new, stable = replica_set("reviews:v3", replicas=1), replica_set("reviews:v2", replicas=1)
    old = replica_set("reviews:v1", replicas=0)
    wanted = metadata_by_role(
        ReplicaSetGroups(new=new, stable=stable, others=(old,)),
        new_role=CANARY,
        stable_role=STABLE,
        fully_rolled_out=False,
    )
    assert wanted == [(new, CANARY), (stable, STABLE), (old, None)]


def test_roles_once_fully_rolled_out_the_new_replica_set_is_the_stable_one() -> None:
    new, old = replica_set("reviews:v2", replicas=1), replica_set("reviews:v1", replicas=0)
    wanted = metadata_by_role(
        ReplicaSetGroups(new=new, stable=new, others=(old,)),
        new_role=CANARY,
        stable_role=STABLE,
        fully_rolled_out=True,
    )
    assert wanted == [(new, STABLE), (old, None)]
