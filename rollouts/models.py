"""The Rollout custom resource (argoproj.io/v1alpha1): spec and status as Argo Rollouts defines them.

Every field defaults to what Argo assumes when the field is absent, so code reads ``spec.replicas`` or
``canary.max_surge`` without re-implementing Argo's defaulting; ``to_dict()`` still writes back only what the
manifest said. Integers and booleans are strict: the API server rejects ``replicas: "3"``, and so do we,
rather than silently turning it into 3 and breaking the round trip.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, StrictBool

from analysis.models import DryRun, MeasurementRetention
from kube.durations import Duration, parse_duration
from kube.int32 import Int32
from kube.modeling import KubeModel, KubeObject, LabelSelector
from kube.quantities import IntOrPercent

DEFAULT_REPLICAS = 1
DEFAULT_REVISION_HISTORY_LIMIT = 10
DEFAULT_PROGRESS_DEADLINE_SECONDS = 600
DEFAULT_MAX_SURGE = "25"
DEFAULT_MAX_UNAVAILABLE = "25"
DEFAULT_SCALE_DOWN_DELAY_SECONDS = 30
DEFAULT_ABORT_SCALE_DOWN_DELAY_SECONDS = 30
DEFAULT_ANALYSIS_RUN_HISTORY_LIMIT = 5

# The step actions in the order Argo documents them; a step sets exactly one (wire names).
STEP_ACTIONS = (
    "setWeight",
    "pause",
    "analysis",
    "experiment",
    "setCanaryScale",
    "setHeaderRoute",
    "setMirrorRoute",
    "plugin",
)


# --- shared pieces --------------------------------------------------------------------------------


class PodMetadata(KubeModel):
    """Labels and annotations added to the pods of one side (canary, stable, active, preview)."""

    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)


class PreferredAntiAffinity(KubeModel):
    weight: Int32


class RequiredAntiAffinity(KubeModel):
    pass


class AntiAffinity(KubeModel):
    """Keep new pods off the nodes of the previous version; exactly one of the two modes."""

    preferred_during_scheduling_ignored_during_execution: PreferredAntiAffinity | None = None
    required_during_scheduling_ignored_during_execution: RequiredAntiAffinity | None = None


# --- analysis references --------------------------------------------------------------------------


class AnalysisTemplateRef(KubeModel):
    """An AnalysisTemplate (or, with ``clusterScope``, a ClusterAnalysisTemplate) by name."""

    template_name: str | None = None
    cluster_scope: StrictBool = False


class ObjectFieldSelector(KubeModel):
    field_path: str
    api_version: str | None = None


class ArgumentValueFrom(KubeModel):
    """Where an argument's value comes from: a pod-template hash or a field of the Rollout."""

    pod_template_hash_value: Literal["Stable", "Latest"] | None = None
    field_ref: ObjectFieldSelector | None = None


class AnalysisRunArgument(KubeModel):
    name: str
    value: str | None = None
    value_from: ArgumentValueFrom | None = None


class RolloutAnalysis(KubeModel):
    """Analysis a Rollout starts: in a step, before or after a blue-green promotion."""

    templates: list[AnalysisTemplateRef] = Field(default_factory=list)
    args: list[AnalysisRunArgument] = Field(default_factory=list)
    dry_run: list[DryRun] = Field(default_factory=list)
    measurement_retention: list[MeasurementRetention] = Field(default_factory=list)
    analysis_run_metadata: PodMetadata | None = None


class BackgroundAnalysis(RolloutAnalysis):
    """Analysis that runs alongside the canary steps, from ``startingStep`` until the update completes."""

    starting_step: Int32 | None = None


# --- canary steps ---------------------------------------------------------------------------------


class Pause(KubeModel):
    """Wait: for ``duration`` (seconds, or a string such as ``5m``), or indefinitely until promoted."""

    duration: Duration | None = None

    @property
    def duration_seconds(self) -> float | None:
        """The pause in seconds; None for an indefinite pause."""
        return None if self.duration is None else parse_duration(self.duration)


