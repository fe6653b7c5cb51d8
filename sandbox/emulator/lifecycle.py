"""The API server's rules for object lifecycles, independent of HTTP.

Server-set metadata, optimistic concurrency, generation, status and scale subresources, finalizers,
namespaces, ownerReference garbage collection, and CRDs that (un)register their resources. Every method raises
:class:`~sandbox.emulator.status.ApiError` for what a real API server refuses.
"""

from __future__ import annotations

import base64
import binascii
import json
import random
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sandbox.emulator import managed_fields, patching, server_side_apply, status
from sandbox.emulator.resources import (
    CrdError,
    ResourceRegistry,
    ResourceSpec,
    StorageKey,
    specs_from_crd,
    storage_version,
)
from sandbox.emulator.schema_validation import admit_custom_resource
from sandbox.emulator.selectors import FieldSelector, LabelSelector, format_label_selector
from sandbox.emulator.store import CLUSTER, Obj, ObjectStore, meta

PatchType = Literal["merge", "strategic", "json"]
Propagation = Literal["Background", "Foreground", "Orphan"]

NAMESPACES: StorageKey = ("", "namespaces")
CRDS: StorageKey = ("apiextensions.k8s.io", "customresourcedefinitions")
# Upstream's finalizer on every CRD: deleting a CRD first deletes its custom resources (honouring theirs).
CRD_CLEANUP = "customresourcecleanup.apiextensions.k8s.io"

# Metadata only the server sets; client-supplied values are ignored on create and kept from storage on update.
_SERVER_OWNED_ON_CREATE = ("uid", "resourceVersion", "generation", "creationTimestamp", "deletionTimestamp",
                           "deletionGracePeriodSeconds", "selfLink")
_IMMUTABLE_ON_UPDATE = ("name", "namespace", "uid", "creationTimestamp", "deletionTimestamp",
                        "deletionGracePeriodSeconds", "generateName")

# generateName suffixes use the alphabet upstream uses: no vowels (no accidental words), no confusable digits.
_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, slots=True)
class UpdateOptions:
    """How a replace or patch writes: through a subresource (None: the object itself), for real or as a dry run,
    and for which field manager (None records no manager in managedFields)."""

    subresource: str | None = None
    dry_run: bool = False
    manager: str | None = None


@dataclass(frozen=True, slots=True)
class DeleteOptions:
    propagation: Propagation = "Background"
    precondition_uid: str | None = None
    precondition_rv: str | None = None
    dry_run: bool = False


@dataclass(frozen=True, slots=True)
class ListResult:
    items: list[Obj]
    resource_version: int
    continue_token: str
    remaining: int | None


def _get_path(obj: Mapping[str, Any], path: str) -> Any:
    current: Any = obj
    for step in path.strip(".").split("."):
        if not isinstance(current, Mapping):
            return None
        current = current.get(step)
    return current


def _set_path(obj: Obj, path: str, value: Any) -> Obj:
    """A copy of ``obj`` with ``value`` at the dotted ``path``; only the branches on the path are copied."""
    steps = path.strip(".").split(".")
    root = dict(obj)
    current = root
    for step in steps[:-1]:
        child = current.get(step)
        current[step] = dict(child) if isinstance(child, dict) else {}
        current = current[step]
    current[steps[-1]] = value
    return root


def _spec_part(obj: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k not in ("metadata", "status", "apiVersion", "kind")}


