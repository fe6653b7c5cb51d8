"""One pass over an Experiment, decided from what was observed and ``now`` (Argo's experiments/experiment.go).

Each template gets a ReplicaSet ``<experiment>-<template>``; once every template has its pods available the
experiment is *available* (``status.availableAt``) and starts one AnalysisRun ``<experiment>-<analysis>`` per
analysis. It ends Successful when its ``duration`` has passed since availableAt, when every analysis marked
``requiredForCompletion`` succeeded, or when terminated (``spec.terminate``); Failed or Error when a template
misses its progress deadline or an analysis fails or errs; Inconclusive with an inconclusive analysis. Once it is
over its ReplicaSets are scaled to 0 after ``scaleDownDelaySeconds`` and its running analyses are terminated.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

from analysis.models import AnalysisPhase
from kube.json_data import JsonObject
from kube.object_meta import controller_owner_reference
from kube.resources import EXPERIMENTS
from kube.timestamps import format_time, parse_time
from rollouts.experiments.models import (
    DEFAULT_PROGRESS_DEADLINE_SECONDS,
    DEFAULT_SCALE_DOWN_DELAY_SECONDS,
    Experiment,
    ExperimentAnalysisRunStatus,
    TemplateSpec,
    TemplateStatus,
)
from rollouts.gating.runs import AnalysisProblem, RevisionFacts, run_spec
from rollouts.hashing import HASH_LABEL, pod_template_hash
from rollouts.models import ExperimentAnalysis
from rollouts.plan import Event
from rollouts.replicasets import (
    SCALE_DOWN_DEADLINE_ANNOTATION,
    annotations_of,
    available_replicas,
    ready_replicas,
    spec_replicas,
    status_replicas,
)

EXPERIMENT_NAME_ANNOTATION: Final = "experiment.argoproj.io/name"
TEMPLATE_NAME_ANNOTATION: Final = "experiment.argoproj.io/template-name"

# Template statuses (Argo's TemplateStatusCode) from best to worst, as the experiment's phase takes the worst.
PROGRESSING: Final = "Progressing"
RUNNING: Final = "Running"
SUCCESSFUL: Final = "Successful"
FAILED: Final = "Failed"
ERROR: Final = "Error"
_TEMPLATE_COMPLETED: Final = frozenset({SUCCESSFUL, FAILED, ERROR})
_TEMPLATE_ORDER: Final = {SUCCESSFUL: 0, RUNNING: 1, PROGRESSING: 2, ERROR: 3, FAILED: 4}
# AnalysisRun phases by how bad they are for the experiment (Argo's IsWorse).
_RUN_ORDER: Final = {
    AnalysisPhase.SUCCESSFUL.value: 0,
    AnalysisPhase.PENDING.value: 1,
    AnalysisPhase.RUNNING.value: 2,
    AnalysisPhase.INCONCLUSIVE.value: 3,
    AnalysisPhase.ERROR.value: 4,
    AnalysisPhase.FAILED.value: 5,
}
_COMPLETED_PHASES: Final = frozenset({"Successful", "Failed", "Error", "Inconclusive"})
REQUIRED_ANALYSES_COMPLETED: Final = "Required AnalysisRuns completed"
PROGRESSING_CONDITION: Final = "Progressing"


def is_completed(phase: str | None) -> bool:
    """Whether an experiment (or run) phase is final."""
    return phase in _COMPLETED_PHASES


@dataclass(frozen=True)
class ExperimentInputs:
    """What one pass observes besides the experiment: its ReplicaSets and runs by template/analysis name, and the
    AnalysisTemplates its analyses may name."""

    replica_sets: Mapping[str, JsonObject] = field(default_factory=dict)
    runs: Mapping[str, JsonObject] = field(default_factory=dict)
    analysis_templates: Mapping[str, JsonObject] = field(default_factory=dict)
    cluster_analysis_templates: Mapping[str, JsonObject] = field(default_factory=dict)


@dataclass(frozen=True)
class ScaleReplicaSet:
    name: str
    replicas: int
    annotations: Mapping[str, str | None] = field(default_factory=dict)


@dataclass
class ExperimentPlan:
    """The writes of one pass, the status to record, the Events, and when to look again."""

    replica_set_creates: list[JsonObject] = field(default_factory=list)
    replica_set_scales: list[ScaleReplicaSet] = field(default_factory=list)
    """Each template's ReplicaSet resized: to its replicas while the Experiment runs, to 0 once it is terminating and
    its scale-down delay has passed (a deadline annotation marks the wait; the scale-down clears it)."""
    run_creates: list[JsonObject] = field(default_factory=list)
    run_terminations: list[str] = field(default_factory=list)
    """The names of the running AnalysisRuns to terminate (``spec.terminate: true``) because the Experiment is
    terminating (terminated by request, over, or past its duration), so none outlives it."""
    service_creates: list[JsonObject] = field(default_factory=list)
    service_deletes: list[str] = field(default_factory=list)
    status: JsonObject = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    wake_at: datetime | None = None

    def wake_no_later_than(self, moment: datetime) -> None:
        if self.wake_at is None or moment < self.wake_at:
            self.wake_at = moment


def replica_set_name(experiment_name: str, template_name: str) -> str:
    """Argo names a template's ReplicaSet ``<experiment>-<template>``."""
    return f"{experiment_name}-{template_name}"


