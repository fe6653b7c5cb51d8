"""Load-balancer status for Services of type LoadBalancer and for Ingresses, as pure functions.

A cloud controller gives a LoadBalancer Service an external address some time after it is created; an ingress
controller publishes its own address on every Ingress it serves. The sandbox does both after `delay` seconds,
with addresses from TEST-NET-1 (192.0.2.0/24, RFC 5737): written into status only, never contacted.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any, Final

from sandbox.controller_plans import ControllerPlan, is_deleting
from sandbox.workload_status import JsonDict, parse_timestamp

ADDRESS_POOL: Final = ipaddress.IPv4Network("192.0.2.0/24")
# The ingress controller's own address; Services get the others.
INGRESS_ADDRESS: Final = str(ADDRESS_POOL.network_address + 1)


def load_balancer_address(index: int) -> str:
    """The `index`-th address handed to a LoadBalancer Service (192.0.2.2 first), wrapping around the pool."""
    hosts = ADDRESS_POOL.num_addresses - 3  # neither .0, nor the ingress controller's .1, nor .255
    return str(ADDRESS_POOL.network_address + 2 + index % hosts)


def _ingress_points(obj: Mapping[str, Any]) -> list[Any]:
    return list((((obj.get("status") or {}).get("loadBalancer") or {}).get("ingress")) or [])


def _age_reached(obj: Mapping[str, Any], delay: float, now: float, plan: ControllerPlan) -> bool:
    created = parse_timestamp((obj.get("metadata") or {}).get("creationTimestamp")) or now
    if now >= created + delay:
        return True
    plan.wake_at(created + delay)
    return False


def plan_service(service: Mapping[str, Any], address: str, *, delay: float, now: float) -> ControllerPlan:
    """A LoadBalancer Service gets `address` after `delay`; a Service of another type carries no ingress."""
    plan = ControllerPlan()
    if is_deleting(service):
        return plan
    status: JsonDict = dict(service.get("status") or {})
    if (service.get("spec") or {}).get("type") != "LoadBalancer":
        if _ingress_points(service):
            status["loadBalancer"] = {}
            plan.status = status
        return plan
    if _ingress_points(service) or not _age_reached(service, delay, now, plan):
        return plan
    status["loadBalancer"] = {"ingress": [{"ip": address, "ipMode": "VIP"}]}
    plan.status = status
    return plan


def plan_ingress(ingress: Mapping[str, Any], *, delay: float, now: float) -> ControllerPlan:
    """An Ingress gets the ingress controller's address after `delay`."""
    plan = ControllerPlan()
    if is_deleting(ingress) or _ingress_points(ingress) or not _age_reached(ingress, delay, now, plan):
        return plan
    status: JsonDict = dict(ingress.get("status") or {})
    status["loadBalancer"] = {"ingress": [{"ip": INGRESS_ADDRESS}]}
    plan.status = status
    return plan
