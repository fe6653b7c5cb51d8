"""Discovery documents (``/api``, ``/apis``, ``/apis/<group>[/<version>]``, ``/version``) from the registry.

Shaped as a real API server's legacy (non-aggregated) discovery: kubectl and kopf both fall back to it.
Subresources appear only as ``<plural>/<sub>`` entries without short names or categories; kubectl refuses
short names such as ``ns`` when a subresource entry also claims them.
"""

from __future__ import annotations

from typing import Any

from sandbox.emulator.resources import ResourceRegistry, ResourceSpec

SERVER_VERSION = {
    "major": "1",
    "minor": "32",
    "gitVersion": "v1.32.0-emulator",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2025-01-01T00:00:00Z",
    "goVersion": "go1.23.0",
    "compiler": "gc",
    "platform": "linux/amd64",
}

_SUBRESOURCE_VERBS = {
    "status": ["get", "patch", "update"],
    "scale": ["get", "patch", "update"],
}


def api_versions() -> dict[str, Any]:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"}],
    }


def _group_document(registry: ResourceRegistry, group: str) -> dict[str, Any]:
    versions = registry.versions_of(group)
    return {
        "name": group,
        "versions": [{"groupVersion": f"{group}/{v}", "version": v} for v in versions],
        "preferredVersion": {"groupVersion": f"{group}/{versions[0]}", "version": versions[0]},
    }


def api_group_list(registry: ResourceRegistry) -> dict[str, Any]:
    return {
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [_group_document(registry, group) for group in registry.groups()],
    }


def api_group(registry: ResourceRegistry, group: str) -> dict[str, Any] | None:
    if not registry.versions_of(group):
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group_document(registry, group)}


def _resource_entries(spec: ResourceSpec) -> list[dict[str, Any]]:
    main: dict[str, Any] = {
        "name": spec.plural,
        "singularName": spec.singular_name,
        "namespaced": spec.namespaced,
        "kind": spec.kind,
        "verbs": list(spec.verbs),
    }
    if spec.short_names:
        main["shortNames"] = list(spec.short_names)
    if spec.categories:
        main["categories"] = list(spec.categories)
    entries = [main]
    for sub in sorted(spec.subresources):
        entry: dict[str, Any] = {
            "name": f"{spec.plural}/{sub}",
            "singularName": "",
            "namespaced": spec.namespaced,
            "kind": spec.kind,
            "verbs": _SUBRESOURCE_VERBS.get(sub, ["get"]),
        }
        if sub == "scale":
            entry.update(kind="Scale", group="autoscaling", version="v1")
        entries.append(entry)
    return entries


def api_resource_list(registry: ResourceRegistry, group: str, version: str) -> dict[str, Any] | None:
    specs = registry.in_group_version(group, version)
    if not specs and group:
        return None
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": f"{group}/{version}" if group else version,
        "resources": [entry for spec in specs for entry in _resource_entries(spec)],
    }
