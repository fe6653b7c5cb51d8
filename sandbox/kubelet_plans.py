"""What the simulated kubelet reports for a pod, as pure functions of the pod, its age and its outcome annotations.

A pod's template can steer the kubelet without code (documented in docs/sandbox.md):

- `sandbox.rollouts/exit-code` — the exit code of every container (default 0). A non-zero code ends a pod that
  does not restart (restartPolicy Never) in phase Failed; restartPolicy OnFailure restarts it in place
  (restartCount grows); a long-running pod (restartPolicy Always) sits in CrashLoopBackOff, never Ready.
- `sandbox.rollouts/run-seconds` — how long the containers of a pod that runs to completion (restartPolicy Never
  or OnFailure) run once started; default: the ready delay.
- `sandbox.rollouts/ready: "false"` — the containers run but never pass readiness.
- `sandbox.rollouts/simulate: "false"` — on any object: no simulator touches it (see `is_simulated`).

The pod's life is measured from when the kubelet first saw it (`elapsed`): Pending with ContainerCreating until
the ready delay has passed (forever when the delay is None), then Running; a pod that runs to completion
terminates `run-seconds` later.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from sandbox.workload_plans import HOST_IP, pending_pod_status
from sandbox.workload_status import JsonDict, format_timestamp, pod_condition

ANNOTATION_PREFIX: Final = "sandbox.rollouts/"
EXIT_CODE_ANNOTATION: Final = ANNOTATION_PREFIX + "exit-code"
RUN_SECONDS_ANNOTATION: Final = ANNOTATION_PREFIX + "run-seconds"
READY_ANNOTATION: Final = ANNOTATION_PREFIX + "ready"
SIMULATE_ANNOTATION: Final = ANNOTATION_PREFIX + "simulate"

# A container that fails at once under restartPolicy OnFailure is restarted no faster than this, so that a
# zero run time cannot make the kubelet spin.
MIN_RESTART_PERIOD: Final = 0.1


def is_simulated(obj: Mapping[str, Any]) -> bool:
    """False when the object is annotated `sandbox.rollouts/simulate: "false"`: a test plays its controller."""
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    return str(annotations.get(SIMULATE_ANNOTATION, "true")).strip().lower() != "false"


@dataclass(frozen=True)
class PodOutcome:
    """How a pod's containers behave, read from its annotations."""

    exit_code: int = 0
    run_seconds: float | None = None
    """None: as long as the ready delay."""
    ready: bool = True


def pod_outcome(pod: Mapping[str, Any]) -> tuple[PodOutcome, list[str]]:
    """The pod's outcome annotations, and a message per annotation that could not be read (its default is used)."""
    annotations = (pod.get("metadata") or {}).get("annotations") or {}
    problems: list[str] = []
    exit_code = 0
    if (raw := annotations.get(EXIT_CODE_ANNOTATION)) is not None:
        try:
            exit_code = int(str(raw).strip())
            if not 0 <= exit_code <= 255:
                raise ValueError
        except ValueError:
            problems.append(f"annotation {EXIT_CODE_ANNOTATION}={raw!r} is not an exit code (0-255); using 0")
            exit_code = 0
    run_seconds: float | None = None
    if (raw := annotations.get(RUN_SECONDS_ANNOTATION)) is not None:
        try:
            run_seconds = float(str(raw).strip())
            if not math.isfinite(run_seconds) or run_seconds < 0:
                raise ValueError
        except ValueError:
            problems.append(
                f"annotation {RUN_SECONDS_ANNOTATION}={raw!r} is not a number of seconds >= 0; using the ready delay"
            )
            run_seconds = None
    ready = True
    if (raw := annotations.get(READY_ANNOTATION)) is not None:
        text = str(raw).strip().lower()
        if text in ("false", "true"):
            ready = text == "true"
        else:
            problems.append(f'annotation {READY_ANNOTATION}={raw!r} is neither "true" nor "false"; using "true"')
    return PodOutcome(exit_code, run_seconds, ready), problems


def restart_policy(pod: Mapping[str, Any]) -> str:
    return str((pod.get("spec") or {}).get("restartPolicy") or "Always")


def restart_count(pod: Mapping[str, Any]) -> int:
    """The pod's container restarts, summed (what the Job controller counts under restartPolicy OnFailure)."""
    statuses = (pod.get("status") or {}).get("containerStatuses") or ()
    return sum(int(s.get("restartCount") or 0) for s in statuses)


@dataclass(frozen=True)
class KubeletStep:
    """What the kubelet writes now, and when (in seconds of the pod's age) its report changes next."""

    status: JsonDict | None
    """The pod's new status; None when the reported one is already right."""
    wake_at: float | None
    """The pod's age at which to look again; None when nothing more will change by itself."""


@dataclass(frozen=True)
class _Stage:
    phase: str
    state: str  # waiting, running, terminated, crashloop
    ready: bool
    restarts: int


