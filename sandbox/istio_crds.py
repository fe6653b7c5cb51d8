"""Istio's VirtualService and DestinationRule CustomResourceDefinitions, as the sandbox serves them.

Each kind is served at networking.istio.io v1alpha3 (the storage version, as in Istio's own CRDs), v1beta1
and v1. The schema keeps every field: the sandbox stores routes, it does not validate them.
"""

from __future__ import annotations

from typing import Any, Final

ISTIO_NETWORKING_GROUP: Final = "networking.istio.io"
ISTIO_VERSIONS: Final = ("v1alpha3", "v1beta1", "v1")
ISTIO_STORAGE_VERSION: Final = "v1alpha3"

_OPEN_OBJECT: Final = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}


def _istio_crd(kind: str, plural: str, short_name: str, columns: list[dict[str, str]]) -> dict[str, Any]:
    versions: list[dict[str, Any]] = [
        {
            "name": version,
            "served": True,
            "storage": version == ISTIO_STORAGE_VERSION,
            "schema": {
                "openAPIV3Schema": {
                    "type": "object",
                    "properties": {"spec": dict(_OPEN_OBJECT), "status": dict(_OPEN_OBJECT)},
                    "x-kubernetes-preserve-unknown-fields": True,
                }
            },
            "subresources": {"status": {}},
            "additionalPrinterColumns": [
                *columns,
                {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
            ],
        }
        for version in ISTIO_VERSIONS
    ]
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": f"{plural}.{ISTIO_NETWORKING_GROUP}",
            "labels": {"app": "istio-pilot", "chart": "istio", "heritage": "Tiller", "release": "istio"},
        },
        "spec": {
            "group": ISTIO_NETWORKING_GROUP,
            "names": {
                "kind": kind,
                "listKind": f"{kind}List",
                "plural": plural,
                "singular": kind.lower(),
                "shortNames": [short_name],
                "categories": ["istio-io", "networking-istio-io"],
            },
            "scope": "Namespaced",
            "versions": versions,
        },
    }


def virtual_service_crd() -> dict[str, Any]:
    return _istio_crd(
        "VirtualService",
        "virtualservices",
        "vs",
        [
            {"name": "Gateways", "type": "string", "jsonPath": ".spec.gateways"},
            {"name": "Hosts", "type": "string", "jsonPath": ".spec.hosts"},
        ],
    )


def destination_rule_crd() -> dict[str, Any]:
    return _istio_crd(
        "DestinationRule",
        "destinationrules",
        "dr",
        [{"name": "Host", "type": "string", "jsonPath": ".spec.host"}],
    )


def istio_crds() -> list[dict[str, Any]]:
    return [virtual_service_crd(), destination_rule_crd()]
