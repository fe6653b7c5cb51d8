"""referenced_objects: the names a Rollout's spec points at, and where its VirtualServices live."""

from __future__ import annotations

from typing import Any

import pytest

from rollouts.snapshot import ReferencedObjects, referenced_objects
from rollouts.traffic.istio import virtual_service_location


def rollout(*virtual_services: Any, namespace: str | None = "shop", legacy: str | None = None) -> dict[str, Any]:
    istio: dict[str, Any] = {"virtualServices": [{"name": name, "routes": ["primary"]} for name in virtual_services]}
    if legacy is not None:
        istio["virtualService"] = {"name": legacy}
    metadata: dict[str, Any] = {"name": "reviews"}
    if namespace is not None:
        metadata["namespace"] = namespace
    return {
        "metadata": metadata,
        "spec": {"strategy": {"canary": {
            "canaryService": "reviews-canary",
            "stableService": "reviews-stable",
            "trafficRouting": {"istio": {**istio, "destinationRule": {"name": "reviews-dr"}}},
        }}},
    }


@pytest.mark.parametrize(
    ("spec_name", "namespace"),
    [
        ("reviews", "shop"),
        ("reviews.mesh", "mesh"),
        # As Argo: only the first two dot-separated parts count, not the cluster domain after them.
        ("reviews.mesh.svc.cluster.local", "mesh"),
        ("reviews.mesh.svc", "mesh"),
    ],
)
def test_a_virtual_service_lives_in_the_namespace_its_second_name_part_gives(spec_name: str, namespace: str) -> None:
    references = referenced_objects(rollout(spec_name))
    assert references.virtual_services == ((spec_name, namespace),)


@pytest.mark.parametrize(
    "spec_name", ["reviews", "reviews.mesh", "reviews.mesh.svc.cluster.local", "a.b.c", "reviews."],
)
def test_the_namespace_agrees_with_the_routing_rule(spec_name: str) -> None:
    # One rule for the routing (istio), the controller's cache and the snapshot: they must never disagree.
    ((_, namespace),) = referenced_objects(rollout(spec_name)).virtual_services
    assert namespace == virtual_service_location(spec_name, "shop")[0]


def test_a_rollout_without_a_namespace_is_in_default() -> None:
    references = referenced_objects(rollout("reviews", "reviews.mesh.svc.cluster.local", namespace=None))
    assert references.virtual_services == (("reviews", "default"), ("reviews.mesh.svc.cluster.local", "mesh"))


def test_every_name_the_spec_gives_is_referenced() -> None:
    references = referenced_objects(rollout("reviews", "ratings.mesh", legacy="details.other.svc.cluster.local"))
    assert references == ReferencedObjects(
        services=("reviews-canary", "reviews-stable"),
        virtual_services=(("reviews", "shop"), ("ratings.mesh", "mesh"), ("details.other.svc.cluster.local", "other")),
        destination_rule="reviews-dr",
    )


def test_invalid_entries_are_skipped() -> None:
    manifest = rollout()
    manifest["spec"]["strategy"]["canary"]["trafficRouting"]["istio"]["virtualServices"] = [
        "not-a-mapping", {"name": ""}, {"name": 5}, {"routes": []}, {"name": "reviews.mesh.svc.cluster.local"},
    ]
    assert referenced_objects(manifest).virtual_services == (("reviews.mesh.svc.cluster.local", "mesh"),)


def test_the_analysis_templates_every_analysis_names_are_referenced_once() -> None:
    manifest = rollout("reviews")
    canary = manifest["spec"]["strategy"]["canary"]
    errors = {"templateName": "errors", "clusterScope": True}
    canary["steps"] = [
        {"setWeight": 10},
        {"analysis": {"templates": [{"templateName": "success-rate"}, errors]}},
        {"analysis": {"templates": [{"templateName": "success-rate"}, {"templateName": "latency"}]}},
    ]
    canary["analysis"] = {"templates": [{"templateName": "errors", "clusterScope": True}, {"templateName": ""}]}
    found = referenced_objects(manifest)
    assert found.analysis_templates == ("success-rate", "latency")
    assert found.cluster_analysis_templates == ("errors",)


def test_blue_green_promotion_analyses_reference_their_templates() -> None:
    manifest = {
        "metadata": {"name": "reviews-bg"},
        "spec": {"strategy": {"blueGreen": {
            "activeService": "active",
            "prePromotionAnalysis": {"templates": [{"templateName": "smoke-test"}]},
            "postPromotionAnalysis": {"templates": [{"templateName": "smoke-test"}, {"templateName": "load"}]},
        }}},
    }
    assert referenced_objects(manifest).analysis_templates == ("smoke-test", "load")


def test_the_ping_and_pong_services_are_referenced() -> None:
    # The controller reads and keeps the two Services (they are not released while the spec names them).
    manifest = rollout()
    manifest["spec"]["strategy"]["canary"]["pingPong"] = {"pingService": "reviews-ping", "pongService": "reviews-pong"}
    assert referenced_objects(manifest).services == ("reviews-canary", "reviews-stable", "reviews-ping", "reviews-pong")