def kubelet_step(
    pod: Mapping[str, Any],
    *,
    elapsed: float,
    now: float,
    ready_delay: float | None,
    outcome: PodOutcome,
    pod_ip: str,
) -> KubeletStep:
    """The status the kubelet reports for `pod`, `elapsed` seconds after it first saw it, at epoch `now`.

    `ready_delay` is how long the containers take to start (None: they never do). Finished pods (Succeeded,
    Failed) and running long-lived pods (restartPolicy Always) are not changed again.
    """
    phase = (pod.get("status") or {}).get("phase")
    policy = restart_policy(pod)
    # A long-running pod's Running report is final (Ready, never Ready, or crash-looping): whoever wrote it,
    # the kubelet leaves it, as it leaves a finished pod.
    if phase in ("Succeeded", "Failed") or (phase == "Running" and policy == "Always"):
        return KubeletStep(None, None)
    if ready_delay is None or elapsed < ready_delay:
        wake = ready_delay if ready_delay is not None else None
        if _current_stage(pod) == _Stage("Pending", "waiting", False, 0):
            return KubeletStep(None, wake)
        return KubeletStep(pending_pod_status(pod, now), wake)
    run = ready_delay if outcome.run_seconds is None else outcome.run_seconds
    finishes_at = ready_delay + run
    wake_at: float | None = None
    if policy == "Always":
        if outcome.exit_code == 0:
            stage = _Stage("Running", "running", outcome.ready, 0)
        else:
            stage = _Stage("Running", "crashloop", False, 1)
    elif elapsed < finishes_at:
        stage = _Stage("Running", "running", outcome.ready, 0)
        wake_at = finishes_at
    elif outcome.exit_code == 0:
        stage = _Stage("Succeeded", "terminated", False, 0)
    elif policy == "Never":
        stage = _Stage("Failed", "terminated", False, 0)
    else:  # OnFailure: the container is restarted in place after every failed run
        period = max(run, MIN_RESTART_PERIOD)
        restarts = 1 + int((elapsed - finishes_at) // period)
        stage = _Stage("Running", "crashloop", False, restarts)
        wake_at = finishes_at + restarts * period
    if _current_stage(pod) == stage:
        return KubeletStep(None, wake_at)
    return KubeletStep(_status_for(pod, stage, now, pod_ip, outcome.exit_code), wake_at)


def _current_stage(pod: Mapping[str, Any]) -> _Stage | None:
    status = pod.get("status") or {}
    phase = status.get("phase")
    statuses = status.get("containerStatuses") or ()
    if not phase or not statuses:
        return None
    first = statuses[0]
    state = first.get("state") or {}
    if "running" in state:
        kind = "running"
    elif "terminated" in state:
        kind = "terminated"
    elif (state.get("waiting") or {}).get("reason") == "CrashLoopBackOff":
        kind = "crashloop"
    else:
        kind = "waiting"
    ready = pod_condition(pod, "Ready")
    is_ready = ready is not None and ready.get("status") == "True"
    return _Stage(str(phase), kind, is_ready, restart_count(pod) // max(1, len(statuses)))


def _status_for(pod: Mapping[str, Any], stage: _Stage, now: float, pod_ip: str, exit_code: int) -> JsonDict:
    stamp = format_timestamp(now)
    current = pod.get("status") or {}
    started = current.get("startTime") or stamp
    containers = (pod.get("spec") or {}).get("containers") or ()
    names = [str(c.get("name", "")) for c in containers]
    statuses = []
    for container in containers:
        statuses.append(
            {
                "name": container.get("name", ""),
                "image": container.get("image", ""),
                "imageID": "",
                "ready": stage.ready,
                "started": stage.state == "running",
                "restartCount": stage.restarts,
                "state": _container_state(stage, started, stamp, exit_code),
                **({"lastState": _last_state(stamp, exit_code)} if stage.restarts else {}),
            }
        )
    if stage.phase == "Succeeded":
        not_ready_reason, initialized_reason = "PodCompleted", "PodCompleted"
    elif stage.phase == "Failed":
        not_ready_reason, initialized_reason = "PodFailed", None
    else:
        not_ready_reason, initialized_reason = "ContainersNotReady", None
    status: JsonDict = {
        "phase": stage.phase,
        "hostIP": HOST_IP,
        "podIP": pod_ip,
        "podIPs": [{"ip": pod_ip}],
        "startTime": started,
        "qosClass": "BestEffort",
        "conditions": [
            _condition(pod, "PodScheduled", True, None, None, stamp),
            _condition(pod, "Initialized", True, initialized_reason, None, stamp),
            _condition(pod, "ContainersReady", stage.ready, not_ready_reason, names, stamp),
            _condition(pod, "Ready", stage.ready, not_ready_reason, names, stamp),
        ],
        "containerStatuses": statuses,
    }
    return status


def _container_state(stage: _Stage, started: str, stamp: str, exit_code: int) -> JsonDict:
    if stage.state == "running":
        return {"running": {"startedAt": stamp}}
    if stage.state == "crashloop":
        return {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off restarting failed container"}}
    return {
        "terminated": {
            "exitCode": exit_code,
            "reason": "Completed" if exit_code == 0 else "Error",
            "startedAt": started,
            "finishedAt": stamp,
        }
    }


def _last_state(stamp: str, exit_code: int) -> JsonDict:
    return {"terminated": {"exitCode": exit_code, "reason": "Error", "startedAt": stamp, "finishedAt": stamp}}


def _condition(
    pod: Mapping[str, Any], condition_type: str, status: bool, reason: str | None, names: list[str] | None, now: str
) -> JsonDict:
    """A pod condition that keeps its lastTransitionTime while its status is unchanged."""
    text = "True" if status else "False"
    previous = pod_condition(pod, condition_type)
    since = previous.get("lastTransitionTime") if previous and previous.get("status") == text else None
    entry: JsonDict = {
        "type": condition_type,
        "status": text,
        "lastProbeTime": None,
        "lastTransitionTime": since or now,
    }
    if reason and (not status or condition_type == "Initialized"):
        entry["reason"] = reason
        if reason == "ContainersNotReady" and names is not None:
            entry["message"] = f"containers with unready status: [{' '.join(names)}]"
    return entry
