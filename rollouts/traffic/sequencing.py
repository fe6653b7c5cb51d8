"""Several routing requests in one pass: each router call sees the mesh as the earlier calls leave it, and the
writes to one object become one write.

A router answers from the snapshot it is given, and its patches replace whole route lists; two patches of one
VirtualService computed from the same observation would undo each other. So the caller threads the snapshot
through: ``snapshot_after`` is the snapshot as the writes of one call leave it, and ``combined_writes`` folds the
writes of the next call into the earlier ones (a create followed by a patch is one create, two patches one patch).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from kube.json_data import JsonObject
from kube.merge_patch import apply_merge_patch, combine_merge_patches
from kube.resources import DESTINATION_RULES, HTTP_ROUTES, INGRESSES, VIRTUAL_SERVICES, ResourceKind
from rollouts.plan import Create, Delete, Patch, Write
from rollouts.snapshot import RolloutSnapshot


def snapshot_after(snapshot: RolloutSnapshot, writes: Sequence[Write]) -> RolloutSnapshot:
    """``snapshot`` with its mesh objects (VirtualServices, DestinationRule, Ingresses, HTTPRoutes) as ``writes``
    leave them; other objects are not the routers' business and stay as observed."""
    objects: dict[str, dict[str, JsonObject]] = {
        VIRTUAL_SERVICES.kind: dict(snapshot.virtual_services),
        INGRESSES.kind: dict(snapshot.ingresses),
        HTTP_ROUTES.kind: dict(snapshot.http_routes),
        DESTINATION_RULES.kind: {"rule": snapshot.destination_rule} if snapshot.destination_rule is not None else {},
    }
    for write in writes:
        of_kind = objects.get(write.kind.kind)
        if of_kind is None:
            continue
        if isinstance(write, Create):
            name = str((write.body.get("metadata") or {}).get("name"))
            body = {key: value for key, value in write.body.items() if key not in ("apiVersion", "kind")}
            of_kind[name] = write.kind.manifest(body)
            continue
        for key, obj in list(of_kind.items()):
            if not _is_target(obj, write.namespace, write.name):
                continue
            if isinstance(write, Delete):
                del of_kind[key]
            elif write.subresource is None:
                of_kind[key] = apply_merge_patch(obj, write.patch)
    return dataclasses.replace(
        snapshot,
        virtual_services=objects[VIRTUAL_SERVICES.kind],
        ingresses=objects[INGRESSES.kind],
        http_routes=objects[HTTP_ROUTES.kind],
        destination_rule=objects[DESTINATION_RULES.kind].get("rule"),
    )


def combined_writes(first: Sequence[Write], second: Sequence[Write]) -> tuple[Write, ...]:
    """The writes of ``first`` then ``second`` with at most one write per object, in the order first written."""
    order: list[tuple[ResourceKind, str, str]] = []
    by_target: dict[tuple[ResourceKind, str, str], Write] = {}
    for write in (*first, *second):
        target = _target_of(write)
        earlier = by_target.get(target)
        if earlier is None:
            order.append(target)
            by_target[target] = write
        else:
            by_target[target] = _folded(earlier, write)
    return tuple(by_target[target] for target in order)


def _folded(earlier: Write, later: Write) -> Write:
    if isinstance(later, Patch) and isinstance(earlier, Create):
        return Create(kind=earlier.kind, namespace=earlier.namespace, body=apply_merge_patch(earlier.body, later.patch))
    if isinstance(later, Patch) and isinstance(earlier, Patch) and later.subresource == earlier.subresource:
        return dataclasses.replace(earlier, patch=combine_merge_patches(earlier.patch, later.patch))
    return later


def _target_of(write: Write) -> tuple[ResourceKind, str, str]:
    if isinstance(write, Create):
        return write.kind, write.namespace, str(write.body.get("metadata", {}).get("name"))
    assert isinstance(write, Patch | Delete)
    return write.kind, write.namespace, write.name


def _is_target(obj: Mapping[str, object], namespace: str, name: str) -> bool:
    metadata = obj.get("metadata")
    if not isinstance(metadata, dict):
        return False
    # An object built in a test may leave the namespace out; the write's kind already chose the mapping.
    return metadata.get("name") == name and (metadata.get("namespace") or namespace) == namespace