class SetCanaryScale(KubeModel):
    """Scale the canary independently of its traffic weight; exactly one of the three."""

    weight: Int32 | None = None
    replicas: Int32 | None = None
    match_traffic_weight: StrictBool | None = None
    """Size the canary by its traffic weight again (the default), ending the ``weight`` or ``replicas`` of an earlier
    step; without traffic routing the canary is always sized by its weight."""


class StringMatch(KubeModel):
    """Exactly one of exact, prefix or regex."""

    exact: str | None = None
    prefix: str | None = None
    regex: str | None = None


class HeaderRoutingMatch(KubeModel):
    header_name: str
    header_value: StringMatch | None = None


class SetHeaderRoute(KubeModel):
    """Send requests matching headers to the canary via a managed route; no ``match`` removes the route."""

    name: str | None = None
    match: list[HeaderRoutingMatch] = Field(default_factory=list)


class RouteMatch(KubeModel):
    method: StringMatch | None = None
    path: StringMatch | None = None
    headers: dict[str, StringMatch] = Field(default_factory=dict)


class SetMirrorRoute(KubeModel):
    """Mirror a percentage of matching requests to the canary through a managed route."""

    name: str | None = None
    match: list[RouteMatch] = Field(default_factory=list)
    percentage: Int32 | None = None


class ExperimentTemplate(KubeModel):
    name: str
    spec_ref: str
    """Which pod template the experiment's ReplicaSet copies: ``stable`` (the stable ReplicaSet's) or ``canary`` (the
    Rollout's new one)."""
    replicas: Int32 | None = None
    weight: Int32 | None = None
    metadata: PodMetadata | None = None
    selector: LabelSelector | None = None
    service: dict[str, Any] | None = None


# Argo declares this type twice (the step's and the Experiment's); one model serves both, as their fields agree.
class ExperimentAnalysis(KubeModel):
    """An AnalysisRun the experiment starts once its templates are available."""

    name: str
    template_name: str
    cluster_scope: StrictBool = False
    args: list[AnalysisRunArgument] = Field(default_factory=list)
    required_for_completion: StrictBool = False


class ExperimentStep(KubeModel):
    """Run ReplicaSets of the stable or canary template side by side, optionally with their own analysis."""

    templates: list[ExperimentTemplate] = Field(default_factory=list)
    analyses: list[ExperimentAnalysis] = Field(default_factory=list)
    duration: Duration | None = None
    dry_run: list[DryRun] = Field(default_factory=list)
    measurement_retention: list[MeasurementRetention] = Field(default_factory=list)
    analysis_run_metadata: PodMetadata | None = None


class PluginStep(KubeModel):
    name: str
    config: Any = None


class CanaryStep(KubeModel):
    """One step of a canary; Argo requires exactly one action per step (see :data:`STEP_ACTIONS`)."""

    set_weight: Int32 | None = None
    pause: Pause | None = None
    analysis: RolloutAnalysis | None = None
    """An AnalysisRun of these templates: the step completes when the run is Successful; Failed or Error aborts the
    Rollout, Inconclusive pauses it (``InconclusiveAnalysisRun``)."""
    experiment: ExperimentStep | None = None
    set_canary_scale: SetCanaryScale | None = None
    set_header_route: SetHeaderRoute | None = None
    set_mirror_route: SetMirrorRoute | None = None
    plugin: PluginStep | None = None

    @property
    def actions(self) -> list[str]:
        """The wire names of the actions this step sets, in Argo's documented order."""
        return self.present_fields(STEP_ACTIONS)

    @property
    def action(self) -> str | None:
        """The step's action when it sets exactly one, else None."""
        actions = self.actions
        return actions[0] if len(actions) == 1 else None


# --- traffic routing ------------------------------------------------------------------------------


class TLSRoute(KubeModel):
    """A TLS route of a VirtualService, identified by port and SNI hosts."""

    port: Int32 | None = None
    sni_hosts: list[str] = Field(default_factory=list)


class TCPRoute(KubeModel):
    port: Int32 | None = None


class IstioVirtualService(KubeModel):
    """A VirtualService whose routes the Rollout rewrites; ``name`` may be ``name.namespace``."""

    name: str | None = None
    routes: list[str] = Field(default_factory=list)
    tls_routes: list[TLSRoute] = Field(default_factory=list)
    tcp_routes: list[TCPRoute] = Field(default_factory=list)


