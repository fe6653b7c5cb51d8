"""What the controller has observed: every watched object, indexed so that one Rollout's snapshot costs only as
much as that Rollout's own objects.

Fed by the watch (``observe``) and by the controller's own successful writes (``record_write``), so that the
pass after a write sees it even before the watch delivers it — otherwise that pass would decide from the old
object and write again. An event older than what is cached (by resourceVersion) does not replace it, and neither
it nor one of the version cached (the echo of an own write) concerns any Rollout: the pass that wrote decided
again from what it wrote. Nor does a Pod's change that no decision reads (its status but readiness during a
restart, its spec).
No copy of an object brings it back once its DELETED event was applied (``kube.deleted_objects``).

Each update returns the Rollouts it concerns, to be queued: a ReplicaSet or AnalysisRun its controller
owner (so a Rollout acts on its run's verdict as soon as the analysis controller writes it, not on a timer); a Pod
the owner of its ReplicaSet; a Service, VirtualService, DestinationRule, Ingress or HTTPRoute every Rollout whose
spec names it (a reverse index kept as Rollouts come, change and go); an AnalysisTemplate or
ClusterAnalysisTemplate every Rollout that names it, or names a template that nests it (so a Rollout waiting on a
missing template moves once it exists).

Objects are stored as they arrive and handed out without copying: readers must not mutate them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from kube.deleted_objects import DeletedObjects
from kube.json_data import JsonObject
from kube.merge_patch import apply_merge_patch
from kube.object_meta import ObjectKey, controller_uid, is_older, object_key, uid_of
from kube.resources import (
    ANALYSIS_RUNS,
    ANALYSIS_TEMPLATES,
    CLUSTER_ANALYSIS_TEMPLATES,
    DEPLOYMENTS,
    DESTINATION_RULES,
    EXPERIMENTS,
    HTTP_ROUTES,
    INGRESSES,
    POD_TEMPLATES,
    PODS,
    REPLICASETS,
    ROLLOUTS,
    SERVICES,
    VIRTUAL_SERVICES,
    ResourceKind,
)
from kube.reverse_index import add_member, discard_member, replace_edges
from kube.watch_events import DELETED
from rollouts.services import MANAGED_BY_ANNOTATION
from rollouts.snapshot import RolloutSnapshot, referenced_objects, template_names
from rollouts.traffic.istio import virtual_service_location
from rollouts.workload_kinds import DEPLOYMENT, POD_TEMPLATE, REPLICA_SET

WATCHED_KINDS: Final = (
    ROLLOUTS,
    REPLICASETS,
    PODS,
    SERVICES,
    VIRTUAL_SERVICES,
    DESTINATION_RULES,
    EXPERIMENTS,
    INGRESSES,
    HTTP_ROUTES,
    ANALYSIS_RUNS,
    ANALYSIS_TEMPLATES,
    CLUSTER_ANALYSIS_TEMPLATES,
    DEPLOYMENTS,
    POD_TEMPLATES,
)
TEMPLATE_KINDS: Final = (ANALYSIS_TEMPLATES, CLUSTER_ANALYSIS_TEMPLATES)
# The kinds a workloadRef may name (rollouts.workload_kinds), by kind.
_WORKLOAD_KINDS: Final = {DEPLOYMENT: DEPLOYMENTS, REPLICA_SET: REPLICASETS, POD_TEMPLATE: POD_TEMPLATES}
# Kinds a Rollout marks with the managed-by annotation when it writes its hash into them.
MANAGED_KINDS: Final = (SERVICES, DESTINATION_RULES)


def watched_kinds(namespaces: tuple[str, ...]) -> tuple[ResourceKind, ...]:
    """The kinds to watch: a controller confined to named namespaces leaves the cluster-scoped ones alone.

    Its Role cannot grant them, and Argo's namespaced install cannot use ClusterAnalysisTemplates either.
    """
    if not namespaces:
        return WATCHED_KINDS
    return tuple(kind for kind in WATCHED_KINDS if kind.namespaced)
# Metadata every write changes, which no decision reads.
_BOOKKEEPING: Final = frozenset({"resourceVersion", "managedFields"})
# ... and the generation, which a write of the spec moves.
_SERVER_SET: Final = _BOOKKEEPING | {"generation"}
# A ClusterAnalysisTemplate that nests an AnalysisTemplate means the one in the namespace of whichever Rollout uses
# it (as Argo resolves it), so that reference is to the name in any namespace.
ANY_NAMESPACE: Final = "*"


RolloutKey = ObjectKey
"""A Rollout by namespace and name: the work queue's key."""


