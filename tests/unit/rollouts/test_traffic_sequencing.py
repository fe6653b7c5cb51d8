"""Several routing calls in one pass: writes to one object fold into one (RFC 7386 merge patches combine; a create
followed by a patch is the patched create), and the snapshot the next call sees is the one the writes leave."""

from __future__ import annotations

from datetime import UTC, datetime

from kube.resources import INGRESSES, VIRTUAL_SERVICES
from rollouts.plan import Create, Patch
from rollouts.snapshot import RolloutSnapshot
from rollouts.traffic.sequencing import combined_writes, snapshot_after

T0 = datetime(2026, 1, 1, tzinfo=UTC)
INGRESS = {"metadata": {"name": "web-canary", "namespace": "shop", "annotations": {"a": "1", "b": "2"}}}


def test_a_create_then_a_patch_of_the_same_object_is_one_create_of_the_patched_body() -> None:
    create = Create(kind=INGRESSES, namespace="shop", body=INGRESS)
    patch = Patch(kind=INGRESSES, namespace="shop", name="web-canary", patch={"metadata": {"annotations": {"b": None}}})
    (write,) = combined_writes([create], [patch])
    assert write == Create(
        kind=INGRESSES,
        namespace="shop",
        body={"metadata": {"name": "web-canary", "namespace": "shop", "annotations": {"a": "1"}}},
    )


def test_two_patches_of_one_object_combine_and_other_objects_keep_their_order() -> None:
    first = Patch(kind=VIRTUAL_SERVICES, namespace="shop", name="vs", patch={"spec": {"http": [1]}})
    other = Patch(kind=VIRTUAL_SERVICES, namespace="shop", name="other", patch={"spec": {"http": [0]}})
    second = Patch(kind=VIRTUAL_SERVICES, namespace="shop", name="vs", patch={"spec": {"http": [2]}, "x": 1})
    assert combined_writes([first, other], [second]) == (
        Patch(kind=VIRTUAL_SERVICES, namespace="shop", name="vs", patch={"spec": {"http": [2]}, "x": 1}),
        other,
    )


def test_the_snapshot_after_writes_holds_created_and_patched_mesh_objects() -> None:
    vs = {"metadata": {"name": "vs", "namespace": "shop"}, "spec": {"http": [1]}}
    snapshot = RolloutSnapshot(rollout={}, now=T0, virtual_services={"vs": vs})
    after = snapshot_after(
        snapshot,
        [
            Patch(kind=VIRTUAL_SERVICES, namespace="shop", name="vs", patch={"spec": {"http": [2]}}),
            Create(kind=INGRESSES, namespace="shop", body=INGRESS),
        ],
    )
    assert after.virtual_services["vs"]["spec"] == {"http": [2]}
    assert after.ingresses["web-canary"]["metadata"] == INGRESS["metadata"]
    assert snapshot.virtual_services["vs"]["spec"] == {"http": [1]}  # the observation itself is untouched
