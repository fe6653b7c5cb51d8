"""High availability: two `rollouts controller` processes against one cluster elect a leader through a Lease; only
the leader writes, and a standby takes over when the leader dies, is frozen, or stops.

Each process talks to the sandbox through an auditing proxy of its own, so every request is attributed to the
process that made it: "the standby writes nothing" is checked request by request, not inferred.
"""

from __future__ import annotations

import copy
import json
import signal
import time
from collections.abc import Callable
from typing import Any, Final

from kube.resources import ANALYSIS_RUNS, ANALYSIS_TEMPLATES, LEASES, REPLICASETS, ROLLOUTS, ResourceKind
from sandbox.cluster import SandboxThread
from tests.controller_processes import (
    LEASE_NAMESPACE,
    NAMESPACE,
    WRITE_VERBS,
    ControllerProcess,
)
from tests.rate_endpoint import RateEndpoint
from tests.rollout_harness import HASH_LABEL, kind_of, reviews_objects

JsonObject = dict[str, Any]

LEASE_NAME: Final = "rollouts-controller"
# How long the waits for a takeover may take before the test gives up: generous, as the machine may be loaded. The
# promise of the defaults (a rollout left half done by a killed leader is finished within 15 s of the kill,
# docs/controller.md) is what the printed figure shows; no assertion is timed.
TAKEOVER_WAIT: Final = 60.0
# A fresh interpreter importing kopf and the kubernetes client is slow on a loaded machine.
START_TIMEOUT: Final = 45.0
LONG_LEASE: Final = ("--leader-election-lease-duration", "120s", "--leader-election-renew-deadline", "90s",
                     "--leader-election-retry-period", "1s")
FAST_LEASE: Final = ("--leader-election-lease-duration", "3s", "--leader-election-renew-deadline", "2s",
                     "--leader-election-retry-period", "500ms")


# -- the cluster --------------------------------------------------------------------------------------------------


def create(sandbox: SandboxThread, kind: ResourceKind, body: JsonObject) -> None:
    manifest = {"apiVersion": kind.api_version, "kind": kind.kind, **copy.deepcopy(body)}
    manifest["metadata"]["namespace"] = NAMESPACE

    # On the sandbox's loop, where the emulator delivers watch events in order (see RolloutCluster).
    async def on_loop() -> None:
        sandbox.emulator.create_object(kind.group, kind.version, kind.plural, manifest, NAMESPACE)

    sandbox.call(on_loop)


def get(sandbox: SandboxThread, kind: ResourceKind, namespace: str, name: str) -> JsonObject | None:
    return sandbox.emulator.get_object(kind.group, kind.version, kind.plural, namespace, name)


def owned_by(sandbox: SandboxThread, kind: ResourceKind, owner_uid: str) -> list[JsonObject]:
    objects = sandbox.emulator.list_objects(kind.group, kind.version, kind.plural, NAMESPACE)
    return [obj for obj in objects
            if any(ref.get("uid") == owner_uid for ref in obj["metadata"].get("ownerReferences") or [])]


def lease_spec(sandbox: SandboxThread) -> JsonObject:
    lease = get(sandbox, LEASES, LEASE_NAMESPACE, LEASE_NAME)
    return dict((lease or {}).get("spec") or {})


def status(sandbox: SandboxThread) -> JsonObject:
    return dict((get(sandbox, ROLLOUTS, NAMESPACE, "reviews") or {}).get("status") or {})


def set_image(sandbox: SandboxThread, image: str) -> None:
    rollout = get(sandbox, ROLLOUTS, NAMESPACE, "reviews")
    assert rollout is not None
    containers = copy.deepcopy(rollout["spec"]["template"]["spec"]["containers"])
    containers[0]["image"] = image

    async def on_loop() -> None:
        sandbox.emulator.patch_object(ROLLOUTS.group, ROLLOUTS.version, ROLLOUTS.plural, NAMESPACE, "reviews",
                                      {"spec": {"template": {"spec": {"containers": containers}}}})

    sandbox.call(on_loop)


def completed(sandbox: SandboxThread) -> bool:
    current = status(sandbox)
    return current.get("phase") == "Healthy" and current.get("stableRS") == current.get("currentPodHash")


def wait_for(check: Callable[[], Any], what: str, timeout: float, *processes: ControllerProcess) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            logs = "".join(f"\n--- {p.name} (exit {p.process.poll()}) ---\n{p.output()[-6000:]}" for p in processes)
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}; rollout status "
                                 f"{json.dumps(status(sandbox_of(processes)))[:1500]}{logs}")
        time.sleep(0.05)


def sandbox_of(processes: tuple[ControllerProcess, ...]) -> SandboxThread:
    return processes[0].sandbox