class IstioDestinationRule(KubeModel):
    """Subset-level routing: the DestinationRule whose canary/stable subsets get the pod-template hashes."""

    name: str | None = None
    canary_subset_name: str | None = None
    stable_subset_name: str | None = None
    additional_subset_names: list[str] = Field(default_factory=list)


class IstioTrafficRouting(KubeModel):
    virtual_service: IstioVirtualService | None = None
    virtual_services: list[IstioVirtualService] | None = None
    destination_rule: IstioDestinationRule | None = None

    @property
    def all_virtual_services(self) -> list[IstioVirtualService]:
        """The VirtualServices to rewrite, whichever of the two spellings the manifest used."""
        single = [self.virtual_service] if self.virtual_service is not None else []
        return single + list(self.virtual_services or [])


class NginxTrafficRouting(KubeModel):
    """NGINX Ingress routing: a canary Ingress beside each stable one, weighted by ``canary-weight`` annotations."""

    annotation_prefix: str | None = None
    stable_ingress: str | None = None
    stable_ingresses: list[str] = Field(default_factory=list)
    additional_ingress_annotations: dict[str, str] = Field(default_factory=dict)
    canary_ingress_annotations: dict[str, str] = Field(default_factory=dict)

    @property
    def all_stable_ingresses(self) -> list[str]:
        """The stable Ingresses, whichever of the two spellings the manifest used."""
        single = [self.stable_ingress] if self.stable_ingress else []
        return single + [name for name in self.stable_ingresses if name not in single]


class ManagedRoute(KubeModel):
    """A route the Rollout may add (and later removes) for header or mirror steps."""

    name: str


class TrafficRouting(KubeModel):
    """How the canary weight reaches the mesh or ingress: Istio and NGINX are modelled, other routers (and the
    plugins, such as ``argoproj-labs/gatewayAPI``) kept as written."""

    istio: IstioTrafficRouting | None = None
    managed_routes: list[ManagedRoute] | None = None
    max_traffic_weight: Int32 | None = None
    nginx: NginxTrafficRouting | None = None
    alb: dict[str, Any] | None = None
    smi: dict[str, Any] | None = None
    ambassador: dict[str, Any] | None = None
    app_mesh: dict[str, Any] | None = None
    traefik: dict[str, Any] | None = None
    apisix: dict[str, Any] | None = None
    plugins: dict[str, Any] | None = None

    @property
    def managed_route_names(self) -> list[str]:
        return [route.name for route in self.managed_routes or []]


# --- strategies -----------------------------------------------------------------------------------


class PingPong(KubeModel):
    """Two Services that take turns: one serves the stable version, the other the canary, and they swap roles when
    an update completes (``status.canary.stablePingPong`` says which one is stable)."""

    ping_service: str
    pong_service: str


class StrategyCommon(KubeModel):
    """The fields canary and blue-green both have, with the same meaning and defaults in each."""

    max_unavailable: IntOrPercent = DEFAULT_MAX_UNAVAILABLE
    # How long the old stable keeps its pods after the switch (for a canary, only with traffic routing).
    scale_down_delay_seconds: Int32 = DEFAULT_SCALE_DOWN_DELAY_SECONDS
    scale_down_delay_revision_limit: Int32 | None = None
    # 0 means the aborted canary (or preview) is never scaled down.
    abort_scale_down_delay_seconds: Int32 = DEFAULT_ABORT_SCALE_DOWN_DELAY_SECONDS
    anti_affinity: AntiAffinity | None = None


