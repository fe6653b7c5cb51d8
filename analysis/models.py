"""Models of AnalysisTemplate, ClusterAnalysisTemplate and AnalysisRun (``argoproj.io/v1alpha1``).

Field defaults are Argo's, so code reads ``metric.consecutive_error_limit`` and gets 4 when the manifest
says nothing; ``to_dict()`` still returns only what the manifest said. Structural checks live here; the rules
that need the whole object (unique names, declared arguments, one provider per metric) live in
:mod:`analysis.validation`.
"""

from __future__ import annotations

import enum
import re
from typing import Annotated, Any, Literal, TypeAlias

from pydantic import AfterValidator, Field, StrictInt

from analysis.arguments import has_placeholder
from kube.durations import parse_duration
from kube.int32 import Int32
from kube.modeling import KubeModel, KubeObject
from kube.quantities import IntOrString, int_or_string_int


class AnalysisPhase(enum.StrEnum):
    """The phase of an AnalysisRun, of one metric's result, or of one measurement."""

    PENDING = "Pending"
    RUNNING = "Running"
    SUCCESSFUL = "Successful"
    FAILED = "Failed"
    ERROR = "Error"
    INCONCLUSIVE = "Inconclusive"

    @property
    def completed(self) -> bool:
        """Whether nothing more will happen: Successful, Failed, Error or Inconclusive."""
        return self not in {AnalysisPhase.PENDING, AnalysisPhase.RUNNING}


def _check_metric_duration(value: str | int) -> str | int:
    # A metric is resolved before Argo reads its durations, so `interval: "{{args.interval}}"` is valid in a
    # template and is checked once arguments are substituted. An empty string is how Go writes "not set".
    if isinstance(value, str) and (not value or has_placeholder(value)):
        return value
    parse_duration(value)
    return value


MetricDuration = Annotated[str | StrictInt, AfterValidator(_check_metric_duration)]
"""A duration in a metric (``interval``, ``initialDelay``), kept as written; it may be an ``{{args.NAME}}``
placeholder. Read it with :func:`kube.durations.parse_duration` after arguments are resolved."""


# --- arguments ----------------------------------------------------------------------------------------------


class SecretKeyRef(KubeModel):
    """A key of a Secret in the run's namespace."""

    name: str
    key: str


class FieldRef(KubeModel):
    """A field of the object that creates the run, such as ``metadata.labels['app']``."""

    field_path: str


class ValueFrom(KubeModel):
    """Where an argument's value comes from; exactly one source is set."""

    secret_key_ref: SecretKeyRef | None = None
    field_ref: FieldRef | None = None
    pod_template_hash_value: str | None = None
    """``Stable`` or ``Latest``: only a Rollout's analysis args resolve it."""

    def sources(self) -> list[str]:
        """The camelCase names of the sources that are set."""
        return self.present_fields()


class Argument(KubeModel):
    """A named input of a template or run, used in metrics as ``{{args.NAME}}``."""

    name: str
    value: str | None = None
    value_from: ValueFrom | None = None


# --- providers ----------------------------------------------------------------------------------------------


class Header(KubeModel):
    key: str
    value: str


class BasicAuth(KubeModel):
    username: str | None = None
    password: str | None = None


class OAuth2(KubeModel):
    token_url: str | None = None
    """Where the provider obtains an access token by the client-credentials grant (RFC 6749 §4.4); the token goes
    with the query as ``Authorization: Bearer``."""
    client_id: str | None = None
    client_secret: str | None = None
    scopes: list[str] = Field(default_factory=list)


class Sigv4(KubeModel):
    region: str | None = None
    profile: str | None = None
    role_arn: str | None = None
    """With ``region`` and ``profile``, Amazon Managed Prometheus request signing: accepted in manifests, but a
    measurement that sets any of the three ends in Error, as this controller does not sign requests."""


class PrometheusAuthentication(KubeModel):
    basic_auth: BasicAuth | None = None
    oauth2: OAuth2 | None = None
    """A Bearer token from the OAuth2 token endpoint, fetched for each measurement; the metric's own headers are not
    sent to that endpoint."""
    sigv4: Sigv4 | None = None


class RangeQuery(KubeModel):
    """A range query instead of an instant one; ``start``/``end`` are expressions such as ``now() - 1h``."""

    start: str | None = None
    end: str | None = None
    step: str | None = None
    """The resolution between points, a duration such as ``1m`` (required); the values of every series of the
    matrix are flattened into ``result``."""


