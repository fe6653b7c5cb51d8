"""The ``job`` provider: a Kubernetes Job per measurement; Complete is a success, Failed a failure.

As in Argo, the Job is named ``<run uid>.<metric>.<n>`` (n counts measurements from 1), lives in the run's
namespace, carries the template's labels and annotations plus the run's uid label
(``analysisrun.argoproj.io/uid``) and name/metric annotations, and has the run as its controller owner, so that
deleting the run deletes its Jobs. ``run`` creates the Job and reports Running; ``resume`` reads its
conditions; ``terminate`` deletes it; ``garbage_collect`` deletes a metric's oldest Jobs beyond a limit. The Job a
measurement's metadata names is trusted only as far as it is the run's: in the run's namespace, and (to delete it)
controlled by the run's uid — the status that names it is writable by more people than the Jobs are.
"""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any, Final

from pydantic import ValidationError

from analysis.models import JobMetric
from analysis.providers.base import BaseProvider, MeasurementContext, ProviderError, ProviderResult, provider_section
from kube.errors import Conflict, KubeError, NotFound
from kube.object_meta import controller_owner_reference
from kube.resources import ANALYSIS_RUNS, JOBS

if TYPE_CHECKING:
    from kube.client import AsyncKubeClient
    from kube.json_data import JsonObject

JOB_NAME_KEY: Final = "job-name"
JOB_NAMESPACE_KEY: Final = "job-namespace"
RUN_UID_LABEL: Final = "analysisrun.argoproj.io/uid"
RUN_NAME_ANNOTATION: Final = "analysisrun.argoproj.io/name"
METRIC_NAME_ANNOTATION: Final = "analysisrun.argoproj.io/metric-name"
RUN_KIND: Final = ANALYSIS_RUNS.kind
MAX_NAME_LENGTH: Final = 63
"""The job controller copies a Job's name into a label of its pods, and label values stop at 63 characters."""
DEFAULT_POLL_INTERVAL: Final = 15.0
"""How long a Running measurement waits before its Job is read again. Only a fallback: the analysis controller
watches the Jobs of runs and resumes a measurement as soon as its Job finishes (``metrics_awaiting``)."""

_NOT_DNS: Final = re.compile(r"[^a-z0-9-]+")
_TRAILING_NUMBER: Final = re.compile(r"\.(\d+)$")


def job_name(run_uid: str, metric_name: str, measurement_index: int) -> str:
    """``<uid>.<metric>.<measurement_index + 1>``, Argo's name, whenever that is a valid name of ≤ 63 characters.

    A metric name that is not DNS-safe (``Error_Rate``) or too long is cut down to one that is, with a hash of
    the original appended, so that two metrics of one run never share a Job name.
    """
    number = str(measurement_index + 1)
    safe = _NOT_DNS.sub("-", metric_name.lower()).strip("-") or "metric"
    name = f"{run_uid}.{safe}.{number}"
    if safe == metric_name and len(name) <= MAX_NAME_LENGTH:
        return name
    digest = hashlib.sha256(metric_name.encode()).hexdigest()[:8]
    prefix = run_uid[:36]
    budget = MAX_NAME_LENGTH - len(prefix) - len(number) - len(digest) - 3  # two dots and a dash
    short = safe[: max(budget, 0)].rstrip("-")
    return f"{prefix}.{short}-{digest}.{number}" if short else f"{prefix}.{digest}.{number}"


def job_manifest(context: MeasurementContext, metric: JobMetric) -> JsonObject:
    """The Job for this measurement, owned by the run."""
    labels = {**metric.metadata.labels, RUN_UID_LABEL: context.run_uid}
    annotations = {
        **metric.metadata.annotations,
        RUN_NAME_ANNOTATION: context.run_name,
        METRIC_NAME_ANNOTATION: context.metric_name,
    }
    return {
        "apiVersion": JOBS.api_version,
        "kind": JOBS.kind,
        "metadata": {
            "name": job_name(context.run_uid, context.metric_name, context.measurement_index),
            "namespace": context.run_namespace,
            "labels": labels,
            "annotations": annotations,
            "ownerReferences": [
                controller_owner_reference(
                    api_version=ANALYSIS_RUNS.api_version, kind=RUN_KIND, name=context.run_name, uid=context.run_uid
                )
            ],
        },
        # Kept exactly as written (backoffLimit included): the API server defaults and validates it.
        "spec": copy.deepcopy(metric.spec),
    }


