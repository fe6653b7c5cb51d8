"""The canary ``experiment`` step (Argo's rollout/experiment.go): the Experiment a step creates, and what its phase
means for the Rollout.

At an experiment step the Rollout creates the Experiment ``<rollout>-<podHash>-<revision>-<stepIndex>`` from the
step (each template copies the pod template of the stable or the canary ReplicaSet, as ``specRef`` says) and
waits: Successful completes the step, Failed or Error aborts the update, Inconclusive pauses it (pause reason
``InconclusiveExperiment``). An experiment the Rollout no longer needs — another step, an abort, a full
promotion — is terminated (``spec.terminate``).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from kube.json_data import JsonObject
from kube.object_meta import candidate_names, controller_owner_reference
from kube.resources import EXPERIMENTS, ROLLOUTS
from rollouts.experiments.decisions import is_completed
from rollouts.experiments.traffic import experiment_destinations
from rollouts.gating.runs import field_value
from rollouts.hashing import HASH_LABEL
from rollouts.models import CanaryStep
from rollouts.plan import Create, Delete, Event, Patch, Write
from rollouts.replicasets import REVISION_ANNOTATION
from rollouts.traffic.router import WeightDestination

INCONCLUSIVE_EXPERIMENT: Final = "InconclusiveExperiment"


def experiment_name(rollout_name: str, pod_hash: str, revision: int, step_index: int) -> str:
    """Argo names a step's Experiment ``<rollout>-<podHash>-<revision>-<stepIndex>`` (0-based step index)."""
    return f"{rollout_name}-{pod_hash}-{revision}-{step_index}"


@dataclass(frozen=True)
class ExperimentStepFacts:
    """What the step's Experiment is built from besides the step."""

    rollout: JsonObject
    current_hash: str
    revision: int
    step_index: int
    stable_rs: JsonObject | None
    new_rs: JsonObject | None
    stable_hash: str | None


def experiment_for_step(step: CanaryStep, facts: ExperimentStepFacts) -> JsonObject:
    """The Experiment an experiment step creates (needs both ReplicaSets to exist)."""
    assert step.experiment is not None
    raw_step = _raw_experiment_step(facts.rollout, facts.step_index)
    metadata = facts.rollout.get("metadata") or {}
    rollout_spec = facts.rollout.get("spec") or {}
    labels = {str(k): str(v) for k, v in (metadata.get("labels") or {}).items()}
    labels[HASH_LABEL] = facts.current_hash
    name = experiment_name(str(metadata.get("name") or ""), facts.current_hash, facts.revision, facts.step_index)
    spec: JsonObject = {"templates": [_template(entry, facts) for entry in raw_step.get("templates") or ()]}
    for key in ("duration", "dryRun", "measurementRetention", "analysisRunMetadata"):
        if raw_step.get(key) is not None:
            spec[key] = copy.deepcopy(raw_step[key])
    if rollout_spec.get("progressDeadlineSeconds") is not None:
        spec["progressDeadlineSeconds"] = rollout_spec["progressDeadlineSeconds"]
    analyses = [_analysis(entry, facts) for entry in raw_step.get("analyses") or ()]
    if analyses:
        spec["analyses"] = analyses
    return {
        "apiVersion": ROLLOUTS.api_version,
        "kind": "Experiment",
        "metadata": {
            "name": name,
            "namespace": str(metadata.get("namespace") or "default"),
            "labels": labels,
            "annotations": {REVISION_ANNOTATION: str(facts.revision)},
            "ownerReferences": [
                controller_owner_reference(
                    api_version=ROLLOUTS.api_version,
                    kind="Rollout",
                    name=str(metadata.get("name") or ""),
                    uid=str(metadata.get("uid") or ""),
                )
            ],
        },
        "spec": spec,
    }


def _raw_experiment_step(rollout: JsonObject, index: int) -> Mapping[str, Any]:
    steps = (((rollout.get("spec") or {}).get("strategy") or {}).get("canary") or {}).get("steps") or []
    step = steps[index] if 0 <= index < len(steps) else {}
    found = step.get("experiment") if isinstance(step, Mapping) else None
    return found if isinstance(found, Mapping) else {}


