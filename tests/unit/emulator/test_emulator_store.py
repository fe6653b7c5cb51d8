"""The object store: resourceVersions, event history with expiry, watch fan-out and the owner index."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.emulator.store import HistoryExpired, ObjectStore, WatchEvent

KEY = ("", "configmaps")


class Recorder:
    def __init__(self) -> None:
        self.events: list[WatchEvent] = []
        self.closed = False

    def offer(self, event: WatchEvent) -> None:
        self.events.append(event)

    def close(self) -> None:
        self.closed = True


def _obj(store: ObjectStore, name: str, **meta: Any) -> dict[str, Any]:
    rv = store.next_resource_version()
    return {"metadata": {"name": name, "namespace": "ns", "uid": f"uid-{name}", "resourceVersion": str(rv), **meta}}


def test_resource_versions_increase_globally() -> None:
    store = ObjectStore()
    assert [store.next_resource_version() for _ in range(3)] == [1, 2, 3]
    assert store.resource_version == 3


def test_subscribers_receive_events_of_their_type_only() -> None:
    store = ObjectStore()
    recorder = Recorder()
    store.subscribe(KEY, recorder, None)
    store.put(KEY, _obj(store, "a"), "ADDED", None)
    store.put(("", "secrets"), _obj(store, "s"), "ADDED", None)
    first = store.get(KEY, "ns", "a")
    assert first is not None
    store.remove(KEY, "ns", "a", _obj(store, "a"))
    assert [(e.type, e.object["metadata"]["name"]) for e in recorder.events] == [("ADDED", "a"), ("DELETED", "a")]
    assert store.get(KEY, "ns", "a") is None


def test_subscribe_since_replays_only_later_events() -> None:
    store = ObjectStore()
    for name in "abc":
        store.put(KEY, _obj(store, name), "ADDED", None)
    replay = store.subscribe(KEY, Recorder(), since=1)
    assert [e.object["metadata"]["name"] for e in replay] == ["b", "c"]


def test_subscribe_since_compacted_history_is_expired() -> None:
    store = ObjectStore(history_limit=2)
    for name in "abcd":
        store.put(KEY, _obj(store, name), "ADDED", None)
    with pytest.raises(HistoryExpired):
        store.subscribe(KEY, Recorder(), since=1)
    assert [e.rv for e in store.subscribe(KEY, Recorder(), since=2)] == [3, 4]


def test_owner_index_follows_owner_reference_changes() -> None:
    store = ObjectStore()
    owner = _obj(store, "owner")
    store.put(KEY, owner, "ADDED", None)
    child = _obj(store, "child", ownerReferences=[{"uid": "uid-owner"}])
    store.put(KEY, child, "ADDED", None)
    assert store.dependents_of("uid-owner") == [(KEY, "ns", "child")]
    orphaned = _obj(store, "child")
    store.put(KEY, orphaned, "MODIFIED", child)
    assert store.dependents_of("uid-owner") == []


def test_drop_type_forgets_objects_and_closes_watches() -> None:
    store = ObjectStore()
    recorder = Recorder()
    store.put(KEY, _obj(store, "a"), "ADDED", None)
    store.subscribe(KEY, recorder, None)
    store.drop_type(KEY)
    assert recorder.closed
    assert store.count(KEY) == 0
    assert store.locate("uid-a") is None
    with pytest.raises(HistoryExpired):
        store.subscribe(KEY, Recorder(), since=0)
