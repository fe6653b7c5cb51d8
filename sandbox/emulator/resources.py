"""The resource types the emulator serves: built-ins from kmock's bundle, custom ones from CRDs."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from sandbox.emulator.kmock_adapter import bundled_resources

StorageKey = tuple[str, str]  # (group, plural): every served version of a resource shares one storage


@dataclass(frozen=True, slots=True)
class ScalePaths:
    """Where ``/scale`` reads and writes, as dotted paths (``.spec.replicas``)."""

    spec_replicas: str = ".spec.replicas"
    status_replicas: str = ".status.replicas"
    label_selector: str | None = None  # None: derive from ``.spec.selector`` as the built-in controllers do


@dataclass(frozen=True, slots=True)
class CustomColumn:
    """One of a CRD version's ``additionalPrinterColumns``."""

    name: str
    type: str
    json_path: str
    format: str = ""
    description: str = ""
    priority: int = 0


ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")


@dataclass(frozen=True, slots=True)
class ResourceSpec:
    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool
    singular: str = ""
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    subresources: frozenset[str] = frozenset()
    verbs: tuple[str, ...] = ALL_VERBS
    custom: bool = False  # served from a CRD: strategic merge patch is refused, as by a real API server
    scale: ScalePaths | None = None
    returns_deleted_object: bool = False  # DELETE answers with the object instead of a Status
    printer_columns: tuple[CustomColumn, ...] = ()  # a CRD version's additionalPrinterColumns
    selectable_fields: tuple[str, ...] = ()  # a CRD version's selectableFields, as field labels ("spec.color")
    # A CRD version's openAPIV3Schema (None: not validated, nothing pruned); compared by identity only.
    schema: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def storage_key(self) -> StorageKey:
        return (self.group, self.plural)

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"

    @property
    def has_status(self) -> bool:
        return "status" in self.subresources

    @property
    def singular_name(self) -> str:
        return self.singular or self.kind.lower()


# Groups in kmock's bundle (recorded from a K3s cluster) that a vanilla kube-apiserver does not serve itself:
# aggregated metrics, and Gateway API CRDs that K3s preinstalls. Projects install the latter as CRDs.
_NOT_BUILT_IN = frozenset({"metrics.k8s.io", "gateway.networking.k8s.io"})

# Built-ins whose registry returns the deleted object rather than a Status (``ReturnDeletedObject`` upstream).
_RETURNS_DELETED_OBJECT = frozenset({("", "pods"), ("", "namespaces"), ("", "services")})

_WORKLOAD_SCALE = frozenset({("apps", "deployments"), ("apps", "replicasets"), ("apps", "statefulsets"),
                             ("", "replicationcontrollers")})


@functools.cache
def builtin_specs() -> tuple[ResourceSpec, ...]:
    # The same data as ResourcesArray.load_bundled(), read without its deprecated importlib API.
    bundle = bundled_resources()
    specs: list[ResourceSpec] = []
    for ref in bundle:
        group, version, plural = ref.group or "", ref.version or "", ref.plural or ""
        if group in _NOT_BUILT_IN or not version or not plural:
            continue
        info = bundle[ref]
        kind = info.kind or plural.capitalize()
        subresources = frozenset(info.subresources)
        scale: ScalePaths | None = None
        if "scale" in subresources and (group, plural) in _WORKLOAD_SCALE:
            scale = ScalePaths()
        specs.append(ResourceSpec(
            group=group,
            version=version,
            plural=plural,
            kind=kind,
            namespaced=bool(info.namespaced),
            singular=info.singular or kind.lower(),
            short_names=tuple(sorted(info.shortnames)),
            categories=tuple(sorted(info.categories)),
            subresources=subresources,
            verbs=tuple(sorted(info.verbs)),
            scale=scale,
            returns_deleted_object=(group, plural) in _RETURNS_DELETED_OBJECT,
        ))
    return tuple(specs)


