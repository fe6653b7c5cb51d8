"""The Kubernetes Gateway API's HTTPRoute CustomResourceDefinition, as the sandbox serves it.

Served at gateway.networking.k8s.io v1 (the storage version) and v1beta1, as the Gateway API's standard channel
does. The schema keeps every field: the sandbox stores routes and its mesh follows their backendRef weights; it
does not validate them.
"""

from __future__ import annotations

from typing import Any, Final

from sandbox.open_crds import open_crd

GATEWAY_API_GROUP: Final = "gateway.networking.k8s.io"
GATEWAY_API_VERSIONS: Final = ("v1", "v1beta1")
GATEWAY_API_STORAGE_VERSION: Final = "v1"


def http_route_crd() -> dict[str, Any]:
    return open_crd(
        GATEWAY_API_GROUP, "HTTPRoute", "httproutes",
        versions=GATEWAY_API_VERSIONS, storage_version=GATEWAY_API_STORAGE_VERSION, categories=("gateway-api",),
        columns=[{"name": "Hostnames", "type": "string", "jsonPath": ".spec.hostnames"}],
    )


def gateway_api_crds() -> list[dict[str, Any]]:
    return [http_route_crd()]
