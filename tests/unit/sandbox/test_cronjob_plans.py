"""One pass of the CronJob controller, checked against the documented behaviour of CronJobs:
https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from sandbox.cronjob_plans import job_name, most_recent_schedule, next_schedule, plan_cronjob
from sandbox.workload_status import format_timestamp

# 2023-11-14T22:13:20Z; the 5-minute schedule's last moment is 22:10:00 and its next 22:15:00.
NOW = 1_700_000_000.0
T_2210 = datetime(2023, 11, 14, 22, 10, tzinfo=UTC).timestamp()
T_2215 = datetime(2023, 11, 14, 22, 15, tzinfo=UTC).timestamp()


def cronjob(status: dict[str, Any] | None = None, **spec: Any) -> dict[str, Any]:
    return {
        "metadata": {
            "name": "report",
            "namespace": "ns",
            "uid": "cj-uid",
            "creationTimestamp": format_timestamp(NOW - 3600),
        },
        "spec": {
            "schedule": "*/5 * * * *",
            "jobTemplate": {"metadata": {"labels": {"team": "a"}}, "spec": {"backoffLimit": 2}},
            **spec,
        },
        "status": status or {},
    }


def job(
    name: str, finished: str | None = None, *, started: float = NOW - 600, done: float = NOW - 500
) -> dict[str, Any]:
    status: dict[str, Any] = {"startTime": format_timestamp(started)}
    if finished:
        status["conditions"] = [{"type": finished, "status": "True"}]
        if finished == "Complete":
            status["completionTime"] = format_timestamp(done)
    return {
        "metadata": {"name": name, "namespace": "ns", "uid": f"uid-{name}", "resourceVersion": "7"},
        "status": status,
    }


def test_the_due_schedule_time_starts_a_job_named_for_its_minute() -> None:
    plan = plan_cronjob(cronjob({"lastScheduleTime": format_timestamp(T_2210 - 300)}), [], NOW)
    (created,) = plan.create
    assert created["metadata"]["name"] == f"report-{int(T_2210) // 60}" == job_name(cronjob(), T_2210)
    assert created["metadata"]["labels"] == {"team": "a"}
    assert created["metadata"]["annotations"] == {
        "batch.kubernetes.io/cronjob-scheduled-timestamp": "2023-11-14T22:10:00Z"
    }
    assert created["spec"] == {"backoffLimit": 2}
    assert created["metadata"]["ownerReferences"][0]["kind"] == "CronJob"
    assert plan.status is not None and plan.status["lastScheduleTime"] == "2023-11-14T22:10:00Z"
    assert plan.recheck_at is not None and T_2215 <= plan.recheck_at < T_2215 + 1


def test_nothing_is_due_when_the_last_schedule_time_was_acted_on() -> None:
    plan = plan_cronjob(cronjob({"lastScheduleTime": format_timestamp(T_2210)}), [], NOW)
    assert plan.create == []
    assert plan.recheck_at is not None and T_2215 <= plan.recheck_at < T_2215 + 1


def test_a_new_cronjob_counts_from_its_creation() -> None:
    fresh = cronjob()
    fresh["metadata"]["creationTimestamp"] = format_timestamp(NOW - 10)  # 22:13:10, after 22:10
    assert plan_cronjob(fresh, [], NOW).create == []


def test_a_schedule_time_older_than_the_starting_deadline_is_skipped() -> None:
    # 22:10:00 is 200 s before now; a 100 s deadline has passed.
    plan = plan_cronjob(
        cronjob({"lastScheduleTime": format_timestamp(T_2210 - 300)}, startingDeadlineSeconds=100), [], NOW
    )
    assert plan.create == []


def test_suspended_cronjobs_start_nothing() -> None:
    plan = plan_cronjob(cronjob({"lastScheduleTime": format_timestamp(T_2210 - 300)}, suspend=True), [], NOW)
    assert plan.create == [] and plan.recheck_at is None


@pytest.mark.parametrize(("policy", "creates", "deletes"), [("Allow", 1, 0), ("Forbid", 0, 0), ("Replace", 1, 1)])
def test_concurrency_policy_decides_about_a_job_still_running(policy: str, creates: int, deletes: int) -> None:
    running = job("report-1")
    status = {"lastScheduleTime": format_timestamp(T_2210 - 300)}
    plan = plan_cronjob(cronjob(status, concurrencyPolicy=policy), [running], NOW)
    assert (len(plan.create), len(plan.delete)) == (creates, deletes)


def test_active_lists_running_jobs_and_last_successful_time_the_latest_completion() -> None:
    jobs = [job("report-1", "Complete", done=NOW - 900), job("report-2", "Complete", done=NOW - 400), job("report-3")]
    plan = plan_cronjob(cronjob({"lastScheduleTime": format_timestamp(T_2210)}), jobs, NOW)
    assert plan.status is not None
    assert plan.status["active"] == [
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "name": "report-3",
            "namespace": "ns",
            "uid": "uid-report-3",
            "resourceVersion": "7",
        }
    ]
    assert plan.status["lastSuccessfulTime"] == format_timestamp(NOW - 400)


def test_finished_jobs_beyond_the_history_limits_are_deleted_oldest_first() -> None:
    complete = [job(f"ok-{i}", "Complete", started=NOW - 1000 + i) for i in range(5)]
    failed = [job(f"bad-{i}", "Failed", started=NOW - 1000 + i) for i in range(3)]
    plan = plan_cronjob(cronjob({"lastScheduleTime": format_timestamp(T_2210)}), complete + failed, NOW)
    # Defaults: 3 successful, 1 failed.
    assert [j["metadata"]["name"] for j in plan.delete] == ["ok-0", "ok-1", "bad-0", "bad-1"]


def test_the_schedule_is_read_in_the_cronjobs_time_zone() -> None:
    # 09:00 in Seoul (UTC+9) is 00:00 UTC.
    seoul = cronjob(schedule="0 9 * * *", timeZone="Asia/Seoul")
    assert next_schedule(seoul, NOW) == datetime(2023, 11, 15, 0, 0, tzinfo=UTC).timestamp()


def test_a_schedule_time_equal_to_now_is_due() -> None:
    assert most_recent_schedule(cronjob(), 0, T_2210) == T_2210


@pytest.mark.parametrize(
    ("field", "spec"), [("spec.schedule", {"schedule": "every day"}), ("spec.timeZone", {"timeZone": "Mars/Olympus"})]
)
def test_an_unreadable_schedule_or_zone_is_reported_by_field(field: str, spec: dict[str, Any]) -> None:
    plan = plan_cronjob(cronjob({"lastScheduleTime": format_timestamp(T_2210 - 300)}, **spec), [], NOW)
    assert plan.create == []
    (warning,) = plan.warnings
    assert warning.startswith(field)
