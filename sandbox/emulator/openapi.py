"""OpenAPI v3 documents (``/openapi/v3`` and one per group-version), as kubectl 1.32 reads them.

``kubectl apply`` (validation on, the default) asks ``/openapi/v3`` whether the server takes the
``fieldValidation`` query parameter on PATCH for the object's kind; when it does, kubectl leaves validation to
the server instead of downloading the whole v2 schema. So every resource is published with its paths and that
parameter, and custom resources also with their CRD version's ``openAPIV3Schema`` as a component (what
``kubectl explain`` reads). Built-in kinds get a permissive component (any fields): the emulator does not
carry Kubernetes' schemas. PATCH operations list JSON bodies only, so kubectl computes strategic merge patches
from its compiled-in types rather than from these components, as it does for any server without them.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from sandbox.emulator.discovery import SERVER_VERSION
from sandbox.emulator.resources import ResourceRegistry, ResourceSpec

_QUERY_PARAMETERS = {
    "fieldValidation": "How the server treats unknown or duplicate fields: Ignore, Warn (default) or Strict.",
    "fieldManager": "The name of the actor making these changes.",
    "dryRun": "When present (All), the modification is validated but not persisted.",
}


def group_version_path(group: str, version: str) -> str:
    """The key of a group-version in the ``/openapi/v3`` index: ``api/v1``, ``apis/apps/v1``."""
    return f"apis/{group}/{version}" if group else f"api/{version}"


def schema_name(spec: ResourceSpec) -> str:
    """The component name of a kind: ``io.argoproj.v1alpha1.Rollout``, ``io.k8s.api.apps.v1.Deployment``."""
    if not spec.custom:
        return f"io.k8s.api.{spec.group.split('.')[0] or 'core'}.{spec.version}.{spec.kind}"
    return f"{'.'.join(reversed(spec.group.split('.')))}.{spec.version}.{spec.kind}"


def _gvk(spec: ResourceSpec) -> dict[str, str]:
    return {"group": spec.group, "version": spec.version, "kind": spec.kind}


def _parameters(names: Iterable[str]) -> list[dict[str, Any]]:
    return [{"name": name, "in": "query", "description": _QUERY_PARAMETERS[name], "schema": {"type": "string"},
             "uniqueItems": True} for name in names]


def _reference(spec: ResourceSpec) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{schema_name(spec)}"}


def _operation(spec: ResourceSpec, action: str, parameters: Iterable[str], *, body: bool) -> dict[str, Any]:
    media = {"application/json": {"schema": _reference(spec)}}
    operation: dict[str, Any] = {
        "operationId": f"{action}{spec.kind}",
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": _gvk(spec),
        "parameters": _parameters(parameters),
        "responses": {"200": {"description": "OK", "content": media}},
    }
    if body:
        operation["requestBody"] = {"content": media}
    return operation


def _paths(spec: ResourceSpec) -> dict[str, dict[str, Any]]:
    prefix = f"/apis/{spec.group}/{spec.version}" if spec.group else f"/api/{spec.version}"
    scope = "/namespaces/{namespace}" if spec.namespaced else ""
    collection = f"{prefix}{scope}/{spec.plural}"
    writes = ("dryRun", "fieldManager", "fieldValidation")
    paths = {
        collection: {
            "get": _operation(spec, "list", (), body=False),
            "post": _operation(spec, "post", writes, body=True),
        },
        f"{collection}/{{name}}": {
            "get": _operation(spec, "get", (), body=False),
            "put": _operation(spec, "put", writes, body=True),
            "patch": _operation(spec, "patch", writes, body=True),
            "delete": _operation(spec, "delete", ("dryRun",), body=False),
        },
    }
    if "status" in spec.subresources:
        paths[f"{collection}/{{name}}/status"] = {
            "get": _operation(spec, "get", (), body=False),
            "put": _operation(spec, "put", writes, body=True),
            "patch": _operation(spec, "patch", writes, body=True),
        }
    return paths


_PERMISSIVE = {
    "type": "object",
    "description": "The sandbox's API emulator publishes no schema for this kind: it accepts any fields.",
    "x-kubernetes-preserve-unknown-fields": True,
}


def _component(spec: ResourceSpec) -> dict[str, Any]:
    schema = copy.deepcopy(dict(spec.schema)) if spec.schema is not None else dict(_PERMISSIVE)
    schema["x-kubernetes-group-version-kind"] = [_gvk(spec)]
    return schema


def group_version_document(registry: ResourceRegistry, group: str, version: str) -> dict[str, Any] | None:
    """The OpenAPI v3 document of one group-version; None when the server does not serve it."""
    specs = registry.in_group_version(group, version)
    if not specs:
        return None
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    for spec in specs:
        paths.update(_paths(spec))
        schemas[schema_name(spec)] = _component(spec)
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": SERVER_VERSION["gitVersion"]},
        "paths": paths,
        "components": {"schemas": schemas},
    }


def document_hash(document: Mapping[str, Any]) -> str:
    """The content hash clients use to cache a group-version document (changes when a CRD changes)."""
    return hashlib.sha512(json.dumps(document, sort_keys=True).encode()).hexdigest().upper()


def index(registry: ResourceRegistry) -> dict[str, Any]:
    """``/openapi/v3``: every served group-version with the URL (content hash included) of its document."""
    group_versions = sorted({(spec.group, spec.version) for spec in registry})
    paths: dict[str, Any] = {}
    for group, version in group_versions:
        document = group_version_document(registry, group, version)
        if document is None:
            continue
        key = group_version_path(group, version)
        paths[key] = {"serverRelativeURL": f"/openapi/v3/{key}?hash={document_hash(document)}"}
    return {"paths": paths}


class OpenApiDocuments:
    """The documents above, built once per state of the registry (kubectl fetches them on every apply)."""

    def __init__(self) -> None:
        self._fingerprint: tuple[tuple[ResourceSpec, int], ...] = ()
        self._index: dict[str, Any] | None = None
        self._documents: dict[tuple[str, str], dict[str, Any] | None] = {}

    def _current(self, registry: ResourceRegistry) -> None:
        # Specs compare by value except their schema, which a CRD update replaces by a new mapping.
        fingerprint = tuple((spec, id(spec.schema)) for spec in registry)
        if fingerprint != self._fingerprint:
            self._fingerprint, self._index, self._documents = fingerprint, None, {}

    def index(self, registry: ResourceRegistry) -> dict[str, Any]:
        self._current(registry)
        if self._index is None:
            self._index = index(registry)
        return self._index

    def group_version(self, registry: ResourceRegistry, group: str, version: str) -> dict[str, Any] | None:
        self._current(registry)
        if (group, version) not in self._documents:
            self._documents[(group, version)] = group_version_document(registry, group, version)
        return self._documents[(group, version)]
