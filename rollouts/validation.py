"""Semantic checks of a Rollout spec: what Argo reports as InvalidSpec before acting, and what lint prints.

Structure (types, required fields, duration syntax) is the model's job; this module checks what a
schema cannot: fields that exclude each other, references between parts of the spec, and ranges.
Every issue names the camelCase path, with list indices, of the field to change.
"""

from __future__ import annotations

from collections.abc import Sequence

from kube.durations import DurationError, parse_duration
from kube.issues import FieldIssue
from kube.quantities import is_percent
from rollouts.models import (
    STEP_ACTIONS,
    AnalysisRunArgument,
    AntiAffinity,
    BlueGreenStrategy,
    CanaryStep,
    CanaryStrategy,
    IstioTrafficRouting,
    Rollout,
    RolloutAnalysis,
    RolloutSpec,
    StrategyCommon,
    StringMatch,
    TrafficRouting,
)
from rollouts.traffic.registry import routing_issues
from rollouts.unimplemented import unimplemented_field_issues
from rollouts.workload_kinds import workload_reference_issues

SPEC = "spec"
STRATEGY = "spec.strategy"
CANARY = "spec.strategy.canary"
BLUE_GREEN = "spec.strategy.blueGreen"
MAX_WEIGHT = 100


def validate_rollout(rollout: Rollout) -> list[FieldIssue]:
    """Every semantic problem with a Rollout's spec; empty when Argo would accept it."""
    spec = rollout.spec
    issues = [*_spec_issues(spec), *_workload_issues(spec)]
    canary, blue_green = spec.strategy.canary, spec.strategy.blue_green
    if canary is not None and blue_green is not None:
        issues.append(
            FieldIssue(STRATEGY, "must set exactly one of canary, blueGreen; found canary and blueGreen")
        )
    elif canary is not None:
        issues.extend(_canary_issues(canary))
    elif blue_green is not None:
        issues.extend(_blue_green_issues(blue_green, spec))
    else:
        issues.append(FieldIssue(STRATEGY, "must set exactly one of canary, blueGreen; found none"))
    return issues + unimplemented_field_issues(rollout)


def _exactly_one(path: str, options: Sequence[tuple[str, object]]) -> list[FieldIssue]:
    """An issue unless exactly one of the named options is set (not None)."""
    chosen = [name for name, value in options if value is not None]
    if len(chosen) == 1:
        return []
    names = ", ".join(name for name, _ in options)
    found = " and ".join(chosen) if chosen else "none"
    return [FieldIssue(path, f"must set exactly one of {names}; found {found}")]


def _not_negative(path: str, fields: Sequence[tuple[str, int | None]]) -> list[FieldIssue]:
    return [
        FieldIssue(f"{path}.{name}", f"must not be negative, got {value}")
        for name, value in fields
        if value is not None and value < 0
    ]


def _same_as(path: str, other: str, value: str | None) -> FieldIssue:
    """Two fields that must name different things name the same one (``path`` is the second of them)."""
    return FieldIssue(path, f"must differ from {other} (both are {value!r})")


def _scale_down_delays(strategy: StrategyCommon) -> list[tuple[str, int | None]]:
    """The two scale-down delays both strategies have, by field name."""
    return [
        ("scaleDownDelaySeconds", strategy.scale_down_delay_seconds),
        ("abortScaleDownDelaySeconds", strategy.abort_scale_down_delay_seconds),
    ]


def _in_range(path: str, value: int | None, low: int, high: int) -> list[FieldIssue]:
    if value is None or low <= value <= high:
        return []
    return [FieldIssue(path, f"must be between {low} and {high}, got {value}")]


# --- the spec as a whole -------------------------------------------------------------------------


def _spec_issues(spec: RolloutSpec) -> list[FieldIssue]:
    issues = _not_negative(
        SPEC,
        [
            ("replicas", spec.replicas),
            ("minReadySeconds", spec.min_ready_seconds),
            ("revisionHistoryLimit", spec.revision_history_limit),
            ("progressDeadlineSeconds", spec.progress_deadline_seconds),
        ],
    )
    # Compared with defaults applied, as Argo does: minReadySeconds: 600 alone breaks the default deadline.
    if spec.progress_deadline_seconds <= spec.min_ready_seconds:
        issues.append(
            FieldIssue(
                f"{SPEC}.progressDeadlineSeconds",
                f"must be greater than minReadySeconds "
                f"({spec.progress_deadline_seconds} <= {spec.min_ready_seconds})",
            )
        )
    issues += _not_negative(
        f"{SPEC}.analysis",
        [
            ("successfulRunHistoryLimit", spec.analysis.successful_run_history_limit),
            ("unsuccessfulRunHistoryLimit", spec.analysis.unsuccessful_run_history_limit),
        ],
    )
    if spec.rollback_window is not None:
        issues += _not_negative(f"{SPEC}.rollbackWindow", [("revisions", spec.rollback_window.revisions)])
    return issues