class ObjectApi:
    def __init__(
        self,
        registry: ResourceRegistry,
        store: ObjectStore,
        *,
        clock: Callable[[], str] = utc_now,
        on_registry_change: Callable[[], None] | None = None,
    ) -> None:
        self.registry = registry
        self.store = store
        self.clock = clock
        self.on_registry_change = on_registry_change
        self._pending_propagation: dict[str, Propagation] = {}  # uid → policy of a delete awaiting finalizers

    # ----------------------------------------------------------------------------------------- registry

    def register(self, spec: ResourceSpec) -> None:
        self.registry.register(spec)
        if self.on_registry_change is not None:
            self.on_registry_change()

    def _validate_crd(self, crd: Mapping[str, Any]) -> list[ResourceSpec]:
        try:
            return specs_from_crd(crd)
        except CrdError as exc:
            name = str((crd.get("metadata") or {}).get("name", ""))
            raise status.invalid("CustomResourceDefinition", name, exc.field, exc.problem,
                                 group="apiextensions.k8s.io") from None

    def register_crd(self, crd: Mapping[str, Any]) -> list[ResourceSpec]:
        specs = self._validate_crd(crd)
        if not specs:
            return specs
        # Versions dropped from the CRD stop being served; the stored objects stay (they share storage).
        for old in self.registry.versions_sharing_storage(specs[0].storage_key):
            if old.custom and old.version not in {spec.version for spec in specs}:
                self.registry.unregister(old.group, old.version, old.plural)
        for spec in specs:
            self.registry.register(spec)
        if self.on_registry_change is not None:
            self.on_registry_change()
        return specs

    def _unregister_crd(self, crd: Obj) -> None:
        spec = crd.get("spec") or {}
        group, plural = spec.get("group", ""), (spec.get("names") or {}).get("plural", "")
        for old in self.registry.versions_sharing_storage((group, plural)):
            if old.custom:
                self.registry.unregister(old.group, old.version, old.plural)
        self.store.drop_type((group, plural))
        if self.on_registry_change is not None:
            self.on_registry_change()

    def spec_for_storage(self, key: StorageKey) -> ResourceSpec | None:
        specs = list(self.registry.versions_sharing_storage(key))
        return specs[0] if specs else None

    # ----------------------------------------------------------------------------------------- reading

    def get(self, spec: ResourceSpec, namespace: str | None, name: str) -> Obj:
        obj = self.store.get(spec.storage_key, namespace or CLUSTER, name)
        if obj is None:
            raise status.not_found(spec.plural, name, spec.group)
        return obj

    def select(
        self,
        spec: ResourceSpec,
        namespace: str | None,
        labels: LabelSelector,
        fields: FieldSelector,
        *,
        limit: int | None = None,
        continue_token: str | None = None,
    ) -> ListResult:
        with self.store.lock:
            rv = self.store.resource_version
            exact_name = fields.exact("metadata.name")
            if namespace is None:
                namespace = fields.exact("metadata.namespace") if spec.namespaced else None
            candidates: list[Obj]
            if exact_name is not None and (namespace is not None or not spec.namespaced):
                found = self.store.get(spec.storage_key, namespace or CLUSTER, exact_name)
                candidates = [found] if found is not None else []
            else:
                candidates = list(self.store.iter_objects(spec.storage_key, namespace))
        items = [obj for obj in candidates if labels.matches_object(obj) and fields.matches(obj)]
        items.sort(key=_sort_key)

        if continue_token:
            after = _decode_continue(continue_token)
            items = [obj for obj in items if _sort_key(obj) > after]
        if limit is None or limit <= 0 or len(items) <= limit:
            return ListResult(items, rv, "", None)
        page = items[:limit]
        return ListResult(page, rv, _encode_continue(_sort_key(page[-1])), len(items) - limit)

    # -------------------------------------------------------------------------------------- validation

    def _check_namespace(self, spec: ResourceSpec, namespace: str | None, *, creating: bool) -> None:
        if not spec.namespaced or namespace is None:
            return
        ns = self.store.get(NAMESPACES, CLUSTER, namespace)
        if ns is None:
            raise status.not_found("namespaces", namespace)
        if creating and meta(ns).get("deletionTimestamp"):
            raise status.forbidden(
                spec.plural, "", f"unable to create new content in namespace {namespace} because it is being"
                " terminated", spec.group)

    def _validate_name(self, spec: ResourceSpec, name: str) -> None:
        if spec.storage_key == NAMESPACES:
            pattern, limit, wording = _DNS_LABEL, 63, "a lowercase RFC 1123 label"
        elif spec.storage_key == ("", "services"):
            pattern, limit, wording = _DNS_1035_LABEL, 63, "a DNS-1035 label"
        elif spec.group == "rbac.authorization.k8s.io":
            pattern, limit, wording = re.compile(r"^[^/%]+$"), 253, "a path segment name"
        else:
            pattern, limit, wording = _DNS_SUBDOMAIN, 253, "a lowercase RFC 1123 subdomain"
        if name in (".", "..") or len(name) > limit or not pattern.match(name):
            raise status.invalid(spec.kind, name, "metadata.name",
                                 f'Invalid value: "{name}": must be {wording}', spec.group)

    def _validate_body(self, spec: ResourceSpec, body: Any, *, name: str) -> Obj:
        if not isinstance(body, dict):
            raise status.bad_request(f"the body of the request must be a {spec.kind} object")
        api_version, kind = body.get("apiVersion"), body.get("kind")
        if api_version and api_version != spec.api_version:
            raise status.bad_request(
                f"the API version in the data ({api_version}) does not match the expected API version"
                f" ({spec.api_version})")
        if kind and kind != spec.kind:
            raise status.bad_request(
                f"the kind in the data ({kind}) does not match the expected kind ({spec.kind})")
        metadata = body.get("metadata")
        if metadata is not None and not isinstance(metadata, dict):
            raise status.bad_request("metadata must be an object")
        _check_string_maps(metadata or {})
        return body

    # ----------------------------------------------------------------------------------------- writing

    def create(self, spec: ResourceSpec, namespace: str | None, body: Any, *, dry_run: bool = False,
               manager: str | None = None) -> Obj:
        """Create; ``manager`` (the request's field manager) is recorded in managedFields, None records nothing."""
        body = self._validate_body(spec, body, name="")
        metadata = dict(body.get("metadata") or {})
        if spec.namespaced:
            body_ns = metadata.get("namespace")
            if namespace is None:
                namespace = body_ns or "default"
            elif body_ns and body_ns != namespace:
                raise status.bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request")
            metadata["namespace"] = namespace
        else:
            metadata.pop("namespace", None)
            namespace = None
        for key in _SERVER_OWNED_ON_CREATE:
            metadata.pop(key, None)

        with self.store.lock:
            self._check_namespace(spec, namespace, creating=True)
            name = metadata.get("name") or ""
            if not name:
                prefix = metadata.get("generateName") or ""
                if not prefix:
                    raise status.invalid(spec.kind, "", "metadata.name",
                                         "Required value: name or generateName is required", spec.group)
                name = self._generate_name(spec, namespace, prefix)
                metadata["name"] = name
            self._validate_name(spec, name)
            if self.store.get(spec.storage_key, namespace or CLUSTER, name) is not None:
                raise status.already_exists(spec.plural, name, spec.group)

            metadata["uid"] = str(uuid.uuid4())
            metadata["generation"] = 1
            metadata["creationTimestamp"] = self.clock()
            obj: Obj = {"apiVersion": spec.api_version, "kind": spec.kind, "metadata": metadata}
            obj.update((k, v) for k, v in body.items() if k not in ("apiVersion", "kind", "metadata"))
            if spec.has_status:
                obj.pop("status", None)  # status is written only through /status
            obj = admit_custom_resource(spec, self._defaults_on_create(spec, obj))
            if spec.storage_key == CRDS:
                self._validate_crd(obj)
            if manager is not None:
                metadata["managedFields"] = self._record_update(spec, None, obj, manager, None)
            if dry_run:
                return obj
            metadata["resourceVersion"] = str(self.store.next_resource_version())
            self.store.put(spec.storage_key, obj, "ADDED", None)
            if spec.storage_key == CRDS:
                self.register_crd(obj)
        return obj

    def _generate_name(self, spec: ResourceSpec, namespace: str | None, prefix: str) -> str:
        prefix = prefix[:58]  # upstream trims so that prefix + suffix fits 63 characters
        for _ in range(16):
            name = prefix + "".join(random.choices(_SUFFIX_ALPHABET, k=5))
            if self.store.get(spec.storage_key, namespace or CLUSTER, name) is None:
                return name
        raise status.already_exists(spec.plural, prefix + "*****", spec.group)

    def _defaults_on_create(self, spec: ResourceSpec, obj: Obj) -> Obj:
        key = spec.storage_key
        if key == NAMESPACES:
            obj["spec"] = {"finalizers": ["kubernetes"], **(obj.get("spec") or {})}
            obj["status"] = {"phase": "Active"}
        elif key == CRDS:
            crd_spec = obj.get("spec") or {}
            names = dict(crd_spec.get("names") or {})
            names.setdefault("singular", str(names.get("kind", "")).lower())
            names.setdefault("listKind", f"{names.get('kind', '')}List")
            obj["spec"] = {**crd_spec, "names": names, "scope": crd_spec.get("scope", "Namespaced")}
            metadata = obj["metadata"]
            metadata["finalizers"] = [*(metadata.get("finalizers") or []), CRD_CLEANUP]
            obj["status"] = {
                "acceptedNames": names,
                "storedVersions": [storage_version(obj)],
                "conditions": [
                    {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts",
                     "message": "no conflicts found", "lastTransitionTime": self.clock()},
                    {"type": "Established", "status": "True", "reason": "InitialNamesAccepted",
                     "message": "the initial names have been accepted", "lastTransitionTime": self.clock()},
                ],
            }
        elif key in (("apps", "deployments"), ("apps", "replicasets"), ("apps", "statefulsets")):
            workload_spec = dict(obj.get("spec") or {})
            workload_spec.setdefault("replicas", 1)
            if key == ("apps", "deployments"):
                workload_spec.setdefault("revisionHistoryLimit", 10)
                workload_spec.setdefault("progressDeadlineSeconds", 600)
                rolling = {"maxSurge": "25%", "maxUnavailable": "25%"}
                workload_spec.setdefault("strategy", {"type": "RollingUpdate", "rollingUpdate": rolling})
            obj["spec"] = workload_spec
        return obj

    def replace(self, spec: ResourceSpec, namespace: str | None, name: str, body: Any, options: UpdateOptions) -> Obj:
        body = self._validate_body(spec, body, name=name)
        _check_named_as_url(spec, namespace, name, body.get("metadata") or {})
        with self.store.lock:
            current = self.get(spec, namespace, name)
            return self._update(spec, current, body, options)

    def patch(self, spec: ResourceSpec, namespace: str | None, name: str, patch_type: PatchType, patch: Any,
              options: UpdateOptions) -> Obj:
        with self.store.lock:
            current = self.get(spec, namespace, name)
            candidate = apply_patch(current, patch_type, patch)
            if not isinstance(candidate, dict):
                raise status.bad_request("the patch does not result in an object")
            if isinstance(candidate.get("metadata"), dict):
                _check_string_maps(candidate["metadata"])
            _check_identity_kept(spec, current, candidate)
            return self._update(spec, current, candidate, options)

    def apply(
        self,
        spec: ResourceSpec,
        namespace: str | None,
        name: str,
        config: Any,
        *,
        manager: str,
        force: bool = False,
        subresource: str | None = None,
        dry_run: bool = False,
    ) -> tuple[Obj, bool]:
        """Server-side apply of ``config`` by ``manager``; returns the object and whether it was created.

        Conflicts with other managers' fields are refused with 409 ``Conflict`` unless ``force``.
        """
        config = self._validate_applied(spec, namespace, name, config)
        scope = self._ownership_scope(spec, subresource)
        with self.store.lock:
            current = self.store.get(spec.storage_key, namespace or CLUSTER, name)
            if current is None and subresource is not None:
                raise status.not_found(spec.plural, name, spec.group)
            try:
                merged = server_side_apply.apply(
                    current, config, manager=manager, api_version=spec.api_version, now=self.clock(),
                    field_type=_field_types(spec), force=force, scope=scope, subresource=subresource or "")
            except server_side_apply.ApplyConflict as conflict:
                raise status.apply_conflict(str(conflict), conflict.causes()) from None
            except managed_fields.FieldsError as exc:
                raise status.invalid(spec.kind, name, "metadata.managedFields", str(exc), spec.group) from None
            if current is None:
                merged_meta = merged.setdefault("metadata", {})
                merged_meta["name"] = name
                if namespace is not None:
                    merged_meta["namespace"] = namespace
                merged.update(apiVersion=spec.api_version, kind=spec.kind)
                return self.create(spec, namespace, merged, dry_run=dry_run), True
            return self._update(spec, current, merged, UpdateOptions(subresource=subresource, dry_run=dry_run)), False

    def _validate_applied(self, spec: ResourceSpec, namespace: str | None, name: str, config: Any) -> Obj:
        if not isinstance(config, dict):
            raise status.bad_request(f"the body of an apply patch must be a {spec.kind} object")
        if not config.get("kind"):
            raise status.bad_request("Object 'Kind' is missing in the apply patch")
        if config.get("apiVersion") != spec.api_version:
            raise status.bad_request(
                "Incorrect version specified in apply patch. Specified patch version:"
                f" {config.get('apiVersion') or '(none)'}, expected: {spec.api_version}")
        self._validate_body(spec, config, name=name)
        config_meta = config.get("metadata") or {}
        _check_named_as_url(spec, namespace, name, config_meta)
        if config_meta.get("managedFields") is not None:
            raise status.bad_request("metadata.managedFields must be nil")
        return config

    @staticmethod
    def _ownership_scope(spec: ResourceSpec, subresource: str | None) -> server_side_apply.Scope:
        if subresource == "status":
            return "status"
        return "main" if spec.has_status else "all"

    def _record_update(self, spec: ResourceSpec, old: Obj | None, new: Obj, manager: str,
                       subresource: str | None) -> list[dict[str, Any]]:
        scope = self._ownership_scope(spec, "status" if subresource == "status" else None)
        return server_side_apply.record_update(
            old, new, manager=manager, api_version=spec.api_version, now=self.clock(),
            field_type=_field_types(spec), scope=scope, subresource=subresource or "")

    def _update(self, spec: ResourceSpec, current: Obj, candidate: Obj, options: UpdateOptions, *,
                via: str | None = None) -> Obj:
        """Store ``candidate`` over ``current``; ``via`` names the subresource recorded for the manager (scale)."""
        subresource = options.subresource
        current_meta = meta(current)
        name = current_meta["name"]
        candidate_meta = _candidate_metadata(spec, current_meta, candidate)
        new, new_meta = _written_parts(spec, current, candidate, candidate_meta, subresource)
        new["apiVersion"] = current.get("apiVersion", spec.api_version)
        new["kind"] = spec.kind
        # Pruned before generation is compared, as upstream; metadata is replaced below, after its checks.
        new = admit_custom_resource(spec, {**new, "metadata": new_meta}, current)
        new_meta["resourceVersion"] = current_meta.get("resourceVersion")
        new_meta["generation"] = current_meta.get("generation", 1)

        deleting = bool(current_meta.get("deletionTimestamp"))
        finalizers = new_meta.get("finalizers") or []
        if deleting and not set(finalizers) <= set(current_meta.get("finalizers") or []):
            raise status.invalid(spec.kind, name, "metadata.finalizers",
                                 "Forbidden: no new finalizers can be added if the object is being deleted",
                                 spec.group)
        if not finalizers:
            new_meta.pop("finalizers", None)
        if subresource is None and _spec_part(new) != _spec_part(current):
            new_meta["generation"] = int(new_meta["generation"]) + 1
        new["metadata"] = new_meta

        # As upstream, a write through a subresource cannot set managedFields.
        new_meta["managedFields"] = _managed_fields_of(candidate_meta if subresource is None else {}, current_meta)
        if not new_meta["managedFields"]:
            new_meta.pop("managedFields")
        if new == current:
            return current  # a no-op write stores nothing and notifies nobody, as upstream
        if spec.storage_key == CRDS and subresource is None:
            self._validate_crd(new)
        if options.manager is not None:
            new_meta["managedFields"] = self._record_update(spec, current, new, options.manager, via or subresource)
            if not new_meta["managedFields"]:
                new_meta.pop("managedFields")
        if options.dry_run:
            return new
        return self._store_update(spec, current, new)

    def _store_update(self, spec: ResourceSpec, current: Obj, new: Obj) -> Obj:
        """Store an admitted update; the last finalizer gone from an object being deleted removes it."""
        new_meta = new["metadata"]
        name = meta(current)["name"]
        deleting = bool(meta(current).get("deletionTimestamp"))
        new_meta["resourceVersion"] = str(self.store.next_resource_version())
        # A Namespace goes when its content is gone (``_finish_namespace``), not when a write finds it without
        # metadata finalizers: it keeps its own in spec.finalizers.
        if deleting and not new_meta.get("finalizers") and spec.storage_key != NAMESPACES:
            self.store.remove(spec.storage_key, new_meta.get("namespace") or CLUSTER, name, new)
            propagation = self._pending_propagation.pop(new_meta.get("uid", ""), "Background")
            self._after_removal(spec, new, propagation)
            return new
        self.store.put(spec.storage_key, new, "MODIFIED", current)
        if deleting and spec.storage_key == NAMESPACES:
            finished = self._finish_namespace(name)
            if finished is not None:
                return finished
        if spec.storage_key == CRDS:
            self.register_crd(new)
        return new

    # ---------------------------------------------------------------------------------------- deletion

    def delete(self, spec: ResourceSpec, namespace: str | None, name: str,
               options: DeleteOptions) -> tuple[Obj, bool]:
        """Delete or start deleting; returns the object's last state and whether it is gone."""
        with self.store.lock:
            current = self.get(spec, namespace, name)
            current_meta = meta(current)
            if options.precondition_uid and options.precondition_uid != current_meta.get("uid"):
                raise status.conflict(
                    spec.plural, name, spec.group,
                    f"Precondition failed: UID in precondition: {options.precondition_uid},"
                    f" UID in object meta: {current_meta.get('uid')}")
            if options.precondition_rv and options.precondition_rv != current_meta.get("resourceVersion"):
                raise status.conflict(
                    spec.plural, name, spec.group,
                    f"Precondition failed: ResourceVersion in precondition: {options.precondition_rv},"
                    f" ResourceVersion in object meta: {current_meta.get('resourceVersion')}")
            if options.dry_run:
                return self._would_delete(spec, current)
            return self._delete_object(spec, current, options.propagation)

    def _would_delete(self, spec: ResourceSpec, current: Obj) -> tuple[Obj, bool]:
        """What a delete would return, without doing it (dryRun=All)."""
        current_meta = meta(current)
        if current_meta.get("deletionTimestamp"):
            return current, False
        if spec.storage_key == NAMESPACES:
            terminating = {**(current.get("status") or {}), "phase": "Terminating"}
            return {**current, "metadata": {**current_meta, "deletionTimestamp": self.clock()},
                    "status": terminating}, False
        if current_meta.get("finalizers"):
            marked_meta = {**current_meta, "deletionTimestamp": self.clock(), "deletionGracePeriodSeconds": 0,
                           "generation": int(current_meta.get("generation", 1)) + 1}
            return {**current, "metadata": marked_meta}, False
        return current, True

    def delete_collection(self, spec: ResourceSpec, namespace: str | None, labels: LabelSelector,
                          fields: FieldSelector, options: DeleteOptions) -> list[Obj]:
        with self.store.lock:
            victims = self.select(spec, namespace, labels, fields).items
            if options.dry_run:
                return victims
            results: list[Obj] = []
            for victim in victims:
                victim_meta = meta(victim)
                # An earlier deletion in this loop may have collected this one already.
                namespace_key = victim_meta.get("namespace") or CLUSTER
                fresh = self.store.get(spec.storage_key, namespace_key, victim_meta["name"])
                if fresh is not None:
                    results.append(self._delete_object(spec, fresh, options.propagation)[0])
            return results

    def _delete_object(self, spec: ResourceSpec, current: Obj, propagation: Propagation) -> tuple[Obj, bool]:
        current_meta = meta(current)
        if current_meta.get("deletionTimestamp"):
            return current, False
        if spec.storage_key == NAMESPACES:
            return self._delete_namespace(spec, current)
        if propagation == "Foreground":
            # Upstream holds the owner (foregroundDeletion finalizer) until its dependents are gone; doing
            # the dependents first, synchronously, gives the same end state.
            self._collect_dependents(current_meta.get("uid", ""), "Background")
        if current_meta.get("finalizers"):
            new_meta = dict(current_meta)
            new_meta["deletionTimestamp"] = self.clock()
            new_meta["deletionGracePeriodSeconds"] = 0
            new_meta["generation"] = int(current_meta.get("generation", 1)) + 1
            new_meta["resourceVersion"] = str(self.store.next_resource_version())
            marked = {**current, "metadata": new_meta}
            self.store.put(spec.storage_key, marked, "MODIFIED", current)
            self._pending_propagation[current_meta.get("uid", "")] = propagation
            if spec.storage_key == CRDS:
                return self._delete_custom_resources(marked)
            return marked, False
        rv = str(self.store.next_resource_version())
        final = {**current, "metadata": {**current_meta, "resourceVersion": rv}}
        namespace = current_meta.get("namespace") or CLUSTER
        self.store.remove(spec.storage_key, namespace, current_meta["name"], final)
        self._after_removal(spec, final, propagation)
        return final, True

    def _delete_namespace(self, spec: ResourceSpec, current: Obj) -> tuple[Obj, bool]:
        current_meta = meta(current)
        name = current_meta["name"]
        new_meta = {**current_meta, "deletionTimestamp": self.clock(),
                    "resourceVersion": str(self.store.next_resource_version())}
        terminating = {**(current.get("status") or {}), "phase": "Terminating"}
        marked = {**current, "metadata": new_meta, "status": terminating}
        self.store.put(spec.storage_key, marked, "MODIFIED", current)
        for key in self.store.storage_keys():
            owner_spec = self.spec_for_storage(key)
            if owner_spec is None or not owner_spec.namespaced:
                continue
            for obj in self.store.iter_objects(key, name):
                fresh = self.store.get(key, name, meta(obj)["name"])
                if fresh is not None:
                    self._delete_object(owner_spec, fresh, "Background")
        # The last content removal above may already have finished the namespace (see _after_removal).
        final = self._finish_namespace(name)
        if self.store.get(NAMESPACES, CLUSTER, name) is None:
            return (final or marked), True
        return marked, False

    def _finish_namespace(self, name: str) -> Obj | None:
        ns = self.store.get(NAMESPACES, CLUSTER, name)
        if ns is None or not meta(ns).get("deletionTimestamp") or meta(ns).get("finalizers"):
            return None
        if not self.store.namespace_is_empty(name):
            return None
        final = {**ns, "metadata": {**meta(ns), "resourceVersion": str(self.store.next_resource_version())}}
        self.store.remove(NAMESPACES, CLUSTER, name, final)
        return final

    def _delete_custom_resources(self, crd: Obj) -> tuple[Obj, bool]:
        crd_spec = crd.get("spec") or {}
        key = (crd_spec.get("group", ""), (crd_spec.get("names") or {}).get("plural", ""))
        cr_spec = self.spec_for_storage(key)
        if cr_spec is not None:
            for obj in self.store.iter_objects(key, None):
                obj_meta = meta(obj)
                fresh = self.store.get(key, obj_meta.get("namespace") or CLUSTER, obj_meta["name"])
                if fresh is not None:
                    self._delete_object(cr_spec, fresh, "Background")
        name = meta(crd)["name"]
        final = self._finish_crd(name)
        if self.store.get(CRDS, CLUSTER, name) is None:
            return (final or crd), True
        return self.store.get(CRDS, CLUSTER, name) or crd, False

    def _finish_crd(self, name: str) -> Obj | None:
        """Release a deleted CRD's cleanup finalizer once none of its custom resources remain."""
        crd = self.store.get(CRDS, CLUSTER, name)
        crd_spec = self.spec_for_storage(CRDS)
        if crd is None or crd_spec is None:
            return None
        crd_meta = meta(crd)
        finalizers = crd_meta.get("finalizers") or []
        if not crd_meta.get("deletionTimestamp") or CRD_CLEANUP not in finalizers:
            return None
        body = crd.get("spec") or {}
        if self.store.count((body.get("group", ""), (body.get("names") or {}).get("plural", ""))):
            return None
        new_meta = {**crd_meta, "resourceVersion": str(self.store.next_resource_version())}
        remaining = [f for f in finalizers if f != CRD_CLEANUP]
        if remaining:
            new_meta["finalizers"] = remaining
            self.store.put(CRDS, {**crd, "metadata": new_meta}, "MODIFIED", crd)
            return None
        new_meta.pop("finalizers", None)
        final = {**crd, "metadata": new_meta}
        self.store.remove(CRDS, CLUSTER, name, final)
        self._after_removal(crd_spec, final, self._pending_propagation.pop(crd_meta.get("uid", ""), "Background"))
        return final

    def _after_removal(self, spec: ResourceSpec, final: Obj, propagation: Propagation) -> None:
        final_meta = meta(final)
        self._collect_dependents(final_meta.get("uid", ""), propagation)
        if spec.storage_key == CRDS:
            self._unregister_crd(final)
        elif spec.custom:
            self._finish_crd(f"{spec.plural}.{spec.group}")
        namespace = final_meta.get("namespace")
        if namespace:
            ns = self.store.get(NAMESPACES, CLUSTER, namespace)
            if ns is not None and meta(ns).get("deletionTimestamp"):
                self._finish_namespace(namespace)

    def _collect_dependents(self, owner_uid: str, propagation: Propagation) -> None:
        if not owner_uid:
            return
        for key, namespace, name in self.store.dependents_of(owner_uid):
            dependent = self.store.get(key, namespace, name)
            dep_spec = self.spec_for_storage(key)
            if dependent is None or dep_spec is None:
                continue
            refs = [ref for ref in meta(dependent).get("ownerReferences") or [] if isinstance(ref, dict)]
            remaining = [ref for ref in refs if ref.get("uid") != owner_uid]
            still_owned = any(self.store.locate(ref.get("uid", "")) is not None for ref in remaining)
            if propagation == "Orphan" or still_owned:
                dep_meta = dict(meta(dependent))
                if remaining:
                    dep_meta["ownerReferences"] = remaining
                else:
                    dep_meta.pop("ownerReferences", None)
                dep_meta["resourceVersion"] = str(self.store.next_resource_version())
                self.store.put(key, {**dependent, "metadata": dep_meta}, "MODIFIED", dependent)
            else:
                self._delete_object(dep_spec, dependent, "Background")

    # -------------------------------------------------------------------------------------------- scale

    def get_scale(self, spec: ResourceSpec, namespace: str | None, name: str) -> Obj:
        return self._scale_of(spec, self.get(spec, namespace, name))

    def _scale_of(self, spec: ResourceSpec, obj: Obj) -> Obj:
        paths = spec.scale
        if paths is None:
            raise status.unknown_resource()
        obj_meta = meta(obj)
        copied = ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
        scale_meta = {k: obj_meta[k] for k in copied if k in obj_meta}
        scale_status: dict[str, Any] = {"replicas": _get_path(obj, paths.status_replicas) or 0}
        selector: Any
        if paths.label_selector is None:
            selector = format_label_selector(_get_path(obj, ".spec.selector"))
        else:
            selector = _get_path(obj, paths.label_selector) if paths.label_selector else None
        if selector:
            scale_status["selector"] = selector
        return {
            "kind": "Scale",
            "apiVersion": "autoscaling/v1",
            "metadata": scale_meta,
            "spec": {"replicas": _get_path(obj, paths.spec_replicas) or 0},
            "status": scale_status,
        }

    def update_scale(self, spec: ResourceSpec, namespace: str | None, name: str, *,
                     patch_type: PatchType | None = None, body: Any, dry_run: bool = False,
                     manager: str | None = None) -> Obj:
        """PUT (``patch_type`` None) or PATCH a Scale; only ``spec.replicas`` reaches the object."""
        with self.store.lock:
            current = self.get(spec, namespace, name)
            scale = self._scale_of(spec, current)
            if patch_type is None:
                if not isinstance(body, dict):
                    raise status.bad_request("the body of the request must be a Scale object")
                candidate = body
            else:
                candidate = apply_patch(scale, patch_type, body)
            if not isinstance(candidate, dict):
                raise status.bad_request("the patch does not result in a Scale object")
            requested_rv = (candidate.get("metadata") or {}).get("resourceVersion")
            if requested_rv and str(requested_rv) != meta(current).get("resourceVersion"):
                raise status.conflict(spec.plural, name, spec.group)
            replicas = (candidate.get("spec") or {}).get("replicas")
            if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
                raise status.invalid("Scale", name, "spec.replicas",
                                     f"Invalid value: {replicas!r}: must be greater than or equal to 0",
                                     "autoscaling")
            assert spec.scale is not None  # _scale_of refused resources without a scale subresource
            updated = _set_path(current, spec.scale.spec_replicas, replicas)
            result = self._update(spec, current, updated, UpdateOptions(dry_run=dry_run, manager=manager), via="scale")
            return self._scale_of(spec, result)