def job_outcome(job: Mapping[str, Any]) -> tuple[str, str]:
    """The measurement phase a Job's conditions mean (``Successful``/``Failed``/``Running``) and a message."""
    metadata = job.get("metadata") or {}
    where = f"{metadata.get('namespace', '')}/{metadata.get('name', '')}"
    conditions = [c for c in (job.get("status") or {}).get("conditions") or () if isinstance(c, Mapping)]
    true = {str(c.get("type")): c for c in conditions if str(c.get("status")) == "True"}
    # Failed is checked first: a Job cannot really be both, and if it claims to, success is not what to report.
    if "Failed" in true:
        condition = true["Failed"]
        detail = ": ".join(str(part) for part in (condition.get("reason"), condition.get("message")) if part)
        return "Failed", f"job {where} failed" + (f": {detail}" if detail else "")
    if "Complete" in true:
        return "Successful", ""
    return "Running", ""


def job_finished(job: Mapping[str, Any]) -> bool:
    """Whether the Job has reached its end (Complete or Failed), so that the measurement waiting on it can be read."""
    return job_outcome(job)[0] != "Running"


def metrics_awaiting(run: Mapping[str, Any], job_names: Collection[str]) -> set[str]:
    """The metrics of ``run`` whose measurement in flight waits on one of the Jobs named ``job_names``."""
    waiting: set[str] = set()
    for result in (run.get("status") or {}).get("metricResults") or ():
        if not isinstance(result, Mapping) or not result.get("measurements"):
            continue
        last = result["measurements"][-1]
        in_flight = isinstance(last, Mapping) and last.get("phase") == "Running" and not last.get("finishedAt")
        if in_flight and (last.get("metadata") or {}).get(JOB_NAME_KEY) in job_names:
            waiting.add(str(result.get("name")))
    return waiting


def _owned_by(job: Mapping[str, Any], run_uid: str) -> bool:
    references = (job.get("metadata") or {}).get("ownerReferences") or ()
    return any(ref.get("controller") and ref.get("uid") == run_uid for ref in references if isinstance(ref, Mapping))


def _age_key(job: Mapping[str, Any]) -> tuple[str, int, str]:
    # creationTimestamp has one-second resolution; the measurement number in the name orders Jobs within a second.
    metadata = job.get("metadata") or {}
    name = str(metadata.get("name", ""))
    match = _TRAILING_NUMBER.search(name)
    return str(metadata.get("creationTimestamp") or ""), int(match.group(1)) if match else 0, name


