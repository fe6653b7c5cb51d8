"""The Experiment custom resource (argoproj.io/v1alpha1) as Argo Rollouts defines it.

An Experiment runs one ReplicaSet per template for a while (``duration``) and, once every template is available,
the AnalysisRuns its ``analyses`` name; its phase is the worst of what its templates and runs say.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, StrictBool, StrictInt

from analysis.models import DryRun, MeasurementRetention
from kube.durations import Duration, parse_duration
from kube.modeling import KubeModel, KubeObject, LabelSelector
from rollouts.models import ExperimentAnalysis, PodMetadata, StatusCondition

# Argo's defaults for an Experiment.
DEFAULT_TEMPLATE_REPLICAS = 1
DEFAULT_PROGRESS_DEADLINE_SECONDS = 600
DEFAULT_SCALE_DOWN_DELAY_SECONDS = 30


class TemplateService(KubeModel):
    """Ask for a Service in front of the template's pods (named after its ReplicaSet unless ``name`` says)."""

    name: str | None = None


class TemplateSpec(KubeModel):
    """One ReplicaSet of the experiment: its pod template, selector and size."""

    name: str
    replicas: StrictInt | None = None
    min_ready_seconds: StrictInt = 0
    selector: LabelSelector
    template: dict[str, Any]
    service: TemplateService | None = None

    @property
    def desired_replicas(self) -> int:
        return DEFAULT_TEMPLATE_REPLICAS if self.replicas is None else self.replicas


class ExperimentSpec(KubeModel):
    templates: list[TemplateSpec] = Field(default_factory=list)
    duration: Duration | None = None
    progress_deadline_seconds: StrictInt | None = None
    terminate: StrictBool = False
    analyses: list[ExperimentAnalysis] = Field(default_factory=list)
    scale_down_delay_seconds: StrictInt | None = None
    dry_run: list[DryRun] = Field(default_factory=list)
    measurement_retention: list[MeasurementRetention] = Field(default_factory=list)
    analysis_run_metadata: PodMetadata | None = None

    @property
    def duration_seconds(self) -> float | None:
        return None if self.duration is None else parse_duration(self.duration)


class TemplateStatus(KubeModel):
    name: str
    replicas: StrictInt = 0
    updated_replicas: StrictInt = 0
    ready_replicas: StrictInt = 0
    available_replicas: StrictInt = 0
    collision_count: StrictInt | None = None
    status: str | None = None
    message: str | None = None
    last_transition_time: str | None = None
    service_name: str | None = None
    """The Service the experiment created for the template (``spec.templates[].service``); a canary step's traffic
    router sends the template's weight to it, and it is deleted once the ReplicaSet has scaled to zero."""
    pod_template_hash: str | None = None


class ExperimentAnalysisRunStatus(KubeModel):
    name: str
    analysis_run: str | None = None
    phase: str | None = None
    """The run's phase as last observed, or Error when its template is missing or the run could not be created (the
    reason in ``message``)."""
    message: str | None = None


# The Rollout's condition shape; no docstring of its own, as the committed CRD gives it no description.
class ExperimentCondition(StatusCondition):
    pass


class ExperimentStatus(KubeModel):
    phase: str | None = None
    message: str | None = None
    template_statuses: list[TemplateStatus] = Field(default_factory=list)
    available_at: str | None = None
    analysis_runs: list[ExperimentAnalysisRunStatus] = Field(default_factory=list)
    conditions: list[ExperimentCondition] = Field(default_factory=list)


class Experiment(KubeObject):
    """Experiment runs ReplicaSets side by side for a while, with the AnalysisRuns that judge them."""

    spec: ExperimentSpec
    status: ExperimentStatus = Field(default_factory=ExperimentStatus)
