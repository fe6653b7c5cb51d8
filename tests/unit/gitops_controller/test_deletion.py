"""Cascading deletion with resources-finalizer.argocd.argoproj.io: highest sync wave first, each wave only once the
one above it is gone; Delete=false objects and owned objects are left alone (Argo CD app deletion docs)."""

from __future__ import annotations

from typing import Any

from gitops.controller.deletion import deletion_step
from gitops.resources import ResourceKey


def obj(name: str, wave: int | None = None, *, deleting: bool = False, keep: bool = False,
        owned: bool = False) -> dict[str, Any]:
    annotations: dict[str, str] = {}
    if wave is not None:
        annotations["argocd.argoproj.io/sync-wave"] = str(wave)
    if keep:
        annotations["argocd.argoproj.io/sync-options"] = "Prune=false,Delete=false"
    metadata: dict[str, Any] = {"name": name, "namespace": "n", "annotations": annotations}
    if deleting:
        metadata["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    if owned:
        metadata["ownerReferences"] = [{"kind": "Deployment", "name": "x", "uid": "u"}]
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata}


def live(*objects: dict[str, Any]) -> dict[ResourceKey, dict[str, Any]]:
    return {ResourceKey.of(o): o for o in objects}


def test_the_highest_wave_goes_first() -> None:
    step = deletion_step(live(obj("a", -1), obj("b"), obj("c", 2), obj("d", 2)))
    assert [k.name for k in step.delete] == ["c", "d"]
    assert step.wave == 2 and step.waiting


def test_a_wave_still_being_deleted_holds_the_next_one_back() -> None:
    step = deletion_step(live(obj("a", 0), obj("c", 2, deleting=True)))
    assert step.delete == () and step.waiting and step.wave == 2


def test_delete_false_and_owned_objects_are_left_and_the_cascade_finishes() -> None:
    step = deletion_step(live(obj("kept", 5, keep=True), obj("pod", 9, owned=True)))
    assert step.finished


def test_nothing_left_means_finished() -> None:
    assert deletion_step({}).finished