def _workload_issues(spec: RolloutSpec) -> list[FieldIssue]:
    """Where the pods come from: a template with a matching selector, or a workloadRef."""
    if spec.workload_ref is not None:
        # The referenced workload supplies template and selector.
        ref = spec.workload_ref
        issues = [
            FieldIssue(f"{SPEC}.workloadRef.{name}", "is required")
            for name, value in (("apiVersion", ref.api_version), ("kind", ref.kind), ("name", ref.name))
            if not value
        ]
        issues += workload_reference_issues(ref)
        if spec.template:
            issues.append(FieldIssue(f"{SPEC}.template", "must be empty when workloadRef is set"))
        return issues
    if spec.template is None:
        return [FieldIssue(f"{SPEC}.template", "must set template or workloadRef")]
    selector = spec.selector
    if selector is None:
        return [FieldIssue(f"{SPEC}.selector", "is required when the Rollout has a template")]
    if not selector.match_labels and not selector.match_expressions:
        return [FieldIssue(f"{SPEC}.selector", "must not be empty: it would select every pod")]
    if not selector.matches(spec.template_labels):
        return [FieldIssue(f"{SPEC}.selector", "selector does not match template labels")]
    return _container_issues(spec.template)


def _container_issues(template: dict[str, object]) -> list[FieldIssue]:
    """Argo validates the pod template as Kubernetes does: at least one container, each named, with an image."""
    path = f"{SPEC}.template.spec.containers"
    pod_spec = template.get("spec")
    containers = pod_spec.get("containers") if isinstance(pod_spec, dict) else None
    if not isinstance(containers, list) or not containers:
        return [FieldIssue(path, "must list at least one container")]
    issues: list[FieldIssue] = []
    for index, container in enumerate(containers):
        if not isinstance(container, dict):
            issues.append(FieldIssue(f"{path}[{index}]", "must be an object with name and image"))
            continue
        issues.extend(
            FieldIssue(f"{path}[{index}].{name}", "is required")
            for name in ("name", "image")
            if not (isinstance(container.get(name), str) and container[name])
        )
    return issues


# --- canary --------------------------------------------------------------------------------------


def _canary_issues(canary: CanaryStrategy) -> list[FieldIssue]:
    routing = canary.traffic_routing
    delay_set = "scale_down_delay_seconds" in canary.model_fields_set
    issues: list[FieldIssue] = []

    issues += _ping_pong_issues(canary)
    if _is_zero(canary.max_surge) and _is_zero(canary.max_unavailable):
        issues.append(FieldIssue(f"{CANARY}.maxSurge", "maxSurge and maxUnavailable must not both be 0"))
    if canary.canary_service and canary.canary_service == canary.stable_service:
        issues.append(_same_as(f"{CANARY}.stableService", "canaryService", canary.stable_service))
    issues += _not_negative(CANARY, _scale_down_delays(canary))
    if canary.min_pods_per_replica_set is not None and canary.min_pods_per_replica_set < 1:
        issues.append(FieldIssue(f"{CANARY}.minPodsPerReplicaSet", "must be at least 1"))

    if routing is None:
        # Without a router old pods go as new ones come: there is no traffic switch to delay or to scale by.
        if delay_set:
            issues.append(
                FieldIssue(f"{CANARY}.scaleDownDelaySeconds", "can only be used with trafficRouting")
            )
        if canary.dynamic_stable_scale:
            issues.append(FieldIssue(f"{CANARY}.dynamicStableScale", "can only be used with trafficRouting"))
    else:
        if canary.dynamic_stable_scale and delay_set:
            issues.append(
                FieldIssue(f"{CANARY}.dynamicStableScale", "cannot be used with scaleDownDelaySeconds")
            )
        issues += _traffic_routing_issues(routing, canary)
        # What Argo accepts but this project cannot route (yet): a router, or a step the router cannot carry out.
        issues += routing_issues(canary)

    issues += _anti_affinity_issues(canary.anti_affinity, f"{CANARY}.antiAffinity")
    for index, step in enumerate(canary.steps):
        issues += _step_issues(step, f"{CANARY}.steps[{index}]", routing)

    background = canary.analysis
    if background is not None:
        # Argo accepts any startingStep: one past the last step starts the run once every step is done, and
        # one further never starts it.
        issues += _analysis_issues(background, f"{CANARY}.analysis")
    return issues