def _field_types(spec: ResourceSpec) -> managed_fields.FieldTypeOf:
    return managed_fields.custom_field_type if spec.custom else managed_fields.builtin_field_type


def _managed_fields_of(candidate_meta: Mapping[str, Any], current_meta: Mapping[str, Any]) -> Any:
    """The managedFields a write starts from: the ones the client sent when readable, else the stored ones.

    Upstream keeps the stored entries when a body omits them (or sends an empty list) or sends unreadable ones;
    ``[{}]`` resets them.
    """
    sent = candidate_meta.get("managedFields")
    stored = current_meta.get("managedFields") or []
    if not sent or sent == stored:
        return stored
    if isinstance(sent, list) and all(isinstance(entry, dict) and not entry for entry in sent):
        return []
    try:
        server_side_apply.read_entries({"metadata": {"managedFields": sent}})
    except managed_fields.FieldsError:
        return stored
    return sent


def apply_patch(current: Obj, patch_type: PatchType, patch: Any) -> Any:
    try:
        if patch_type == "json":
            return patching.json_patch(current, patch)
        if not isinstance(patch, dict):
            raise patching.PatchError("a merge patch must be a JSON object")
        if patch_type == "strategic":
            return patching.strategic_merge_patch(current, patch)
        return patching.merge_patch(current, patch)
    except patching.PatchApplyError as exc:
        raise status.unprocessable(str(exc)) from None
    except patching.PatchError as exc:
        raise status.bad_request(str(exc)) from None


