"""NGINX Ingress routing as pure functions behind the router interface.

As in Argo Rollouts, the Rollout names its stable Ingress(es) in ``trafficRouting.nginx.stableIngress`` (or
``stableIngresses``); for each it keeps a canary Ingress named ``<rollout>-<stable ingress>-canary``: a copy of the
stable one's rules, keeping only the paths whose backend is the ``stableService`` and pointing them at the
``canaryService``, annotated ``<prefix>/canary: "true"`` and ``<prefix>/canary-weight: "<weight>"`` (the prefix is
``annotationPrefix``, by default ``nginx.ingress.kubernetes.io``). ``additionalIngressAnnotations`` are added under
the prefix and ``canaryIngressAnnotations`` as written; ``maxTrafficWeight`` becomes ``canary-weight-total``.

A ``setHeaderRoute`` step becomes NGINX's header canary annotations on the canary Ingresses: ``canary-by-header``
with ``canary-by-header-value`` (an exact value) or ``canary-by-header-pattern`` (a regex, or a prefix turned into
one). NGINX holds one header per canary Ingress, so a step may match one header only; the annotation
``argo-rollouts.argoproj.io/header-route`` records which managed route set it, so that removing another route
leaves it alone. NGINX cannot mirror: ``setMirrorRoute`` is refused (and validation says so first).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from kube.json_data import JsonObject
from kube.merge_patch import json_copy
from kube.object_meta import controller_owner_reference
from kube.resources import INGRESSES, ROLLOUTS
from rollouts.models import CanaryStrategy, NginxTrafficRouting, Rollout, SetHeaderRoute, TrafficRouting
from rollouts.plan import Create, Patch
from rollouts.traffic import router

NGINX: Final = "nginx"
DEFAULT_ANNOTATION_PREFIX: Final = "nginx.ingress.kubernetes.io"
HEADER_ROUTE_ANNOTATION: Final = "argo-rollouts.argoproj.io/header-route"
INGRESS_CLASS_ANNOTATION: Final = "kubernetes.io/ingress.class"
# The canary annotations this router owns (under the prefix); any other annotation is the user's.
_WEIGHT_KEYS: Final = ("canary", "canary-weight", "canary-weight-total")
_HEADER_KEYS: Final = ("canary-by-header", "canary-by-header-value", "canary-by-header-pattern")


def canary_ingress_name(rollout_name: str, stable_ingress: str) -> str:
    """The name of the canary Ingress a Rollout keeps beside ``stable_ingress`` (Argo's naming)."""
    return f"{rollout_name}-{stable_ingress}-canary"


@dataclass(frozen=True)
class _Spec:
    strategy: CanaryStrategy
    routing: TrafficRouting
    nginx: NginxTrafficRouting
    canary_service: str
    stable_service: str

    @property
    def prefix(self) -> str:
        return self.nginx.annotation_prefix or DEFAULT_ANNOTATION_PREFIX

    def key(self, name: str) -> str:
        return f"{self.prefix}/{name}"

    @property
    def owned_keys(self) -> tuple[str, ...]:
        return (*(self.key(name) for name in (*_WEIGHT_KEYS, *_HEADER_KEYS)), HEADER_ROUTE_ANNOTATION)

    @property
    def header_keys(self) -> tuple[str, ...]:
        return (*(self.key(name) for name in _HEADER_KEYS), HEADER_ROUTE_ANNOTATION)


# What to do with the header annotations: keep what is observed, drop them, or set these.
_KEEP: Final = "keep"
_DROP: Final = "drop"
HeaderChange = str | dict[str, str]


def _spec_of(rollout: Rollout) -> _Spec | str:
    found = router.mesh_routing(rollout, lambda routing: routing.nginx)
    if found is None:
        return f'Rollout "{rollout.name}" has no NGINX traffic routing (spec.strategy.canary.trafficRouting.nginx)'
    strategy, routing, nginx = found.strategy, found.routing, found.mesh
    if not nginx.all_stable_ingresses:
        return "trafficRouting.nginx.stableIngress (or stableIngresses) is required"
    if not strategy.canary_service or not strategy.stable_service:
        return "canaryService and stableService are required for NGINX routing"
    return _Spec(strategy, routing, nginx, strategy.canary_service, strategy.stable_service)


def route_ingresses(
    *,
    rollout: Rollout,
    ingresses: Mapping[str, JsonObject],
    canary_weight: int | None,
    header: HeaderChange = _KEEP,
) -> router.RoutingResult:
    """The writes that make each canary Ingress carry ``canary_weight`` (None: keep the observed weight) and the
    header annotations ``header`` asks for; a missing canary Ingress is created (only when a weight is given)."""
    spec = _spec_of(rollout)
    if isinstance(spec, str):
        return router.RoutingResult(writes=(), problems=(spec,))
    return router.route_each(
        spec.nginx.all_stable_ingresses,
        lambda stable_name: _route_canary_ingress(stable_name, rollout, ingresses, spec, canary_weight, header),
    )


def _route_canary_ingress(
    stable_name: str,
    rollout: Rollout,
    ingresses: Mapping[str, JsonObject],
    spec: _Spec,
    canary_weight: int | None,
    header: HeaderChange,
) -> router.ObjectRouting:
    """The write that makes the canary Ingress of one stable Ingress carry ``canary_weight`` and ``header``."""
    namespace = rollout.namespace or "default"
    stable = ingresses.get(stable_name)
    if stable is None:
        return router.ObjectRouting(
            problems=(f'Ingress "{stable_name}" not found in namespace "{namespace}" (trafficRouting.nginx)',)
        )
    canary_name = canary_ingress_name(rollout.name, stable_name)
    observed = ingresses.get(canary_name)
    observed_annotations = _annotations(observed)
    current_weight = _weight_of(observed_annotations, spec) if observed is not None else None
    if observed is None and canary_weight is None:
        if header == _DROP:
            return router.ObjectRouting()  # nothing to drop from an Ingress that does not exist
        return router.ObjectRouting(
            problems=(f'canary Ingress "{canary_name}" does not exist yet: the canary weight creates it',)
        )
    if observed is not None and not _owned_by(observed, rollout):
        return router.ObjectRouting(
            problems=(
                f'Ingress "{canary_name}" exists but is not the canary Ingress of Rollout "{rollout.name}": '
                "delete or rename it",
            ),
            current_weight=current_weight,
        )
    rules, rule_problems = _canary_spec(stable, stable_name, spec)
    if rule_problems:
        return router.ObjectRouting(problems=tuple(rule_problems), current_weight=current_weight)
    weight = canary_weight if canary_weight is not None else (current_weight or 0)
    annotations = _desired_annotations(stable, observed_annotations, spec, weight, header)
    if observed is None:
        return router.ObjectRouting(writes=(_create(rollout, namespace, canary_name, annotations, rules),))
    patch = _patch(observed, annotations, rules, spec)
    if patch is None:
        return router.ObjectRouting(current_weight=current_weight)
    write = Patch(kind=INGRESSES, namespace=namespace, name=canary_name, patch=patch)
    return router.ObjectRouting(writes=(write,), current_weight=current_weight)


def header_annotations(route: SetHeaderRoute, prefix: str) -> tuple[dict[str, str] | None, str | None]:
    """NGINX's header canary annotations for a header route: (annotations, None) or (None, the problem)."""
    if len(route.match) != 1:
        return None, (
            f"setHeaderRoute {route.name!r} matches {len(route.match)} headers; NGINX routes by one header only"
        )
    match = route.match[0]
    value = match.header_value
    annotations = {f"{prefix}/canary-by-header": match.header_name, HEADER_ROUTE_ANNOTATION: route.name or ""}
    if value is None:
        return None, f"setHeaderRoute {route.name!r} needs a headerValue for NGINX"
    if value.exact is not None:
        annotations[f"{prefix}/canary-by-header-value"] = value.exact
    elif value.regex is not None:
        annotations[f"{prefix}/canary-by-header-pattern"] = value.regex
    elif value.prefix is not None:
        annotations[f"{prefix}/canary-by-header-pattern"] = f"^{re.escape(value.prefix)}.*"
    return annotations, None


def verify_ingress_weights(
    *, rollout: Rollout, ingresses: Mapping[str, JsonObject], canary_weight: int
) -> router.WeightVerification:
    """Whether every canary Ingress carries ``canary_weight``; None when one is missing or unreadable."""
    spec = _spec_of(rollout)
    if isinstance(spec, str):
        return router.WeightVerification(verified=None, mismatches=(spec,))
    wanted = _clamped(canary_weight, spec)
    mismatches: list[str] = []
    for stable_name in spec.nginx.all_stable_ingresses:
        canary_name = canary_ingress_name(rollout.name, stable_name)
        observed = ingresses.get(canary_name)
        seen = _weight_of(_annotations(observed), spec) if observed is not None else None
        if seen is None:
            return router.WeightVerification(
                verified=None, mismatches=(f'canary Ingress "{canary_name}" has no weight',)
            )
        if seen != wanted:
            mismatches.append(f'canary Ingress "{canary_name}" routes {seen} % to the canary, not {wanted}')
    return router.WeightVerification(verified=not mismatches, mismatches=tuple(mismatches))


class NginxRouter:
    """NGINX Ingress's router; holds no state."""

    name: str = NGINX
    steps: frozenset[str] = frozenset({router.HEADER_ROUTE_STEP})

    def set_weight(self, request: router.WeightRequest) -> router.RoutingResult:
        return route_ingresses(
            rollout=request.rollout, ingresses=request.snapshot.ingresses, canary_weight=request.canary_weight
        )

    def set_header_route(self, request: router.HeaderRouteRequest) -> router.RoutingResult:
        route = request.route
        if not route.match:
            return self._drop_header(request.rollout, request.snapshot.ingresses, only=route.name)
        spec = _spec_of(request.rollout)
        prefix = spec.prefix if not isinstance(spec, str) else DEFAULT_ANNOTATION_PREFIX
        annotations, problem = header_annotations(route, prefix)
        if annotations is None:
            return router.RoutingResult(writes=(), problems=(problem or "invalid header route",))
        return route_ingresses(
            rollout=request.rollout, ingresses=request.snapshot.ingresses, canary_weight=None, header=annotations
        )

    def set_mirror_route(self, request: router.MirrorRouteRequest) -> router.RoutingResult:
        return router.RoutingResult(writes=(), problems=("setMirrorRoute is not supported by trafficRouting.nginx",))

    def remove_managed_routes(self, request: router.ManagedRoutesRequest) -> router.RoutingResult:
        return self._drop_header(request.rollout, request.snapshot.ingresses, only=None)

    def verify_weight(self, request: router.WeightRequest) -> router.WeightVerification:
        return verify_ingress_weights(
            rollout=request.rollout, ingresses=request.snapshot.ingresses, canary_weight=request.canary_weight
        )

    @staticmethod
    def _drop_header(
        rollout: Rollout, ingresses: Mapping[str, JsonObject], *, only: str | None
    ) -> router.RoutingResult:
        spec = _spec_of(rollout)
        if isinstance(spec, str):
            return router.RoutingResult(writes=(), problems=(spec,))
        if only is not None:
            # Only the route that set the header annotations may take them away.
            owners = {
                _annotations(ingresses.get(canary_ingress_name(rollout.name, name))).get(HEADER_ROUTE_ANNOTATION)
                for name in spec.nginx.all_stable_ingresses
            }
            if only not in owners:
                return router.RoutingResult(writes=(), problems=())
        return route_ingresses(rollout=rollout, ingresses=ingresses, canary_weight=None, header=_DROP)


# --- the canary Ingress ----------------------------------------------------------------------------


def _annotations(obj: JsonObject | None) -> dict[str, str]:
    metadata = obj.get("metadata") if obj is not None else None
    annotations = metadata.get("annotations") if isinstance(metadata, dict) else None
    if not isinstance(annotations, dict):
        return {}
    return {str(key): str(value) for key, value in annotations.items() if value is not None}


def _weight_of(annotations: Mapping[str, str], spec: _Spec) -> int | None:
    raw = annotations.get(spec.key("canary-weight"))
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None


def _clamped(weight: int, spec: _Spec) -> int:
    total = spec.routing.max_traffic_weight or 100
    return min(max(weight, 0), total)


def _owned_by(ingress: JsonObject, rollout: Rollout) -> bool:
    """Whether an Ingress is this Rollout's canary Ingress: owned by it (by uid, when known) or marked canary."""
    metadata = ingress.get("metadata")
    references = metadata.get("ownerReferences") if isinstance(metadata, dict) else None
    uid = rollout.metadata.uid
    for reference in references if isinstance(references, list) else ():
        if isinstance(reference, dict) and reference.get("kind") == ROLLOUTS.kind:
            return reference.get("name") == rollout.name and (not uid or reference.get("uid") == uid)
    return not references


def _desired_annotations(
    stable: JsonObject,
    observed: Mapping[str, str],
    spec: _Spec,
    weight: int,
    header: HeaderChange,
) -> dict[str, str]:
    annotations: dict[str, str] = {spec.key("canary"): "true", spec.key("canary-weight"): str(_clamped(weight, spec))}
    if spec.routing.max_traffic_weight:
        annotations[spec.key("canary-weight-total")] = str(spec.routing.max_traffic_weight)
    ingress_class = _annotations(stable).get(INGRESS_CLASS_ANNOTATION)
    if ingress_class is not None:
        annotations[INGRESS_CLASS_ANNOTATION] = ingress_class
    annotations.update({spec.key(key): value for key, value in spec.nginx.additional_ingress_annotations.items()})
    annotations.update(spec.nginx.canary_ingress_annotations)
    if header == _KEEP:
        annotations.update({key: observed[key] for key in spec.header_keys if key in observed})
    elif isinstance(header, dict):
        annotations.update(header)
    return annotations


def _canary_spec(stable: JsonObject, stable_name: str, spec: _Spec) -> tuple[JsonObject, list[str]]:
    """The stable Ingress's spec with only the stable Service's backends, pointed at the canary Service."""
    stable_spec = stable.get("spec")
    stable_spec = stable_spec if isinstance(stable_spec, dict) else {}
    canary_spec: JsonObject = {
        key: json_copy(value) for key, value in stable_spec.items() if key not in ("rules", "defaultBackend")
    }
    found = False
    default = stable_spec.get("defaultBackend")
    if _backend_service(default) == spec.stable_service:
        canary_spec["defaultBackend"] = _to_canary(default, spec.canary_service)
        found = True
    rules: list[Any] = []
    for rule in stable_spec.get("rules") or []:
        if not isinstance(rule, dict):
            continue
        http = rule.get("http")
        paths = http.get("paths") if isinstance(http, dict) else None
        kept = [
            {**path, "backend": _to_canary(path.get("backend"), spec.canary_service)}
            for path in (paths if isinstance(paths, list) else ())
            if isinstance(path, dict) and _backend_service(path.get("backend")) == spec.stable_service
        ]
        if kept:
            found = True
            rules.append({**json_copy(rule), "http": {**json_copy(http), "paths": json_copy(kept)}})
    if not found:
        return {}, [f'Ingress "{stable_name}" has no backend using the stableService "{spec.stable_service}"']
    if rules:
        canary_spec["rules"] = rules
    return canary_spec, []


def _backend_service(backend: Any) -> str | None:
    service = backend.get("service") if isinstance(backend, dict) else None
    name = service.get("name") if isinstance(service, dict) else None
    return name if isinstance(name, str) else None


def _to_canary(backend: Any, canary_service: str) -> JsonObject:
    copied: JsonObject = json_copy(backend)
    copied["service"] = {**copied["service"], "name": canary_service}
    return copied


def _create(
    rollout: Rollout, namespace: str, name: str, annotations: dict[str, str], canary_spec: JsonObject
) -> Create:
    metadata: JsonObject = {"name": name, "namespace": namespace, "annotations": annotations}
    if rollout.metadata.uid:
        # Deleted with the Rollout, as Argo's canary Ingress is.
        metadata["ownerReferences"] = [
            controller_owner_reference(
                api_version=ROLLOUTS.api_version, kind=ROLLOUTS.kind, name=rollout.name, uid=rollout.metadata.uid
            )
        ]
    body = {"apiVersion": INGRESSES.api_version, "kind": INGRESSES.kind, "metadata": metadata, "spec": canary_spec}
    return Create(kind=INGRESSES, namespace=namespace, body=body)


def _patch(
    observed: JsonObject, annotations: Mapping[str, str], canary_spec: JsonObject, spec: _Spec
) -> JsonObject | None:
    """The merge patch that gives the observed canary Ingress ``annotations`` (dropping the canary annotations this
    router owns that they leave out) and ``canary_spec``; None when it has them already."""
    observed_annotations = _annotations(observed)
    annotation_patch: dict[str, str | None] = {
        key: value for key, value in annotations.items() if observed_annotations.get(key) != value
    }
    for key in spec.owned_keys:
        if key in observed_annotations and key not in annotations:
            annotation_patch[key] = None
    body: JsonObject = {}
    if annotation_patch:
        body["metadata"] = {"annotations": annotation_patch}
    if observed.get("spec") != canary_spec:
        # Rules follow the stable Ingress (a host or path added there reaches the canary too).
        body["spec"] = canary_spec
    return body or None