def analysis_run_name(experiment_name: str, analysis_name: str) -> str:
    """Argo names an analysis' run ``<experiment>-<analysis>``."""
    return f"{experiment_name}-{analysis_name}"


def passed_duration(experiment: Experiment, now: datetime) -> tuple[bool, datetime | None]:
    """Whether ``duration`` has passed since the experiment became available, and when it ends if not yet."""
    seconds = experiment.spec.duration_seconds
    available_at = parse_time(experiment.status.available_at)
    if seconds is None or available_at is None:
        return False, None
    ends = available_at + timedelta(seconds=seconds)
    return now >= ends, None if now >= ends else ends


def is_terminating(experiment: Experiment, now: datetime) -> bool:
    """Terminated by request, over, or past its duration: nothing new starts and the templates go to 0."""
    return experiment.spec.terminate or is_completed(experiment.status.phase) or passed_duration(experiment, now)[0]


def decide_experiment(
    experiment: Experiment, raw: JsonObject, inputs: ExperimentInputs, now: datetime
) -> ExperimentPlan:
    """The plan of one pass over ``experiment`` (``raw`` is the same object as observed, for owner references)."""
    plan = ExperimentPlan()
    terminating = is_terminating(experiment, now)
    previous = {status.name: status for status in experiment.status.template_statuses}
    template_statuses = [
        _template_status(experiment, raw, template, previous.get(template.name), inputs, plan, now, terminating)
        for template in experiment.spec.templates
    ]
    previous_runs = {entry.name: entry for entry in experiment.status.analysis_runs}
    run_statuses = [
        _run_status(experiment, raw, analysis, previous_runs.get(analysis.name), inputs, plan, terminating)
        for analysis in experiment.spec.analyses
    ]
    status: JsonObject = {
        # A field cleared (None) is left out, as the API server would store it.
        "templateStatuses": [
            {key: value for key, value in entry.to_dict().items() if value is not None} for entry in template_statuses
        ],
    }
    if run_statuses:
        status["analysisRuns"] = run_statuses
    phase, message, available_at = _phase(experiment, template_statuses, run_statuses, now)
    status["phase"] = phase
    if message:
        status["message"] = message
    if available_at is not None:
        status["availableAt"] = available_at
    status["conditions"] = _conditions(experiment, phase, template_statuses, now)
    if experiment.status.phase != phase:
        warning = phase in (FAILED, ERROR, AnalysisPhase.INCONCLUSIVE.value)
        plan.events.append(
            Event(
                "Warning" if warning else "Normal",
                phase,
                f"Experiment transitioned from {experiment.status.phase or 'New'} -> {phase}"
                + (f": {message}" if message else ""),
            )
        )
    plan.status = status
    if not terminating and available_at is not None:
        seconds = experiment.spec.duration_seconds
        if seconds is not None:
            start = parse_time(available_at)
            if start is not None:
                plan.wake_no_later_than(start + timedelta(seconds=seconds))
    return plan


# --- templates ------------------------------------------------------------------------------------------------


def desired_template_replicas(template: TemplateSpec, *, terminating: bool) -> int:
    """A template's pods: its ``replicas`` (1 by default) while the experiment runs, 0 once it is terminating."""
    return 0 if terminating else template.desired_replicas


