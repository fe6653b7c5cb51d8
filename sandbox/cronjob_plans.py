"""One pass of the CronJob controller, as a pure function (pkg/controller/cronjob, controller v2, Kubernetes 1.32).

The most recent schedule time after the last one (or the CronJob's creation) and not after `now` is due; it starts
a Job named `<cronjob>-<minutes since the epoch>` (so the same moment never starts two), unless the CronJob is
suspended, the moment is older than `startingDeadlineSeconds`, or `concurrencyPolicy: Forbid` finds a Job still
running (`Replace` deletes the running ones first). The schedule is read in `spec.timeZone` (UTC when unset, the
sandbox's controller-manager zone). `status.active` lists the running Jobs, `lastScheduleTime` the last moment
acted on, `lastSuccessfulTime` the latest completion; finished Jobs beyond `successfulJobsHistoryLimit` (3) and
`failedJobsHistoryLimit` (1) are deleted, oldest first.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from sandbox.controller_plans import ControllerPlan, is_condition_true, is_deleting
from sandbox.workload_plans import controller_ref
from sandbox.workload_status import JsonDict, format_timestamp, parse_timestamp

SCHEDULED_TIMESTAMP_ANNOTATION: Final = "batch.kubernetes.io/cronjob-scheduled-timestamp"
DEFAULT_SUCCESSFUL_HISTORY: Final = 3
DEFAULT_FAILED_HISTORY: Final = 1


class ScheduleError(ValueError):
    """The CronJob's schedule or time zone cannot be read; the message names the field."""


def schedule_zone(cronjob: Mapping[str, Any]) -> ZoneInfo:
    name = (cronjob.get("spec") or {}).get("timeZone")
    if not name:
        return ZoneInfo("UTC")
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(f"spec.timeZone: unknown time zone {name!r}") from None


def _schedule(cronjob: Mapping[str, Any]) -> str:
    schedule = str((cronjob.get("spec") or {}).get("schedule") or "")
    # Kubernetes accepts a leading TZ=/CRON_TZ= only through spec.timeZone; croniter would not understand it.
    if not schedule or not croniter.is_valid(schedule):
        raise ScheduleError(f"spec.schedule: {schedule!r} is not a cron schedule")
    return schedule


def most_recent_schedule(cronjob: Mapping[str, Any], earliest: float, now: float) -> float | None:
    """The latest schedule time t with earliest < t <= now, or None."""
    zone = schedule_zone(cronjob)
    # get_prev is strictly before its start: start a second past `now` (whole seconds) so that `now` counts.
    start = datetime.fromtimestamp(int(now) + 1, zone)
    moment = float(croniter(_schedule(cronjob), start).get_prev(float))
    return moment if moment > earliest else None


def next_schedule(cronjob: Mapping[str, Any], now: float) -> float:
    """The first schedule time strictly after `now`."""
    zone = schedule_zone(cronjob)
    return float(croniter(_schedule(cronjob), datetime.fromtimestamp(now, zone)).get_next(float))


def job_name(cronjob: Mapping[str, Any], scheduled: float) -> str:
    """getJobName: the CronJob's name and the schedule time in minutes since the epoch."""
    return f"{cronjob['metadata']['name']}-{int(scheduled) // 60}"


def _finished(job: Mapping[str, Any]) -> str | None:
    status = job.get("status") or {}
    for condition_type in ("Complete", "Failed"):
        if is_condition_true(status, condition_type):
            return condition_type
    return None


def _job_ref(job: Mapping[str, Any]) -> JsonDict:
    metadata = job.get("metadata") or {}
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "name": metadata.get("name"),
        "namespace": metadata.get("namespace"),
        "uid": metadata.get("uid"),
        "resourceVersion": metadata.get("resourceVersion"),
    }


