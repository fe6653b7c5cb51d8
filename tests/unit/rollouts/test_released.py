"""Objects a Rollout let go of: Argo's Service controller takes the pod-template hash out of the selector of a Service
no Rollout references, and its Istio controller takes the hash labels out of the subsets of a DestinationRule its
managing Rollout no longer references, with the managed-by annotation."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from kube.resources import SERVICES
from rollouts.hashing import HASH_LABEL
from rollouts.plan import Patch
from rollouts.reconcile import decide
from rollouts.released import released_destination_rule_patch, released_service_patch
from tests.unit.rollouts.builders import deployed, writes_of

MANAGED_BY = "argo-rollouts.argoproj.io/managed-by-rollouts"


def service(*, selector: dict[str, str], annotated: bool = True) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": "reviews-active", "namespace": "default"}
    if annotated:
        metadata["annotations"] = {MANAGED_BY: "reviews", "team": "shop"}
    return {"metadata": metadata, "spec": {"selector": selector}}


def rule(subsets: list[dict[str, Any]], *, annotated: bool = True) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": "reviews-rule", "namespace": "default", "resourceVersion": "9"}
    if annotated:
        metadata["annotations"] = {MANAGED_BY: "reviews"}
    return {"metadata": metadata, "spec": {"host": "reviews", "subsets": subsets}}


def test_a_released_service_loses_the_hash_selector_and_the_annotation() -> None:
    patch = released_service_patch(service(selector={"app": "reviews", HASH_LABEL: "abc123"}), "default")
    assert patch == Patch(
        kind=SERVICES,
        namespace="default",
        name="reviews-active",
        patch={"spec": {"selector": {HASH_LABEL: None}}, "metadata": {"annotations": {MANAGED_BY: None}}},
    )


def test_a_service_with_nothing_of_the_rollout_left_needs_no_patch() -> None:
    assert released_service_patch(service(selector={"app": "reviews"}, annotated=False), "default") is None


def test_a_released_destination_rule_loses_every_subset_hash_label_and_the_annotation() -> None:
    subsets = [
        {"name": "stable", "labels": {"app": "reviews", HASH_LABEL: "abc123"}},
        {"name": "canary", "labels": {HASH_LABEL: "def456"}},
        {"name": "extra", "labels": {"app": "reviews", "track": "x"}},
    ]
    patch = released_destination_rule_patch(rule(subsets), "default")
    assert patch is not None
    assert patch.patch == {
        "spec": {
            "subsets": [
                {"name": "stable", "labels": {"app": "reviews"}},
                {"name": "canary"},
                {"name": "extra", "labels": {"app": "reviews", "track": "x"}},
            ]
        },
        "metadata": {"annotations": {MANAGED_BY: None}, "resourceVersion": "9"},
    }


def test_a_clean_destination_rule_needs_no_patch() -> None:
    assert released_destination_rule_patch(rule([{"name": "stable"}], annotated=False), "default") is None


def test_a_pass_releases_what_the_snapshot_says_the_rollout_let_go_of() -> None:
    cluster = deployed("reviews:v1")
    old_active = service(selector={"app": "reviews", HASH_LABEL: "abc123"})
    old_rule = rule([{"name": "stable", "labels": {HASH_LABEL: "abc123"}}])
    plan = decide(
        replace(cluster.snapshot(), released_services=(old_active,), released_destination_rules=(old_rule,))
    )
    assert [w.name for w in writes_of(plan, "Service")] == ["reviews-active"]
    assert [w.name for w in writes_of(plan, "DestinationRule")] == ["reviews-rule"]
