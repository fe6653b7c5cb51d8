"""What the decision functions see: a Rollout and the objects around it, observed at one moment."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kube.json_data import JsonObject, object_at
from rollouts.traffic.istio import virtual_service_location


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
    - ``analysis_templates`` / ``cluster_analysis_templates``: the AnalysisTemplates (in the Rollout's namespace)
      and ClusterAnalysisTemplates its analyses name, directly or nested in another template, that exist, by name.
    """

    rollout: JsonObject
    now: datetime
    replica_sets: tuple[JsonObject, ...] = ()
    services: Mapping[str, JsonObject] = field(default_factory=dict)
    virtual_services: Mapping[str, JsonObject] = field(default_factory=dict)
    destination_rule: JsonObject | None = None
    analysis_runs: tuple[JsonObject, ...] = ()
    pods: tuple[JsonObject, ...] = ()
    analysis_templates: Mapping[str, JsonObject] = field(default_factory=dict)
    cluster_analysis_templates: Mapping[str, JsonObject] = field(default_factory=dict)
    background_errors_hold_promotion: bool = True
    """A controller setting rather than an observation: whether a background run whose latest measurements are
    Errors holds full promotion (``rollouts.gating.background``); false is Argo's behaviour."""


@dataclass(frozen=True)
class ReferencedObjects:
    """The names of the objects a Rollout's spec points at, which the controller must observe for it."""

    services: tuple[str, ...] = ()
    virtual_services: tuple[tuple[str, str], ...] = ()
    """(name as written in the spec, namespace it lives in)"""
    destination_rule: str | None = None
    analysis_templates: tuple[str, ...] = ()
    """AnalysisTemplates the analyses name directly (templates nest: the cache follows those references)"""
    cluster_analysis_templates: tuple[str, ...] = ()


def referenced_objects(rollout: JsonObject) -> ReferencedObjects:
    """Which Services, VirtualServices and DestinationRule a Rollout manifest names (tolerates invalid specs)."""
    namespace = str(object_at(rollout, "metadata").get("namespace") or "default")
    # Read before validation: any part may be ill-formed (`spec: [1, 2]`), and then names nothing.
    strategy = object_at(rollout, "spec", "strategy")
    canary = object_at(strategy, "canary")
    blue_green = object_at(strategy, "blueGreen")
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
    istio = object_at(canary, "trafficRouting", "istio")
    listed = istio.get("virtualServices")
    entries = list(listed) if isinstance(listed, list) else []
    if istio.get("virtualService"):
        entries.append(istio["virtualService"])
    virtual_services: list[tuple[str, str]] = []
    for entry in entries:
        name = entry.get("name") if isinstance(entry, dict) else None
        if isinstance(name, str) and name:
            # The one rule for name[.namespace[.svc…]], shared with the routing and the controller's cache.
            vs_namespace, _ = virtual_service_location(name, namespace)
            virtual_services.append((name, vs_namespace))
    destination_rule = object_at(istio, "destinationRule").get("name")
    analyses: list[Any] = [
        canary.get("analysis"),
        blue_green.get("prePromotionAnalysis"),
        blue_green.get("postPromotionAnalysis"),
    ]
    steps = canary.get("steps")
    analyses += [step.get("analysis") for step in steps if isinstance(step, dict)] if isinstance(steps, list) else []
    namespaced, cluster_scoped = template_names(analyses)
    return ReferencedObjects(
        services=services,
        virtual_services=tuple(virtual_services),
        destination_rule=destination_rule if isinstance(destination_rule, str) and destination_rule else None,
        analysis_templates=namespaced,
        cluster_analysis_templates=cluster_scoped,
    )


def template_names(analyses: Iterable[Any]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(AnalysisTemplate names, ClusterAnalysisTemplate names) that the ``templates`` lists of these analyses (a
    Rollout's, or a template's own spec) name, each once, in order; anything malformed is passed over."""
    namespaced: dict[str, None] = {}
    cluster_scoped: dict[str, None] = {}
    for analysis in analyses:
        references = analysis.get("templates") if isinstance(analysis, Mapping) else None
        for reference in references if isinstance(references, list) else ():
            name = reference.get("templateName") if isinstance(reference, Mapping) else None
            if isinstance(name, str) and name:
                (cluster_scoped if reference.get("clusterScope") is True else namespaced)[name] = None
    return tuple(namespaced), tuple(cluster_scoped)
