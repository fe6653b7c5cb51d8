"""The live cache and deletions: the answer to one of our writes, recorded after the object's DELETED event, must
not bring the object back — the cache would call a deleted resource live (Synced), and self-heal would never
re-create it, since no further event comes for an object that no longer exists."""

from __future__ import annotations

from typing import Any

from gitops.controller.live_cache import LiveCache
from gitops.resources import ResourceKey
from kube.informer import Informers


def config_map(resource_version: int, uid: str = "cm-1") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "settings", "namespace": "shop", "uid": uid, "resourceVersion": str(resource_version)},
        "data": {"mode": "fast"},
    }


def live_cache() -> LiveCache:
    # The streams are not used by recording and the streams' observer.
    return LiveCache(Informers(None), owner=lambda obj: None, on_change=lambda apps: None)  # type: ignore[arg-type]


def test_the_answer_to_a_write_that_raced_the_deletion_does_not_bring_the_object_back() -> None:
    cache = live_cache()
    cache._observe("ADDED", config_map(5))
    cache._observe("DELETED", config_map(7))
    cache.record(config_map(6))
    assert cache.get(ResourceKey.of(config_map(6))) is None


def test_an_object_recreated_under_the_same_name_is_live_again() -> None:
    cache = live_cache()
    cache._observe("ADDED", config_map(5))
    cache._observe("DELETED", config_map(7))
    cache._observe("ADDED", config_map(8, uid="cm-2"))
    assert cache.get(ResourceKey.of(config_map(8))) is not None