class CanaryStrategy(StrategyCommon):
    """Move to the new version step by step: traffic weights (with a router) or replica ratios (without)."""

    canary_service: str | None = None
    stable_service: str | None = None
    steps: list[CanaryStep] = Field(default_factory=list)
    traffic_routing: TrafficRouting | None = None
    analysis: BackgroundAnalysis | None = None
    max_surge: IntOrPercent = DEFAULT_MAX_SURGE
    dynamic_stable_scale: StrictBool = False
    """With traffic routing, scale the stable ReplicaSet down as traffic moves to the canary instead of keeping it
    at full size; not allowed together with ``scaleDownDelaySeconds``."""
    canary_metadata: PodMetadata | None = None
    stable_metadata: PodMetadata | None = None
    min_pods_per_replica_set: Int32 | None = None
    """With traffic routing, a canary ReplicaSet (and, with ``dynamicStableScale``, the stable one) that has pods at
    all keeps at least this many, so that a small weight does not leave it on a single pod."""
    ping_pong: PingPong | None = None


class BlueGreenStrategy(StrategyCommon):
    """Bring the new version up behind a preview Service, then switch the active Service to it."""

    active_service: str | None = None
    preview_service: str | None = None
    preview_replica_count: Int32 | None = None
    """How many pods the new version runs behind the preview Service (default: all of ``spec.replicas``); it grows
    to full size once the pause and the pre-promotion analysis are over, before the switch."""
    auto_promotion_enabled: StrictBool = True
    # 0 means promote as soon as the preview is ready (when auto-promotion is enabled).
    auto_promotion_seconds: Int32 = 0
    pre_promotion_analysis: RolloutAnalysis | None = None
    post_promotion_analysis: RolloutAnalysis | None = None
    preview_metadata: PodMetadata | None = None
    active_metadata: PodMetadata | None = None


class RolloutStrategy(KubeModel):
    """Exactly one of canary or blueGreen (checked by validation, so lint can report both being set)."""

    canary: CanaryStrategy | None = None
    blue_green: BlueGreenStrategy | None = None


# --- spec -----------------------------------------------------------------------------------------


class WorkloadRef(KubeModel):
    """A workload (usually a Deployment) whose pod template the Rollout uses instead of its own."""

    api_version: str | None = None
    kind: str | None = None
    name: str | None = None
    scale_down: Literal["never", "onsuccess", "progressively"] | None = None
    """What becomes of the referenced workload: ``never`` leaves it running, ``onsuccess`` scales it to zero once
    the Rollout is healthy, ``progressively`` scales it down as the Rollout scales up."""


class RollbackWindow(KubeModel):
    """Rolling back to one of the last ``revisions`` revisions skips the steps."""

    revisions: Int32 | None = None


class AnalysisRunHistory(KubeModel):
    """How many finished AnalysisRuns the Rollout keeps."""

    successful_run_history_limit: Int32 = DEFAULT_ANALYSIS_RUN_HISTORY_LIMIT
    unsuccessful_run_history_limit: Int32 = DEFAULT_ANALYSIS_RUN_HISTORY_LIMIT


class RolloutSpec(KubeModel):
    replicas: Int32 = DEFAULT_REPLICAS
    selector: LabelSelector | None = None
    # The pod template is passed through to ReplicaSets untouched, so it stays plain data.
    template: dict[str, Any] | None = None
    workload_ref: WorkloadRef | None = None
    min_ready_seconds: Int32 = 0
    revision_history_limit: Int32 = DEFAULT_REVISION_HISTORY_LIMIT
    progress_deadline_seconds: Int32 = DEFAULT_PROGRESS_DEADLINE_SECONDS
    progress_deadline_abort: StrictBool = False
    paused: StrictBool = False
    restart_at: str | None = None
    rollback_window: RollbackWindow | None = None
    analysis: AnalysisRunHistory = Field(default_factory=AnalysisRunHistory)
    strategy: RolloutStrategy = Field(default_factory=RolloutStrategy)

    @property
    def template_labels(self) -> dict[str, str]:
        """The pod template's labels (empty without a template or labels)."""
        metadata = (self.template or {}).get("metadata")
        labels = metadata.get("labels") if isinstance(metadata, dict) else None
        if not isinstance(labels, dict):
            return {}
        return {str(key): value for key, value in labels.items() if isinstance(value, str)}


# --- status ---------------------------------------------------------------------------------------


class PauseCondition(KubeModel):
    """Why the controller paused.

    Reasons: CanaryPauseStep, BlueGreenPause, InconclusiveAnalysisRun, InconclusiveExperiment.
    """

    reason: str
    start_time: str