@dataclass(frozen=True)
class _Reference:
    """An object a Rollout's spec names: which kind, and where it lives."""

    kind: ResourceKind
    namespace: str
    name: str


@dataclass(frozen=True)
class _Managed:
    """The Services (or DestinationRules) whose managed-by annotation names one Rollout."""

    kind: ResourceKind
    namespace: str
    rollout_name: str


class ObjectCache:
    """Observed objects of the watched kinds, with owner and reference indexes."""

    def __init__(self) -> None:
        self._objects: dict[ResourceKind, dict[ObjectKey, JsonObject]] = {kind: {} for kind in WATCHED_KINDS}
        self._rollout_by_uid: dict[str, RolloutKey] = {}
        self._replica_set_by_uid: dict[str, ObjectKey] = {}
        # ReplicaSets by (namespace, name without its last "-part"): a Rollout's next ReplicaSet is named
        # "<rollout>-<hash>", and one of that name it does not own forces a new hash.
        self._replica_sets_by_stem: dict[tuple[str, str], set[ObjectKey]] = {}
        # Children by the uid of their controller owner, and each child's owner uid (to move it on change).
        self._children: dict[ResourceKind, dict[str, set[ObjectKey]]] = {
            REPLICASETS: {}, ANALYSIS_RUNS: {}, PODS: {}, EXPERIMENTS: {}
        }
        self._owner_of: dict[ResourceKind, dict[ObjectKey, str]] = {
            REPLICASETS: {}, ANALYSIS_RUNS: {}, PODS: {}, EXPERIMENTS: {}
        }
        self._referrers: dict[_Reference, set[RolloutKey]] = {}
        self._references: dict[RolloutKey, frozenset[_Reference]] = {}
        # Templates nest templates: each template's nested references, and the reverse (who nests a template).
        self._nested: dict[_Reference, frozenset[_Reference]] = {}
        self._nested_in: dict[_Reference, set[_Reference]] = {}
        # Services and DestinationRules by the Rollout their managed-by annotation names, and each one's entry.
        self._managed: dict[_Managed, set[ObjectKey]] = {}
        self._manager_of: dict[tuple[ResourceKind, ObjectKey], _Managed] = {}
        # What a DELETED event removed: a late answer to one of our writes must not bring it back.
        self._deleted = DeletedObjects()
        # The content each write under way should leave (``expect_echo``), until its answer is recorded.
        self._echoes: dict[tuple[ResourceKind, ObjectKey], JsonObject] = {}

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
        key = object_key(obj)
        if key is not None:
            self._echoes.pop((kind, key), None)
        return self.observe(kind, None, obj)

    def expect_echo(self, kind: ResourceKind, namespace: str, name: str, patch: JsonObject) -> None:
        """Our merge ``patch`` of a cached object is on its way: should its watch event overtake the answer, the
        event (the object exactly as the patch leaves the cached one, versions apart) asks for no pass — the
        writing pass decides again from the answer. Until ``record_write`` or ``forget_echo``."""
        key = ObjectKey(namespace if kind.namespaced else "", name)
        cached = self._objects.get(kind, {}).get(key)
        if cached is not None:
            self._echoes[(kind, key)] = _content(apply_merge_patch(cached, patch))

    def forget_echo(self, kind: ResourceKind, namespace: str, name: str) -> None:
        """The write ``expect_echo`` announced failed: no echo comes."""
        self._echoes.pop((kind, ObjectKey(namespace if kind.namespaced else "", name)), None)

    def record_delete(self, kind: ResourceKind, namespace: str, name: str) -> set[RolloutKey]:
        """Forget an object we deleted (its DELETED event will find nothing left to remove)."""
        if kind not in self._objects:
            return set()
        return self._remove(kind, ObjectKey(namespace, name), None)

    def _store(self, kind: ResourceKind, key: ObjectKey, obj: JsonObject) -> set[RolloutKey]:
        if self._deleted.is_deleted(obj):
            return set()  # the answer to a write that raced the deletion: the object is gone
        objects = self._objects[kind]
        cached = objects.get(key)
        if cached is not None and _same_version(obj, cached):
            # The echo of a version already held — mostly the controller's own write, recorded when it was
            # answered: nothing changed, so it asks for no pass (the writing pass queued its own follow-up).
            return set()
        if cached is not None and is_older(obj, cached):
            # A late event of a version we already hold (our own write got here first): it brings nothing the
            # newer one lacks, and the newer one's arrival (an event, or our write's own follow-up) asked for
            # the pass that sees it.
            return set()
        if cached is not None and uid_of(cached) != uid_of(obj):
            self._unindex(kind, key, cached)
        objects[key] = obj
        self._index(kind, key, obj)
        echo = self._echoes.get((kind, key))
        if echo is not None and _content(obj) == echo:
            # Our own write's echo, ahead of its answer: the writing pass decides from it anyway.
            del self._echoes[(kind, key)]
            return set()
        affected = self._affected(kind, key, obj)
        if kind == PODS and cached is not None and not self._pod_change_matters(cached, obj, affected):
            return set()
        return affected

    def _pod_change_matters(self, cached: JsonObject, obj: JsonObject, rollouts: set[RolloutKey]) -> bool:
        """Whether a Pod's new version can change its Rollout's decision. The decisions read a Pod's metadata
        (ephemeral labels and annotations, its owner, its deletion) and, only while ``spec.restartAt`` asks for
        a restart, its readiness; the rest of its status (phase, IPs, container states) and its spec (the node
        it was bound to) decide nothing, and the readiness that matters reaches the Rollout through its
        ReplicaSet's status."""
        if _decided_metadata(cached) != _decided_metadata(obj):
            return True
        return any(
            ((self._objects[ROLLOUTS].get(rollout) or {}).get("spec") or {}).get("restartAt") is not None
            for rollout in rollouts
        )

    def _remove(self, kind: ResourceKind, key: ObjectKey, obj: JsonObject | None) -> set[RolloutKey]:
        if obj is not None:
            self._deleted.record(obj)
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
            if kind == REPLICASETS:
                if uid:
                    self._replica_set_by_uid[uid] = key
                add_member(self._replica_sets_by_stem, _stem(key), key)
            owner_kind = "ReplicaSet" if kind == PODS else "Rollout"
            self._set_owner(kind, key, controller_uid(obj, owner_kind))
        elif kind in TEMPLATE_KINDS:
            self._set_nested(_Reference(kind, key.namespace, key.name), _nested_references(obj, key.namespace))
        elif kind in MANAGED_KINDS:
            self._set_manager(kind, key, _manager_of(obj))

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
            if kind == REPLICASETS:
                stem = _stem(key)
                discard_member(self._replica_sets_by_stem, stem, key)
            self._set_owner(kind, key, None)
        elif kind in TEMPLATE_KINDS:
            self._set_nested(_Reference(kind, key.namespace, key.name), frozenset())
        elif kind in MANAGED_KINDS:
            self._set_manager(kind, key, None)

    def _set_manager(self, kind: ResourceKind, key: ObjectKey, rollout_name: str | None) -> None:
        """Index a Service or DestinationRule under the Rollout its managed-by annotation names (none: unindex)."""
        previous = self._manager_of.pop((kind, key), None)
        if previous is not None:
            discard_member(self._managed, previous, key)
        if rollout_name is not None:
            entry = _Managed(kind, key.namespace, rollout_name)
            self._manager_of[(kind, key)] = entry
            add_member(self._managed, entry, key)

    def _set_owner(self, kind: ResourceKind, key: ObjectKey, owner_uid: str | None) -> None:
        owners, children = self._owner_of[kind], self._children[kind]
        previous = owners.get(key)
        if previous == owner_uid:
            return
        if previous is not None:
            discard_member(children, previous, key)
            del owners[key]
        if owner_uid is not None:
            owners[key] = owner_uid
            add_member(children, owner_uid, key)

    def _set_references(self, rollout: RolloutKey, references: frozenset[_Reference]) -> None:
        replace_edges(self._references, self._referrers, rollout, references)

    def _set_nested(self, template: _Reference, nested: frozenset[_Reference]) -> None:
        replace_edges(self._nested, self._nested_in, template, nested)

    def _template_referrers(self, template: _Reference) -> set[RolloutKey]:
        """The Rollouts that name a template, or name a template that nests it (at any depth)."""
        found: set[RolloutKey] = set()
        seen = {template}
        pending = [template]
        while pending:
            reference = pending.pop()
            found |= self._referrers.get(reference, set())
            parents = set(self._nested_in.get(reference, ()))
            if reference.kind == ANALYSIS_TEMPLATES:
                parents |= self._nested_in.get(_Reference(ANALYSIS_TEMPLATES, ANY_NAMESPACE, reference.name), set())
            for parent in parents - seen:
                seen.add(parent)
                pending.append(parent)
        return found

    def _affected(self, kind: ResourceKind, key: ObjectKey, obj: JsonObject) -> set[RolloutKey]:
        if kind == ROLLOUTS:
            return {RolloutKey(*key)}
        if kind in (REPLICASETS, ANALYSIS_RUNS, EXPERIMENTS):
            rollout = self._rollout_by_uid.get(controller_uid(obj, "Rollout") or "")
            owner = {rollout} if rollout is not None else set()
            if kind == REPLICASETS:
                # A ReplicaSet may also be the workload a Rollout's workloadRef follows.
                owner |= self._referrers.get(_Reference(kind, key.namespace, key.name), set())
            return owner
        if kind == PODS:
            replica_set_key = self._replica_set_by_uid.get(controller_uid(obj, "ReplicaSet") or "")
            if replica_set_key is None:
                return set()
            replica_set = self._objects[REPLICASETS].get(replica_set_key)
            return self._affected(REPLICASETS, replica_set_key, replica_set) if replica_set is not None else set()
        if kind in TEMPLATE_KINDS:
            return self._template_referrers(_Reference(kind, key.namespace, key.name))
        affected = set(self._referrers.get(_Reference(kind, key.namespace, key.name), ()))
        manager = _manager_of(obj) if kind in MANAGED_KINDS else None
        if manager is not None:
            # The Rollout that manages it, so it lets go of one its spec no longer names.
            affected.add(RolloutKey(key.namespace, manager))
        return affected

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
        ingresses = {
            ingress: obj
            for ingress in references.ingresses
            if (obj := self.get(INGRESSES, namespace, ingress)) is not None
        }
        http_routes = {
            route: obj
            for route, route_namespace in references.http_routes
            if (obj := self.get(HTTP_ROUTES, route_namespace, route)) is not None
        }
        templates, cluster_templates = self._templates_for(
            namespace, references.analysis_templates, references.cluster_analysis_templates
        )
        released_services = tuple(
            service
            for key in sorted(self._managed.get(_Managed(SERVICES, namespace, name), ()))
            # Argo's Service controller lets go of a Service only once no Rollout names it.
            if not self._referrers.get(_Reference(SERVICES, key.namespace, key.name))
            and (service := self._objects[SERVICES].get(key)) is not None
        )
        released_rules = tuple(
            rule
            for key in sorted(self._managed.get(_Managed(DESTINATION_RULES, namespace, name), ()))
            if key.name != references.destination_rule
            and (rule := self._objects[DESTINATION_RULES].get(key)) is not None
        )
        return RolloutSnapshot(
            rollout=rollout,
            now=now,
            replica_sets=replica_sets,
            services=services,
            virtual_services=virtual_services,
            destination_rule=destination_rule,
            ingresses=ingresses,
            http_routes=http_routes,
            analysis_runs=tuple(self._owned(ANALYSIS_RUNS, uid)),
            experiments=tuple(self._owned(EXPERIMENTS, uid)),
            pods=pods,
            analysis_templates=templates,
            cluster_analysis_templates=cluster_templates,
            released_services=released_services,
            released_destination_rules=released_rules,
            workload=(
                self.get(_WORKLOAD_KINDS[references.workload_kind], namespace, references.workload)
                if references.workload
                else None
            ),
            foreign_replica_set_names=frozenset(
                key.name
                for key in self._replica_sets_by_stem.get((namespace, name), ())
                if self._owner_of[REPLICASETS].get(key) != uid
            ),
        )

    def _templates_for(
        self, namespace: str, names: tuple[str, ...], cluster_names: tuple[str, ...]
    ) -> tuple[dict[str, JsonObject], dict[str, JsonObject]]:
        """The templates a Rollout in ``namespace`` names, and those they nest, that exist: (by name, by name)."""
        found: tuple[dict[str, JsonObject], dict[str, JsonObject]] = ({}, {})
        pending = [(False, name) for name in names] + [(True, name) for name in cluster_names]
        while pending:
            cluster_scoped, name = pending.pop()
            into = found[1] if cluster_scoped else found[0]
            if name in into:
                continue
            template = (
                self.get(CLUSTER_ANALYSIS_TEMPLATES, "", name)
                if cluster_scoped
                else self.get(ANALYSIS_TEMPLATES, namespace, name)
            )
            if template is None:
                continue
            into[name] = template
            nested, nested_cluster = template_names([template.get("spec")])
            pending += [(False, nested_name) for nested_name in nested]
            pending += [(True, nested_name) for nested_name in nested_cluster]
        return found

    def _owned(self, kind: ResourceKind, owner_uid: str) -> Iterator[JsonObject]:
        objects = self._objects[kind]
        for key in sorted(self._children[kind].get(owner_uid, ())):
            obj = objects.get(key)
            if obj is not None:
                yield obj