def start_pair(
    start_controller: Callable[..., ControllerProcess], *args: str
) -> tuple[ControllerProcess, ControllerProcess]:
    """Two replicas: the first started leads, the second stands by with its caches synced."""
    leader = start_controller("a", *args)
    wait_for(lambda: lease_spec(leader.sandbox).get("holderIdentity") == leader.identity, "a to lead",
             START_TIMEOUT, leader)
    standby = start_controller("b", *args)
    wait_for(standby.ready, "b to be ready (caches synced)", START_TIMEOUT, leader, standby)
    return leader, standby


def freeze_between_requests(process: ControllerProcess, quiet: float = 0.15, timeout: float = 5.0) -> int:
    """SIGSTOP ``process`` at a moment when none of its requests is on the way; the mark of its requests then.

    A write that has passed the fence and is frozen before it reaches the API server goes out when the process
    wakes, whatever the Lease says meanwhile — the one thing a Lease cannot prevent (docs/controller.md). The
    test is about the writes a woken leader *decides*, so it freezes the leader only once it has been seen to send
    nothing for a while, and checks that nothing it had sent arrived after the signal.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = process.mark()
        time.sleep(quiet)
        if process.mark() != before:
            continue
        process.process.send_signal(signal.SIGSTOP)
        time.sleep(0.1)  # anything sent before the signal has reached the proxy by now
        if process.mark() == before:
            return before
        process.process.send_signal(signal.SIGCONT)  # a request slipped in between: try again
    raise AssertionError(f"{process.name} never paused its requests for {quiet:g}s")


def canary_with_background_analysis(sandbox: SandboxThread, rate_url: str, steps: list[JsonObject]) -> str:
    """The seed canary with a web metric measured every second in the background; Healthy on v1. Its uid."""
    create(sandbox, ANALYSIS_TEMPLATES, {"metadata": {"name": "rate"}, "spec": {"metrics": [
        {"name": "rate", "interval": "1s", "successCondition": "result >= 0.95",
         "provider": {"web": {"url": rate_url, "jsonPath": "{$.rate}"}}}]}})
    objects = reviews_objects(steps=steps, replicas=3)
    objects[-1]["spec"]["strategy"]["canary"]["analysis"] = {"templates": [{"templateName": "rate"}]}
    for document in sorted(objects, key=lambda d: d["kind"] == "Rollout"):
        create(sandbox, kind_of(document), document)
    rollout = get(sandbox, ROLLOUTS, NAMESPACE, "reviews")
    assert rollout is not None
    return str(rollout["metadata"]["uid"])


def measured_runs(sandbox: SandboxThread, owner_uid: str) -> list[JsonObject]:
    return [run for run in owned_by(sandbox, ANALYSIS_RUNS, owner_uid)
            if any((m.get("measurements") or []) for m in (run.get("status") or {}).get("metricResults") or [])]


# -- the scenarios ------------------------------------------------------------------------------------------------


def test_a_standby_takes_over_a_killed_leader_and_finishes_its_rollout_in_time(
    sandbox: SandboxThread, rates: RateEndpoint, start_controller: Callable[..., ControllerProcess]
) -> None:
    leader, standby = start_pair(start_controller)  # the default lease timing: the one the budget is for
    both = (leader, standby)
    for process in both:
        assert process.get("/healthz") == (200, "ok\n")
    assert leader.get("/readyz") == (200, "ok (leader)\n")
    assert standby.get("/readyz") == (200, "ok (standby)\n")
    assert (leader.leader_gauge(), standby.leader_gauge()) == (1.0, 0.0)

    steps: list[JsonObject] = [{"setWeight": 20}, {"pause": {"duration": 5}}, {"setWeight": 60},
                               {"pause": {"duration": 1}}]
    uid = canary_with_background_analysis(sandbox, rates.url, steps)
    wait_for(lambda: status(sandbox).get("phase") == "Healthy", "reviews Healthy on v1", 20, *both)
    set_image(sandbox, "reviews:v2")
    # Mid-rollout: 20 % on the canary, its pause running, the background analysis measuring.
    wait_for(lambda: status(sandbox).get("currentStepIndex") == 1 and measured_runs(sandbox, uid),
             "the canary paused at 20 % with its analysis measuring", 20, *both)

    standby_mark = standby.mark()
    leader.process.kill()  # SIGKILL: no release, no clean-up; the Lease must expire
    killed = time.monotonic()
    leader.wait(10)

    wait_for(lambda: lease_spec(sandbox).get("holderIdentity") == standby.identity, "b to take the Lease over",
             TAKEOVER_WAIT, *both)
    took_over = time.monotonic() - killed
    wait_for(lambda: completed(sandbox), "b to finish the rollout", TAKEOVER_WAIT, *both)
    finished = time.monotonic() - killed
    print(f"\ntakeover: Lease taken {took_over:.2f}s and rollout finished {finished:.2f}s after the leader's kill")

    # Exactly one replica acted at any time. While the leader renewed, the standby only read the Lease (it tries
    # to write it only once it has expired): not one write request until the leader was gone.
    before_kill = standby.proxy.records[:standby_mark]
    assert [f"{r.verb} {r.path}" for r in before_kill if r.verb in WRITE_VERBS] == []
    assert any(r.resource == "leases" and r.verb == "get" for r in before_kill), "the standby never read the Lease"
    assert standby.writes_beyond_the_lease(standby_mark), "the new leader wrote nothing"
    spec = lease_spec(sandbox)
    assert spec["leaseTransitions"] == 1
    assert standby.leader_gauge() == 1.0

    # Nothing was done twice: one ReplicaSet per revision, one background run for the update.
    replica_sets = owned_by(sandbox, REPLICASETS, uid)
    hashes = [rs["metadata"]["labels"][HASH_LABEL] for rs in replica_sets]
    assert len(replica_sets) == 2 and len(set(hashes)) == 2, [rs["metadata"]["name"] for rs in replica_sets]
    runs = owned_by(sandbox, ANALYSIS_RUNS, uid)
    assert len(runs) == 1, [run["metadata"]["name"] for run in runs]
    wait_for(lambda: ((get(sandbox, ANALYSIS_RUNS, NAMESPACE, runs[0]["metadata"]["name"]) or {}).get("status")
                      or {}).get("phase") == "Successful",
             "the background run ended (terminated once the update completed)", 10, standby)


def test_a_frozen_leader_that_wakes_after_losing_the_lease_writes_nothing_and_exits(
    sandbox: SandboxThread, rates: RateEndpoint, start_controller: Callable[..., ControllerProcess]
) -> None:
    leader, standby = start_pair(start_controller, *FAST_LEASE)
    both = (leader, standby)
    steps: list[JsonObject] = [{"setWeight": 20}, {"pause": {"duration": 3}}, {"setWeight": 60}, {"pause": {}}]
    canary_with_background_analysis(sandbox, rates.url, steps)
    wait_for(lambda: status(sandbox).get("phase") == "Healthy", "reviews Healthy on v1", 20, *both)
    set_image(sandbox, "reviews:v2")
    wait_for(lambda: status(sandbox).get("currentStepIndex") == 1, "the canary paused at 20 %", 20, *both)

    # Frozen with a pause timer and analysis measurements due: when it wakes, it has work it believes is its own.
    frozen = freeze_between_requests(leader)
    wait_for(lambda: lease_spec(sandbox).get("holderIdentity") == standby.identity, "b to take the Lease over",
             10, *both)
    wait_for(lambda: status(sandbox).get("currentStepIndex") == 3, "b to carry the canary on to 60 %", 15, *both)
    leader.process.send_signal(signal.SIGCONT)

    code = leader.wait(20)
    output = leader.output()
    assert code != 0, output[-3000:]
    assert "stopped leading" in output, output[-3000:]
    assert "Traceback" not in output, output[-3000:]
    # Nothing it decided as leader went out. A renewal try of its own Lease may (the API refuses it with a
    # Conflict, as the standby holds the Lease now); that is how it learns it lost.
    assert leader.writes_beyond_the_lease(frozen) == []
    # The new leader is unaffected.
    assert lease_spec(sandbox).get("holderIdentity") == standby.identity
    assert standby.process.poll() is None


def test_a_leader_stopped_cleanly_hands_over_at_once(
    sandbox: SandboxThread, start_controller: Callable[..., ControllerProcess]
) -> None:
    # A lease far longer than any wait below: a handover that waited for the Lease to expire could not pass.
    leader, standby = start_pair(start_controller, *LONG_LEASE)
    leader.process.send_signal(signal.SIGTERM)
    stopped = time.monotonic()
    assert leader.wait(START_TIMEOUT) == 0, leader.output()[-3000:]
    # Released before it exited: the holder is cleared (or the standby already took it), not the stopped leader.
    assert lease_spec(sandbox).get("holderIdentity") in ("", standby.identity), leader.output()[-3000:]
    assert "released Lease" in leader.output(), leader.output()[-3000:]
    wait_for(lambda: lease_spec(sandbox).get("holderIdentity") == standby.identity, "b to take the Lease over",
             TAKEOVER_WAIT / 2, leader, standby)
    print(f"\nclean handover: b led {time.monotonic() - stopped:.2f}s after a's SIGTERM")
    assert lease_spec(sandbox)["leaseTransitions"] == 1