def new_replica_set(raw: JsonObject, template: TemplateSpec, replicas: int, collision_count: int | None) -> JsonObject:
    """The ReplicaSet of one template: its pod template with a pod-template-hash label, owned by the experiment."""
    metadata = raw.get("metadata") or {}
    experiment_name = str(metadata.get("name") or "")
    pod_template = copy.deepcopy(template.template)
    pod_hash = pod_template_hash(pod_template, collision_count)
    pod_metadata = pod_template.setdefault("metadata", {})
    labels = dict(pod_metadata.get("labels") or {})
    labels[HASH_LABEL] = pod_hash
    pod_metadata["labels"] = labels
    selector = template.selector.to_dict()
    selector.setdefault("matchLabels", {})[HASH_LABEL] = pod_hash
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": replica_set_name(experiment_name, template.name),
            "namespace": str(metadata.get("namespace") or "default"),
            "labels": dict(labels),
            "annotations": {
                EXPERIMENT_NAME_ANNOTATION: experiment_name,
                TEMPLATE_NAME_ANNOTATION: template.name,
            },
            "ownerReferences": [_owner_reference(raw)],
        },
        "spec": {
            "replicas": replicas,
            "minReadySeconds": template.min_ready_seconds,
            "selector": selector,
            "template": pod_template,
        },
    }


def _owner_reference(raw: JsonObject) -> JsonObject:
    metadata = raw.get("metadata") or {}
    return controller_owner_reference(
        api_version=EXPERIMENTS.api_version,
        kind="Experiment",
        name=str(metadata.get("name") or ""),
        uid=str(metadata.get("uid") or ""),
    )


def _template_status(
    experiment: Experiment,
    raw: JsonObject,
    template: TemplateSpec,
    previous: TemplateStatus | None,
    inputs: ExperimentInputs,
    plan: ExperimentPlan,
    now: datetime,
    terminating: bool,
) -> TemplateStatus:
    status = previous.model_copy(deep=True) if previous is not None else TemplateStatus(name=template.name)
    prior = previous or TemplateStatus(name=template.name)
    desired = desired_template_replicas(template, terminating=terminating)
    rs = inputs.replica_sets.get(template.name)
    stamp = format_time(now)
    if rs is None:
        if not terminating:
            plan.replica_set_creates.append(new_replica_set(raw, template, desired, status.collision_count))
            status.last_transition_time = stamp
    else:
        _scale_template(experiment, rs, template, desired, plan, now)
        if spec_replicas(rs) != desired:
            status.last_transition_time = stamp
        status.pod_template_hash = str((rs.get("metadata") or {}).get("labels", {}).get(HASH_LABEL) or "") or None
        _template_service(raw, template, rs, status, desired, plan)
    status.replicas = status_replicas(rs) if rs is not None else 0
    status.updated_replicas = status.replicas
    status.ready_replicas = ready_replicas(rs) if rs is not None else 0
    status.available_replicas = available_replicas(rs) if rs is not None else 0
    counts = ("replicas", "updated_replicas", "ready_replicas", "available_replicas")
    if any(getattr(prior, name) != getattr(status, name) for name in counts):
        status.last_transition_time = stamp
    if status.status not in _TEMPLATE_COMPLETED:
        if desired == status.available_replicas:
            status.status = SUCCESSFUL if terminating else RUNNING
        else:
            deadline_seconds = experiment.spec.progress_deadline_seconds or DEFAULT_PROGRESS_DEADLINE_SECONDS
            since = parse_time(status.last_transition_time) or now
            deadline = since + timedelta(seconds=deadline_seconds)
            if now > deadline:
                status.status = FAILED
                status.message = (
                    f"Template '{template.name}' exceeded its progressDeadlineSeconds ({deadline_seconds})"
                )
            elif terminating:
                status.status = SUCCESSFUL
            else:
                status.status = PROGRESSING
                plan.wake_no_later_than(deadline + timedelta(seconds=1))
    if prior.status != status.status:
        message = f"Template '{template.name}' transitioned from {prior.status or ''} -> {status.status}"
        if status.message:
            message += f": {status.message}"
        warning = status.status in (FAILED, ERROR)
        plan.events.append(Event("Warning" if warning else "Normal", f"Template{status.status}", message))
    return status