def new_job(cronjob: Mapping[str, Any], scheduled: float) -> JsonDict:
    """getJobFromTemplate2: the jobTemplate as a Job owned by the CronJob, stamped with its schedule time."""
    template = (cronjob.get("spec") or {}).get("jobTemplate") or {}
    template_meta = template.get("metadata") or {}
    annotations = {
        **(template_meta.get("annotations") or {}),
        SCHEDULED_TIMESTAMP_ANNOTATION: datetime.fromtimestamp(int(scheduled), UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": job_name(cronjob, scheduled),
            "namespace": cronjob["metadata"].get("namespace"),
            "labels": dict(template_meta.get("labels") or {}),
            "annotations": annotations,
            "ownerReferences": [controller_ref(cronjob, "CronJob", "batch/v1")],
        },
        "spec": copy.deepcopy(template.get("spec") or {}),
    }


def plan_cronjob(cronjob: Mapping[str, Any], jobs: Sequence[Mapping[str, Any]], now: float) -> ControllerPlan:
    """One syncCronJob pass over the Jobs the CronJob owns."""
    plan = ControllerPlan()
    spec = cronjob.get("spec") or {}
    current = cronjob.get("status") or {}
    status: JsonDict = copy.deepcopy(dict(current))
    live = [j for j in jobs if not is_deleting(j)]
    running = [j for j in live if _finished(j) is None]
    last_success = parse_timestamp(current.get("lastSuccessfulTime"))
    for job in live:
        if _finished(job) == "Complete":
            done = parse_timestamp((job.get("status") or {}).get("completionTime"))
            if done is not None and (last_success is None or done > last_success):
                last_success = done
    if last_success is not None:
        status["lastSuccessfulTime"] = format_timestamp(last_success)
    names = {str((j.get("metadata") or {}).get("name")) for j in live}
    plan.delete.extend(_history_to_delete(spec, live))
    if not is_deleting(cronjob) and not spec.get("suspend"):
        try:
            _schedule_next(cronjob, live, running, names, status, plan, now)
        except ScheduleError as error:
            plan.warnings.append(str(error))
    deleted = {id(j) for j in plan.delete}
    active = [_job_ref(j) for j in running if id(j) not in deleted]
    if active:
        status["active"] = active
    else:
        status.pop("active", None)
    plan.status = status
    return plan


def _schedule_next(
    cronjob: Mapping[str, Any],
    live: list[Mapping[str, Any]],
    running: list[Mapping[str, Any]],
    names: set[str],
    status: JsonDict,
    plan: ControllerPlan,
    now: float,
) -> None:
    spec = cronjob.get("spec") or {}
    earliest = parse_timestamp(status.get("lastScheduleTime")) or parse_timestamp(
        (cronjob.get("metadata") or {}).get("creationTimestamp")
    )
    if earliest is None:
        earliest = now
    deadline = spec.get("startingDeadlineSeconds")
    if deadline is not None:
        earliest = max(earliest, now - int(deadline))
    # A hair past the moment, since the check is "not after now".
    plan.wake_at(next_schedule(cronjob, now) + 0.01)
    scheduled = most_recent_schedule(cronjob, earliest, now)
    if scheduled is None:
        return
    if deadline is not None and scheduled + int(deadline) < now:
        return
    policy = spec.get("concurrencyPolicy") or "Allow"
    if policy == "Forbid" and running:
        return
    if policy == "Replace":
        plan.delete.extend(j for j in running if j not in plan.delete)
    if job_name(cronjob, scheduled) not in names:
        plan.create.append(new_job(cronjob, scheduled))
    status["lastScheduleTime"] = format_timestamp(scheduled)


def _history_to_delete(spec: Mapping[str, Any], jobs: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    doomed: list[Mapping[str, Any]] = []
    for kind, field_name, default in (
        ("Complete", "successfulJobsHistoryLimit", DEFAULT_SUCCESSFUL_HISTORY),
        ("Failed", "failedJobsHistoryLimit", DEFAULT_FAILED_HISTORY),
    ):
        limit = spec.get(field_name)
        limit = default if limit is None else int(limit)
        finished = [j for j in jobs if _finished(j) == kind]
        finished.sort(key=_started_at)
        doomed.extend(finished[: max(0, len(finished) - limit)])
    return doomed


def _started_at(job: Mapping[str, Any]) -> tuple[str, str]:
    status = job.get("status") or {}
    started = status.get("startTime") or (job.get("metadata") or {}).get("creationTimestamp") or ""
    return (str(started), str((job.get("metadata") or {}).get("name")))