def _ping_pong_issues(canary: CanaryStrategy) -> list[FieldIssue]:
    """Argo's rules for ``pingPong``: both Services named, two different ones, and a router that weighs Service
    hosts the ping-pong way (Argo has it for ALB and Istio; this project routes it through Istio)."""
    ping_pong = canary.ping_pong
    if ping_pong is None:
        return []
    path = f"{CANARY}.pingPong"
    issues = [
        FieldIssue(f"{path}.{name}", "is required: pingPong needs both the ping and the pong Service")
        for name, value in (("pingService", ping_pong.ping_service), ("pongService", ping_pong.pong_service))
        if not value
    ]
    if ping_pong.ping_service and ping_pong.ping_service == ping_pong.pong_service:
        issues.append(
            FieldIssue(
                f"{path}.pingService",
                f"the ping and pong Services must be two different Services (both are {ping_pong.ping_service!r})",
            )
        )
    routing = canary.traffic_routing
    if routing is not None and routing.alb is None and routing.istio is None:
        issues.append(
            FieldIssue(path, "works with the ALB and Istio traffic routers only; route this canary with istio")
        )
    return issues


def _is_zero(value: int | str) -> bool:
    if is_percent(value):
        return int(str(value).strip().rstrip("%")) == 0
    return value == 0


def _traffic_routing_issues(routing: TrafficRouting, canary: CanaryStrategy) -> list[FieldIssue]:
    path = f"{CANARY}.trafficRouting"
    issues: list[FieldIssue] = []
    if routing.max_traffic_weight is not None and routing.max_traffic_weight < 1:
        issues.append(FieldIssue(f"{path}.maxTrafficWeight", "must be at least 1"))
    seen: set[str] = set()
    for index, route in enumerate(routing.managed_routes or []):
        if route.name in seen:
            issues.append(
                FieldIssue(f"{path}.managedRoutes[{index}].name", f"duplicate route {route.name!r}")
            )
        seen.add(route.name)
    if routing.istio is not None:
        issues += _istio_issues(routing.istio, canary, f"{path}.istio")
    elif _splits_between_services(routing, canary):
        issues += _missing_services(canary, "is required with trafficRouting")
    return issues


def _splits_between_services(routing: TrafficRouting, canary: CanaryStrategy) -> bool:
    """Whether a (non-Istio) router weighs a canary Service against a stable one, so both must be named."""
    if routing.alb is not None and canary.ping_pong is None:
        return True
    service_routers = (
        routing.nginx,
        routing.smi,
        routing.ambassador,
        routing.app_mesh,
        routing.traefik,
        routing.apisix,
    )
    return any(router is not None for router in service_routers)


def _missing_services(canary: CanaryStrategy, message: str) -> list[FieldIssue]:
    services = (("canaryService", canary.canary_service), ("stableService", canary.stable_service))
    return [FieldIssue(f"{CANARY}.{name}", message) for name, value in services if not value]


def _istio_issues(istio: IstioTrafficRouting, canary: CanaryStrategy, path: str) -> list[FieldIssue]:
    issues: list[FieldIssue] = []
    if istio.virtual_service is not None and istio.virtual_services is not None:
        issues.append(FieldIssue(path, "must set either virtualService or virtualServices, not both"))
    elif istio.virtual_service is None and not istio.virtual_services:
        issues.append(FieldIssue(path, "must name a VirtualService in virtualService or virtualServices"))
    if istio.virtual_service is not None and not istio.virtual_service.name:
        issues.append(FieldIssue(f"{path}.virtualService.name", "must name a VirtualService"))
    for index, virtual_service in enumerate(istio.virtual_services or []):
        if not virtual_service.name:
            issues.append(FieldIssue(f"{path}.virtualServices[{index}].name", "must name a VirtualService"))

    rule = istio.destination_rule
    if rule is None:
        if canary.ping_pong is not None:
            # The weights go to the ping and pong Services' hosts (Argo requires no canary or stable Service then).
            return issues
        # Host-level split: the weights go to two Services (their difference is checked with the canary).
        return issues + _missing_services(
            canary, "is required for Istio host-level routing (or set istio.destinationRule for subsets)"
        )
    rule_path = f"{path}.destinationRule"
    for name, value in (
        ("name", rule.name),
        ("canarySubsetName", rule.canary_subset_name),
        ("stableSubsetName", rule.stable_subset_name),
    ):
        if not value:
            issues.append(FieldIssue(f"{rule_path}.{name}", "is required"))
    if rule.canary_subset_name and rule.canary_subset_name == rule.stable_subset_name:
        issues.append(_same_as(f"{rule_path}.stableSubsetName", "canarySubsetName", rule.stable_subset_name))
    return issues