class StatusCondition(KubeModel):
    """A condition as Argo Rollouts' kinds record them: type, status, reason, message and the two times."""

    type: str
    status: str
    reason: str | None = None
    message: str | None = None
    last_update_time: str | None = None
    last_transition_time: str | None = None


class RolloutCondition(StatusCondition):
    """InvalidSpec, Available, Progressing, ReplicaFailure, Paused, Completed or Healthy."""


class RolloutAnalysisRunStatus(KubeModel):
    name: str
    status: str
    message: str | None = None


class TrafficWeightDestination(KubeModel):
    weight: Int32 = 0
    service_name: str | None = None
    pod_template_hash: str | None = None


class TrafficWeights(KubeModel):
    """The weights last written to the router (absent without traffic routing)."""

    canary: TrafficWeightDestination = Field(default_factory=TrafficWeightDestination)
    stable: TrafficWeightDestination = Field(default_factory=TrafficWeightDestination)
    additional: list[TrafficWeightDestination] = Field(default_factory=list)
    verified: StrictBool | None = None


class CanaryStatus(KubeModel):
    weights: TrafficWeights | None = None
    current_step_analysis_run_status: RolloutAnalysisRunStatus | None = None
    current_background_analysis_run_status: RolloutAnalysisRunStatus | None = None
    current_experiment: str | None = None
    stable_ping_pong: str | None = None
    """Which of the two ping-pong Services (``ping`` or ``pong``) now serves the stable version; the roles swap when
    an update completes."""


class BlueGreenStatus(KubeModel):
    active_selector: str | None = None
    preview_selector: str | None = None
    scale_up_preview_check_point: StrictBool = False
    """Set once a preview held at ``previewReplicaCount`` may grow to full size (pause over, pre-promotion analysis
    passed); reset by a new revision or the promotion."""
    pre_promotion_analysis_run_status: RolloutAnalysisRunStatus | None = None
    post_promotion_analysis_run_status: RolloutAnalysisRunStatus | None = None


class RolloutStatus(KubeModel):
    """What the controller last observed and decided; rebuilt on every reconcile."""

    phase: str | None = None
    """``Healthy``, ``Progressing``, ``Paused`` or ``Degraded`` (an invalid spec, an abort, a missed progress
    deadline or a traffic routing error), with the reason in ``message``."""
    message: str | None = None
    observed_generation: str | None = None
    """The ``metadata.generation`` this status was computed for, a string in Argo's API (unlike most kinds); until
    it equals the generation, clients report "waiting for rollout spec update to be observed"."""
    current_pod_hash: str | None = None
    current_step_hash: str | None = None
    current_step_index: Int32 | None = None
    # The stable pod-template hash, not a ReplicaSet name; the generated alias would be "stableRs".
    stable_rs: str | None = Field(default=None, alias="stableRS")
    pause_conditions: list[PauseCondition] = Field(default_factory=list)
    controller_pause: StrictBool = False
    abort: StrictBool = False
    aborted_at: str | None = None
    promote_full: StrictBool = False
    restarted_at: str | None = None
    collision_count: Int32 | None = None
    replicas: Int32 = 0
    updated_replicas: Int32 = 0
    ready_replicas: Int32 = 0
    available_replicas: Int32 = 0
    # The scale subresource reads this; the generated alias would be "hpaReplicas".
    hpa_replicas: Int32 = Field(default=0, alias="HPAReplicas")
    selector: str | None = None
    canary: CanaryStatus = Field(default_factory=CanaryStatus)
    blue_green: BlueGreenStatus = Field(default_factory=BlueGreenStatus)
    conditions: list[RolloutCondition] = Field(default_factory=list)
    workload_observed_generation: str | None = None
    alb: dict[str, Any] | None = None
    albs: list[dict[str, Any]] | None = None


# --- the object -----------------------------------------------------------------------------------


class Rollout(KubeObject):
    """A Deployment replacement that moves to a new version by canary steps or a blue-green switch."""

    spec: RolloutSpec
    status: RolloutStatus = Field(default_factory=RolloutStatus)
