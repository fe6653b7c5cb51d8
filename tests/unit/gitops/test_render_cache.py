"""The render cache is bounded in entries and bytes, evicting the least recently used first."""

from __future__ import annotations

import json

from gitops.render.render_cache import RenderCache
from gitops.resources import JsonObject


def manifests(name: str, padding: int = 0) -> list[JsonObject]:
    return [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"p": "x" * padding}}]


def size(objects: list[JsonObject]) -> int:
    return len(json.dumps(objects, separators=(",", ":")).encode())


def test_least_recently_used_entry_goes_when_entries_overflow() -> None:
    cache = RenderCache(max_entries=2)
    cache.put("a", "Directory", manifests("a"))
    cache.put("b", "Directory", manifests("b"))
    assert cache.get("a") is not None  # a is now more recent than b
    cache.put("c", "Directory", manifests("c"))
    assert cache.get("b") is None
    assert cache.get("a") is not None and cache.get("c") is not None


def test_entries_go_until_the_bytes_fit() -> None:
    one = size(manifests("a", 100))
    cache = RenderCache(max_entries=100, max_bytes=2 * one)
    for key in "abc":
        cache.put(key, "Helm", manifests(key, 100))
    assert len(cache) == 2 and cache.size_bytes == 2 * one
    assert cache.get("a") is None


def test_a_render_larger_than_the_budget_is_not_kept() -> None:
    cache = RenderCache(max_bytes=10)
    cache.put("big", "Helm", manifests("big", 100))
    assert cache.get("big") is None and cache.size_bytes == 0


def test_each_hit_is_a_fresh_copy() -> None:
    cache = RenderCache()
    cache.put("a", "Kustomize", manifests("a"))
    first = cache.get("a")
    assert first is not None
    changed = first.manifests
    changed[0]["metadata"]["namespace"] = "elsewhere"
    again = cache.get("a")
    assert again is not None and "namespace" not in again.manifests[0]["metadata"]
    assert again.source_type == "Kustomize"


def test_replacing_a_key_does_not_count_its_bytes_twice() -> None:
    cache = RenderCache()
    cache.put("a", "Directory", manifests("a"))
    cache.put("a", "Directory", manifests("a"))
    assert cache.size_bytes == size(manifests("a"))