# --- canary steps --------------------------------------------------------------------------------


def _step_issues(step: CanaryStep, path: str, routing: TrafficRouting | None) -> list[FieldIssue]:
    actions = step.actions
    if len(actions) != 1:
        found = " and ".join(actions) if actions else "none"
        return [FieldIssue(path, f"a step must set exactly one of {', '.join(STEP_ACTIONS)}; found {found}")]

    max_weight = routing.max_traffic_weight if routing and routing.max_traffic_weight else MAX_WEIGHT
    issues = _in_range(f"{path}.setWeight", step.set_weight, 0, max_weight)
    if step.pause is not None and step.pause.duration is not None:
        issues += _duration_issues(step.pause.duration, f"{path}.pause.duration")
    if step.analysis is not None:
        issues += _analysis_issues(step.analysis, f"{path}.analysis")
    if step.set_canary_scale is not None:
        issues += _canary_scale_issues(step, f"{path}.setCanaryScale", routing)
    if step.set_header_route is not None:
        header_path = f"{path}.setHeaderRoute"
        issues += _managed_route_issues(step.set_header_route.name, header_path, routing)
        for index, header in enumerate(step.set_header_route.match):
            issues += _string_match_issues(header.header_value, f"{header_path}.match[{index}].headerValue")
    if step.set_mirror_route is not None:
        issues += _mirror_route_issues(step, f"{path}.setMirrorRoute", routing)
    if step.experiment is not None:
        if step.experiment.duration is not None:
            issues += _duration_issues(step.experiment.duration, f"{path}.experiment.duration")
        for index, template in enumerate(step.experiment.templates):
            template_path = f"{path}.experiment.templates[{index}]"
            if template.spec_ref not in ("canary", "stable"):
                issues.append(FieldIssue(f"{template_path}.specRef", "must be canary or stable"))
            if template.weight is not None and routing is None:
                issues.append(FieldIssue(f"{template_path}.weight", "requires trafficRouting"))
            # Whether the chosen router can send the weight to the experiment is rollouts.traffic.registry's rule;
            # Argo checks no range here (weights that do not fit are a routing problem when they are routed).
    return issues


def _duration_issues(duration: str | int, path: str) -> list[FieldIssue]:
    # The model already rejects malformed durations; this keeps validation sound for models built in code.
    try:
        seconds = parse_duration(duration)
    except DurationError as error:
        return [FieldIssue(path, str(error))]
    return [FieldIssue(path, "must not be negative")] if seconds < 0 else []


def _canary_scale_issues(step: CanaryStep, path: str, routing: TrafficRouting | None) -> list[FieldIssue]:
    scale = step.set_canary_scale
    if scale is None:
        return []
    issues = _exactly_one(
        path,
        [
            ("weight", scale.weight),
            ("replicas", scale.replicas),
            ("matchTrafficWeight", scale.match_traffic_weight),
        ],
    )
    issues += _in_range(f"{path}.weight", scale.weight, 0, MAX_WEIGHT)
    issues += _not_negative(path, [("replicas", scale.replicas)])
    if routing is None:
        issues.append(FieldIssue(path, "requires trafficRouting"))
    return issues


def _mirror_route_issues(step: CanaryStep, path: str, routing: TrafficRouting | None) -> list[FieldIssue]:
    mirror = step.set_mirror_route
    if mirror is None:
        return []
    issues = _managed_route_issues(mirror.name, path, routing)
    issues += _in_range(f"{path}.percentage", mirror.percentage, 0, MAX_WEIGHT)
    for index, match in enumerate(mirror.match):
        match_path = f"{path}.match[{index}]"
        if match.method is not None:
            issues += _string_match_issues(match.method, f"{match_path}.method")
        if match.path is not None:
            issues += _string_match_issues(match.path, f"{match_path}.path")
        for header, value in match.headers.items():
            issues += _string_match_issues(value, f"{match_path}.headers.{header}")
    return issues


