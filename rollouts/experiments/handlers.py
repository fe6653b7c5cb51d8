"""The Experiment controller's kopf registration: observers of Experiments and of the ReplicaSets and AnalysisRuns
an Experiment controls, and its start-up and clean-up.

Observers only (``kopf.on.event``), so kopf writes nothing to these objects. In the shared operator the
ReplicaSet and AnalysisRun handlers ride on the watch streams the Rollout and analysis controllers already have.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import kopf

from kube.informer import Informers
from kube.kopf_operator import register_lifecycle
from kube.resources import ANALYSIS_RUNS, EXPERIMENTS, REPLICASETS
from rollouts.experiments.controller import ExperimentController


def register_handlers(
    registry: kopf.OperatorRegistry, controller: ExperimentController, *, informers: Informers | None = None
) -> None:
    """Register the controller's handlers in ``registry`` (the operator's, shared with the other controllers); with
    ``informers`` the kinds are observed through them (``kube.informer``), not through kopf."""

    register_lifecycle(registry, controller, "experiments", configure=True)
    if informers is not None:
        informers.observe(EXPERIMENTS, lambda event_type, obj: controller.observe_experiment(event_type, dict(obj)))
        for kind in (REPLICASETS, ANALYSIS_RUNS):
            informers.observe(kind, lambda _, obj: controller.observe_owned(dict(obj)))
        # The Experiments' stream fills the cache (one list of them, shared with the Rollout controller).
        controller.fill_from(partial(informers.listed, EXPERIMENTS))
        return

    @kopf.on.event(
        group=EXPERIMENTS.group, version=EXPERIMENTS.version, plural=EXPERIMENTS.plural,
        id="experiments-observe-experiments", registry=registry,
    )
    async def observe_experiment(event: kopf.RawEvent, **_: Any) -> None:
        controller.observe_experiment(event.get("type"), dict(event["object"]))

    for kind in (REPLICASETS, ANALYSIS_RUNS):

        @kopf.on.event(
            group=kind.group, version=kind.version, plural=kind.plural,
            id=f"experiments-observe-{kind.plural}", registry=registry,
        )
        async def observe_owned(event: kopf.RawEvent, **_: Any) -> None:
            controller.observe_owned(dict(event["object"]))
