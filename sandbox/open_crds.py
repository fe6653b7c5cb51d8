"""CustomResourceDefinitions of other projects' kinds (Istio's, the Gateway API's) as the sandbox serves them: every
version served, one of them stored, with a schema that keeps every field — the sandbox stores such objects and
its simulators read them; it does not validate them. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

_OPEN_OBJECT: Final = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
_AGE_COLUMN: Final = {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}


def open_crd(
    group: str,
    kind: str,
    plural: str,
    *,
    versions: Sequence[str],
    storage_version: str,
    columns: Sequence[Mapping[str, str]],
    short_names: Sequence[str] = (),
    categories: Sequence[str] = (),
    labels: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A namespaced CRD of ``kind`` served at each of ``versions`` with a status subresource, ``columns`` then
    Age as its printer columns."""
    names: dict[str, Any] = {"kind": kind, "listKind": f"{kind}List", "plural": plural, "singular": kind.lower()}
    if short_names:
        names["shortNames"] = list(short_names)
    names["categories"] = list(categories)
    metadata: dict[str, Any] = {"name": f"{plural}.{group}"}
    if labels:
        metadata["labels"] = dict(labels)
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": metadata,
        "spec": {
            "group": group,
            "names": names,
            "scope": "Namespaced",
            "versions": [_served_version(version, version == storage_version, columns) for version in versions],
        },
    }


def _served_version(name: str, storage: bool, columns: Sequence[Mapping[str, str]]) -> dict[str, Any]:
    return {
        "name": name,
        "served": True,
        "storage": storage,
        "schema": {
            "openAPIV3Schema": {
                "type": "object",
                "properties": {"spec": dict(_OPEN_OBJECT), "status": dict(_OPEN_OBJECT)},
                "x-kubernetes-preserve-unknown-fields": True,
            }
        },
        "subresources": {"status": {}},
        "additionalPrinterColumns": [*(dict(column) for column in columns), dict(_AGE_COLUMN)],
    }