def _managed_route_issues(name: str | None, path: str, routing: TrafficRouting | None) -> list[FieldIssue]:
    """Header and mirror steps add a route the Rollout owns, so it must be declared in managedRoutes."""
    if routing is None:
        return [FieldIssue(path, "requires trafficRouting with managedRoutes")]
    if not name:
        return [FieldIssue(f"{path}.name", "must name a route from trafficRouting.managedRoutes")]
    if name not in routing.managed_route_names:
        return [
            FieldIssue(f"{path}.name", f"no route named {name!r} in {CANARY}.trafficRouting.managedRoutes")
        ]
    return []


def _string_match_issues(match: StringMatch | None, path: str) -> list[FieldIssue]:
    if match is None:
        return [FieldIssue(path, "must set exactly one of exact, prefix, regex; found none")]
    return _exactly_one(path, [("exact", match.exact), ("prefix", match.prefix), ("regex", match.regex)])


# --- analysis ------------------------------------------------------------------------------------


def _analysis_issues(analysis: RolloutAnalysis, path: str) -> list[FieldIssue]:
    issues: list[FieldIssue] = []
    if not analysis.templates:
        issues.append(FieldIssue(f"{path}.templates", "must name at least one analysis template"))
    for index, template in enumerate(analysis.templates):
        if not template.template_name:
            issues.append(FieldIssue(f"{path}.templates[{index}].templateName", "is required"))
    seen: set[str] = set()
    for index, argument in enumerate(analysis.args):
        issues += _argument_issues(argument, f"{path}.args[{index}]", duplicate=argument.name in seen)
        seen.add(argument.name)
    return issues


def _argument_issues(argument: AnalysisRunArgument, path: str, *, duplicate: bool) -> list[FieldIssue]:
    """An argument an analysis passes to its templates: named once, with a value or one source for it."""
    issues = [FieldIssue(f"{path}.name", f"duplicate argument {argument.name!r}")] if duplicate else []
    source = argument.value_from
    if source is not None:
        if argument.value is not None:
            issues.append(FieldIssue(path, "must set either value or valueFrom, not both"))
        issues += _exactly_one(
            f"{path}.valueFrom",
            [("podTemplateHashValue", source.pod_template_hash_value), ("fieldRef", source.field_ref)],
        )
    return issues


# --- blue-green ----------------------------------------------------------------------------------


def _blue_green_issues(blue_green: BlueGreenStrategy, spec: RolloutSpec) -> list[FieldIssue]:
    issues: list[FieldIssue] = []
    if not blue_green.active_service:
        issues.append(FieldIssue(f"{BLUE_GREEN}.activeService", "is required for a blue-green Rollout"))
    elif blue_green.preview_service == blue_green.active_service:
        issues.append(_same_as(f"{BLUE_GREEN}.previewService", "activeService", blue_green.active_service))
    issues += _not_negative(
        BLUE_GREEN,
        [
            *_scale_down_delays(blue_green),
            ("autoPromotionSeconds", blue_green.auto_promotion_seconds),
            ("previewReplicaCount", blue_green.preview_replica_count),
        ],
    )
    limit = blue_green.scale_down_delay_revision_limit
    if limit is not None and limit > spec.revision_history_limit:
        issues.append(
            FieldIssue(
                f"{BLUE_GREEN}.scaleDownDelayRevisionLimit",
                f"must not exceed revisionHistoryLimit ({limit} > {spec.revision_history_limit})",
            )
        )
    for name, analysis in (
        ("prePromotionAnalysis", blue_green.pre_promotion_analysis),
        ("postPromotionAnalysis", blue_green.post_promotion_analysis),
    ):
        if analysis is not None:
            issues += _analysis_issues(analysis, f"{BLUE_GREEN}.{name}")
    issues += _anti_affinity_issues(blue_green.anti_affinity, f"{BLUE_GREEN}.antiAffinity")
    return issues


def _anti_affinity_issues(anti_affinity: AntiAffinity | None, path: str) -> list[FieldIssue]:
    if anti_affinity is None:
        return []
    preferred = anti_affinity.preferred_during_scheduling_ignored_during_execution
    required = anti_affinity.required_during_scheduling_ignored_during_execution
    issues = _exactly_one(
        path,
        [
            ("preferredDuringSchedulingIgnoredDuringExecution", preferred),
            ("requiredDuringSchedulingIgnoredDuringExecution", required),
        ],
    )
    if preferred is not None:
        issues += _in_range(
            f"{path}.preferredDuringSchedulingIgnoredDuringExecution.weight", preferred.weight, 1, 100
        )
    return issues