def _template(entry: Mapping[str, Any], facts: ExperimentStepFacts) -> JsonObject:
    source = facts.new_rs if entry.get("specRef") == "canary" else facts.stable_rs
    source_spec = (source or {}).get("spec") or {}
    pod_template = copy.deepcopy(source_spec.get("template") or {})
    selector = copy.deepcopy(entry.get("selector") or source_spec.get("selector") or {})
    extra = entry.get("metadata") or {}
    pod_metadata = pod_template.setdefault("metadata", {})
    for key, value in (extra.get("labels") or {}).items():
        pod_metadata.setdefault("labels", {})[key] = value
        selector.setdefault("matchLabels", {})[key] = value
    for key, value in (extra.get("annotations") or {}).items():
        pod_metadata.setdefault("annotations", {})[key] = value
    template: JsonObject = {"name": entry.get("name"), "selector": selector, "template": pod_template}
    if entry.get("replicas") is not None:
        template["replicas"] = entry["replicas"]
    if source_spec.get("minReadySeconds"):
        template["minReadySeconds"] = source_spec["minReadySeconds"]
    service = entry.get("service")
    if entry.get("weight") is not None or service is not None:
        template["service"] = {"name": service["name"]} if isinstance(service, Mapping) and service.get("name") else {}
    return template


def _analysis(entry: Mapping[str, Any], facts: ExperimentStepFacts) -> JsonObject:
    """The step's analysis with its arguments resolved as far as the Rollout can (Argo's
    BuildArgumentsForRolloutAnalysisRun): pod-template hashes and field references become values."""
    analysis: JsonObject = {"name": entry.get("name"), "templateName": entry.get("templateName")}
    for key in ("clusterScope", "requiredForCompletion"):
        if entry.get(key) is not None:
            analysis[key] = entry[key]
    args = [_argument(argument, facts) for argument in entry.get("args") or () if isinstance(argument, Mapping)]
    if args:
        analysis["args"] = args
    return analysis


def _argument(argument: Mapping[str, Any], facts: ExperimentStepFacts) -> JsonObject:
    resolved: JsonObject = copy.deepcopy(dict(argument))
    value_from = argument.get("valueFrom")
    if not isinstance(value_from, Mapping):
        return resolved
    which = value_from.get("podTemplateHashValue")
    value: str | None = None
    if which == "Stable":
        value = facts.stable_hash or ""
    elif which == "Latest":
        value = facts.current_hash
    elif isinstance(value_from.get("fieldRef"), Mapping):
        value = field_value(facts.rollout, str(value_from["fieldRef"].get("fieldPath") or ""))
    if value is not None:
        resolved.pop("valueFrom", None)
        resolved["value"] = value
    return resolved


@dataclass
class ExperimentGate:
    """What the experiment step decided in one pass."""

    writes: list[Write] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    completed: bool = False
    abort_reason: str | None = None
    inconclusive: bool = False
    waiting: str | None = None
    current: str | None = None
    """``status.canary.currentExperiment``: the step's experiment while it runs."""
    destinations: tuple[WeightDestination, ...] = ()
    """The traffic the running experiment's weighted templates take (``rollouts.experiments.traffic``)."""


