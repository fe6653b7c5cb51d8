"""The memory of deleted uids that keeps a cache from storing a late copy of a deleted object."""

from __future__ import annotations

from kube.deleted_objects import DeletedObjects


def obj(uid: str | None) -> dict[str, object]:
    return {"metadata": {"name": "x", **({"uid": uid} if uid is not None else {})}}


def test_a_recorded_uid_is_deleted_and_another_is_not() -> None:
    deleted = DeletedObjects()
    deleted.record(obj("a"))
    assert deleted.is_deleted(obj("a"))
    assert not deleted.is_deleted(obj("b"))


def test_an_object_without_a_uid_is_never_taken_for_deleted() -> None:
    deleted = DeletedObjects()
    deleted.record(obj(None))
    assert not deleted.is_deleted(obj(None))


def test_the_oldest_deletion_is_forgotten_first_beyond_the_capacity() -> None:
    deleted = DeletedObjects(capacity=2)
    for uid in ("a", "b", "c"):
        deleted.record(obj(uid))
    assert [deleted.is_deleted(obj(uid)) for uid in ("a", "b", "c")] == [False, True, True]
