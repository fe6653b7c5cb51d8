"""NGINX Ingress routing through the router interface. Expectations worked by hand from Argo Rollouts' NGINX
documentation: the canary Ingress is named ``<rollout>-<stable ingress>-canary``, copies the stable Ingress's rules
that use the stableService with the canaryService as backend, and carries ``canary: "true"`` and
``canary-weight`` under the annotation prefix (``nginx.ingress.kubernetes.io`` unless ``annotationPrefix``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from kube.merge_patch import apply_merge_patch
from kube.resources import INGRESSES
from rollouts.models import Rollout, SetHeaderRoute
from rollouts.plan import Create, Patch
from rollouts.snapshot import RolloutSnapshot
from rollouts.traffic.nginx import HEADER_ROUTE_ANNOTATION, NginxRouter
from rollouts.traffic.router import HeaderRouteRequest, ManagedRoutesRequest, RoutingResult, WeightRequest
from rollouts.traffic.sequencing import snapshot_after
from tests.web_canary import web_canary

T0 = datetime(2026, 1, 1, tzinfo=UTC)
NS = "shop"
PREFIX = "nginx.ingress.kubernetes.io"
CANARY_INGRESS = "web-web-ingress-canary"
ROUTER = NginxRouter()


def rollout(**nginx: Any) -> Rollout:
    routing: dict[str, Any] = {"nginx": {"stableIngress": "web-ingress", **nginx}, "managedRoutes": [{"name": "beta"}]}
    return Rollout.model_validate(web_canary(routing, namespace=NS, uid="uid-web"))


def path(service: str, at: str = "/") -> dict[str, Any]:
    return {"path": at, "pathType": "Prefix", "backend": {"service": {"name": service, "port": {"number": 80}}}}


def stable_ingress() -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": "web-ingress", "namespace": NS, "annotations": {"kubernetes.io/ingress.class": "nginx"}},
        "spec": {
            "ingressClassName": "nginx",
            "rules": [
                {"host": "web.example.com", "http": {"paths": [path("web-stable"), path("admin", "/admin")]}},
                {"host": "other.example.com", "http": {"paths": [path("other")]}},
            ],
        },
    }


def snapshot(**ingresses: dict[str, Any]) -> RolloutSnapshot:
    return RolloutSnapshot(rollout={}, now=T0, ingresses={"web-ingress": stable_ingress(), **ingresses})


def created(result: RoutingResult) -> dict[str, Any]:
    assert result.problems == ()
    (write,) = result.writes
    assert isinstance(write, Create) and write.kind == INGRESSES
    return write.body


def test_the_first_weight_creates_the_canary_ingress_beside_the_stable_one() -> None:
    body = created(ROUTER.set_weight(WeightRequest(rollout(), snapshot(), 10, "new", "old")))
    assert body["metadata"]["name"] == CANARY_INGRESS
    assert body["metadata"]["annotations"] == {
        f"{PREFIX}/canary": "true",
        f"{PREFIX}/canary-weight": "10",
        "kubernetes.io/ingress.class": "nginx",
    }
    assert body["metadata"]["ownerReferences"][0]["uid"] == "uid-web"
    # Only the stable Service's paths, pointed at the canary Service; other hosts and backends are not ours.
    assert body["spec"] == {
        "ingressClassName": "nginx",
        "rules": [{"host": "web.example.com", "http": {"paths": [path("web-canary")]}}],
    }


def test_annotation_prefix_additional_annotations_and_max_traffic_weight_shape_the_annotations() -> None:
    custom = rollout(
        annotationPrefix="custom.nginx.org",
        additionalIngressAnnotations={"canary-by-header": "X-Canary"},
        canaryIngressAnnotations={"team": "web"},
    )
    custom.spec.strategy.canary.traffic_routing.max_traffic_weight = 1000  # type: ignore[union-attr]
    body = created(ROUTER.set_weight(WeightRequest(custom, snapshot(), 250, "new", "old")))
    assert body["metadata"]["annotations"] == {
        "custom.nginx.org/canary": "true",
        "custom.nginx.org/canary-weight": "250",
        "custom.nginx.org/canary-weight-total": "1000",
        "custom.nginx.org/canary-by-header": "X-Canary",
        "kubernetes.io/ingress.class": "nginx",
        "team": "web",
    }


def test_a_new_weight_patches_only_the_weight_annotation() -> None:
    first = created(ROUTER.set_weight(WeightRequest(rollout(), snapshot(), 10, "new", "old")))
    result = ROUTER.set_weight(WeightRequest(rollout(), snapshot(**{CANARY_INGRESS: first}), 40, "new", "old"))
    assert result.current_weight == 10
    assert result.writes == (
        Patch(
            kind=INGRESSES,
            namespace=NS,
            name=CANARY_INGRESS,
            patch={"metadata": {"annotations": {f"{PREFIX}/canary-weight": "40"}}},
        ),
    )


def test_the_same_weight_again_writes_nothing() -> None:
    first = created(ROUTER.set_weight(WeightRequest(rollout(), snapshot(), 10, "new", "old")))
    again = ROUTER.set_weight(WeightRequest(rollout(), snapshot(**{CANARY_INGRESS: first}), 10, "new", "old"))
    assert again == RoutingResult(writes=(), problems=(), current_weight=10)


def test_a_missing_stable_ingress_is_a_problem_naming_it() -> None:
    empty = RolloutSnapshot(rollout={}, now=T0)
    result = ROUTER.set_weight(WeightRequest(rollout(), empty, 10, "new", "old"))
    assert result.writes == ()
    assert result.problems == (f'Ingress "web-ingress" not found in namespace "{NS}" (trafficRouting.nginx)',)


def test_a_stable_ingress_without_the_stable_service_is_a_problem() -> None:
    ingress = stable_ingress()
    ingress["spec"]["rules"] = [ingress["spec"]["rules"][1]]
    result = ROUTER.set_weight(
        WeightRequest(rollout(), RolloutSnapshot(rollout={}, now=T0, ingresses={"web-ingress": ingress}), 10, "", "")
    )
    assert result.problems == ('Ingress "web-ingress" has no backend using the stableService "web-stable"',)


def test_an_ingress_of_the_canary_name_owned_by_something_else_is_not_overwritten() -> None:
    foreign = {
        "metadata": {
            "name": CANARY_INGRESS,
            "namespace": NS,
            "ownerReferences": [{"kind": "Deployment", "name": "x", "uid": "u"}],
        }
    }
    result = ROUTER.set_weight(WeightRequest(rollout(), snapshot(**{CANARY_INGRESS: foreign}), 10, "", ""))
    assert result.writes == ()
    assert "is not the canary Ingress of Rollout" in result.problems[0]


@pytest.mark.parametrize(
    ("header_value", "annotations"),
    [
        ({"exact": "yes"}, {"canary-by-header-value": "yes"}),
        ({"regex": "fire.*"}, {"canary-by-header-pattern": "fire.*"}),
        ({"prefix": "v1."}, {"canary-by-header-pattern": "^v1\\..*"}),
    ],
)
def test_a_header_route_becomes_nginx_header_canary_annotations(
    header_value: dict[str, str], annotations: dict[str, str]
) -> None:
    base = created(ROUTER.set_weight(WeightRequest(rollout(), snapshot(), 10, "new", "old")))
    route = SetHeaderRoute.model_validate(
        {"name": "beta", "match": [{"headerName": "X-Beta", "headerValue": header_value}]}
    )
    result = ROUTER.set_header_route(HeaderRouteRequest(rollout(), snapshot(**{CANARY_INGRESS: base}), route))
    (write,) = result.writes
    assert isinstance(write, Patch)
    after = apply_merge_patch(base, write.patch)["metadata"]["annotations"]
    assert after == {
        **base["metadata"]["annotations"],
        f"{PREFIX}/canary-by-header": "X-Beta",
        HEADER_ROUTE_ANNOTATION: "beta",
        **{f"{PREFIX}/{key}": value for key, value in annotations.items()},
    }


def test_a_header_route_with_two_headers_is_refused_as_nginx_routes_by_one() -> None:
    base = created(ROUTER.set_weight(WeightRequest(rollout(), snapshot(), 10, "new", "old")))
    matches = [{"headerName": "a", "headerValue": {"exact": "1"}}, {"headerName": "b", "headerValue": {"exact": "2"}}]
    route = SetHeaderRoute.model_validate({"name": "beta", "match": matches})
    result = ROUTER.set_header_route(HeaderRouteRequest(rollout(), snapshot(**{CANARY_INGRESS: base}), route))
    assert result.writes == ()
    assert result.problems == ("setHeaderRoute 'beta' matches 2 headers; NGINX routes by one header only",)


def test_weights_keep_the_header_annotations_and_removing_managed_routes_drops_them() -> None:
    base = snapshot()
    weighted = ROUTER.set_weight(WeightRequest(rollout(), base, 10, "new", "old"))
    route = SetHeaderRoute.model_validate(
        {"name": "beta", "match": [{"headerName": "X", "headerValue": {"exact": "1"}}]}
    )
    step = snapshot_after(base, weighted.writes)
    step = snapshot_after(step, ROUTER.set_header_route(HeaderRouteRequest(rollout(), step, route)).writes)
    reweighted = snapshot_after(step, ROUTER.set_weight(WeightRequest(rollout(), step, 30, "new", "old")).writes)
    annotations = reweighted.ingresses[CANARY_INGRESS]["metadata"]["annotations"]
    assert (annotations[f"{PREFIX}/canary-weight"], annotations[f"{PREFIX}/canary-by-header"]) == ("30", "X")
    removed = ROUTER.remove_managed_routes(ManagedRoutesRequest(rollout(), reweighted))
    cleared = snapshot_after(reweighted, removed.writes).ingresses[CANARY_INGRESS]["metadata"]["annotations"]
    assert cleared == {
        f"{PREFIX}/canary": "true",
        f"{PREFIX}/canary-weight": "30",
        "kubernetes.io/ingress.class": "nginx",
    }


def test_verify_weight_reads_the_canary_weight_annotation() -> None:
    base = created(ROUTER.set_weight(WeightRequest(rollout(), snapshot(), 10, "new", "old")))
    with_canary = snapshot(**{CANARY_INGRESS: base})
    assert ROUTER.verify_weight(WeightRequest(rollout(), with_canary, 10, None, None)).verified is True
    mismatch = ROUTER.verify_weight(WeightRequest(rollout(), with_canary, 30, None, None))
    assert (mismatch.verified, mismatch.mismatches) == (
        False,
        (f'canary Ingress "{CANARY_INGRESS}" routes 10 % to the canary, not 30',),
    )
    assert ROUTER.verify_weight(WeightRequest(rollout(), snapshot(), 10, None, None)).verified is None