def decide_experiment_step(
    step: CanaryStep | None,
    facts: ExperimentStepFacts,
    experiments: Sequence[JsonObject],
    *,
    stop_all: bool,
    held_inconclusive: bool,
    recorded: str | None = None,
    history: ExperimentHistory | None = None,
) -> ExperimentGate:
    """Create, read or terminate the Rollout's experiments for where its steps are.

    ``stop_all`` (aborted, or a full promotion) terminates every experiment still running; ``held_inconclusive``
    (a person has to decide about an inconclusive verdict) leaves everything as it is. ``recorded`` is the observed
    ``status.canary.currentExperiment``: the step's experiment is the one recorded there, or one of the step's name
    still running (created by a pass whose status write was lost). An experiment of that name that has finished
    belongs to an earlier attempt (before an abort and retry): the new one is named apart, ``<name>-1``, ``-2``…
    as Argo's collision handling does.
    """
    gate = ExperimentGate()
    namespace = str((facts.rollout.get("metadata") or {}).get("namespace") or "default")
    if stop_all:
        _terminate(gate, namespace, experiments, keep=None)
        return gate
    if held_inconclusive:
        return gate
    wanted: str | None = None
    if step is not None and step.experiment is not None:
        rollout_name = str((facts.rollout.get("metadata") or {}).get("name") or "")
        base = experiment_name(rollout_name, facts.current_hash, facts.revision, facts.step_index)
        by_name = {_name(e): e for e in experiments}
        current = _current(base, by_name, recorded)
        number = facts.step_index + 1
        if current is None:
            if facts.stable_rs is None or facts.new_rs is None:
                gate.waiting = f"waiting for experiment step {number}: the stable ReplicaSet does not exist yet"
                return gate
            wanted = next(name for name in candidate_names(base, "-") if name not in by_name)
            body = experiment_for_step(step, facts)
            body["metadata"]["name"] = wanted
            gate.writes.append(Create(kind=EXPERIMENTS, namespace=namespace, body=body))
            gate.events.append(Event("Normal", "ExperimentCreated", f"Created Experiment '{wanted}'"))
            gate.current = wanted
            gate.waiting = f"waiting for experiment '{wanted}' (step {number})"
        else:
            wanted = _name(current)
            status = current.get("status") or {}
            phase = str(status.get("phase") or "")
            message = str(status.get("message") or "")
            detail = f"Experiment '{wanted}' {phase}" + (f": {message}" if message else "")
            if phase == "Successful":
                gate.completed = True
                # Kept while the step has not moved on (a hold on the last step), so no second one is created.
                gate.current = wanted
            elif phase in ("Failed", "Error"):
                gate.abort_reason = detail
            elif phase == "Inconclusive":
                gate.inconclusive = True
                gate.waiting = detail
                gate.current = wanted
            else:
                gate.current = wanted
                gate.waiting = f"waiting for experiment '{wanted}' (step {number}, {phase or 'Pending'})"
                gate.destinations = experiment_destinations(step, current)
    _terminate(gate, namespace, experiments, keep=wanted)
    if history is not None:
        others = [e for e in experiments if _name(e) != wanted]
        for name in experiments_to_delete(others, history):
            gate.writes.append(Delete(kind=EXPERIMENTS, namespace=namespace, name=name))
    return gate


@dataclass(frozen=True)
class ExperimentHistory:
    """What decides which of a Rollout's earlier experiments are kept: its ReplicaSets' pod-template hashes (each
    with whether that ReplicaSet is being deleted) and ``spec.analysis``'s history limits."""

    replica_set_hashes: Mapping[str, bool]
    successful_limit: int
    unsuccessful_limit: int


def experiments_to_delete(experiments: Sequence[JsonObject], history: ExperimentHistory) -> list[str]:
    """The experiments to delete, newest kept first (Argo's FilterExperimentsToDelete): those of a revision whose
    ReplicaSet is gone or going, and the finished ones past the successful / unsuccessful history limits."""
    kept_successful = kept_unsuccessful = 0
    doomed: list[str] = []
    newest_first = sorted(
        experiments,
        key=lambda e: (str((e.get("metadata") or {}).get("creationTimestamp") or ""), _name(e)),
        reverse=True,
    )
    for experiment in newest_first:
        metadata = experiment.get("metadata") or {}
        if metadata.get("deletionTimestamp"):
            continue
        pod_hash = (metadata.get("labels") or {}).get(HASH_LABEL)
        if pod_hash is None or history.replica_set_hashes.get(str(pod_hash), True):
            doomed.append(_name(experiment))
            continue
        phase = (experiment.get("status") or {}).get("phase")
        if phase == "Successful":
            if kept_successful < history.successful_limit:
                kept_successful += 1
            else:
                doomed.append(_name(experiment))
        elif phase in ("Failed", "Error", "Inconclusive"):
            if kept_unsuccessful < history.unsuccessful_limit:
                kept_unsuccessful += 1
            else:
                doomed.append(_name(experiment))
    return doomed


def _current(base: str, by_name: Mapping[str, JsonObject], recorded: str | None) -> JsonObject | None:
    """The step's experiment: the recorded one (if it is of this step), else one of the base name still running."""
    if recorded and (recorded == base or recorded.startswith(f"{base}-")) and recorded in by_name:
        return by_name[recorded]
    candidate = by_name.get(base)
    if candidate is not None and not is_completed((candidate.get("status") or {}).get("phase")):
        return candidate
    return None


def _terminate(gate: ExperimentGate, namespace: str, experiments: Sequence[JsonObject], keep: str | None) -> None:
    for experiment in experiments:
        name = _name(experiment)
        if name == keep or (experiment.get("spec") or {}).get("terminate") is True:
            continue
        if is_completed((experiment.get("status") or {}).get("phase")):
            continue
        gate.writes.append(Patch(kind=EXPERIMENTS, namespace=namespace, name=name, patch={"spec": {"terminate": True}}))


def _name(obj: JsonObject) -> str:
    return str((obj.get("metadata") or {}).get("name") or "")
