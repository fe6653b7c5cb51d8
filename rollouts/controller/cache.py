"""What the controller has observed: every watched object, indexed so that one Rollout's snapshot costs only as
much as that Rollout's own objects.

Fed by the watch (``observe``) and by the controller's own successful writes (``record_write``), so that the
pass after a write sees it even before the watch delivers it — otherwise that pass would decide from the old
object and write again. An event older than what is cached (by resourceVersion) does not replace it.

Each update returns the Rollouts it concerns, to be queued: a ReplicaSet or AnalysisRun its controller
owner; a Pod the owner of its ReplicaSet; a Service, VirtualService or DestinationRule every Rollout whose spec
names it (a reverse index kept as Rollouts come, change and go).

Objects are stored as they arrive and handed out without copying: readers must not mutate them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, NamedTuple

from kube.object_meta import ObjectKey, controller_uid, is_older, object_key, uid_of
from kube.resources import (
    ANALYSIS_RUNS,
    DESTINATION_RULES,
    PODS,
    REPLICASETS,
    ROLLOUTS,
    SERVICES,
    VIRTUAL_SERVICES,
    ResourceKind,
)
from rollouts.istio import virtual_service_location
from rollouts.snapshot import RolloutSnapshot, referenced_objects

JsonObject = dict[str, Any]

WATCHED_KINDS: Final = (ROLLOUTS, REPLICASETS, PODS, SERVICES, VIRTUAL_SERVICES, DESTINATION_RULES, ANALYSIS_RUNS)
DELETED: Final = "DELETED"


class RolloutKey(NamedTuple):
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class _Reference:
    """An object a Rollout's spec names: which kind, and where it lives."""

    kind: ResourceKind
    namespace: str
    name: str


