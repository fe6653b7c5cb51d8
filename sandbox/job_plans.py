"""One pass of the Job controller and the TTL-after-finished controller, as a pure function (Kubernetes 1.32).

The rules follow `pkg/controller/job/job_controller.go`: pods labelled with the Job's uid and name; `parallelism`
pods at a time until `completions` succeed (a work queue when only parallelism is set: done once one pod has
succeeded and none is left running); a failed pod is replaced after a back-off until more than `backoffLimit`
have failed (restartPolicy OnFailure counts container restarts instead); `activeDeadlineSeconds` from startTime;
`suspend` deletes the running pods. A finished Job carries the terminal condition after its `*Target`/
`SuccessCriteriaMet` twin, both with the same reason, as 1.31+ reports them; `completionTime` only on success.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any, Final, NamedTuple

from sandbox.controller_plans import (
    ControllerPlan,
    condition,
    find_condition,
    is_condition_true,
    is_deleting,
    is_terminal,
    put_condition,
    put_nonzero,
    template_pod,
)
from sandbox.kubelet_plans import restart_count, restart_policy
from sandbox.workload_plans import controller_ref
from sandbox.workload_status import JsonDict, format_timestamp, is_pod_ready, parse_timestamp

DEFAULT_BACKOFF_LIMIT: Final = 6
# The Job controller's pod re-creation back-off (DefaultJobPodFailureBackOff, MaxJobPodFailureBackOff).
DEFAULT_RETRY_BACKOFF: Final = 10.0
MAX_RETRY_BACKOFF: Final = 360.0

class JobEnd(NamedTuple):
    """How a running Job ends: its terminal condition's type, and the reason and message the controller gives."""

    condition_type: str
    reason: str
    message: str


COMPLETIONS_REACHED: Final = JobEnd("Complete", "CompletionsReached", "Reached expected number of succeeded pods")
BACKOFF_LIMIT_EXCEEDED: Final = JobEnd("Failed", "BackoffLimitExceeded", "Job has reached the specified backoff limit")
DEADLINE_EXCEEDED: Final = JobEnd("Failed", "DeadlineExceeded", "Job was active longer than specified deadline")


def job_labels(job: Mapping[str, Any]) -> dict[str, str]:
    """The labels the API server adds to a Job's pod template (and so to its pods): the Job's uid and name, each
    under its batch.kubernetes.io label and under the legacy unprefixed one."""
    metadata = job.get("metadata") or {}
    uid, name = str(metadata.get("uid", "")), str(metadata.get("name", ""))
    return {
        "batch.kubernetes.io/controller-uid": uid,
        "batch.kubernetes.io/job-name": name,
        "controller-uid": uid,
        "job-name": name,
    }


def is_job_finished(job: Mapping[str, Any]) -> bool:
    status = job.get("status") or {}
    return is_condition_true(status, "Complete") or is_condition_true(status, "Failed")


def job_finished_at(job: Mapping[str, Any]) -> float | None:
    """When the Job finished: its Complete or Failed condition's transition (what the TTL controller reads)."""
    status = job.get("status") or {}
    for condition_type in ("Complete", "Failed"):
        entry = find_condition(status, condition_type)
        if entry is not None and entry.get("status") == "True":
            return parse_timestamp(entry.get("lastTransitionTime"))
    return None


def _completions(spec: Mapping[str, Any]) -> int | None:
    """spec.completions with the API server's defaulting: 1 when neither completions nor parallelism is set."""
    if spec.get("completions") is not None:
        return int(spec["completions"])
    return 1 if spec.get("parallelism") is None else None


def _parallelism(spec: Mapping[str, Any]) -> int:
    return 1 if spec.get("parallelism") is None else int(spec["parallelism"])


def _finished_at(pod: Mapping[str, Any], fallback: float) -> float:
    for status in (pod.get("status") or {}).get("containerStatuses") or ():
        terminated = (status.get("state") or {}).get("terminated") or {}
        if (moment := parse_timestamp(terminated.get("finishedAt"))) is not None:
            return moment
    return fallback


