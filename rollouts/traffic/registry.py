"""Which router a Rollout's ``trafficRouting`` names: the registry of the meshes and ingresses this project drives.

``trafficRouting`` has one field per router (``istio``, ``nginx``, ``alb``, …) and a ``plugins`` map for routers
Argo runs as plugins (``plugins["argoproj-labs/gatewayAPI"]``). Each is known here by its key: the field name, or
``plugins/<plugin name>``. The first one set that has a router is used. A router Argo knows but this project does
not drive yet, or a managed-route step (or an experiment template's ``weight``) the chosen router cannot carry out,
is a clear problem naming the field (``routing_issues``, which validation reports as InvalidSpec and lint as an
error), never a silent no-op.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from kube.issues import FieldIssue
from rollouts.models import CanaryStrategy, TrafficRouting
from rollouts.traffic.gateway_api import GATEWAY_API_KEY, GATEWAY_API_PLUGIN, GatewayApiRouter, config_issue
from rollouts.traffic.gateway_api_mirror import mirror_match_issues
from rollouts.traffic.istio_router import ISTIO, IstioRouter
from rollouts.traffic.nginx import NGINX, NginxRouter
from rollouts.traffic.router import EXPERIMENT_WEIGHT, HEADER_ROUTE_STEP, MIRROR_ROUTE_STEP, TrafficRouter

CANARY_PATH: Final = "spec.strategy.canary"
ROUTING_PATH: Final = f"{CANARY_PATH}.trafficRouting"
PLUGIN_PREFIX: Final = "plugins/"

# The routers Argo Rollouts has, as ``trafficRouting`` spells them (snake_case on the model); plugins apart.
ARGO_MESHES: Final = ("istio", "nginx", "alb", "smi", "ambassador", "app_mesh", "traefik", "apisix")

ROUTERS: Final[Mapping[str, TrafficRouter]] = MappingProxyType(
    {ISTIO: IstioRouter(), NGINX: NginxRouter(), GATEWAY_API_KEY: GatewayApiRouter()}
)


@dataclass(frozen=True)
class RouterChoice:
    """The router to use (and its key), or why there is none."""

    router: TrafficRouter | None
    problem: str | None = None
    key: str | None = None


def named_routers(routing: TrafficRouting) -> list[str]:
    """The keys of the routers ``routing`` sets, in Argo's order of fields, then plugins as written."""
    named = [mesh for mesh in ARGO_MESHES if getattr(routing, mesh, None) is not None]
    return named + [f"{PLUGIN_PREFIX}{plugin}" for plugin in routing.plugins or {}]


def router_field(key: str) -> str:
    """The manifest's path of the router with this key, e.g. ``trafficRouting.appMesh`` or
    ``trafficRouting.plugins.argoproj-labs/gatewayAPI``."""
    if key.startswith(PLUGIN_PREFIX):
        return f"trafficRouting.plugins.{key.removeprefix(PLUGIN_PREFIX)}"
    head, *rest = key.split("_")
    return "trafficRouting." + head + "".join(part.title() for part in rest)


def router_for(routing: TrafficRouting, routers: Mapping[str, TrafficRouter] = ROUTERS) -> RouterChoice:
    """The router of the first one ``routing`` names that has one in ``routers``."""
    named = named_routers(routing)
    for key in named:
        if key in routers:
            return RouterChoice(routers[key], key=key)
    spelled = ", ".join(router_field(key) for key in named) or "this trafficRouting"
    supported = ", ".join(router_field(key) for key in routers)
    return RouterChoice(None, f"{spelled} is not supported yet (only {supported})")


def routing_issues(canary: CanaryStrategy, routers: Mapping[str, TrafficRouter] = ROUTERS) -> list[FieldIssue]:
    """What this project cannot route of a canary's valid ``trafficRouting``: a router it does not drive, a router
    configuration it cannot use, or a header or mirror step the chosen router cannot carry out (each issue names
    the field to change)."""
    routing = canary.traffic_routing
    if routing is None:
        return []
    choice = router_for(routing, routers)
    if choice.router is None:
        named = named_routers(routing)
        supported = ", ".join(router_field(key) for key in routers)
        if not named:
            return [FieldIssue(ROUTING_PATH, f"names no traffic router (supported: {supported})")]
        return [
            FieldIssue(f"{CANARY_PATH}.{router_field(key)}", f"is not supported yet (supported: {supported})")
            for key in named
        ]
    issues = _configuration_issues(choice.key or "", routing, canary)
    for index, step in enumerate(canary.steps):
        for action, set_ in ((HEADER_ROUTE_STEP, step.set_header_route), (MIRROR_ROUTE_STEP, step.set_mirror_route)):
            if set_ is not None and action not in choice.router.steps:
                issues.append(
                    FieldIssue(
                        f"{CANARY_PATH}.steps[{index}].{action}",
                        f"is not supported by {router_field(choice.key or '')}",
                    )
                )
        if step.experiment is not None and EXPERIMENT_WEIGHT not in choice.router.steps:
            issues += [
                FieldIssue(
                    f"{CANARY_PATH}.steps[{index}].experiment.templates[{position}].weight",
                    f"is not supported by {router_field(choice.key or '')} (an experiment's traffic needs Istio)",
                )
                for position, template in enumerate(step.experiment.templates)
                if template.weight is not None
            ]
    return issues


def _configuration_issues(key: str, routing: TrafficRouting, canary: CanaryStrategy) -> list[FieldIssue]:
    """What the NGINX and Gateway API routers need from the manifest (Istio's needs are checked with the spec)."""
    issues: list[FieldIssue] = []
    if key == NGINX and routing.nginx is not None and not routing.nginx.all_stable_ingresses:
        issues.append(FieldIssue(f"{ROUTING_PATH}.nginx.stableIngress", "is required (or stableIngresses)"))
    if key == GATEWAY_API_KEY:
        problem = config_issue((routing.plugins or {}).get(GATEWAY_API_PLUGIN))
        if problem is not None:
            issues.append(FieldIssue(f"{CANARY_PATH}.{problem[0]}", problem[1]))
        for name, value in (("canaryService", canary.canary_service), ("stableService", canary.stable_service)):
            if not value:
                issues.append(FieldIssue(f"{CANARY_PATH}.{name}", f"is required with {router_field(key)}"))
        for index, step in enumerate(canary.steps):
            if step.set_mirror_route is not None:
                issues += mirror_match_issues(step.set_mirror_route, f"{CANARY_PATH}.steps[{index}].setMirrorRoute")
    return issues
