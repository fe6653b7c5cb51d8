"""Kubernetes Gateway API routing as pure functions behind the router interface: what Argo Rollouts does through
its ``argoproj-labs/gatewayAPI`` traffic router plugin, built in.

The Rollout names its HTTPRoute(s) in ``trafficRouting.plugins["argoproj-labs/gatewayAPI"]``: ``httpRoute: <name>``
(or ``httpRoutes: [{name: …}]``), with ``namespace`` (default: the Rollout's). In every rule of the HTTPRoute that
has backendRefs to both the ``stableService`` and the ``canaryService``, the canary backendRef gets the canary
weight and the stable one the rest; other rules and every other field stay as they are. A rule with backendRefs to
only one of them is left alone (it routes something else).

A ``setHeaderRoute`` step adds a rule named as the step names it (Gateway API 1.2 rule names), first among the
rules in ``managedRoutes`` order, in each HTTPRoute that takes header routes (``httpRoute``, or ``httpRoutes``
entries with ``useHeaderRoutes: true``): its ``matches`` are the header matches (``Exact``, or
``RegularExpression`` for a regex or an anchored prefix), its only backendRef the weighed rule's canary one. Named
managed rules are never weighed (but for mirror rules, whose copy of the weighed backendRefs follows the weights),
and go with a step without match or when the update ends. A ``setMirrorRoute`` step adds a rule with a
``RequestMirror`` filter to every HTTPRoute the Rollout names (``rollouts.traffic.gateway_api_mirror``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from kube.json_data import JsonObject
from kube.merge_patch import json_copy
from kube.resources import HTTP_ROUTES
from rollouts.models import HeaderRoutingMatch, Rollout, SetHeaderRoute, SetMirrorRoute
from rollouts.plan import Patch
from rollouts.traffic import router
from rollouts.traffic.gateway_api_mirror import is_mirror_rule, mirror_rule

GATEWAY_API_PLUGIN: Final = "argoproj-labs/gatewayAPI"
GATEWAY_API_KEY: Final = f"plugins/{GATEWAY_API_PLUGIN}"
CONFIG_PATH: Final = f"trafficRouting.plugins.{GATEWAY_API_PLUGIN}"
# The Gateway API's default weight of a backendRef that sets none.
DEFAULT_BACKEND_WEIGHT: Final = 1


@dataclass(frozen=True)
class HttpRouteReferences:
    """The HTTPRoutes a Rollout names, the namespace they live in, and those that take header routes (the single
    ``httpRoute``, or the ``httpRoutes`` entries with ``useHeaderRoutes: true``)."""

    names: tuple[str, ...]
    namespace: str
    header_routes: tuple[str, ...] = ()


def http_route_references(plugin_config: Any, rollout_namespace: str) -> HttpRouteReferences | str:
    """The HTTPRoutes the plugin configuration names, or the problem with it (naming the field)."""
    if not isinstance(plugin_config, dict):
        return f"{CONFIG_PATH} must be an object with httpRoute or httpRoutes"
    names: list[str] = []
    header_routes: list[str] = []
    single = plugin_config.get("httpRoute")
    if isinstance(single, str) and single:
        names.append(single)
        header_routes.append(single)
    elif single is not None:
        return f"{CONFIG_PATH}.httpRoute must be the name of an HTTPRoute"
    many = plugin_config.get("httpRoutes")
    for index, entry in enumerate(many if isinstance(many, list) else ()):
        name = entry.get("name") if isinstance(entry, dict) else None
        if not isinstance(name, str) or not name:
            return f"{CONFIG_PATH}.httpRoutes[{index}].name must be the name of an HTTPRoute"
        if name not in names:
            names.append(name)
        if entry.get("useHeaderRoutes") is True and name not in header_routes:
            header_routes.append(name)
    if many is not None and not isinstance(many, list):
        return f"{CONFIG_PATH}.httpRoutes must be a list"
    if not names:
        return f"{CONFIG_PATH} must name an HTTPRoute in httpRoute or httpRoutes"
    namespace = plugin_config.get("namespace")
    if namespace is not None and (not isinstance(namespace, str) or not namespace):
        return f"{CONFIG_PATH}.namespace must be a namespace name"
    return HttpRouteReferences(tuple(names), namespace or rollout_namespace, tuple(header_routes))


def config_issue(plugin_config: Any) -> tuple[str, str] | None:
    """(field path under ``trafficRouting``, what is wrong) for a plugin configuration that names no HTTPRoute
    properly; None when it does."""
    references = http_route_references(plugin_config, "default")
    if not isinstance(references, str):
        return None
    path, _, message = references.partition(" ")
    return path, message


@dataclass(frozen=True)
class _Spec:
    references: HttpRouteReferences
    canary_service: str
    stable_service: str
    managed_route_names: tuple[str, ...] = ()


def _spec_of(rollout: Rollout) -> _Spec | str:
    found = router.mesh_routing(rollout, lambda routing: routing.plugins)
    if found is None or GATEWAY_API_PLUGIN not in found.mesh:
        return f'Rollout "{rollout.name}" has no Gateway API traffic routing (spec.strategy.canary.{CONFIG_PATH})'
    strategy, routing, plugins = found.strategy, found.routing, found.mesh
    references = http_route_references(plugins[GATEWAY_API_PLUGIN], rollout.namespace or "default")
    if isinstance(references, str):
        return references
    if not strategy.canary_service or not strategy.stable_service:
        return "canaryService and stableService are required for Gateway API routing"
    managed = tuple(routing.managed_route_names)
    return _Spec(references, strategy.canary_service, strategy.stable_service, managed)


def route_http_routes(
    *, rollout: Rollout, http_routes: Mapping[str, JsonObject], canary_weight: int
) -> router.RoutingResult:
    """The patches that weigh the canary and stable backendRefs of every HTTPRoute the Rollout names."""
    spec = _spec_of(rollout)
    if isinstance(spec, str):
        return router.RoutingResult(writes=(), problems=(spec,))
    canary = min(max(canary_weight, 0), 100)
    weights = {spec.canary_service: canary, spec.stable_service: 100 - canary}
    return router.route_each(
        spec.references.names, lambda name: _weigh_http_route(name, http_routes.get(name), spec, weights)
    )


def _weigh_http_route(
    name: str, observed: JsonObject | None, spec: _Spec, weights: Mapping[str, int]
) -> router.ObjectRouting:
    """The patch that gives the canary and stable backendRefs of one HTTPRoute their ``weights``."""
    if observed is None:
        return router.ObjectRouting(
            problems=(f'HTTPRoute "{name}" not found in namespace "{spec.references.namespace}"',)
        )
    rules = _rules_of(observed)
    weighed = [index for index, rule in enumerate(rules) if _has_both(rule, spec)]
    if not weighed:
        return router.ObjectRouting(
            problems=(
                f'HTTPRoute "{name}" has no rule with backendRefs to both the stableService "{spec.stable_service}" '
                f'and the canaryService "{spec.canary_service}"',
            )
        )
    new_rules = json_copy(rules)
    # A mirror rule answers its requests as the weighed rule does, so its backendRefs follow the weights.
    mirrored = [index for index, rule in enumerate(rules) if _is_managed_mirror(rule, spec)]
    for index in weighed + mirrored:
        for ref in new_rules[index]["backendRefs"]:
            if _is_service(ref) and ref.get("name") in weights:
                ref["weight"] = weights[ref["name"]]
    patch = _rules_patch(name, spec, observed, new_rules, rules)
    return router.ObjectRouting(
        writes=(patch,) if patch is not None else (),
        current_weight=_backend_weight(rules[weighed[0]], spec.canary_service),
    )


def verify_http_route_weights(
    *, rollout: Rollout, http_routes: Mapping[str, JsonObject], canary_weight: int
) -> router.WeightVerification:
    """Whether every weighed rule gives the canary backendRef ``canary_weight``; None when one cannot be read."""
    spec = _spec_of(rollout)
    if isinstance(spec, str):
        return router.WeightVerification(verified=None, mismatches=(spec,))
    wanted = min(max(canary_weight, 0), 100)
    mismatches: list[str] = []
    for name in spec.references.names:
        observed = http_routes.get(name)
        if observed is None:
            return router.WeightVerification(verified=None, mismatches=(f'HTTPRoute "{name}" not found',))
        for index, rule in enumerate(_rules_of(observed)):
            if not _has_both(rule, spec):
                continue
            seen = _backend_weight(rule, spec.canary_service)
            if seen != wanted:
                mismatches.append(f'HTTPRoute "{name}" rules[{index}] routes {seen} to the canary, not {wanted}')
    return router.WeightVerification(verified=not mismatches, mismatches=tuple(mismatches))


def header_rule_patches(
    *, rollout: Rollout, http_routes: Mapping[str, JsonObject], route: SetHeaderRoute
) -> router.RoutingResult:
    """The patches that add (or replace) the rule named ``route.name`` in each HTTPRoute that takes header routes:
    requests matching one of the header matches go to the canary backendRef of the weighed rule."""
    name = route.name or ""
    spec = _managed_route_spec(rollout, name)
    if isinstance(spec, str):
        return router.RoutingResult(writes=(), problems=(spec,))
    if not spec.references.header_routes:
        return router.RoutingResult(
            writes=(),
            problems=(f"{CONFIG_PATH} names no HTTPRoute for header routes: set httpRoute, or useHeaderRoutes: true",),
        )
    matches = [_header_match(match) for match in route.match]

    def header_rule(weighed: JsonObject, canary: JsonObject) -> JsonObject:
        backend = {key: json_copy(value) for key, value in canary.items() if key != "weight"}
        return {"name": name, "matches": matches, "backendRefs": [backend]}

    return _managed_rule_patches(spec, http_routes, spec.references.header_routes, name, header_rule)


def mirror_rule_patches(
    *, rollout: Rollout, http_routes: Mapping[str, JsonObject], route: SetMirrorRoute
) -> router.RoutingResult:
    """The patches that add (or replace) the mirror rule named ``route.name`` in every HTTPRoute the Rollout names
    (``rollouts.traffic.gateway_api_mirror``)."""
    name = route.name or ""
    spec = _managed_route_spec(rollout, name)
    if isinstance(spec, str):
        return router.RoutingResult(writes=(), problems=(spec,))
    return _managed_rule_patches(
        spec,
        http_routes,
        spec.references.names,
        name,
        lambda weighed, canary: mirror_rule(route, weighed["backendRefs"], canary),
    )


def _managed_route_spec(rollout: Rollout, name: str) -> _Spec | str:
    """The Rollout's Gateway API routing, or why the managed route ``name`` cannot be written: no such routing, or
    a name ``managedRoutes`` does not list."""
    spec = _spec_of(rollout)
    if isinstance(spec, str) or name in spec.managed_route_names:
        return spec
    return f'route "{name}" is not in trafficRouting.managedRoutes'


# A managed rule built from the weighed rule of an HTTPRoute and that rule's canary backendRef.
_RuleBuilder = Callable[[JsonObject, JsonObject], JsonObject]


def _managed_rule_patches(
    spec: _Spec, http_routes: Mapping[str, JsonObject], route_names: Sequence[str], name: str, build: _RuleBuilder
) -> router.RoutingResult:
    """The patches that put the managed rule ``name`` (``build`` of each HTTPRoute's weighed rule) first in the
    HTTPRoutes ``route_names``, in ``managedRoutes`` order; a missing HTTPRoute or one without a weighed rule is
    a problem, and a problem withholds every write."""
    writes: list[Patch] = []
    problems: list[str] = []
    for route_name in route_names:
        observed = http_routes.get(route_name)
        if observed is None:
            problems.append(f'HTTPRoute "{route_name}" not found in namespace "{spec.references.namespace}"')
            continue
        rules = _rules_of(observed)
        weighed = next((rule for rule in rules if _has_both(rule, spec)), None)
        if weighed is None:
            problems.append(
                f'HTTPRoute "{route_name}" has no weighed rule with the canaryService "{spec.canary_service}"'
            )
            continue
        canary = next(ref for ref in _refs(weighed) if ref.get("name") == spec.canary_service)
        kept = [rule for rule in rules if _rule_name(rule) != name]
        patch = _rules_patch(route_name, spec, observed, _managed_first([build(weighed, canary), *kept], spec), rules)
        writes += [patch] if patch is not None else []
    return router.RoutingResult.of(writes, problems)


def managed_rules_removal(
    *, rollout: Rollout, http_routes: Mapping[str, JsonObject], names: tuple[str, ...] | None
) -> router.RoutingResult:
    """The patches that drop the managed rules ``names`` (all of ``managedRoutes`` when None) from every HTTPRoute
    the Rollout names; an HTTPRoute that is gone has nothing to drop."""
    spec = _spec_of(rollout)
    if isinstance(spec, str):
        return router.RoutingResult(writes=(), problems=(spec,))
    doomed = set(spec.managed_route_names if names is None else names)
    writes: list[Patch] = []
    for route_name in spec.references.names:
        observed = http_routes.get(route_name)
        if observed is None:
            continue
        rules = _rules_of(observed)
        patch = _rules_patch(
            route_name, spec, observed, [rule for rule in rules if _rule_name(rule) not in doomed], rules
        )
        writes += [patch] if patch is not None else []
    return router.RoutingResult(writes=tuple(writes), problems=())


class GatewayApiRouter:
    """The Gateway API's router (Argo's gatewayAPI plugin): weights, header routes and mirror routes."""

    name: str = GATEWAY_API_KEY
    steps: frozenset[str] = frozenset({router.HEADER_ROUTE_STEP, router.MIRROR_ROUTE_STEP})

    def set_weight(self, request: router.WeightRequest) -> router.RoutingResult:
        return route_http_routes(
            rollout=request.rollout, http_routes=request.snapshot.http_routes, canary_weight=request.canary_weight
        )

    def set_header_route(self, request: router.HeaderRouteRequest) -> router.RoutingResult:
        route = request.route
        name = route.name or ""
        if not route.match:
            return managed_rules_removal(
                rollout=request.rollout, http_routes=request.snapshot.http_routes, names=(name,)
            )
        return header_rule_patches(rollout=request.rollout, http_routes=request.snapshot.http_routes, route=route)

    def set_mirror_route(self, request: router.MirrorRouteRequest) -> router.RoutingResult:
        route = request.route
        if not route.match:
            return managed_rules_removal(
                rollout=request.rollout, http_routes=request.snapshot.http_routes, names=(route.name or "",)
            )
        return mirror_rule_patches(rollout=request.rollout, http_routes=request.snapshot.http_routes, route=route)

    def remove_managed_routes(self, request: router.ManagedRoutesRequest) -> router.RoutingResult:
        return managed_rules_removal(rollout=request.rollout, http_routes=request.snapshot.http_routes, names=None)

    def verify_weight(self, request: router.WeightRequest) -> router.WeightVerification:
        return verify_http_route_weights(
            rollout=request.rollout, http_routes=request.snapshot.http_routes, canary_weight=request.canary_weight
        )


def _rules_of(http_route: JsonObject) -> list[Any]:
    spec = http_route.get("spec")
    rules = spec.get("rules") if isinstance(spec, dict) else None
    return rules if isinstance(rules, list) else []


def _is_service(ref: Any) -> bool:
    # A backendRef is a Service unless it says otherwise (group "" and kind Service are the defaults).
    return isinstance(ref, dict) and ref.get("kind", "Service") == "Service" and ref.get("group", "") == ""


def _refs(rule: Any) -> list[Any]:
    refs = rule.get("backendRefs") if isinstance(rule, dict) else None
    return [ref for ref in refs if _is_service(ref)] if isinstance(refs, list) else []


def _has_both(rule: Any, spec: _Spec) -> bool:
    if _rule_name(rule) in spec.managed_route_names:
        return False  # a header route the Rollout added is not weighed
    names = [ref.get("name") for ref in _refs(rule)]
    return names.count(spec.canary_service) == 1 and names.count(spec.stable_service) == 1


def _is_managed_mirror(rule: Any, spec: _Spec) -> bool:
    if _rule_name(rule) not in spec.managed_route_names or not is_mirror_rule(rule):
        return False
    names = [ref.get("name") for ref in _refs(rule)]
    return names.count(spec.canary_service) == 1 and names.count(spec.stable_service) == 1


def _backend_weight(rule: Any, service: str) -> int | None:
    for ref in _refs(rule):
        if ref.get("name") == service:
            weight = ref.get("weight", DEFAULT_BACKEND_WEIGHT)
            return weight if isinstance(weight, int) and not isinstance(weight, bool) else None
    return None


def _rule_name(rule: Any) -> str | None:
    name = rule.get("name") if isinstance(rule, dict) else None
    return name if isinstance(name, str) else None


def _managed_first(rules: list[Any], spec: _Spec) -> list[Any]:
    """Managed rules first, in ``managedRoutes`` order, then the others as they were."""
    rank = {name: position for position, name in enumerate(spec.managed_route_names)}
    managed = sorted(
        (rule for rule in rules if _rule_name(rule) in rank), key=lambda rule: rank[_rule_name(rule) or ""]
    )
    return managed + [rule for rule in rules if _rule_name(rule) not in rank]


def _rules_patch(name: str, spec: _Spec, observed: JsonObject, new_rules: list[Any], rules: list[Any]) -> Patch | None:
    if new_rules == rules:
        return None
    body: JsonObject = {"spec": {"rules": new_rules}}
    version = (observed.get("metadata") or {}).get("resourceVersion")
    if isinstance(version, str) and version:
        # A concurrent edit fails with 409 Conflict rather than being overwritten from a stale copy.
        body = {"metadata": {"resourceVersion": version}, **body}
    return Patch(kind=HTTP_ROUTES, namespace=spec.references.namespace, name=name, patch=body)


def _header_match(match: HeaderRoutingMatch) -> JsonObject:
    """A Gateway API match on one header: Exact, or RegularExpression for a regex (or a prefix, anchored)."""
    value = match.header_value
    header: JsonObject = {"name": match.header_name}
    if value is not None and value.exact is not None:
        header.update(type="Exact", value=value.exact)
    elif value is not None and value.regex is not None:
        header.update(type="RegularExpression", value=value.regex)
    elif value is not None and value.prefix is not None:
        header.update(type="RegularExpression", value=f"^{re.escape(value.prefix)}.*")
    return {"headers": [header]}