class CrdError(ValueError):
    """The CRD body lacks what is needed to serve its resource (answered with 422 Invalid)."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


def specs_from_crd(crd: Mapping[str, Any]) -> list[ResourceSpec]:
    """One spec per served version of an ``apiextensions.k8s.io/v1`` CustomResourceDefinition."""
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    group = spec.get("group") or ""
    plural = names.get("plural") or ""
    kind = names.get("kind") or ""
    if not group:
        raise CrdError("spec.group", "Required value")
    if not plural:
        raise CrdError("spec.names.plural", "Required value")
    if not kind:
        raise CrdError("spec.names.kind", "Required value")
    expected_name = f"{plural}.{group}"
    name = (crd.get("metadata") or {}).get("name")
    if name != expected_name:
        raise CrdError("metadata.name", f'Invalid value: "{name}": must be spec.names.plural+"."+spec.group')
    scope = spec.get("scope", "Namespaced")
    if scope not in ("Namespaced", "Cluster"):
        raise CrdError("spec.scope", f'Unsupported value: "{scope}": supported values: "Cluster",'
                                     ' "Namespaced"')
    versions = spec.get("versions") or []
    if not versions:
        raise CrdError("spec.versions", "Required value")

    specs: list[ResourceSpec] = []
    for version in versions:
        if not version.get("served", True):
            continue
        subresources_body = version.get("subresources") or spec.get("subresources") or {}
        subresources: set[str] = set()
        scale: ScalePaths | None = None
        if "status" in subresources_body:
            subresources.add("status")
        if "scale" in subresources_body:
            scale_body = subresources_body["scale"] or {}
            subresources.add("scale")
            scale = ScalePaths(
                spec_replicas=scale_body.get("specReplicasPath", ".spec.replicas"),
                status_replicas=scale_body.get("statusReplicasPath", ".status.replicas"),
                label_selector=scale_body.get("labelSelectorPath") or "",
            )
        specs.append(ResourceSpec(
            group=group,
            version=version.get("name", ""),
            printer_columns=_printer_columns(version),
            selectable_fields=tuple(
                str(item.get("jsonPath", "")).lstrip(".") for item in version.get("selectableFields") or ()
                if isinstance(item, dict)),
            schema=(version.get("schema") or spec.get("validation") or {}).get("openAPIV3Schema"),
            plural=plural,
            kind=kind,
            namespaced=scope == "Namespaced",
            singular=names.get("singular") or kind.lower(),
            short_names=tuple(names.get("shortNames") or ()),
            categories=tuple(names.get("categories") or ()),
            subresources=frozenset(subresources),
            custom=True,
            scale=scale,
            returns_deleted_object=True,
        ))
    return specs


def _printer_columns(version: Mapping[str, Any]) -> tuple[CustomColumn, ...]:
    columns: list[CustomColumn] = []
    for column in version.get("additionalPrinterColumns") or []:
        if not isinstance(column, Mapping) or not column.get("name") or not column.get("jsonPath"):
            raise CrdError("spec.versions[].additionalPrinterColumns", "Required value: name and jsonPath")
        columns.append(CustomColumn(
            name=str(column["name"]), type=str(column.get("type") or "string"), json_path=str(column["jsonPath"]),
            format=str(column.get("format") or ""), description=str(column.get("description") or ""),
            priority=int(column.get("priority") or 0),
        ))
    return tuple(columns)


def storage_version(crd: Mapping[str, Any]) -> str:
    versions = (crd.get("spec") or {}).get("versions") or []
    for version in versions:
        if version.get("storage"):
            return str(version.get("name", ""))
    return str(versions[0].get("name", "")) if versions else ""


_VERSION_RE = re.compile(r"^v(\d+)(?:(alpha|beta)(\d+))?$")


def version_priority(version: str) -> tuple[int, int, int, str]:
    """Sort key for Kubernetes' version ordering: GA before beta before alpha, higher numbers first."""
    match = _VERSION_RE.match(version)
    if match is None:
        return (3, 0, 0, version)  # non-conforming versions come last, alphabetically
    major, stage, minor = match.groups()
    rank = {None: 0, "beta": 1, "alpha": 2}[stage]
    return (rank, -int(major), -int(minor or 0), version)


@dataclass
class ResourceRegistry:
    """Resource types by group/version/plural, in registration order (discovery lists them so)."""

    _by_gvr: dict[tuple[str, str, str], ResourceSpec] = field(default_factory=dict)

    def register(self, spec: ResourceSpec) -> None:
        self._by_gvr[(spec.group, spec.version, spec.plural)] = spec

    def unregister(self, group: str, version: str, plural: str) -> ResourceSpec | None:
        return self._by_gvr.pop((group, version, plural), None)

    def get(self, group: str, version: str, plural: str) -> ResourceSpec | None:
        return self._by_gvr.get((group, version, plural))

    def __iter__(self) -> Iterator[ResourceSpec]:
        return iter(list(self._by_gvr.values()))

    def in_group_version(self, group: str, version: str) -> list[ResourceSpec]:
        return [spec for spec in self if spec.group == group and spec.version == version]

    def versions_of(self, group: str) -> list[str]:
        versions = {spec.version for spec in self if spec.group == group}
        return sorted(versions, key=version_priority)

    def groups(self) -> list[str]:
        seen: dict[str, None] = {}
        for spec in self:
            if spec.group:
                seen.setdefault(spec.group, None)
        return list(seen)

    def versions_sharing_storage(self, key: tuple[str, str]) -> Iterable[ResourceSpec]:
        return [spec for spec in self if spec.storage_key == key]
