"""Istio's VirtualService and DestinationRule CustomResourceDefinitions, as the sandbox serves them.

Each kind is served at networking.istio.io v1alpha3 (the storage version, as in Istio's own CRDs), v1beta1
and v1. The schema keeps every field: the sandbox stores routes, it does not validate them.
"""

from __future__ import annotations

from typing import Any, Final

from sandbox.open_crds import open_crd

ISTIO_NETWORKING_GROUP: Final = "networking.istio.io"
ISTIO_VERSIONS: Final = ("v1alpha3", "v1beta1", "v1")
ISTIO_STORAGE_VERSION: Final = "v1alpha3"
_LABELS: Final = {"app": "istio-pilot", "chart": "istio", "heritage": "Tiller", "release": "istio"}
_CATEGORIES: Final = ("istio-io", "networking-istio-io")


def virtual_service_crd() -> dict[str, Any]:
    return open_crd(
        ISTIO_NETWORKING_GROUP, "VirtualService", "virtualservices",
        versions=ISTIO_VERSIONS, storage_version=ISTIO_STORAGE_VERSION, short_names=("vs",),
        categories=_CATEGORIES, labels=_LABELS,
        columns=[
            {"name": "Gateways", "type": "string", "jsonPath": ".spec.gateways"},
            {"name": "Hosts", "type": "string", "jsonPath": ".spec.hosts"},
        ],
    )


def destination_rule_crd() -> dict[str, Any]:
    return open_crd(
        ISTIO_NETWORKING_GROUP, "DestinationRule", "destinationrules",
        versions=ISTIO_VERSIONS, storage_version=ISTIO_STORAGE_VERSION, short_names=("dr",),
        categories=_CATEGORIES, labels=_LABELS,
        columns=[{"name": "Host", "type": "string", "jsonPath": ".spec.host"}],
    )


def istio_crds() -> list[dict[str, Any]]:
    return [virtual_service_crd(), destination_rule_crd()]
