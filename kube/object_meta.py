"""What an object's metadata says, read from plain dicts: where it lives, its uid, its controller owner, and
whether one version of it is older than another — what every controller's cache needs; and the metadata a
controller writes into what it creates: the controller ownerReference, and a free name when the first is taken."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, NamedTuple

from kube.json_data import JsonObject


class ObjectKey(NamedTuple):
    """Where a namespaced object lives (namespace "" for a cluster-scoped one)."""

    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}"


def object_key(obj: Mapping[str, Any]) -> ObjectKey | None:
    """The object's namespace and name, or None when it has no name (not an object one can cache)."""
    metadata = obj.get("metadata")
    if not isinstance(metadata, Mapping) or not metadata.get("name"):
        return None
    return ObjectKey(str(metadata.get("namespace") or ""), str(metadata["name"]))


def uid_of(obj: Mapping[str, Any]) -> str | None:
    uid = (obj.get("metadata") or {}).get("uid")
    return uid if isinstance(uid, str) and uid else None


def controller_reference(obj: Mapping[str, Any], owner_kind: str) -> Mapping[str, Any] | None:
    """The object's controller ownerReference when that owner is of ``owner_kind``."""
    references: Iterable[Any] = (obj.get("metadata") or {}).get("ownerReferences") or ()
    for reference in references:
        if isinstance(reference, Mapping) and reference.get("controller") and reference.get("kind") == owner_kind:
            return reference
    return None


def controller_uid(obj: Mapping[str, Any], owner_kind: str) -> str | None:
    """The uid of the object's controller owner when that owner is of ``owner_kind``."""
    reference = controller_reference(obj, owner_kind)
    uid = reference.get("uid") if reference is not None else None
    return uid if isinstance(uid, str) and uid else None


def is_older(incoming: Mapping[str, Any], cached: Mapping[str, Any]) -> bool:
    """Whether ``incoming`` is an earlier version of the same object than ``cached``.

    resourceVersions are opaque by contract but are etcd revisions (integers) in practice; when either is not
    an integer nothing can be said and the incoming object wins, as an informer would have it.
    """
    if uid_of(incoming) != uid_of(cached):
        return False
    incoming_version = str((incoming.get("metadata") or {}).get("resourceVersion") or "")
    cached_version = str((cached.get("metadata") or {}).get("resourceVersion") or "")
    if not (incoming_version.isdigit() and cached_version.isdigit()):
        return False
    return int(incoming_version) < int(cached_version)


def controller_owner_reference(*, api_version: str, kind: str, name: str, uid: str) -> JsonObject:
    """The ownerReference that makes the owner an object's controller: the object is garbage-collected with it,
    and deleting the owner in the foreground waits for it (``blockOwnerDeletion``)."""
    return {
        "apiVersion": api_version,
        "kind": kind,
        "name": name,
        "uid": uid,
        "controller": True,
        "blockOwnerDeletion": True,
    }


def candidate_names(base: str, separator: str) -> Iterator[str]:
    """``base``, then ``base`` with ``separator`` and 1, 2, … : the names to try, in order, until one is free."""
    yield base
    collision = 1
    while True:
        yield f"{base}{separator}{collision}"
        collision += 1
