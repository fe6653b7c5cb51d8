"""What the decision functions see: a Rollout and the objects around it, observed at one moment."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from kube.json_data import JsonObject, object_at
from rollouts.traffic.gateway_api import GATEWAY_API_PLUGIN, http_route_references
from rollouts.traffic.istio import virtual_service_location
from rollouts.traffic.nginx import canary_ingress_name
from rollouts.workload_kinds import DEPLOYMENT, FOLLOWED

if TYPE_CHECKING:
    from rollouts.parsed import ParsedRollout


@dataclass(frozen=True)
class RolloutSnapshot:
    """Everything one reconcile of one Rollout reads; built by the controller from its caches.

    - ``replica_sets``: the ReplicaSets whose controller ownerReference is this Rollout (by uid).
    - ``services``: the Services the strategy names (canary/stable/ping/pong/active/preview) that exist, by name.
    - ``virtual_services``: the VirtualServices the Istio routing names that exist, keyed exactly as the spec
      writes the name (``reviews`` or ``reviews.other-namespace``).
    - ``destination_rule``: the DestinationRule of subset-level routing, when named and present.
    - ``ingresses``: NGINX routing's Ingresses (the stable one and the canary one the Rollout creates) that exist,
      by name (in the Rollout's namespace).
    - ``http_routes``: the Gateway API HTTPRoutes the gatewayAPI plugin names that exist, by name.
    - ``analysis_runs``: the AnalysisRuns owned by this Rollout.
    - ``experiments``: the Experiments owned by this Rollout (its canary experiment steps).
    - ``pods``: the Pods of the owned ReplicaSets (for restartAt).
    - ``workload``: the Deployment or ReplicaSet ``spec.workloadRef`` names, when it exists (in the Rollout's
      namespace).
    - ``analysis_templates`` / ``cluster_analysis_templates``: the AnalysisTemplates (in the Rollout's namespace)
      and ClusterAnalysisTemplates its analyses name, directly or nested in another template, that exist, by name.
    - ``released_services`` / ``released_destination_rules``: what it managed and let go of (``rollouts.released``).
    """

    rollout: JsonObject
    now: datetime
    replica_sets: tuple[JsonObject, ...] = ()
    services: Mapping[str, JsonObject] = field(default_factory=dict)
    virtual_services: Mapping[str, JsonObject] = field(default_factory=dict)
    destination_rule: JsonObject | None = None
    ingresses: Mapping[str, JsonObject] = field(default_factory=dict)
    http_routes: Mapping[str, JsonObject] = field(default_factory=dict)
    analysis_runs: tuple[JsonObject, ...] = ()
    experiments: tuple[JsonObject, ...] = ()
    pods: tuple[JsonObject, ...] = ()
    analysis_templates: Mapping[str, JsonObject] = field(default_factory=dict)
    cluster_analysis_templates: Mapping[str, JsonObject] = field(default_factory=dict)
    released_services: tuple[JsonObject, ...] = ()
    """Services this Rollout manages (by the managed-by annotation) that no Rollout's spec names any more."""
    released_destination_rules: tuple[JsonObject, ...] = ()
    """DestinationRules this Rollout manages (by the managed-by annotation) that its spec no longer names."""
    workload: JsonObject | None = None
    foreign_replica_set_names: frozenset[str] = frozenset()
    """Names of ReplicaSets in the Rollout's namespace named ``<rollout>-…`` that it does not own: the name of its
    next ReplicaSet must not be one of them (``status.collisionCount``)."""
    parsed: ParsedRollout | None = None
    """``rollout`` already parsed and validated (the controller keeps one per resourceVersion); ``decide`` uses it
    only when its manifest is this very ``rollout`` object, and parses the manifest itself otherwise."""
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
    ingresses: tuple[str, ...] = ()
    """NGINX routing: each stable Ingress and the canary Ingress the Rollout keeps beside it (its namespace)"""
    http_routes: tuple[tuple[str, str], ...] = ()
    """Gateway API routing: (name, namespace) of each HTTPRoute"""
    analysis_templates: tuple[str, ...] = ()
    """AnalysisTemplates the analyses name directly (templates nest: the cache follows those references)"""
    cluster_analysis_templates: tuple[str, ...] = ()
    workload: str | None = None
    """The workload ``spec.workloadRef`` names (its namespace), whose pod template the Rollout runs"""
    workload_kind: str = DEPLOYMENT
    """Its kind: a Deployment or a ReplicaSet (``rollouts.workload_kinds``)"""


def referenced_objects(rollout: JsonObject) -> ReferencedObjects:
    """Which Services, VirtualServices and DestinationRule a Rollout manifest names (tolerates invalid specs)."""
    namespace = str(object_at(rollout, "metadata").get("namespace") or "default")
    # Read before validation: any part may be ill-formed (`spec: [1, 2]`), and then names nothing.
    strategy = object_at(rollout, "spec", "strategy")
    canary = object_at(strategy, "canary")
    blue_green = object_at(strategy, "blueGreen")
    ping_pong = object_at(canary, "pingPong")
    services = tuple(
        name
        for name in (
            canary.get("canaryService"),
            canary.get("stableService"),
            ping_pong.get("pingService"),
            ping_pong.get("pongService"),
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
    ingresses, http_routes = _router_objects(rollout, canary.get("trafficRouting") or {}, namespace)
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
        ingresses=ingresses,
        http_routes=http_routes,
        analysis_templates=namespaced,
        cluster_analysis_templates=cluster_scoped,
        workload=_workload_name(object_at(rollout, "spec").get("workloadRef")),
        workload_kind=str(object_at(rollout, "spec", "workloadRef").get("kind") or DEPLOYMENT),
    )


def _workload_name(reference: Any) -> str | None:
    """The name of the workload a workloadRef names; None for a kind not followed (refused by validation)."""
    if not isinstance(reference, Mapping) or reference.get("kind") not in FOLLOWED:
        return None
    name = reference.get("name")
    return name if isinstance(name, str) and name else None


def _router_objects(
    rollout: JsonObject, routing: Any, namespace: str
) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """The Ingresses NGINX routing names (with the canary Ingresses it keeps) and the HTTPRoutes the Gateway API
    plugin names, by the routers' own rules; nothing for a malformed spec."""
    if not isinstance(routing, dict):
        return (), ()
    name = str(rollout.get("metadata", {}).get("name") or "")
    nginx = routing.get("nginx")
    ingresses: list[str] = []
    if isinstance(nginx, dict):
        stable = [nginx.get("stableIngress"), *(nginx.get("stableIngresses") or [])]
        for ingress in stable:
            if isinstance(ingress, str) and ingress and ingress not in ingresses:
                ingresses += [ingress, canary_ingress_name(name, ingress)]
    plugins = routing.get("plugins")
    references = (
        http_route_references(plugins.get(GATEWAY_API_PLUGIN), namespace)
        if isinstance(plugins, dict) and GATEWAY_API_PLUGIN in plugins
        else None
    )
    if references is None or isinstance(references, str):
        return tuple(ingresses), ()
    return tuple(ingresses), tuple((route, references.namespace) for route in references.names)


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