class JobProvider(BaseProvider):
    """Measures a metric by running a Job; the Job's outcome is the measurement's phase."""

    name = "job"

    def __init__(self, kube: AsyncKubeClient, *, poll_interval: float = DEFAULT_POLL_INTERVAL) -> None:
        self.kube = kube
        self.poll_interval = poll_interval

    async def _run(self, context: MeasurementContext) -> ProviderResult:
        _, section = provider_section(context.metric)
        try:
            metric = JobMetric.model_validate(dict(section))
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(part) for part in first.get("loc", ()))
            raise ProviderError(f"invalid job provider: {where}: {first.get('msg', 'invalid')}") from None
        if not context.run_uid:
            raise ProviderError(
                f"AnalysisRun {context.run_namespace}/{context.run_name} has no uid, which its Jobs' owner "
                "reference needs"
            )
        body = job_manifest(context, metric)
        name, namespace = body["metadata"]["name"], context.run_namespace
        try:
            await self.kube.create(JOBS, namespace, body)
        except Conflict:
            # A controller that restarted between creating the Job and recording the measurement creates it
            # again; the Job it made then is this measurement's, as long as it is this run's and this metric's.
            existing = await self._get(namespace, name)
            annotations = ((existing or {}).get("metadata") or {}).get("annotations") or {}
            if (
                existing is None
                or not _owned_by(existing, context.run_uid)
                or annotations.get(METRIC_NAME_ANNOTATION) != context.metric_name
            ):
                raise ProviderError(
                    f"job {namespace}/{name} already exists and belongs to another AnalysisRun or metric"
                ) from None
        except KubeError as error:
            raise ProviderError(f"could not create job {namespace}/{name}: {error}") from None
        return ProviderResult(
            phase="Running",
            metadata={JOB_NAME_KEY: name, JOB_NAMESPACE_KEY: namespace},
            resume_after=self.poll_interval,
        )

    async def _resume(self, context: MeasurementContext, metadata: Mapping[str, str]) -> ProviderResult:
        name, namespace = self._reference(context, metadata)
        job = await self._get(namespace, name)
        if job is None:
            raise ProviderError(f"job {namespace}/{name} no longer exists: it was deleted before it finished")
        phase, message = job_outcome(job)
        kept = {JOB_NAME_KEY: name, JOB_NAMESPACE_KEY: namespace}
        if phase == "Running":
            return ProviderResult(phase=phase, metadata=kept, resume_after=self.poll_interval)
        return ProviderResult(phase=phase, message=message, metadata=kept)

    async def _terminate(self, context: MeasurementContext, metadata: Mapping[str, str]) -> None:
        if not metadata.get(JOB_NAME_KEY):
            return  # nothing was created, so there is nothing to stop
        name, namespace = self._reference(context, metadata)
        job = await self._get(namespace, name)
        if job is None:
            return  # already gone
        # The reference comes from the run's status, which whoever may write ``analysisruns/status`` can forge:
        # only a Job this very run (by uid) controls is ever deleted.
        if not _owned_by(job, context.run_uid):
            raise ProviderError(
                f"job {namespace}/{name} is not owned by AnalysisRun {context.run_namespace}/{context.run_name} "
                "(uid checked), so it is not deleted"
            )
        await self._delete(namespace, name)

    async def _garbage_collect(self, context: MeasurementContext, keep: int) -> None:
        if not context.run_uid:
            return
        namespace = context.run_namespace
        try:
            jobs = await self.kube.list(JOBS, namespace, label_selector=f"{RUN_UID_LABEL}={context.run_uid}")
        except KubeError as error:
            raise ProviderError(
                f"could not list the jobs of AnalysisRun {namespace}/{context.run_name}: {error}"
            ) from None
        # The uid label covers every metric of the run; the metric's annotation narrows it to this one. Jobs
        # already being deleted are on their way out and count for neither side. A label is anyone's to set, so
        # only Jobs the run controls (ownerReference uid) are deleted.
        mine = [
            job
            for job in jobs
            if ((job.get("metadata") or {}).get("annotations") or {}).get(METRIC_NAME_ANNOTATION) == context.metric_name
            and not (job.get("metadata") or {}).get("deletionTimestamp")
            and _owned_by(job, context.run_uid)
        ]
        mine.sort(key=_age_key)
        for job in mine[: max(len(mine) - max(keep, 0), 0)]:
            await self._delete(namespace, str(job["metadata"]["name"]))

    # -- helpers --

    @staticmethod
    def _reference(context: MeasurementContext, metadata: Mapping[str, str]) -> tuple[str, str]:
        """The Job a measurement names; only ever in the run's own namespace (the status could say otherwise)."""
        name = metadata.get(JOB_NAME_KEY)
        if not name:
            raise ProviderError("job metadata reference missing: the measurement records no job-name")
        namespace = metadata.get(JOB_NAMESPACE_KEY) or context.run_namespace
        if namespace != context.run_namespace:
            raise ProviderError(
                f"job {namespace}/{name} is not in the AnalysisRun's namespace {context.run_namespace}; "
                "a run's Jobs live beside it, so it is neither read nor deleted"
            )
        return name, namespace

    async def _get(self, namespace: str, name: str) -> JsonObject | None:
        try:
            return await self.kube.get_or_none(JOBS, namespace, name)
        except KubeError as error:
            raise ProviderError(f"could not read job {namespace}/{name}: {error}") from None

    async def _delete(self, namespace: str, name: str) -> None:
        try:
            await self.kube.delete(JOBS, namespace, name, propagation="Background")
        except NotFound:
            return
        except KubeError as error:
            raise ProviderError(f"could not delete job {namespace}/{name}: {error}") from None
