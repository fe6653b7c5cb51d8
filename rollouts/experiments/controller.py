"""The Experiment controller: observe → decide (``rollouts.experiments.decisions``) → act, on the shared runner.

It runs in the Rollout controller's process and kopf operator. Experiments are cached from their watch; what one
pass reads besides the experiment is found by name — its ReplicaSets are ``<experiment>-<template>``, its runs
``<experiment>-<analysis>``, its templates are named in its spec — so a pass costs a few GETs whatever else the
cluster holds. Watch events of ReplicaSets and AnalysisRuns an Experiment controls wake that Experiment.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from prometheus_client import CollectorRegistry

from kube.client import AsyncKubeClient
from kube.controller_runner import GONE, ControllerRunner, Gone, NamespacedWorkerOptions, PassFailed
from kube.controller_startup import CacheFirstController, list_into_cache
from kube.errors import Conflict, NotFound
from kube.events import EventRecorder
from kube.json_data import JsonObject
from kube.merge_patch import merge_patch_between
from kube.metrics_export import ReconcileMetrics
from kube.object_meta import ObjectKey, controller_reference, is_older, object_key
from kube.resources import (
    ANALYSIS_RUNS,
    ANALYSIS_TEMPLATES,
    CLUSTER_ANALYSIS_TEMPLATES,
    EXPERIMENTS,
    REPLICASETS,
    SERVICES,
    ResourceKind,
)
from kube.timestamps import Clock, format_time, seconds_until, utc_now
from kube.watch_events import DELETED
from rollouts.experiments.decisions import (
    ExperimentInputs,
    ExperimentPlan,
    analysis_run_name,
    decide_experiment,
    replica_set_name,
)
from rollouts.experiments.kinds import EXPERIMENT_KIND
from rollouts.experiments.models import Experiment
from rollouts.plan import Event

logger = logging.getLogger(__name__)

DEFAULT_WORKERS: Final = 10  # Argo's --experiment-threads


@dataclass(frozen=True, kw_only=True)
class ExperimentOptions(NamespacedWorkerOptions):
    """How the Experiment controller runs."""

    workers: int = DEFAULT_WORKERS


def invalid_spec_status(message: str, now: datetime) -> JsonObject:
    """An experiment whose spec Argo would refuse: phase Error and an InvalidSpec condition saying why."""
    stamp = format_time(now)
    return {
        "phase": "Error",
        "message": f"InvalidSpec: {message}",
        "conditions": [
            {
                "type": "InvalidSpec",
                "status": "True",
                "reason": "InvalidSpec",
                "message": message,
                "lastUpdateTime": stamp,
                "lastTransitionTime": stamp,
            }
        ],
    }


class ExperimentController(CacheFirstController[AsyncKubeClient, ExperimentOptions]):
    """One observe → decide → act pass per Experiment, on its own runner. ``rollouts.experiments.handlers`` hands it
    the watch events of Experiments and of the ReplicaSets and AnalysisRuns they control, and starts and stops it;
    its methods run on the operator's event loop."""

    def __init__(
        self,
        client: AsyncKubeClient,
        options: ExperimentOptions,
        *,
        registry: CollectorRegistry | None = None,
        clock: Clock = utc_now,
    ) -> None:
        super().__init__(client, options, clock)
        self.events = EventRecorder(client)
        self.experiments: dict[ObjectKey, JsonObject] = {}
        self.runner: ControllerRunner[ObjectKey] = ControllerRunner(
            self.options.runner_options("experiment"),
            self.reconcile,
            lambda: list(self.experiments),
            # experiment_reconcile and experiment_reconcile_error, under Argo's names and help texts.
            ReconcileMetrics(
                registry if registry is not None else CollectorRegistry(),
                "experiment",
                reconcile_help="Experiments reconciliation performance.",
                error_help="Error occurring during the experiment",
            ),
        )

    # -- input -------------------------------------------------------------------------------------------

    def observe_experiment(self, event_type: str | None, experiment: JsonObject) -> None:
        """A watch event of an Experiment: keep it and queue it."""
        key = object_key(experiment)
        if key is None:
            return
        if event_type == DELETED:
            self.experiments.pop(key, None)
        else:
            cached = self.experiments.get(key)
            if cached is not None and is_older(experiment, cached):
                return
            self.experiments[key] = experiment
        self.runner.add(key)

    def observe_owned(self, obj: JsonObject) -> None:
        """A watch event of a ReplicaSet or AnalysisRun: wake the Experiment that controls it, if any."""
        owner = controller_reference(obj, "Experiment")
        key = object_key(obj)
        if owner is None or key is None:
            return
        owner_key = ObjectKey(key.namespace, str(owner.get("name") or ""))
        if owner_key in self.experiments:
            self.runner.add(owner_key)

    # -- lifecycle ---------------------------------------------------------------------------------------

    async def _fill_cache(self) -> None:
        """List every Experiment (in the watched namespaces) into the cache."""
        await list_into_cache(
            self.client, EXPERIMENTS, self.options.namespaces, lambda found: self.observe_experiment(None, found)
        )

    async def stop(self) -> None:
        await self.runner.stop()
        await self.events.drain()

    # -- one pass ----------------------------------------------------------------------------------------

    async def reconcile(self, key: ObjectKey) -> float | Gone | None:
        """Observe the experiment's ReplicaSets, runs and templates, decide, and carry the plan out."""
        raw = self.experiments.get(key)
        if raw is None:
            return GONE
        now = self.clock()
        # Structure (the model) and Argo's rules alike, each finding naming its field path.
        issues = EXPERIMENT_KIND.check(raw)
        if issues:
            await self._refuse(raw, "; ".join(str(issue) for issue in issues), now)
            return None
        experiment = Experiment.from_dict(raw)
        try:
            inputs = await self._observe(key, experiment)
            plan = decide_experiment(experiment, raw, inputs, now)
            await self._act(key.namespace, plan)
            await self._write_status(raw, plan.status)
        except Exception as error:
            transient = isinstance(error, Conflict | NotFound)
            raise PassFailed("reconciling the experiment", error, transient=transient) from error
        for event in plan.events:
            self._emit(raw, event)
        if plan.wake_at is None:
            return None
        return max(seconds_until(plan.wake_at, now), 0.0)

    async def _observe(self, key: ObjectKey, experiment: Experiment) -> ExperimentInputs:
        namespace = key.namespace
        uid = experiment.metadata.uid

        def ours(found: JsonObject | None) -> bool:
            # Only what this incarnation controls: an object left by a deleted Experiment of the same name is not.
            owner = controller_reference(found, "Experiment") if found is not None else None
            return owner is not None and owner.get("uid") == uid

        replica_sets: dict[str, JsonObject] = {}
        for template in experiment.spec.templates:
            found = await self.client.get_or_none(REPLICASETS, namespace, replica_set_name(key.name, template.name))
            if found is not None and ours(found):
                replica_sets[template.name] = found
        runs: dict[str, JsonObject] = {}
        templates: dict[str, JsonObject] = {}
        cluster_templates: dict[str, JsonObject] = {}
        recorded = {entry.name: entry.analysis_run for entry in experiment.status.analysis_runs}
        for analysis in experiment.spec.analyses:
            run_name = recorded.get(analysis.name) or analysis_run_name(key.name, analysis.name)
            run = await self.client.get_or_none(ANALYSIS_RUNS, namespace, run_name)
            if run is not None and ours(run):
                runs[analysis.name] = run
            await self._templates(namespace, analysis.template_name, analysis.cluster_scope,
                                  templates, cluster_templates)
        return ExperimentInputs(replica_sets, runs, templates, cluster_templates)

    async def _templates(
        self,
        namespace: str,
        name: str,
        cluster: bool,
        templates: dict[str, JsonObject],
        cluster_templates: dict[str, JsonObject],
    ) -> None:
        """The template named and those it nests (each read once)."""
        into = cluster_templates if cluster else templates
        if name in into:
            return
        found = await self.client.get_or_none(
            CLUSTER_ANALYSIS_TEMPLATES if cluster else ANALYSIS_TEMPLATES, None if cluster else namespace, name
        )
        if found is None:
            return
        into[name] = found
        for nested in (found.get("spec") or {}).get("templates") or ():
            if isinstance(nested, dict) and nested.get("templateName"):
                await self._templates(namespace, str(nested["templateName"]), nested.get("clusterScope") is True,
                                      templates, cluster_templates)

    async def _act(self, namespace: str, plan: ExperimentPlan) -> None:
        for replica_set in plan.replica_set_creates:
            await self._create(REPLICASETS, namespace, replica_set)
        for scale in plan.replica_set_scales:
            patch: JsonObject = {"spec": {"replicas": scale.replicas}}
            if scale.annotations:
                patch["metadata"] = {"annotations": dict(scale.annotations)}
            await self.client.patch(REPLICASETS, namespace, scale.name, patch)
        for service in plan.service_creates:
            await self._create(SERVICES, namespace, service)
        for name in plan.service_deletes:
            with contextlib.suppress(NotFound):  # already gone is what was wanted
                await self.client.delete(SERVICES, namespace, name)
        for run in plan.run_creates:
            await self._create(ANALYSIS_RUNS, namespace, run)
        for name in plan.run_terminations:
            await self.client.patch(ANALYSIS_RUNS, namespace, name, {"spec": {"terminate": True}})

    async def _create(self, kind: ResourceKind, namespace: str, body: JsonObject) -> None:
        # A create a stale view repeats: the object is there already, and the next pass reads it.
        with contextlib.suppress(Conflict):
            await self.client.create(kind, namespace, body)

    async def _write_status(self, raw: JsonObject, status: JsonObject) -> None:
        """Write what differs from the observed status, as one merge patch of /status (nothing when equal)."""
        metadata = raw.get("metadata") or {}
        namespace, name = str(metadata.get("namespace") or ""), str(metadata.get("name") or "")
        change = merge_patch_between(raw.get("status") or {}, status)
        if not change:
            return
        body: JsonObject = {"status": change}
        if metadata.get("resourceVersion"):
            body["metadata"] = {"resourceVersion": metadata["resourceVersion"]}
        updated = await self.client.patch(EXPERIMENTS, namespace, name, body, subresource="status")
        self.observe_experiment(None, updated)

    async def _refuse(self, raw: JsonObject, message: str, now: datetime) -> None:
        observed = raw.get("status") or {}
        wanted = invalid_spec_status(message, now)
        if observed.get("phase") == wanted["phase"] and observed.get("message") == wanted["message"]:
            return  # said already; rewriting the timestamps would only wake this experiment again
        await self._write_status(raw, wanted)
        self._emit(raw, Event("Warning", "InvalidSpec", message))

    def _emit(self, raw: JsonObject, event: Event) -> None:
        self.events.emit(raw, event)
