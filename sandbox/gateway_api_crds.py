"""The Kubernetes Gateway API's HTTPRoute CustomResourceDefinition, as the sandbox serves it.

Served at gateway.networking.k8s.io v1 (the storage version) and v1beta1, as the Gateway API's standard channel
does. The schema keeps every field: the sandbox stores routes and its mesh follows their backendRef weights; it
does not validate them.
"""

from __future__ import annotations

from typing import Any, Final

GATEWAY_API_GROUP: Final = "gateway.networking.k8s.io"
GATEWAY_API_VERSIONS: Final = ("v1", "v1beta1")
GATEWAY_API_STORAGE_VERSION: Final = "v1"

_OPEN_OBJECT: Final = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}


def http_route_crd() -> dict[str, Any]:
    versions: list[dict[str, Any]] = [
        {
            "name": version,
            "served": True,
            "storage": version == GATEWAY_API_STORAGE_VERSION,
            "schema": {
                "openAPIV3Schema": {
                    "type": "object",
                    "properties": {"spec": dict(_OPEN_OBJECT), "status": dict(_OPEN_OBJECT)},
                    "x-kubernetes-preserve-unknown-fields": True,
                }
            },
            "subresources": {"status": {}},
            "additionalPrinterColumns": [
                {"name": "Hostnames", "type": "string", "jsonPath": ".spec.hostnames"},
                {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
            ],
        }
        for version in GATEWAY_API_VERSIONS
    ]
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"httproutes.{GATEWAY_API_GROUP}"},
        "spec": {
            "group": GATEWAY_API_GROUP,
            "names": {
                "kind": "HTTPRoute",
                "listKind": "HTTPRouteList",
                "plural": "httproutes",
                "singular": "httproute",
                "categories": ["gateway-api"],
            },
            "scope": "Namespaced",
            "versions": versions,
        },
    }


def gateway_api_crds() -> list[dict[str, Any]]:
    return [http_route_crd()]
