"""The simulated kubelet's report of a pod over its life, and the annotations that steer it."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.kubelet_plans import PodOutcome, is_simulated, kubelet_step, pod_outcome

NOW = 1_700_000_000.0


def pod(restart: str | None = None, annotations: dict[str, str] | None = None, **status: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": "main", "image": "app:1"}]}
    if restart:
        spec["restartPolicy"] = restart
    return {"metadata": {"name": "p", "annotations": annotations or {}}, "spec": spec, "status": status}


def summary(status: dict[str, Any]) -> tuple[str, str, bool, int]:
    container = status["containerStatuses"][0]
    state = container["state"]
    kind = next(iter(state))
    if kind == "waiting" and state["waiting"]["reason"] == "CrashLoopBackOff":
        kind = "crashloop"
    ready = next(c for c in status["conditions"] if c["type"] == "Ready")["status"] == "True"
    return status["phase"], kind, ready, container["restartCount"]


# (restartPolicy, outcome, ready delay, age) → (phase, container state, Ready, restarts), next look at (age)
LIFE = [
    ("Always", PodOutcome(), 1.0, 0.5, ("Pending", "waiting", False, 0), 1.0),
    ("Always", PodOutcome(), 1.0, 1.0, ("Running", "running", True, 0), None),
    ("Always", PodOutcome(ready=False), 1.0, 5.0, ("Running", "running", False, 0), None),
    ("Always", PodOutcome(exit_code=1), 1.0, 1.0, ("Running", "crashloop", False, 1), None),
    # A pod that runs to completion: started at 1 s, runs 2 s, so it ends at 3 s.
    ("Never", PodOutcome(run_seconds=2), 1.0, 2.5, ("Running", "running", True, 0), 3.0),
    ("Never", PodOutcome(run_seconds=2), 1.0, 3.0, ("Succeeded", "terminated", False, 0), None),
    ("Never", PodOutcome(exit_code=2, run_seconds=2), 1.0, 3.0, ("Failed", "terminated", False, 0), None),
    # Run time defaults to the ready delay: 1 s to start, 1 s to run.
    ("Never", PodOutcome(), 1.0, 1.5, ("Running", "running", True, 0), 2.0),
    ("OnFailure", PodOutcome(), 1.0, 2.0, ("Succeeded", "terminated", False, 0), None),
    # OnFailure restarts in place every run: failures at 3 s, 5 s, 7 s; at 7.5 s three restarts, next at 9 s.
    ("OnFailure", PodOutcome(exit_code=1, run_seconds=2), 1.0, 3.0, ("Running", "crashloop", False, 1), 5.0),
    ("OnFailure", PodOutcome(exit_code=1, run_seconds=2), 1.0, 7.5, ("Running", "crashloop", False, 3), 9.0),
]


@pytest.mark.parametrize(("restart", "outcome", "delay", "age", "expected", "wake"), LIFE)
def test_kubelet_reports_each_stage_of_a_pods_life(
    restart: str,
    outcome: PodOutcome,
    delay: float,
    age: float,
    expected: tuple[str, str, bool, int],
    wake: float | None,
) -> None:
    step = kubelet_step(pod(restart), elapsed=age, now=NOW, ready_delay=delay, outcome=outcome, pod_ip="10.244.0.2")
    assert step.status is not None
    assert summary(step.status) == expected
    assert step.wake_at == wake


def test_a_pod_whose_image_never_starts_stays_pending_with_no_wake_up() -> None:
    step = kubelet_step(pod(), elapsed=1e6, now=NOW, ready_delay=None, outcome=PodOutcome(), pod_ip="10.244.0.2")
    assert step.status is not None and summary(step.status) == ("Pending", "waiting", False, 0)
    assert step.wake_at is None


@pytest.mark.parametrize(("restart", "outcome", "age"), [(r, o, a) for r, o, _, a, _, _ in LIFE])
def test_a_reported_stage_is_not_written_again(restart: str, outcome: PodOutcome, age: float) -> None:
    first = kubelet_step(pod(restart), elapsed=age, now=NOW, ready_delay=1.0, outcome=outcome, pod_ip="10.244.0.2")
    assert first.status is not None
    again = kubelet_step(
        pod(restart, **first.status), elapsed=age, now=NOW + 1, ready_delay=1.0, outcome=outcome, pod_ip="10.244.0.2"
    )
    assert again.status is None


def test_finished_pods_are_never_changed() -> None:
    for phase in ("Succeeded", "Failed"):
        step = kubelet_step(
            pod("Never", phase=phase), elapsed=99, now=NOW, ready_delay=0, outcome=PodOutcome(), pod_ip="10.244.0.2"
        )
        assert (step.status, step.wake_at) == (None, None)


def test_a_running_long_lived_pod_is_left_as_it_is_whoever_reported_it() -> None:
    step = kubelet_step(
        pod(phase="Running"), elapsed=99, now=NOW, ready_delay=0, outcome=PodOutcome(exit_code=1), pod_ip="10.244.0.2"
    )
    assert (step.status, step.wake_at) == (None, None)


def test_terminated_container_reports_its_exit_code_and_reason() -> None:
    step = kubelet_step(
        pod("Never"), elapsed=5, now=NOW, ready_delay=1, outcome=PodOutcome(exit_code=3), pod_ip="10.244.0.2"
    )
    assert step.status is not None
    terminated = step.status["containerStatuses"][0]["state"]["terminated"]
    assert (terminated["exitCode"], terminated["reason"]) == (3, "Error")
    ready = next(c for c in step.status["conditions"] if c["type"] == "Ready")
    assert ready["reason"] == "PodFailed"


def test_crash_looping_container_reports_the_last_exit_code() -> None:
    step = kubelet_step(
        pod(), elapsed=5, now=NOW, ready_delay=1, outcome=PodOutcome(exit_code=137), pod_ip="10.244.0.2"
    )
    assert step.status is not None
    container = step.status["containerStatuses"][0]
    assert container["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    assert container["lastState"]["terminated"]["exitCode"] == 137


@pytest.mark.parametrize(
    ("annotations", "expected", "problems"),
    [
        ({}, PodOutcome(), 0),
        ({"sandbox.rollouts/exit-code": "1"}, PodOutcome(exit_code=1), 0),
        ({"sandbox.rollouts/run-seconds": "2.5"}, PodOutcome(run_seconds=2.5), 0),
        ({"sandbox.rollouts/ready": "false"}, PodOutcome(ready=False), 0),
        ({"sandbox.rollouts/ready": "False"}, PodOutcome(ready=False), 0),
        ({"sandbox.rollouts/exit-code": "boom"}, PodOutcome(), 1),
        ({"sandbox.rollouts/exit-code": "256"}, PodOutcome(), 1),
        ({"sandbox.rollouts/run-seconds": "-1"}, PodOutcome(), 1),
        ({"sandbox.rollouts/ready": "maybe"}, PodOutcome(), 1),
    ],
)
def test_outcome_annotations_are_read_with_defaults_for_unreadable_values(
    annotations: dict[str, str], expected: PodOutcome, problems: int
) -> None:
    outcome, messages = pod_outcome({"metadata": {"annotations": annotations}})
    assert outcome == expected
    assert len(messages) == problems
    for message, name in zip(messages, annotations, strict=False):
        assert name in message


@pytest.mark.parametrize(
    ("annotations", "simulated"),
    [(None, True), ({"sandbox.rollouts/simulate": "false"}, False), ({"sandbox.rollouts/simulate": "true"}, True)],
)
def test_simulate_false_opts_an_object_out(annotations: dict[str, str] | None, simulated: bool) -> None:
    assert is_simulated({"metadata": {"annotations": annotations}}) is simulated
