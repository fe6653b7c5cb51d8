"""What the decision functions see: a Rollout and the objects around it, observed at one moment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from rollouts.istio import virtual_service_location

JsonObject = dict[str, Any]


@dataclass(frozen=True)
class RolloutSnapshot:
    """Everything one reconcile of one Rollout reads; built by the controller from its caches.

    - ``replica_sets``: the ReplicaSets whose controller ownerReference is this Rollout (by uid).
    - ``services``: the Services the strategy names (canary/stable/active/preview) that exist, by name.
    - ``virtual_services``: the VirtualServices the Istio routing names that exist, keyed exactly as the spec
      writes the name (``reviews`` or ``reviews.other-namespace``).
    - ``destination_rule``: the DestinationRule of subset-level routing, when named and present.
    - ``analysis_runs``: the AnalysisRuns owned by this Rollout.
    - ``pods``: the Pods of the owned ReplicaSets (for restartAt).
    """

    rollout: JsonObject
    now: datetime
    replica_sets: tuple[JsonObject, ...] = ()
    services: Mapping[str, JsonObject] = field(default_factory=dict)
    virtual_services: Mapping[str, JsonObject] = field(default_factory=dict)
    destination_rule: JsonObject | None = None
    analysis_runs: tuple[JsonObject, ...] = ()
    pods: tuple[JsonObject, ...] = ()


@dataclass(frozen=True)
class ReferencedObjects:
    """The names of the objects a Rollout's spec points at, which the controller must observe for it."""

    services: tuple[str, ...] = ()
    virtual_services: tuple[tuple[str, str], ...] = ()
    """(name as written in the spec, namespace it lives in)"""
    destination_rule: str | None = None


def referenced_objects(rollout: JsonObject) -> ReferencedObjects:
    """Which Services, VirtualServices and DestinationRule a Rollout manifest names (tolerates invalid specs)."""
    namespace = str(rollout.get("metadata", {}).get("namespace") or "default")
    strategy = rollout.get("spec", {}).get("strategy") or {}
    canary = strategy.get("canary") or {}
    blue_green = strategy.get("blueGreen") or {}
    services = tuple(
        name
        for name in (
            canary.get("canaryService"),
            canary.get("stableService"),
            blue_green.get("activeService"),
            blue_green.get("previewService"),
        )
        if isinstance(name, str) and name
    )
    istio = (canary.get("trafficRouting") or {}).get("istio") or {}
    entries = list(istio.get("virtualServices") or [])
    if istio.get("virtualService"):
        entries.append(istio["virtualService"])
    virtual_services: list[tuple[str, str]] = []
    for entry in entries:
        name = entry.get("name") if isinstance(entry, dict) else None
        if isinstance(name, str) and name:
            # The one rule for name[.namespace[.svc…]], shared with the routing and the controller's cache.
            vs_namespace, _ = virtual_service_location(name, namespace)
            virtual_services.append((name, vs_namespace))
    destination_rule = (istio.get("destinationRule") or {}).get("name")
    return ReferencedObjects(
        services=services,
        virtual_services=tuple(virtual_services),
        destination_rule=destination_rule if isinstance(destination_rule, str) and destination_rule else None,
    )