_STRING_METADATA = ("name", "generateName", "namespace", "uid", "resourceVersion")


def _check_named_as_url(spec: ResourceSpec, namespace: str | None, name: str, metadata: Mapping[str, Any]) -> None:
    """A body written to an object's URL may leave out its name and namespace, but not give others (400)."""
    if metadata.get("name") and metadata["name"] != name:
        raise status.bad_request(
            f"the name of the object ({metadata['name']}) does not match the name on the URL ({name})")
    if spec.namespaced and metadata.get("namespace") and metadata["namespace"] != namespace:
        raise status.bad_request(
            "the namespace of the provided object does not match the namespace sent on the request")


def _check_string_maps(metadata: Mapping[str, Any]) -> None:
    # Upstream fails these while decoding JSON into Go structs, hence 400 and not 422.
    for field in _STRING_METADATA:
        value = metadata.get(field)
        if value is not None and not isinstance(value, str):
            raise status.bad_request(
                f"metadata.{field}: cannot unmarshal {_json_type(value)} into a string field of ObjectMeta")
    for field in ("labels", "annotations"):
        values = metadata.get(field)
        if values is not None and (
                not isinstance(values, dict) or not all(isinstance(v, str) for v in values.values())):
            raise status.bad_request(f"metadata.{field}: must map strings to strings")


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, dict):
        return "object"
    return "array" if isinstance(value, list) else type(value).__name__