def _same_version(incoming: JsonObject, cached: JsonObject) -> bool:
    """The same object at the same resourceVersion (the API server gives every write a new one)."""
    version = (incoming.get("metadata") or {}).get("resourceVersion")
    return (
        bool(version)
        and version == (cached.get("metadata") or {}).get("resourceVersion")
        and uid_of(incoming) == uid_of(cached)
    )


def _content(obj: JsonObject) -> JsonObject:
    """An object without what the API server changes on every write (its versions and managed fields)."""
    metadata = {key: value for key, value in (obj.get("metadata") or {}).items() if key not in _SERVER_SET}
    return {**obj, "metadata": metadata}


def _decided_metadata(obj: JsonObject) -> dict[str, object]:
    """An object's metadata without what every write changes (its version, the writers' managed fields)."""
    metadata = obj.get("metadata") or {}
    return {key: value for key, value in metadata.items() if key not in _BOOKKEEPING}


def _stem(key: ObjectKey) -> tuple[str, str]:
    return key.namespace, key.name.rpartition("-")[0]


def _references_of(rollout: JsonObject, namespace: str) -> frozenset[_Reference]:
    references = referenced_objects(rollout)
    found = {_Reference(SERVICES, namespace, name) for name in references.services}
    found |= {
        _Reference(VIRTUAL_SERVICES, *virtual_service_location(spec_name, namespace))
        for spec_name, _ in references.virtual_services
    }
    if references.destination_rule:
        found.add(_Reference(DESTINATION_RULES, namespace, references.destination_rule))
    found |= {_Reference(INGRESSES, namespace, name) for name in references.ingresses}
    found |= {_Reference(HTTP_ROUTES, route_namespace, name) for name, route_namespace in references.http_routes}
    found |= {_Reference(ANALYSIS_TEMPLATES, namespace, name) for name in references.analysis_templates}
    found |= {_Reference(CLUSTER_ANALYSIS_TEMPLATES, "", name) for name in references.cluster_analysis_templates}
    if references.workload:
        found.add(_Reference(_WORKLOAD_KINDS[references.workload_kind], namespace, references.workload))
    return frozenset(found)


def _nested_references(template: JsonObject, namespace: str) -> frozenset[_Reference]:
    """The templates a template's ``spec.templates`` names: an AnalysisTemplate's in its own namespace, a
    ClusterAnalysisTemplate's namespaced ones in whichever namespace uses it."""
    names, cluster_names = template_names([template.get("spec")])
    where = namespace or ANY_NAMESPACE
    found = {_Reference(ANALYSIS_TEMPLATES, where, name) for name in names}
    found |= {_Reference(CLUSTER_ANALYSIS_TEMPLATES, "", name) for name in cluster_names}
    return frozenset(found)


def _manager_of(obj: JsonObject) -> str | None:
    """The Rollout a Service's or DestinationRule's managed-by annotation names."""
    annotations = (obj.get("metadata") or {}).get("annotations")
    value = annotations.get(MANAGED_BY_ANNOTATION) if isinstance(annotations, dict) else None
    return value if isinstance(value, str) and value else None
