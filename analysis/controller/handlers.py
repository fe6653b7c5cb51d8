"""The analysis controller's kopf registration: observers of AnalysisRuns and of Jobs, and its start-up and
clean-up.

Observers only (``kopf.on.event``; see ``kube.kopf_operator``), so kopf writes nothing to runs or Jobs. In the
operator the Rollout controller shares, AnalysisRuns have one watch stream for both controllers' handlers. Jobs
are watched for the one moment that matters, a Job of a run finishing; kopf calls the handler only for Jobs that
carry the run label the job provider puts on every Job it creates.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import kopf

from analysis.controller.controller import AnalysisController
from analysis.providers.job import RUN_UID_LABEL
from kube.informer import Informers
from kube.kopf_operator import register_lifecycle
from kube.resources import ANALYSIS_RUNS, JOBS


def register_handlers(
    registry: kopf.OperatorRegistry, controller: AnalysisController, *, informers: Informers | None = None
) -> None:
    """Register the controller's handlers in ``registry`` (the operator's, possibly shared with other controllers;
    the login is the operator's business, not this controller's); with ``informers`` the runs and Jobs are
    observed through them (``kube.informer``), not through kopf."""

    register_lifecycle(registry, controller, "analysis", configure=True)
    if informers is not None:
        informers.observe(ANALYSIS_RUNS, lambda event_type, obj: controller.observe_run(event_type, dict(obj)))
        informers.observe(JOBS, lambda event_type, obj: controller.observe_job(event_type, dict(obj)),
                          label_selector=RUN_UID_LABEL)
        # The runs' stream fills the cache: one list of them for this controller and the Rollout controller.
        controller.fill_from(partial(informers.listed, ANALYSIS_RUNS))
        return

    @kopf.on.event(
        group=ANALYSIS_RUNS.group,
        version=ANALYSIS_RUNS.version,
        plural=ANALYSIS_RUNS.plural,
        id="analysis-observe-analysisruns",
        registry=registry,
    )
    async def observe_run(event: kopf.RawEvent, **_: Any) -> None:
        controller.observe_run(event.get("type"), dict(event["object"]))

    @kopf.on.event(
        group=JOBS.group,
        version=JOBS.version,
        plural=JOBS.plural,
        id="analysis-observe-jobs",
        labels={RUN_UID_LABEL: kopf.PRESENT},
        registry=registry,
    )
    async def observe_job(event: kopf.RawEvent, **_: Any) -> None:
        controller.observe_job(event.get("type"), dict(event["object"]))