def template_service(raw: JsonObject, template: TemplateSpec, rs: JsonObject) -> JsonObject | None:
    """The Service a template with ``service`` gets (Argo's createTemplateService): named after its ReplicaSet
    (or ``service.name``), selecting the ReplicaSet's pods, with a port per container port; None without ports."""
    pod_spec = ((rs.get("spec") or {}).get("template") or {}).get("spec") or {}
    ports: list[JsonObject] = []
    for container in pod_spec.get("containers") or ():
        for port in (container.get("ports") or ()) if isinstance(container, dict) else ():
            if not isinstance(port, dict) or port.get("containerPort") is None:
                continue
            entry: JsonObject = {
                "protocol": port.get("protocol") or "TCP",
                "port": port["containerPort"],
                "targetPort": port["containerPort"],
            }
            if port.get("name"):
                entry["name"] = port["name"]
            ports.append(entry)
    if not ports:
        return None
    rs_metadata = rs.get("metadata") or {}
    name = (template.service.name if template.service is not None else None) or str(rs_metadata.get("name") or "")
    selector = dict(((rs.get("spec") or {}).get("selector") or {}).get("matchLabels") or {})
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": name,
            "namespace": str((raw.get("metadata") or {}).get("namespace") or "default"),
            "labels": dict(rs_metadata.get("labels") or {}),
            "annotations": {
                EXPERIMENT_NAME_ANNOTATION: str((raw.get("metadata") or {}).get("name") or ""),
                TEMPLATE_NAME_ANNOTATION: template.name,
            },
            "ownerReferences": [_owner_reference(raw)],
        },
        "spec": {"selector": selector, "ports": ports},
    }


def _template_service(
    raw: JsonObject, template: TemplateSpec, rs: JsonObject, status: TemplateStatus, desired: int, plan: ExperimentPlan
) -> None:
    """Create the template's Service while it runs; delete it once its pods are gone."""
    if template.service is None:
        return
    if desired != 0:
        if status.service_name:
            return
        service = template_service(raw, template, rs)
        if service is not None:
            plan.service_creates.append(service)
            status.service_name = service["metadata"]["name"]
        return
    if status.service_name and spec_replicas(rs) == 0 and available_replicas(rs) == 0:
        plan.service_deletes.append(status.service_name)
        status.service_name = None
        status.pod_template_hash = None


def _scale_template(
    experiment: Experiment, rs: JsonObject, template: TemplateSpec, desired: int, plan: ExperimentPlan, now: datetime
) -> None:
    """Scale the template's ReplicaSet to ``desired``; to 0 only after the scale-down delay (annotated first)."""
    name = str((rs.get("metadata") or {}).get("name") or "")
    current = spec_replicas(rs)
    if desired != 0:
        if current != desired:
            plan.replica_set_scales.append(ScaleReplicaSet(name, desired))
        return
    if current == 0:
        return
    delay = experiment.spec.scale_down_delay_seconds
    delay = DEFAULT_SCALE_DOWN_DELAY_SECONDS if delay is None else delay
    deadline = parse_time(annotations_of(rs).get(SCALE_DOWN_DEADLINE_ANNOTATION))
    if deadline is None and delay > 0:
        deadline = now + timedelta(seconds=delay)
        plan.replica_set_scales.append(
            ScaleReplicaSet(name, current, {SCALE_DOWN_DEADLINE_ANNOTATION: format_time(deadline)})
        )
        plan.wake_no_later_than(deadline)
        return
    if deadline is not None and now < deadline:
        plan.wake_no_later_than(deadline)
        return
    plan.replica_set_scales.append(ScaleReplicaSet(name, 0, {SCALE_DOWN_DEADLINE_ANNOTATION: None}))


# --- analyses -------------------------------------------------------------------------------------------------


