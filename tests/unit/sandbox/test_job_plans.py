"""One pass of the Job controller, checked against the documented semantics of batch/v1 Job (Kubernetes 1.32):
https://kubernetes.io/docs/concepts/workloads/controllers/job/"""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.job_plans import plan_job
from sandbox.workload_status import format_timestamp

NOW = 1_700_000_000.0


def job(status: dict[str, Any] | None = None, restart: str = "Never", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "work", "namespace": "ns", "uid": "job-uid"},
        "spec": {"template": {"metadata": {"labels": {"app": "w"}}, "spec": {"restartPolicy": restart}}, **spec},
        "status": status or {},
    }


def pod(
    name: str, phase: str = "Running", *, ready: bool = False, finished: float = NOW - 100, restarts: int = 0
) -> dict[str, Any]:
    state: dict[str, Any] = {"running": {}}
    if phase in ("Succeeded", "Failed"):
        state = {"terminated": {"exitCode": 0 if phase == "Succeeded" else 1, "finishedAt": format_timestamp(finished)}}
    return {
        "metadata": {"name": name},
        "status": {
            "phase": phase,
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
            "containerStatuses": [{"state": state, "restartCount": restarts}],
        },
    }


def conditions(status: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(c["type"], c["status"], c["reason"]) for c in status.get("conditions") or ()]


def test_a_new_job_starts_one_pod_labelled_with_its_uid_and_name() -> None:
    plan = plan_job(job(), [], NOW)
    (created,) = plan.create
    assert created["metadata"]["generateName"] == "work-"
    assert created["metadata"]["labels"] == {
        "app": "w",
        "batch.kubernetes.io/controller-uid": "job-uid",
        "batch.kubernetes.io/job-name": "work",
        "controller-uid": "job-uid",
        "job-name": "work",
    }
    assert created["metadata"]["ownerReferences"][0]["kind"] == "Job"
    assert plan.status == {
        "startTime": format_timestamp(NOW),
        "active": 1,
        "ready": 0,
        "terminating": 0,
        "uncountedTerminatedPods": {},
    }


# (completions, parallelism, succeeded pods, running pods) → pods to create: min(parallelism, remaining) - running
PARALLELISM = [
    (None, None, 0, 0, 1),
    (5, 2, 0, 0, 2),
    (5, 2, 4, 0, 1),
    (5, 2, 3, 1, 1),
    (5, 3, 0, 3, 0),
    # A work queue (parallelism only): parallelism pods until one has succeeded, then none.
    (None, 3, 0, 1, 2),
    (None, 3, 1, 1, 0),
]


@pytest.mark.parametrize(("completions", "parallelism", "succeeded", "running", "creates"), PARALLELISM)
def test_pods_are_started_up_to_parallelism_and_the_completions_left(
    completions: int | None, parallelism: int | None, succeeded: int, running: int, creates: int
) -> None:
    spec = {k: v for k, v in (("completions", completions), ("parallelism", parallelism)) if v is not None}
    pods = [pod(f"s{i}", "Succeeded") for i in range(succeeded)] + [pod(f"r{i}") for i in range(running)]
    plan = plan_job(job(**spec), pods, NOW)
    assert len(plan.create) == creates
    assert plan.status is not None and plan.status.get("active", 0) == running + creates


def test_reaching_completions_completes_the_job_and_stops_the_rest() -> None:
    extra = pod("r0", ready=True)
    plan = plan_job(job(completions=2, parallelism=3), [pod("s0", "Succeeded"), pod("s1", "Succeeded"), extra], NOW)
    assert plan.status is not None
    assert conditions(plan.status) == [
        ("SuccessCriteriaMet", "True", "CompletionsReached"),
        ("Complete", "True", "CompletionsReached"),
    ]
    assert plan.status["completionTime"] == format_timestamp(NOW)
    assert plan.status["succeeded"] == 2 and "active" not in plan.status
    assert plan.delete == [extra]


def test_a_work_queue_completes_once_a_pod_succeeded_and_none_runs() -> None:
    plan = plan_job(job(parallelism=2), [pod("s0", "Succeeded"), pod("s1", "Succeeded")], NOW)
    assert plan.status is not None and ("Complete", "True", "CompletionsReached") in conditions(plan.status)