class ObjectCache:
    """Observed objects of the watched kinds, with owner and reference indexes."""

    def __init__(self) -> None:
        self._objects: dict[ResourceKind, dict[ObjectKey, JsonObject]] = {kind: {} for kind in WATCHED_KINDS}
        self._rollout_by_uid: dict[str, RolloutKey] = {}
        self._replica_set_by_uid: dict[str, ObjectKey] = {}
        # Children by the uid of their controller owner, and each child's owner uid (to move it on change).
        self._children: dict[ResourceKind, dict[str, set[ObjectKey]]] = {
            REPLICASETS: {}, ANALYSIS_RUNS: {}, PODS: {}
        }
        self._owner_of: dict[ResourceKind, dict[ObjectKey, str]] = {REPLICASETS: {}, ANALYSIS_RUNS: {}, PODS: {}}
        self._referrers: dict[_Reference, set[RolloutKey]] = {}
        self._references: dict[RolloutKey, frozenset[_Reference]] = {}

    # -- updates -----------------------------------------------------------------------------------------

    def observe(self, kind: ResourceKind, event_type: str | None, obj: JsonObject) -> set[RolloutKey]:
        """Apply one watch event (``event_type`` None for objects of the initial listing); the Rollouts to queue."""
        key = object_key(obj)
        if key is None or kind not in self._objects:
            return set()
        if event_type == DELETED:
            return self._remove(kind, key, obj)
        return self._store(kind, key, obj)

    def record_write(self, kind: ResourceKind, obj: JsonObject) -> set[RolloutKey]:
        """Apply an object as the API server returned it from our own create or patch."""
        return self.observe(kind, None, obj)

    def record_delete(self, kind: ResourceKind, namespace: str, name: str) -> set[RolloutKey]:
        """Forget an object we deleted (its DELETED event will find nothing left to remove)."""
        if kind not in self._objects:
            return set()
        return self._remove(kind, ObjectKey(namespace, name), None)

    def _store(self, kind: ResourceKind, key: ObjectKey, obj: JsonObject) -> set[RolloutKey]:
        objects = self._objects[kind]
        cached = objects.get(key)
        if cached is not None and is_older(obj, cached):
            # A late event of a version we already hold (our own write got here first): keep the newer,
            # but still report the owners — a pass that finds nothing to do costs no writes.
            return self._affected(kind, key, cached)
        if cached is not None and uid_of(cached) != uid_of(obj):
            self._unindex(kind, key, cached)
        objects[key] = obj
        self._index(kind, key, obj)
        return self._affected(kind, key, obj)

    def _remove(self, kind: ResourceKind, key: ObjectKey, obj: JsonObject | None) -> set[RolloutKey]:
        cached = self._objects[kind].get(key)
        if cached is None:
            return self._affected(kind, key, obj) if obj is not None else set()
        if obj is not None and uid_of(obj) and uid_of(obj) != uid_of(cached):
            return set()  # the deletion of an earlier incarnation; the cached object is a newer one
        affected = self._affected(kind, key, cached)
        del self._objects[kind][key]
        self._unindex(kind, key, cached)
        return affected

    # -- indexes -----------------------------------------------------------------------------------------

    def _index(self, kind: ResourceKind, key: ObjectKey, obj: JsonObject) -> None:
        uid = uid_of(obj)
        if kind == ROLLOUTS:
            rollout_key = RolloutKey(*key)
            if uid:
                self._rollout_by_uid[uid] = rollout_key
            self._set_references(rollout_key, _references_of(obj, key.namespace))
        elif kind in self._children:
            if kind == REPLICASETS and uid:
                self._replica_set_by_uid[uid] = key
            owner_kind = "ReplicaSet" if kind == PODS else "Rollout"
            self._set_owner(kind, key, controller_uid(obj, owner_kind))

    def _unindex(self, kind: ResourceKind, key: ObjectKey, obj: JsonObject) -> None:
        uid = uid_of(obj)
        if kind == ROLLOUTS:
            rollout_key = RolloutKey(*key)
            if uid and self._rollout_by_uid.get(uid) == rollout_key:
                del self._rollout_by_uid[uid]
            self._set_references(rollout_key, frozenset())
        elif kind in self._children:
            if kind == REPLICASETS and uid and self._replica_set_by_uid.get(uid) == key:
                del self._replica_set_by_uid[uid]
            self._set_owner(kind, key, None)

    def _set_owner(self, kind: ResourceKind, key: ObjectKey, owner_uid: str | None) -> None:
        owners, children = self._owner_of[kind], self._children[kind]
        previous = owners.get(key)
        if previous == owner_uid:
            return
        if previous is not None:
            siblings = children.get(previous)
            if siblings is not None:
                siblings.discard(key)
                if not siblings:
                    del children[previous]
            del owners[key]
        if owner_uid is not None:
            owners[key] = owner_uid
            children.setdefault(owner_uid, set()).add(key)

    def _set_references(self, rollout: RolloutKey, references: frozenset[_Reference]) -> None:
        previous = self._references.get(rollout, frozenset())
        for reference in previous - references:
            referrers = self._referrers.get(reference)
            if referrers is not None:
                referrers.discard(rollout)
                if not referrers:
                    del self._referrers[reference]
        for reference in references - previous:
            self._referrers.setdefault(reference, set()).add(rollout)
        if references:
            self._references[rollout] = references
        else:
            self._references.pop(rollout, None)

    def _affected(self, kind: ResourceKind, key: ObjectKey, obj: JsonObject) -> set[RolloutKey]:
        if kind == ROLLOUTS:
            return {RolloutKey(*key)}
        if kind in (REPLICASETS, ANALYSIS_RUNS):
            rollout = self._rollout_by_uid.get(controller_uid(obj, "Rollout") or "")
            return {rollout} if rollout is not None else set()
        if kind == PODS:
            replica_set_key = self._replica_set_by_uid.get(controller_uid(obj, "ReplicaSet") or "")
            if replica_set_key is None:
                return set()
            replica_set = self._objects[REPLICASETS].get(replica_set_key)
            return self._affected(REPLICASETS, replica_set_key, replica_set) if replica_set is not None else set()
        return set(self._referrers.get(_Reference(kind, key.namespace, key.name), ()))

    # -- reads -------------------------------------------------------------------------------------------

    def get(self, kind: ResourceKind, namespace: str, name: str) -> JsonObject | None:
        objects = self._objects.get(kind)
        return objects.get(ObjectKey(namespace, name)) if objects is not None else None

    def rollout_keys(self) -> list[RolloutKey]:
        return [RolloutKey(*key) for key in self._objects[ROLLOUTS]]

    def __len__(self) -> int:
        return sum(len(objects) for objects in self._objects.values())

    def snapshot_for(self, namespace: str, name: str, now: datetime) -> RolloutSnapshot | None:
        """Everything one reconcile of the Rollout reads, or None when the Rollout is not (or no longer) there."""
        rollout = self.get(ROLLOUTS, namespace, name)
        if rollout is None:
            return None
        uid = uid_of(rollout) or ""
        replica_sets = tuple(self._owned(REPLICASETS, uid))
        pods = tuple(
            pod for replica_set in replica_sets for pod in self._owned(PODS, uid_of(replica_set) or "")
        )
        references = referenced_objects(rollout)
        services = {
            service: obj
            for service in references.services
            if (obj := self.get(SERVICES, namespace, service)) is not None
        }
        virtual_services: dict[str, JsonObject] = {}
        for spec_name, _ in references.virtual_services:
            location = virtual_service_location(spec_name, namespace)
            if (obj := self.get(VIRTUAL_SERVICES, *location)) is not None:
                virtual_services[spec_name] = obj
        destination_rule = (
            self.get(DESTINATION_RULES, namespace, references.destination_rule)
            if references.destination_rule
            else None
        )
        return RolloutSnapshot(
            rollout=rollout,
            now=now,
            replica_sets=replica_sets,
            services=services,
            virtual_services=virtual_services,
            destination_rule=destination_rule,
            analysis_runs=tuple(self._owned(ANALYSIS_RUNS, uid)),
            pods=pods,
        )

    def _owned(self, kind: ResourceKind, owner_uid: str) -> Iterator[JsonObject]:
        objects = self._objects[kind]
        for key in sorted(self._children[kind].get(owner_uid, ())):
            obj = objects.get(key)
            if obj is not None:
                yield obj


def _references_of(rollout: JsonObject, namespace: str) -> frozenset[_Reference]:
    references = referenced_objects(rollout)
    found = {_Reference(SERVICES, namespace, name) for name in references.services}
    found |= {
        _Reference(VIRTUAL_SERVICES, *virtual_service_location(spec_name, namespace))
        for spec_name, _ in references.virtual_services
    }
    if references.destination_rule:
        found.add(_Reference(DESTINATION_RULES, namespace, references.destination_rule))
    return frozenset(found)