def new_analysis_run(
    raw: JsonObject, experiment: Experiment, analysis: ExperimentAnalysis, inputs: ExperimentInputs
) -> JsonObject | AnalysisProblem:
    """The AnalysisRun of one analysis, owned by the experiment; or why it cannot be built."""
    reference = {"templateName": analysis.template_name, "clusterScope": analysis.cluster_scope}
    # The experiment's dryRun and measurementRetention rules apply to each of its runs, as Argo passes them on.
    spec = run_spec(
        raw,
        {
            "templates": [reference],
            "args": [_resolved_argument(argument.to_dict(), inputs) for argument in analysis.args],
            "dryRun": [rule.to_dict() for rule in experiment.spec.dry_run],
            "measurementRetention": [rule.to_dict() for rule in experiment.spec.measurement_retention],
        },
        inputs.analysis_templates,
        inputs.cluster_analysis_templates,
        RevisionFacts(current_hash="", stable_hash=None, revision=0),
    )
    if isinstance(spec, AnalysisProblem):
        return spec
    metadata = raw.get("metadata") or {}
    run_metadata = experiment.spec.analysis_run_metadata
    run: JsonObject = {
        "apiVersion": EXPERIMENTS.api_version,
        "kind": "AnalysisRun",
        "metadata": {
            "name": analysis_run_name(str(metadata.get("name") or ""), analysis.name),
            "namespace": str(metadata.get("namespace") or "default"),
            "ownerReferences": [_owner_reference(raw)],
        },
        "spec": spec,
    }
    if run_metadata is not None and run_metadata.labels:
        run["metadata"]["labels"] = dict(run_metadata.labels)
    if run_metadata is not None and run_metadata.annotations:
        run["metadata"]["annotations"] = dict(run_metadata.annotations)
    return run


_TEMPLATE_HASH = re.compile(r"\{\{\s*templates\.([A-Za-z0-9_.-]+?)\.podTemplateHash\s*\}\}")


def _resolved_argument(argument: JsonObject, inputs: ExperimentInputs) -> JsonObject:
    """``{{templates.<name>.podTemplateHash}}`` in a value becomes that template's ReplicaSet's hash (Argo's
    experiment argument templating); a template without a ReplicaSet yet leaves the placeholder as written."""
    value = argument.get("value")
    if not isinstance(value, str):
        return argument

    def hash_of(match: re.Match[str]) -> str:
        rs = inputs.replica_sets.get(match.group(1))
        found = ((rs or {}).get("metadata") or {}).get("labels", {}).get(HASH_LABEL)
        return str(found) if found else match.group(0)

    return {**argument, "value": _TEMPLATE_HASH.sub(hash_of, value)}


def _run_status(
    experiment: Experiment,
    raw: JsonObject,
    analysis: ExperimentAnalysis,
    previous: ExperimentAnalysisRunStatus | None,
    inputs: ExperimentInputs,
    plan: ExperimentPlan,
    terminating: bool,
) -> JsonObject:
    prior: JsonObject = previous.to_dict() if previous is not None else {"name": analysis.name}
    status: JsonObject = dict(prior)
    try:
        if experiment.status.available_at is None:
            # Not available yet: no run starts, but a template that does not exist is an error already.
            templates = inputs.cluster_analysis_templates if analysis.cluster_scope else inputs.analysis_templates
            if analysis.template_name not in templates:
                kind = "ClusterAnalysisTemplate" if analysis.cluster_scope else "AnalysisTemplate"
                status["phase"] = ERROR
                status["message"] = (
                    f"{kind} verification failed for analysis '{analysis.name}': "
                    f"{kind} '{analysis.template_name}' not found"
                )
            return status
        if not status.get("analysisRun"):
            if terminating:
                return status
            run = new_analysis_run(raw, experiment, analysis, inputs)
            if isinstance(run, AnalysisProblem):
                status["phase"] = ERROR
                status["message"] = f"Failed to create AnalysisRun for analysis '{analysis.name}': {run}"
                return status
            plan.run_creates.append(run)
            status["phase"] = AnalysisPhase.PENDING.value
            status["analysisRun"] = run["metadata"]["name"]
            return status
        if is_completed(status.get("phase")):
            return status
        run_name = str(status["analysisRun"])
        observed = inputs.runs.get(analysis.name)
        if observed is None:
            status["phase"] = ERROR
            status["message"] = f"AnalysisRun '{run_name}' not found"
            return status
        run_status = observed.get("status") or {}
        run_phase = run_status.get("phase")
        if terminating:
            if not is_completed(run_phase) and not (observed.get("spec") or {}).get("terminate"):
                plan.run_terminations.append(run_name)
                plan.events.append(
                    Event("Normal", "AnalysisRunTerminating", f"Terminating {analysis.name} ({run_name})")
                )
            return status
        if run_phase:
            status["phase"] = run_phase
        if run_status.get("message"):
            status["message"] = run_status["message"]
        else:
            status.pop("message", None)
        return status
    finally:
        if prior.get("phase") != status.get("phase") and status.get("phase"):
            message = f"AnalysisRun '{analysis.name}' transitioned from {prior.get('phase') or ''} -> {status['phase']}"
            if status.get("message"):
                message += f": {status['message']}"
            warning = status["phase"] in ("Failed", "Error", "Inconclusive")
            plan.events.append(
                Event("Warning" if warning else "Normal", f"AnalysisRun{status['phase']}", message)
            )