def _check_identity_kept(spec: ResourceSpec, current: Obj, candidate: Obj) -> None:
    """A patch may not rename an object or move it to another namespace (422, as ValidateObjectMetaUpdate)."""
    current_meta, candidate_meta = meta(current), candidate.get("metadata")
    if not isinstance(candidate_meta, dict):
        return  # refused later as "metadata must be an object"
    for field in ("name", "namespace"):
        old, new = current_meta.get(field), candidate_meta.get(field)
        if isinstance(new, str) and new and new != old:
            raise status.invalid(spec.kind, str(current_meta.get("name", "")), f"metadata.{field}",
                                 f'Invalid value: "{new}": field is immutable', spec.group)


def _sort_key(obj: Obj) -> tuple[str, str]:
    metadata = meta(obj)
    return (metadata.get("namespace") or "", metadata.get("name") or "")


def _encode_continue(key: tuple[str, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(key)).encode()).decode()


def _decode_continue(token: str) -> tuple[str, str]:
    try:
        namespace, name = json.loads(base64.urlsafe_b64decode(token.encode()))
        return (str(namespace), str(name))
    except (ValueError, TypeError, binascii.Error):
        raise status.bad_request(f"continue key is not valid: {token!r}") from None


def _candidate_metadata(spec: ResourceSpec, current_meta: Obj, candidate: Obj) -> Obj:
    """The written object's metadata, once it is an object and its resourceVersion (if any) is the current one."""
    candidate_meta = candidate.get("metadata")
    if candidate_meta is not None and not isinstance(candidate_meta, dict):
        raise status.bad_request("metadata must be an object")
    candidate_meta = candidate_meta or {}
    requested_rv = candidate_meta.get("resourceVersion")
    if requested_rv and str(requested_rv) != current_meta.get("resourceVersion"):
        raise status.conflict(spec.plural, current_meta["name"], spec.group)
    return candidate_meta


def _written_parts(
    spec: ResourceSpec, current: Obj, candidate: Obj, candidate_meta: Obj, subresource: str | None
) -> tuple[Obj, Obj]:
    """The new object (without metadata) and its metadata: a status write takes only the status; a main-resource
    write keeps the current status (when the kind has one) and the fields that never change on update."""
    current_meta = meta(current)
    new: Obj
    if subresource == "status":
        new = dict(current)
        if candidate.get("status") is None:
            new.pop("status", None)
        else:
            new["status"] = candidate["status"]
        return new, dict(current_meta)
    new = {k: v for k, v in candidate.items() if k != "metadata"}
    if spec.has_status:
        if "status" in current:
            new["status"] = current["status"]
        else:
            new.pop("status", None)
    new_meta = dict(candidate_meta)
    for key in _IMMUTABLE_ON_UPDATE:
        if key in current_meta:
            new_meta[key] = current_meta[key]
        else:
            new_meta.pop(key, None)
    _check_string_maps(new_meta)
    return new, new_meta
