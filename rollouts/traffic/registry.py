"""Which router a Rollout's ``trafficRouting`` names: the registry of the meshes this project can drive.

``trafficRouting`` has one field per mesh (``istio``, ``nginx``, ``alb``, …); the first one set that has a router
here is used. A mesh Argo knows but this project does not route yet is a clear problem, not a silent no-op.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from rollouts.models import TrafficRouting
from rollouts.traffic.istio import IstioRouter
from rollouts.traffic.router import TrafficRouter

# The meshes Argo Rollouts supports, as ``trafficRouting`` spells them (snake_case on the model).
ARGO_MESHES: Final = ("istio", "nginx", "alb", "smi", "ambassador", "app_mesh", "traefik", "apisix", "plugins")

ROUTERS: Final[Mapping[str, TrafficRouter]] = MappingProxyType({"istio": IstioRouter()})


@dataclass(frozen=True)
class RouterChoice:
    """The router to use, or why there is none."""

    router: TrafficRouter | None
    problem: str | None = None


def router_for(routing: TrafficRouting, routers: Mapping[str, TrafficRouter] = ROUTERS) -> RouterChoice:
    """The router of the first mesh ``routing`` names that has one in ``routers``."""
    named = [mesh for mesh in ARGO_MESHES if getattr(routing, mesh, None) is not None]
    for mesh in named:
        if mesh in routers:
            return RouterChoice(routers[mesh])
    spelled = ", ".join(f"trafficRouting.{_camel(mesh)}" for mesh in named) or "this trafficRouting"
    supported = ", ".join(f"trafficRouting.{_camel(mesh)}" for mesh in routers)
    return RouterChoice(None, f"{spelled} is not supported yet (only {supported})")


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
