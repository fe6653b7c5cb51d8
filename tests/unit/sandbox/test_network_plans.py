"""Load-balancer addresses for Services of type LoadBalancer and for Ingresses, written after a delay."""

from __future__ import annotations

from typing import Any

from sandbox.network_plans import INGRESS_ADDRESS, load_balancer_address, plan_ingress, plan_service
from sandbox.workload_status import format_timestamp

NOW = 1_700_000_000.0


def service(kind: str = "LoadBalancer", age: float = 10, status: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "metadata": {"name": "front", "creationTimestamp": format_timestamp(NOW - age)},
        "spec": {"type": kind},
        "status": status or {},
    }


def test_addresses_come_from_the_documentation_range_after_the_ingress_controllers() -> None:
    assert INGRESS_ADDRESS == "192.0.2.1"
    assert [load_balancer_address(i) for i in (0, 1, 252, 253)] == [
        "192.0.2.2",
        "192.0.2.3",
        "192.0.2.254",
        "192.0.2.2",
    ]


def test_a_load_balancer_service_gets_its_address_after_the_delay() -> None:
    early = plan_service(service(age=1), "192.0.2.7", delay=3, now=NOW)
    assert early.status is None and early.recheck_at == NOW + 2
    plan = plan_service(service(age=3), "192.0.2.7", delay=3, now=NOW)
    assert plan.status == {"loadBalancer": {"ingress": [{"ip": "192.0.2.7", "ipMode": "VIP"}]}}


def test_an_address_already_given_is_kept() -> None:
    given = {"loadBalancer": {"ingress": [{"ip": "192.0.2.9", "ipMode": "VIP"}]}}
    assert plan_service(service(status=given), "192.0.2.7", delay=0, now=NOW).status is None


def test_a_service_that_is_no_longer_a_load_balancer_loses_its_address() -> None:
    given = {"loadBalancer": {"ingress": [{"ip": "192.0.2.9"}]}}
    assert plan_service(service("ClusterIP", status=given), "192.0.2.7", delay=0, now=NOW).status == {
        "loadBalancer": {}
    }
    assert plan_service(service("ClusterIP"), "192.0.2.7", delay=0, now=NOW).status is None


def test_an_ingress_gets_the_ingress_controllers_address_after_the_delay() -> None:
    ingress = {"metadata": {"creationTimestamp": format_timestamp(NOW - 1)}, "spec": {}}
    assert plan_ingress(ingress, delay=5, now=NOW).recheck_at == NOW + 4
    assert plan_ingress(ingress, delay=1, now=NOW).status == {"loadBalancer": {"ingress": [{"ip": "192.0.2.1"}]}}
