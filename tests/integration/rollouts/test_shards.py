"""Sharded controllers: two `rollouts controller --shards 2` processes share the Rollouts by shard, each writes only
for the Rollouts of the shard it holds, and when one is killed the other takes its shard over and finishes its
Rollout — with no ReplicaSet or AnalysisRun made twice.

Each process talks to the sandbox through an auditing proxy of its own, so every write is attributed to the
process that sent it. ``shop/reviews`` is in shard 1 and ``shop/ratings`` in shard 0 (FNV-1a, see
tests/unit/test_sharding.py).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, Final

from kube.resources import ANALYSIS_RUNS, ANALYSIS_TEMPLATES, LEASES, REPLICASETS, ROLLOUTS
from kube.sharding import shard_of
from sandbox.cluster import SandboxThread
from tests.controller_processes import LEASE_NAMESPACE, NAMESPACE, ControllerProcess
from tests.integration.rollouts.test_high_availability import (
    START_TIMEOUT,
    TAKEOVER_WAIT,
    create,
    get,
    owned_by,
    wait_for,
)
from tests.rate_endpoint import RateEndpoint
from tests.rollout_harness import HASH_LABEL, kind_of, reviews_objects

JsonObject = dict[str, Any]

SHARDS: Final = 2
ROLLOUT_NAMES: Final = ("reviews", "ratings")
SHARDED: Final = ("--shards", str(SHARDS), "--no-applications", "--no-notifications")


def shard_holder(sandbox: SandboxThread, shard: int) -> str:
    lease = get(sandbox, LEASES, LEASE_NAMESPACE, f"rollouts-controller-shard-{shard}") or {}
    return str((lease.get("spec") or {}).get("holderIdentity") or "")


def holders(sandbox: SandboxThread) -> list[str]:
    return [shard_holder(sandbox, shard) for shard in range(SHARDS)]


def status_of(sandbox: SandboxThread, name: str) -> JsonObject:
    return dict((get(sandbox, ROLLOUTS, NAMESPACE, name) or {}).get("status") or {})


def completed(sandbox: SandboxThread, name: str) -> bool:
    current = status_of(sandbox, name)
    return current.get("phase") == "Healthy" and current.get("stableRS") == current.get("currentPodHash")


def set_image(sandbox: SandboxThread, name: str, image: str) -> None:
    rollout = get(sandbox, ROLLOUTS, NAMESPACE, name)
    assert rollout is not None
    containers = copy.deepcopy(rollout["spec"]["template"]["spec"]["containers"])
    containers[0]["image"] = image

    async def on_loop() -> None:
        sandbox.emulator.patch_object(ROLLOUTS.group, ROLLOUTS.version, ROLLOUTS.plural, NAMESPACE, name,
                                      {"spec": {"template": {"spec": {"containers": containers}}}})

    sandbox.call(on_loop)


def rollouts_with_background_analysis(sandbox: SandboxThread, rate_url: str) -> dict[str, str]:
    """Both Rollouts (a canary with a 5 s pause, a web metric measured every second); their uids by name."""
    create(sandbox, ANALYSIS_TEMPLATES, {"metadata": {"name": "rate"}, "spec": {"metrics": [
        {"name": "rate", "interval": "1s", "successCondition": "result >= 0.95",
         "provider": {"web": {"url": rate_url, "jsonPath": "{$.rate}"}}}]}})
    steps: list[JsonObject] = [{"setWeight": 20}, {"pause": {"duration": 5}}, {"setWeight": 60},
                               {"pause": {"duration": 1}}]
    uids = {}
    for name in ROLLOUT_NAMES:
        objects = reviews_objects(name=name, steps=steps, replicas=2)
        objects[-1]["spec"]["strategy"]["canary"]["analysis"] = {"templates": [{"templateName": "rate"}]}
        for document in sorted(objects, key=lambda d: d["kind"] == "Rollout"):
            create(sandbox, kind_of(document), document)
        rollout = get(sandbox, ROLLOUTS, NAMESPACE, name)
        assert rollout is not None
        uids[name] = str(rollout["metadata"]["uid"])
    return uids


def written_rollouts(process: ControllerProcess, since: int, until: int | None = None) -> set[str]:
    """The Rollouts whose objects ``process`` wrote (beyond its Leases): every object the controller writes for a
    Rollout is named after it (``<rollout>``, ``<rollout>-…``, ``<rollout>.…`` for Events)."""
    written = set()
    for record in process.writes(since)[: None if until is None else until - since]:
        if record.resource == "leases":
            continue
        name = record.name or record.created or ""
        owner = [r for r in ROLLOUT_NAMES if name == r or name.startswith((f"{r}-", f"{r}."))]
        assert owner, f"{process.name} wrote {record.verb} {record.path} ({name}), for no Rollout"
        written.add(owner[0])
    return written


def test_each_replica_writes_only_for_its_shard_and_takes_a_killed_replicas_shard_over(
    sandbox: SandboxThread, rates: RateEndpoint, start_controller: Callable[..., ControllerProcess]
) -> None:
    assert {name: shard_of(NAMESPACE, name, SHARDS) for name in ROLLOUT_NAMES} == {"reviews": 1, "ratings": 0}
    a = start_controller("a", *SHARDED)
    wait_for(lambda: holders(sandbox) == [a.identity] * SHARDS, "a to hold every shard", START_TIMEOUT, a)
    b = start_controller("b", *SHARDED)
    both = (a, b)
    wait_for(lambda: sorted(holders(sandbox)) == sorted([a.identity, b.identity]),
             "b to be handed one of a's shards", TAKEOVER_WAIT, *both)
    by_identity = {a.identity: a, b.identity: b}
    owner = {name: by_identity[shard_holder(sandbox, shard_of(NAMESPACE, name, SHARDS))] for name in ROLLOUT_NAMES}
    assert owner["reviews"] is not owner["ratings"]
    marks = {process.name: process.mark() for process in both}

    uids = rollouts_with_background_analysis(sandbox, rates.url)
    for name in ROLLOUT_NAMES:
        wait_for(lambda name=name: status_of(sandbox, name).get("phase") == "Healthy", f"{name} Healthy on v1",
                 TAKEOVER_WAIT, *both)
    for name in ROLLOUT_NAMES:
        set_image(sandbox, name, f"{name}:v2")
    # The killed replica's Rollout mid-update: 20 % on the canary, its pause running, its analysis measuring.
    victim = owner["reviews"]
    survivor = b if victim is a else a
    wait_for(lambda: status_of(sandbox, "reviews").get("currentStepIndex") == 1
             and owned_by(sandbox, ANALYSIS_RUNS, uids["reviews"]),
             "reviews paused at 20 % with its analysis running", TAKEOVER_WAIT, *both)
    victim_end = victim.mark()
    survivor_kill_mark = survivor.mark()
    victim.process.kill()  # SIGKILL: no release; its shard's Lease must expire
    victim.wait(10)

    wait_for(lambda: holders(sandbox) == [survivor.identity] * SHARDS, "the survivor to take the shard over",
             TAKEOVER_WAIT, *both)
    for name in ROLLOUT_NAMES:
        wait_for(lambda name=name: completed(sandbox, name), f"{name} to complete", TAKEOVER_WAIT, *both)

    # Until the kill each replica wrote for the Rollout of its own shard only, and did write for it.
    assert written_rollouts(victim, marks[victim.name], victim_end) == {"reviews"}
    assert written_rollouts(survivor, marks[survivor.name], survivor_kill_mark) == {"ratings"}
    # Then the survivor finished the orphaned Rollout.
    assert "reviews" in written_rollouts(survivor, survivor_kill_mark)

    # No write was refused by the fence and nothing failed: the queues only ever held keys of held shards.
    for process in both:
        output = process.output()
        assert "Traceback" not in output and " ERROR " not in output, output[-3000:]
        assert "refusing" not in output, output[-3000:]

    # Nothing done twice: one ReplicaSet per revision, one background run for the update, per Rollout.
    for uid in uids.values():
        replica_sets = owned_by(sandbox, REPLICASETS, uid)
        hashes = {rs["metadata"]["labels"][HASH_LABEL] for rs in replica_sets}
        assert len(replica_sets) == 2 and len(hashes) == 2, [rs["metadata"]["name"] for rs in replica_sets]
        runs = owned_by(sandbox, ANALYSIS_RUNS, uid)
        assert len(runs) == 1, [run["metadata"]["name"] for run in runs]


def test_sharding_without_leader_election_is_refused_with_the_reason(
    start_controller: Callable[..., ControllerProcess]
) -> None:
    process = start_controller("a", *SHARDED, "--no-leader-elect")
    assert process.wait(START_TIMEOUT) == 2
    assert "--shards needs leader election" in process.output()