# backoffLimit counts retries: the Job fails when more pods than backoffLimit have failed.
@pytest.mark.parametrize(("limit", "failures", "fails"), [(1, 1, False), (1, 2, True), (0, 1, True), (6, 6, False)])
def test_the_job_fails_when_failed_pods_exceed_the_backoff_limit(limit: int, failures: int, fails: bool) -> None:
    pods = [pod(f"f{i}", "Failed") for i in range(failures)]
    plan = plan_job(job(backoffLimit=limit), pods, NOW, retry_backoff=0)
    assert plan.status is not None
    if fails:
        assert conditions(plan.status) == [
            ("FailureTarget", "True", "BackoffLimitExceeded"),
            ("Failed", "True", "BackoffLimitExceeded"),
        ]
        assert plan.status["failed"] == failures and "completionTime" not in plan.status
        assert plan.create == []
    else:
        assert conditions(plan.status) == []
        assert len(plan.create) == 1  # the retry


def test_backoff_limit_defaults_to_six() -> None:
    plan = plan_job(job(), [pod(f"f{i}", "Failed") for i in range(7)], NOW, retry_backoff=0)
    assert plan.status is not None and ("Failed", "True", "BackoffLimitExceeded") in conditions(plan.status)


def test_a_failed_pod_is_replaced_after_a_doubling_back_off() -> None:
    # Two failures: the delay is 10 s × 2 = 20 s after the last one, which ended 5 s ago.
    pods = [pod("f0", "Failed", finished=NOW - 30), pod("f1", "Failed", finished=NOW - 5)]
    plan = plan_job(job(), pods, NOW, retry_backoff=10)
    assert plan.create == []
    assert plan.recheck_at == NOW + 15
    later = plan_job(job(), pods, NOW + 15, retry_backoff=10)
    assert len(later.create) == 1


def test_on_failure_jobs_count_container_restarts_against_the_backoff_limit() -> None:
    assert (
        conditions(plan_job(job(restart="OnFailure", backoffLimit=2), [pod("p", restarts=1)], NOW).status or {}) == []
    )
    plan = plan_job(job(restart="OnFailure", backoffLimit=2), [pod("p", restarts=2)], NOW)
    assert plan.status is not None and ("Failed", "True", "BackoffLimitExceeded") in conditions(plan.status)
    assert plan.status["failed"] == 1  # the restarting pod, deleted by the controller


def test_passing_the_active_deadline_fails_the_job_and_deletes_running_pods() -> None:
    running = pod("r0")
    started = {"startTime": format_timestamp(NOW - 10)}
    plan = plan_job(job(started, activeDeadlineSeconds=10), [running], NOW)
    assert plan.status is not None
    assert conditions(plan.status)[-1] == ("Failed", "True", "DeadlineExceeded")
    assert plan.status["conditions"][-1]["message"] == "Job was active longer than specified deadline"
    assert plan.delete == [running] and plan.status["failed"] == 1


def test_before_the_active_deadline_the_job_looks_again_at_it() -> None:
    plan = plan_job(job({"startTime": format_timestamp(NOW - 4)}, activeDeadlineSeconds=10), [pod("r0")], NOW)
    assert plan.recheck_at == NOW + 6


def test_suspending_deletes_running_pods_and_says_so() -> None:
    running = pod("r0")
    plan = plan_job(job({"startTime": format_timestamp(NOW - 4), "active": 1}, suspend=True), [running], NOW)
    assert plan.delete == [running] and plan.create == []
    assert plan.status is not None
    assert conditions(plan.status) == [("Suspended", "True", "JobSuspended")]
    assert plan.status["conditions"][0]["message"] == "Job suspended"
    assert "active" not in plan.status


def test_resuming_restarts_the_clock() -> None:
    suspended = {
        "startTime": format_timestamp(NOW - 100),
        "conditions": [{"type": "Suspended", "status": "True", "reason": "JobSuspended"}],
    }
    plan = plan_job(job(suspended), [], NOW)
    assert plan.status is not None
    assert conditions(plan.status) == [("Suspended", "False", "JobResumed")]
    assert plan.status["startTime"] == format_timestamp(NOW)
    assert len(plan.create) == 1


def finished_job(ttl: int | None, finished_at: float) -> dict[str, Any]:
    status = {
        "conditions": [{"type": "Complete", "status": "True", "lastTransitionTime": format_timestamp(finished_at)}]
    }
    spec = {} if ttl is None else {"ttlSecondsAfterFinished": ttl}
    return job(status, **spec)


@pytest.mark.parametrize(
    ("ttl", "finished_ago", "deleted", "recheck"),
    [(5, 10, True, None), (60, 10, False, NOW + 50), (0, 0, True, None), (None, 1000, False, None)],
)
def test_a_finished_job_is_deleted_once_its_ttl_has_passed(
    ttl: int | None, finished_ago: float, deleted: bool, recheck: float | None
) -> None:
    plan = plan_job(finished_job(ttl, NOW - finished_ago), [pod("s", "Succeeded")], NOW)
    assert plan.delete_self is deleted
    assert plan.recheck_at == recheck
    assert plan.status is None and plan.create == []  # a finished Job is otherwise left as it is