class PrometheusMetric(KubeModel):
    """A PromQL query whose result (a scalar or vector) becomes ``result`` in the conditions."""

    address: str | None = None
    """The server's URL; when unset the controller's configured default is used."""
    query: str | None = None
    timeout: int = 30
    """Seconds the query may take."""
    insecure: bool = False
    headers: list[Header] = Field(default_factory=list)
    authentication: PrometheusAuthentication | None = None
    range_query: RangeQuery | None = None


class WebMetric(KubeModel):
    """An HTTP request whose (JSON) response, narrowed by ``jsonPath``, becomes ``result``."""

    url: str | None = None
    method: Literal["GET", "POST", "PUT"] = "GET"
    headers: list[Header] = Field(default_factory=list)
    body: str | None = None
    json_body: Any = None
    """A request body written as YAML/JSON rather than as a string."""
    timeout_seconds: int = 10
    json_path: str = "{$}"
    insecure: bool = False


class JobMetadata(KubeModel):
    """Labels and annotations copied onto each Job the provider creates."""

    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)


class JobMetric(KubeModel):
    """A Kubernetes Job per measurement: Complete is a success, Failed a failure."""

    metadata: JobMetadata = Field(default_factory=JobMetadata)
    spec: dict[str, Any]
    """A ``batch/v1`` JobSpec, kept as plain data: the cluster validates it when the Job is created."""


UnmeasuredProvider: TypeAlias = dict[str, Any]
"""The settings of an Argo provider this project does not measure with, kept as written: the manifest parses and
round-trips, and the metric's measurement is an Error saying that the provider is not supported."""


class MetricProvider(KubeModel):
    """Which system measures the metric; exactly one provider is set (see :meth:`configured`).

    Prometheus, web and Job are modelled; Argo's other providers are kept as plain data so that manifests
    using them parse and round-trip even though this project does not measure with them yet.
    """

    prometheus: PrometheusMetric | None = None
    web: WebMetric | None = None
    job: JobMetric | None = None
    kayenta: UnmeasuredProvider | None = None
    datadog: UnmeasuredProvider | None = None
    new_relic: UnmeasuredProvider | None = None
    wavefront: UnmeasuredProvider | None = None
    cloud_watch: UnmeasuredProvider | None = None
    graphite: UnmeasuredProvider | None = None
    influxdb: UnmeasuredProvider | None = None
    skywalking: UnmeasuredProvider | None = None
    plugin: dict[str, Any] | None = None
    """Metric plugins by name (``argoproj-labs/sample-prometheus: {...}``); each entry is one provider."""

    def configured(self) -> list[str]:
        """The providers that are set, by their manifest names; a plugin entry is named ``plugin/<name>``."""
        found = [name for name in self.present_fields() if name != "plugin"]
        found.extend(f"plugin/{name}" for name in (self.plugin or {}))
        return found

    def unknown(self) -> list[str]:
        """Keys the model does not know, such as a misspelt or newer provider."""
        return sorted(self.model_extra or {})


# --- metrics ------------------------------------------------------------------------------------------------


class Metric(KubeModel):
    """One thing to measure, how often, and what counts as success."""

    name: str
    interval: MetricDuration | None = None
    """Time between measurements. Without it and without ``count`` the metric is measured once; with it
    alone the metric runs until the run is terminated."""
    initial_delay: MetricDuration | None = None
    count: IntOrString | None = None
    """How many measurements; a string may be an ``{{args.NAME}}`` placeholder."""
    success_condition: str | None = None
    """An expression over ``result`` that a Successful measurement meets; with a ``failureCondition`` as well, a
    measurement that meets neither is Inconclusive."""
    failure_condition: str | None = None
    failure_limit: IntOrString = 0
    """Failed measurements tolerated before the metric fails; -1 disables the limit."""
    inconclusive_limit: IntOrString = 0
    consecutive_error_limit: IntOrString = 4
    consecutive_success_limit: IntOrString = 0
    """Consecutive successes that complete the metric early; 0 disables it."""
    provider: MetricProvider

    def effective_count(self) -> int | None:
        """How many measurements the metric takes, as Argo counts them: 1 when neither ``count`` nor
        ``interval`` is set, None (until terminated) with an interval and no count. Call it on a resolved
        metric: raises ValueError when ``count`` is still a placeholder or not a number."""
        count = 0
        if self.count is not None:
            value = int_or_string_int(self.count)
            if value is None:
                raise ValueError(f"metric {self.name!r}: count {self.count!r} is not a number")
            count = value
        if count == 0:
            return None if self.interval else 1
        return count


