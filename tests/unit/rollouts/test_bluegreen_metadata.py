"""activeMetadata and previewMetadata: labels and annotations on the pods of the ReplicaSet playing that role,
through its pod template (new pods) and on the pods it already has, taken off again when the role changes."""

from __future__ import annotations

import json
from typing import Any

from rollouts.hashing import HASH_LABEL
from rollouts.models import PodMetadata
from rollouts.pod_metadata import (
    EPHEMERAL_METADATA_ANNOTATION,
    inject_pod_metadata,
    injected_metadata,
    pod_metadata_patches,
    replica_set_metadata_patch,
)
from tests.unit.rollouts.bluegreen_builders import V1, V2, BlueGreenCluster, bg_deployed, to_pause
from tests.unit.rollouts.builders import NAME, NAMESPACE, hash_of, replica_set

ROLES = {
    "autoPromotionEnabled": False,
    "activeMetadata": {"labels": {"role": "active"}},
    "previewMetadata": {"labels": {"role": "preview"}, "annotations": {"team/preview": "yes"}},
}


def template_metadata(cluster: BlueGreenCluster, image: str) -> dict[str, Any]:
    return dict(cluster.rs(image)["spec"]["template"]["metadata"])


def pod(image: str, suffix: str, **labels: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"{NAME}-{hash_of(image)}-{suffix}",
            "namespace": NAMESPACE,
            "labels": {"app": NAME, HASH_LABEL: hash_of(image), **labels},
        },
    }


def test_the_first_replica_set_gets_the_active_metadata() -> None:
    cluster = bg_deployed(V1, blue_green=ROLES)
    assert template_metadata(cluster, V1)["labels"]["role"] == "active"
    recorded = cluster.rs(V1)["metadata"]["annotations"][EPHEMERAL_METADATA_ANNOTATION]
    assert json.loads(recorded) == {"labels": {"role": "active"}}


def test_the_preview_gets_the_preview_metadata() -> None:
    cluster = bg_deployed(V1, blue_green=ROLES)
    to_pause(cluster)
    preview = template_metadata(cluster, V2)
    assert preview["labels"]["role"] == "preview"
    assert preview["annotations"] == {"team/preview": "yes"}
    assert template_metadata(cluster, V1)["labels"]["role"] == "active"


def test_on_promotion_the_roles_move_and_existing_pods_follow() -> None:
    cluster = bg_deployed(V1, blue_green=ROLES)
    to_pause(cluster)
    cluster.pods = {
        p["metadata"]["name"]: p
        for p in (pod(V1, "a", role="active"), pod(V2, "b", role="preview"))
    }
    cluster.pods[f"{NAME}-{hash_of(V2)}-b"]["metadata"]["annotations"] = {"team/preview": "yes"}
    cluster.promote()
    cluster.converge()
    new = template_metadata(cluster, V2)
    assert new["labels"]["role"] == "active"
    assert "team/preview" not in (new.get("annotations") or {})
    assert "role" not in template_metadata(cluster, V1)["labels"]  # an old ReplicaSet plays no role
    assert EPHEMERAL_METADATA_ANNOTATION not in cluster.rs(V1)["metadata"]["annotations"]
    new_pod = cluster.pods[f"{NAME}-{hash_of(V2)}-b"]["metadata"]
    assert new_pod["labels"]["role"] == "active" and not new_pod.get("annotations")
    assert "role" not in cluster.pods[f"{NAME}-{hash_of(V1)}-a"]["metadata"]["labels"]
    assert cluster.reconcile().is_noop


def test_without_metadata_nothing_is_written() -> None:
    cluster = bg_deployed(V1, blue_green={"autoPromotionEnabled": False})
    assert EPHEMERAL_METADATA_ANNOTATION not in cluster.rs(V1)["metadata"]["annotations"]
    assert "role" not in template_metadata(cluster, V1)["labels"]


# --- the pieces -----------------------------------------------------------------------------------------


def test_the_selector_labels_are_never_touched() -> None:
    rs = replica_set(V1, replicas=1)
    body = inject_pod_metadata(rs, PodMetadata(labels={"app": "other", HASH_LABEL: "x", "tier": "web"}))
    assert body["spec"]["template"]["metadata"]["labels"] == {"app": NAME, HASH_LABEL: hash_of(V1), "tier": "web"}


def test_what_was_injected_is_remembered_and_taken_off() -> None:
    rs = inject_pod_metadata(replica_set(V1, replicas=1), PodMetadata(labels={"tier": "web"}, annotations={"a": "1"}))
    assert injected_metadata(rs) == PodMetadata(labels={"tier": "web"}, annotations={"a": "1"})
    assert replica_set_metadata_patch(rs, PodMetadata(labels={"tier": "web"}, annotations={"a": "1"})) is None
    assert replica_set_metadata_patch(rs, None) == {
        "spec": {"template": {"metadata": {"labels": {"tier": None}, "annotations": {"a": None}}}},
        "metadata": {"annotations": {EPHEMERAL_METADATA_ANNOTATION: None}},
    }


def test_labels_the_rollout_did_not_put_there_stay() -> None:
    rs = replica_set(V1, replicas=1)
    rs["spec"]["template"]["metadata"]["labels"]["team"] = "reviews"
    assert replica_set_metadata_patch(rs, None) is None
    patches = pod_metadata_patches(rs, [pod(V1, "a", team="reviews")], PodMetadata(labels={"role": "active"}))
    assert patches == [(f"{NAME}-{hash_of(V1)}-a", {"metadata": {"labels": {"role": "active"}}})]


def test_an_unreadable_record_counts_as_nothing_injected() -> None:
    rs = replica_set(V1, replicas=1, annotations={EPHEMERAL_METADATA_ANNOTATION: "{not json"})
    assert injected_metadata(rs) is None