# --- the experiment's phase -------------------------------------------------------------------------------------


def _assess_templates(statuses: list[TemplateStatus]) -> tuple[str, str]:
    """The worst template status as an experiment phase, and its message."""
    worst, message = SUCCESSFUL, ""
    for status in statuses:
        code = status.status or PROGRESSING
        if _TEMPLATE_ORDER[code] > _TEMPLATE_ORDER[worst]:
            worst, message = code, status.message or ""
    phase = {PROGRESSING: AnalysisPhase.PENDING.value}.get(worst, worst)
    return phase, message


def _required_successful(experiment: Experiment, runs: list[JsonObject]) -> bool:
    required = {analysis.name for analysis in experiment.spec.analyses if analysis.required_for_completion}
    if not required:
        return False
    return all(run.get("phase") == "Successful" for run in runs if run.get("name") in required)


def _assess_runs(experiment: Experiment, runs: list[JsonObject]) -> tuple[str, str]:
    worst, message = "Successful", ""
    for run in runs:
        phase = str(run.get("phase") or AnalysisPhase.PENDING.value)
        if _RUN_ORDER.get(phase, 1) > _RUN_ORDER[worst]:
            worst, message = phase, str(run.get("message") or "")
    if _required_successful(experiment, runs) and _RUN_ORDER[worst] <= _RUN_ORDER["Running"]:
        return "Successful", REQUIRED_ANALYSES_COMPLETED
    if worst == AnalysisPhase.PENDING.value:
        worst = AnalysisPhase.RUNNING.value
    return worst, message


def _phase(
    experiment: Experiment, templates: list[TemplateStatus], runs: list[JsonObject], now: datetime
) -> tuple[str, str, str | None]:
    """(phase, message, availableAt) as Argo's calculateStatus decides them."""
    observed = experiment.status
    available_at = observed.available_at
    if not observed.phase:
        return AnalysisPhase.PENDING.value, "", available_at
    if is_completed(observed.phase):
        return observed.phase, observed.message or "", available_at
    template_phase, template_message = _assess_templates(templates)
    runs_phase, runs_message = _assess_runs(experiment, runs)
    if template_phase == RUNNING and available_at is None:
        available_at = format_time(now)
    if is_completed(template_phase):
        runs_count = is_completed(runs_phase) or any(a.required_for_completion for a in experiment.spec.analyses)
        if template_phase == SUCCESSFUL and runs_count:
            return runs_phase, runs_message, available_at
        return template_phase, template_message, available_at
    if is_completed(runs_phase) and runs_phase != "Successful":
        return runs_phase, runs_message, available_at
    if _required_successful(experiment, runs):
        return runs_phase, runs_message, available_at
    return template_phase, template_message, available_at


def _conditions(experiment: Experiment, phase: str, templates: list[TemplateStatus], now: datetime) -> list[JsonObject]:
    """The Progressing condition with Argo's reasons and messages."""
    name = experiment.name
    stamp = format_time(now)
    if phase == SUCCESSFUL:
        wanted = ("False", "ExperimentCompleted", f'Experiment "{name}" has successfully ran and completed.')
    elif phase == RUNNING:
        wanted = ("True", "NewReplicaSetAvailable", f'Experiment "{name}" is running.')
    elif not is_completed(phase):
        wanted = ("True", "ReplicaSetUpdated", f'Experiment "{name}" is progressing.')
    else:
        wanted = None
    kept = [c.to_dict() for c in experiment.status.conditions if c.type != PROGRESSING_CONDITION]
    current = next((c for c in experiment.status.conditions if c.type == PROGRESSING_CONDITION), None)
    if wanted is None:
        return kept + ([current.to_dict()] if current is not None else [])
    status, reason, message = wanted
    if current is not None and (current.status, current.reason, current.message) == wanted:
        return [*kept, current.to_dict()]
    transition = current.last_transition_time if current is not None and current.status == status else stamp
    condition: JsonObject = {
        "type": PROGRESSING_CONDITION,
        "status": status,
        "reason": reason,
        "message": message,
        "lastUpdateTime": stamp,
        "lastTransitionTime": transition or stamp,
    }
    return [*kept, condition]