def metric_name_matches(pattern: str, metric_name: str) -> bool:
    """Whether a ``dryRun``/``measurementRetention`` rule selects a metric: an unanchored regular
    expression search, as Argo's ``regexp.MatchString``; ``*`` alone means every metric, as Argo documents
    it. A pattern that does not compile matches nothing (validation reports it)."""
    if pattern == "*":
        return True
    try:
        return re.search(pattern, metric_name) is not None
    except re.error:
        return False


class DryRun(KubeModel):
    """Metrics (an unanchored regular expression over their names) whose failures do not fail the run."""

    metric_name: str


class MeasurementRetention(KubeModel):
    """How many measurements to keep for the metrics whose names match ``metricName`` (a regex)."""

    metric_name: str
    limit: Int32


class AnalysisTemplateRef(KubeModel):
    """Another template whose metrics and args are merged into this one when a run is created."""

    template_name: str | None = None
    cluster_scope: bool = False


class AnalysisSpec(KubeModel):
    """What templates and runs share."""

    metrics: list[Metric] = Field(default_factory=list)
    args: list[Argument] = Field(default_factory=list)
    dry_run: list[DryRun] = Field(default_factory=list)
    measurement_retention: list[MeasurementRetention] = Field(default_factory=list)


class AnalysisTemplateSpec(AnalysisSpec):
    templates: list[AnalysisTemplateRef] = Field(default_factory=list)


class TTLStrategy(KubeModel):
    """How long a completed run is kept before it is deleted."""

    seconds_after_completion: Int32 | None = None
    seconds_after_failure: Int32 | None = None
    seconds_after_success: Int32 | None = None


class AnalysisRunSpec(AnalysisSpec):
    terminate: bool = False
    """Set to stop the run: in-flight measurements are terminated and the run completes."""
    ttl_strategy: TTLStrategy | None = None


# --- status -------------------------------------------------------------------------------------------------


class Measurement(KubeModel):
    """One measurement of one metric."""

    phase: AnalysisPhase
    message: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    resume_at: str | None = None
    """When an in-flight measurement (a Job, a Kayenta run) is next looked at."""
    value: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)


class MetricResult(KubeModel):
    """The recent measurements of one metric and the counters its phase is assessed from."""

    name: str
    phase: AnalysisPhase
    measurements: list[Measurement] = Field(default_factory=list)
    message: str | None = None
    count: int = 0
    """Measurements without Error: successful + failed + inconclusive. Like every counter here it goes on counting
    after old measurements are trimmed, so the metric is judged on all of them."""
    successful: int = 0
    failed: int = 0
    inconclusive: int = 0
    error: int = 0
    consecutive_error: int = 0
    """Errors in a row: any other completed measurement resets it, and the metric is Error once it exceeds the
    metric's ``consecutiveErrorLimit``."""
    consecutive_success: int = 0
    dry_run: bool = False
    metadata: dict[str, str] = Field(default_factory=dict)
    """Provider details such as ``ResolvedPrometheusQuery``."""


class RunSummary(KubeModel):
    """How many metrics ended in each phase."""

    count: int = 0
    """The metrics of the run (``runSummary``: those not in dry-run mode; ``dryRunSummary``: those in it), ended
    or not."""
    successful: int = 0
    failed: int = 0
    inconclusive: int = 0
    error: int = 0


class AnalysisRunStatus(KubeModel):
    # Argo serialises an unset phase as "" (the field has no omitempty), so a status read back from a cluster
    # may carry it; keeping "" as written is what lets such a status round-trip.
    phase: AnalysisPhase | Literal[""] | None = None
    message: str | None = None
    started_at: str | None = None
    completed_at: str | None = None
    run_summary: RunSummary | None = None
    dry_run_summary: RunSummary | None = None
    metric_results: list[MetricResult] = Field(default_factory=list)

    def result(self, metric_name: str) -> MetricResult | None:
        """The result of the metric with this name, if it has one yet."""
        return next((result for result in self.metric_results if result.name == metric_name), None)


# --- objects ------------------------------------------------------------------------------------------------


class AnalysisTemplate(KubeObject):
    """How to measure a release: metrics, their providers and conditions, and the arguments they take."""

    spec: AnalysisTemplateSpec


class ClusterAnalysisTemplate(KubeObject):
    """An AnalysisTemplate usable from every namespace."""

    spec: AnalysisTemplateSpec


class AnalysisRun(KubeObject):
    """One instantiation of templates with resolved arguments, and its measurements."""

    spec: AnalysisRunSpec
    status: AnalysisRunStatus = Field(default_factory=AnalysisRunStatus)