def plan_job(
    job: Mapping[str, Any],
    pods: Sequence[Mapping[str, Any]],
    now: float,
    *,
    retry_backoff: float = DEFAULT_RETRY_BACKOFF,
) -> ControllerPlan:
    """One syncJob pass over the pods the Job controls; `retry_backoff` is the first re-creation delay (doubling)."""
    plan = ControllerPlan()
    current = job.get("status") or {}
    if is_job_finished(job):
        _plan_ttl(job, plan, now)
        return plan
    status: JsonDict = copy.deepcopy(dict(current))
    conditions: list[JsonDict] = list(status.get("conditions") or [])
    active = [p for p in pods if not is_terminal(p) and not is_deleting(p)]
    terminating = [p for p in pods if not is_terminal(p) and is_deleting(p)]
    succeeded = max(int(current.get("succeeded") or 0), sum(1 for p in pods if _phase(p) == "Succeeded"))
    failed_pods = [p for p in pods if _phase(p) == "Failed"]
    failed = max(int(current.get("failed") or 0), len(failed_pods))
    suspended = _plan_suspension(job, status, conditions, now)

    finished = None if suspended else _finish(job, status, active, succeeded, failed, plan, now)
    if suspended:
        plan.delete.extend(active)
        active = []
    elif finished is not None:
        plan.delete.extend(active)
        if finished.condition_type == "Failed":
            twin = "FailureTarget"
            failed += len(active)  # the running pods the controller deletes count as failed
        else:
            twin = "SuccessCriteriaMet"
            status["completionTime"] = format_timestamp(now)
        # Upstream sets the terminal condition after its twin, with the same reason and message.
        for condition_type in (twin, finished.condition_type):
            put_condition(conditions, condition(condition_type, True, finished.reason, finished.message, now))
        active = []
        _plan_ttl({**job, "status": {"conditions": conditions}}, plan, now)
    else:
        _plan_pods(job, active, succeeded, failed_pods, plan, now, retry_backoff)
    status.pop("active", None)
    status.pop("succeeded", None)
    status.pop("failed", None)
    put_nonzero(status, "active", len(active) + len(plan.create))
    put_nonzero(status, "succeeded", succeeded)
    put_nonzero(status, "failed", failed)
    status["ready"] = sum(1 for p in active if is_pod_ready(p))
    status["terminating"] = len(terminating)
    status["uncountedTerminatedPods"] = {}
    if conditions:
        status["conditions"] = conditions
    plan.status = status
    return plan


def _plan_suspension(job: Mapping[str, Any], status: JsonDict, conditions: list[JsonDict], now: float) -> bool:
    """Whether the Job is suspended, with its Suspended condition and (on resumption) a fresh startTime."""
    if (job.get("spec") or {}).get("suspend"):
        put_condition(conditions, condition("Suspended", True, "JobSuspended", "Job suspended", now))
        return True
    if is_condition_true(job.get("status") or {}, "Suspended"):
        put_condition(conditions, condition("Suspended", False, "JobResumed", "Job resumed", now))
        status["startTime"] = format_timestamp(now)  # the deadline counts from the resumption
    status.setdefault("startTime", format_timestamp(now))
    return False


def _finish(
    job: Mapping[str, Any],
    status: JsonDict,
    active: Sequence[Mapping[str, Any]],
    succeeded: int,
    failed: int,
    plan: ControllerPlan,
    now: float,
) -> JobEnd | None:
    """How a running Job ends now; None while it runs (then the plan wakes at its deadline, if it has one)."""
    spec = job.get("spec") or {}
    completions = _completions(spec)
    backoff_limit = int(spec.get("backoffLimit", DEFAULT_BACKOFF_LIMIT))
    started = parse_timestamp(status.get("startTime")) or now
    deadline = spec.get("activeDeadlineSeconds")
    restarts = sum(restart_count(p) for p in active) if restart_policy(job_template(job)) == "OnFailure" else 0
    if (completions is not None and succeeded >= completions) or (
        completions is None and succeeded > 0 and not active
    ):
        return COMPLETIONS_REACHED
    if failed > backoff_limit or (restarts > 0 and restarts >= max(backoff_limit, 1)):
        return BACKOFF_LIMIT_EXCEEDED
    if deadline is not None and now >= started + int(deadline):
        return DEADLINE_EXCEEDED
    if deadline is not None:
        plan.wake_at(started + int(deadline))
    return None


def _plan_pods(
    job: Mapping[str, Any],
    active: Sequence[Mapping[str, Any]],
    succeeded: int,
    failed_pods: Sequence[Mapping[str, Any]],
    plan: ControllerPlan,
    now: float,
    retry_backoff: float,
) -> None:
    """Create the pods parallelism still allows, once the back-off since the last failure has passed."""
    spec = job.get("spec") or {}
    completions, parallelism = _completions(spec), _parallelism(spec)
    wanted = parallelism if completions is None else min(parallelism, completions - succeeded)
    if completions is None and succeeded > 0:
        wanted = 0  # a work queue: once one pod succeeded, the rest finish on their own
    missing = max(0, wanted - len(active))
    if missing and failed_pods:
        last_failure = max(_finished_at(p, now) for p in failed_pods)
        retry_at = last_failure + min(MAX_RETRY_BACKOFF, retry_backoff * 2 ** (len(failed_pods) - 1))
        if now < retry_at:
            plan.wake_at(retry_at)
            missing = 0
    for _ in range(missing):
        plan.create.append(template_pod(job, controller_ref(job, "Job", "batch/v1"), labels=job_labels(job)))


def job_template(job: Mapping[str, Any]) -> JsonDict:
    """The Job's pod template as a pod-shaped dict (for restart policy lookups)."""
    return dict((job.get("spec") or {}).get("template") or {})


def _phase(pod: Mapping[str, Any]) -> str:
    return str((pod.get("status") or {}).get("phase") or "")


def _plan_ttl(job: Mapping[str, Any], plan: ControllerPlan, now: float) -> None:
    """The TTL-after-finished controller: delete a finished Job (and so its pods) once its TTL has passed."""
    ttl = (job.get("spec") or {}).get("ttlSecondsAfterFinished")
    finished_at = job_finished_at(job)
    if ttl is None or finished_at is None:
        return
    expires = finished_at + int(ttl)
    if now >= expires:
        plan.delete_self = True
    else:
        plan.wake_at(expires)
