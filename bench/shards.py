"""Shards: the fleet scenario (N canary Rollouts updated at once) under two `rollouts controller --shards 2`
replicas, one of which is killed (SIGKILL) in the middle of the update.

Each Rollout's steps are setWeight 20, an analysis step (one web metric against a local endpoint, which passes),
then setWeight 50 and 80, each followed by a pause. Measured: whether every Rollout completes; how long after the
kill the survivor holds the killed replica's shard (against the lease duration); whether any ReplicaSet or
AnalysisRun was made twice (every successful create counted from the emulator's request log: one ReplicaSet and
one AnalysisRun per Rollout update, and a create answered 409 is a duplicate the API server refused); the time
until all complete, per shard; each replica's CPU; the emulator's PATCH round trip (the floor).

    .venv/bin/python -m bench.shards --n 200 [--pause 2s] [--no-write]
"""

from __future__ import annotations

import argparse
import collections
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    NAMESPACE,
    Harness,
    ProcessStats,
    RolloutStates,
    Target,
    free_port,
    healthy,
    machine,
    measure_floor,
    process_stats,
    promoted_from,
    rollout_name,
)
from bench.results_page import print_targets, publish, scenario_page, with_targets
from bench.verdict_endpoint import ANALYSIS_TEMPLATE, verdict_endpoint, web_analysis_template
from kube.durations import parse_duration
from kube.leader_election import DEFAULT_LEASE_DURATION, DEFAULT_RETRY_PERIOD
from kube.sharding import shard_of

SHARDS: Final = 2
LEASE_NAMESPACE: Final = "default"
TEMPLATE: Final = "bench-pass"
# The endpoint's 0.6 passes this bar: the analysis step of every Rollout succeeds.
PASSING_CONDITION: Final = "result >= 0.5"
# A takeover is due within the lease duration after the victim's last renewal, plus the survivor's next round.
TAKEOVER_TARGET_S: Final = DEFAULT_LEASE_DURATION + DEFAULT_RETRY_PERIOD


def steps(pause: str) -> list[dict[str, Any]]:
    analysis = {"analysis": {"templates": [{"templateName": TEMPLATE}]}}
    return [{"setWeight": 20}, analysis, {"pause": {"duration": pause}}, {"setWeight": 50},
            {"pause": {"duration": pause}}, {"setWeight": 80}, {"pause": {"duration": pause}}]


@dataclass
class Replica:
    """One `rollouts controller --shards 2` process."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def identity(self) -> str:
        return f"{socket.gethostname()}_{self.process.pid}"

    def stats(self) -> ProcessStats:
        return process_stats(self.process.pid)

    def check(self) -> None:
        if self.process.poll() is not None:
            tail = "\n".join(self.log.read_text(errors="replace").splitlines()[-30:])
            raise RuntimeError(f"replica {self.name} exited with {self.process.returncode}:\n{tail}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_replica(harness: Harness, name: str) -> Replica:
    log = harness.controller_log.with_name(f"controller-{name}.log")
    env = {key: value for key, value in os.environ.items() if key not in ("POD_NAME", "POD_NAMESPACE")}
    command = [sys.executable, "-c", "from cli.main import main; main()", "controller",
               "--kubeconfig", str(harness.kubeconfig), "--metrics-port", str(free_port()),
               "--shards", str(SHARDS), "--no-applications", "--no-notifications"]
    with log.open("wb") as output:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
                                   start_new_session=True, env=env)
    return Replica(name, process, log)


def shard_holders(harness: Harness) -> list[str]:
    holders = []
    for shard in range(SHARDS):
        lease = harness.emulator.get_object("coordination.k8s.io", "v1", "leases", LEASE_NAMESPACE,
                                            f"rollouts-controller-shard-{shard}") or {}
        holders.append(str((lease.get("spec") or {}).get("holderIdentity") or ""))
    return holders


def run(n: int, pause: str = "2s") -> dict[str, Any]:
    with verdict_endpoint() as port:
        return _run(n, pause, port)


def _run(n: int, pause: str, port: int) -> dict[str, Any]:
    rollout_steps = steps(pause)
    replicas: list[Replica] = []
    with Harness() as harness:
        assert harness.recorder is not None
        try:
            template = web_analysis_template(TEMPLATE, port, success_condition=PASSING_CONDITION)
            harness.create(ANALYSIS_TEMPLATE, template)
            harness.create_fleet(n, rollout_steps)
            a = start_replica(harness, "a")
            replicas.append(a)
            killed_names: set[str] = set()

            def wait(check: Callable[[], bool], timeout: float, what: str) -> float:
                def checked() -> bool:
                    for replica in replicas:
                        if replica.name not in killed_names:
                            replica.check()
                    return check()

                return harness.wait(checked, timeout, what)

            wait(lambda: shard_holders(harness) == [a.identity] * SHARDS, 60 + n * 0.1, "a to hold every shard")
            b = start_replica(harness, "b")
            replicas.append(b)
            balanced_s = wait(lambda: sorted(shard_holders(harness)) == sorted([a.identity, b.identity]),
                              120, "b to be handed a shard")
            states = RolloutStates(harness.recorder)
            initial_s = wait(lambda: states.count(healthy) >= n, 60 + n * 0.3, f"{n} Rollouts Healthy")
            floor = measure_floor(harness.sandbox.url)
            old_hashes = {name: str(status.get("stableRS")) for name, status in states.statuses.items()}
            holders = shard_holders(harness)
            by_identity = {a.identity: a, b.identity: b}
            victim_shard = 1
            victim = by_identity[holders[victim_shard]]
            survivor = b if victim is a else a
            cpu_before = {r.name: r.stats().cpu_seconds for r in replicas}
            sandbox_before = harness.sandbox_stats().cpu_seconds
            requests_from, changes_from = harness.request_index(), len(harness.recorder)

            update_at, update_wall = time.monotonic(), time.time()
            for index in range(n):
                harness.set_image(index, "app:v2")
            done = promoted_from(old_hashes)

            def promoted() -> int:
                return states.count_named(done)

            def past_analysis() -> int:
                """Rollouts on the new revision whose analysis step is behind them."""
                states.refresh()
                return sum(1 for name, status in states.statuses.items()
                           if status.get("currentPodHash") not in (None, old_hashes.get(name))
                           and int(status.get("currentStepIndex") or 0) >= 2)

            # Mid-update: killed once a tenth of the Rollouts are past their analysis step.
            wait(lambda: past_analysis() >= max(1, n // 10), 120 + n, "the update under way")
            killed_victim_stats = victim.stats()
            victim.process.kill()
            killed = time.monotonic()
            victim.process.wait(10)
            killed_names.add(victim.name)
            promoted_at_kill, past_analysis_at_kill = promoted(), past_analysis()
            wait(lambda: shard_holders(harness)[victim_shard] == survivor.identity, 120,
                 "the survivor to take the killed replica's shard")
            takeover_s = time.monotonic() - killed
            wait(lambda: promoted() >= n, 180 + n, f"{n} Rollouts promoted")
            complete_s = time.monotonic() - update_at
            completed = promoted()
            survivor_stats = survivor.stats()
            sandbox_cpu = harness.sandbox_stats().cpu_seconds - sandbox_before
            records = harness.requests_since(requests_from)
            changes = harness.recorder.changes_since(changes_from)
            load = machine()
        finally:
            for replica in replicas:
                replica.stop()

    completions: dict[str, float] = {}
    for change in changes:
        if change.plural == "rollouts" and change.name not in completions and done(change.name,
                                                                                 change.object.get("status") or {}):
            completions[change.name] = change.at
    shard_complete_s = {}
    for shard in range(SHARDS):
        moments = [at for name, at in completions.items() if shard_of(NAMESPACE, name, SHARDS) == shard]
        shard_complete_s[str(shard)] = round(max(moments) - update_wall, 2) if moments else None
    creates: collections.Counter[str] = collections.Counter()
    for record in records:
        if record.verb == "create" and record.resource in ("replicasets", "analysisruns"):
            creates[f"{record.resource} {record.code}"] += 1
    by_shard = collections.Counter(shard_of(NAMESPACE, rollout_name(index), SHARDS) for index in range(n))
    report: dict[str, Any] = {
        "benchmark": "shards",
        "n": n,
        "shards": SHARDS,
        "rollouts_per_shard": {str(shard): count for shard, count in sorted(by_shard.items())},
        "steps": rollout_steps,
        "lease": {"duration_s": DEFAULT_LEASE_DURATION, "retry_period_s": DEFAULT_RETRY_PERIOD},
        "setup": {"a_alone_to_balanced_s": round(balanced_s, 2), "all_healthy_s": round(initial_s, 2)},
        "floor": floor,
        "kill": {"after_update_s": round(killed - update_at, 2), "victim_shard": victim_shard,
                 "promoted_at_kill": promoted_at_kill,
                 "past_analysis_at_kill": past_analysis_at_kill, "takeover_s": round(takeover_s, 2)},
        "update": {"all_complete_s": round(complete_s, 2), "completed": completed,
                   "all_complete_by_shard_s": shard_complete_s,
                   "ideal_s": round(3 * parse_duration(pause), 2)},
        "creates": dict(sorted(creates.items())),
        "replicas": {
            "victim_cpu_s_until_kill": round(killed_victim_stats.cpu_seconds - cpu_before[victim.name], 2),
            "survivor_cpu_s_update": round(survivor_stats.cpu_seconds - cpu_before[survivor.name], 2),
            "survivor_peak_rss_mb": survivor_stats.peak_rss_mb,
            # The emulator and the workload simulator (one Python process): what the replicas wait on.
            "sandbox_cpu_s_update": round(sandbox_cpu, 2),
        },
        "machine": load,
    }
    duplicates_refused = creates.get("replicasets 409", 0) + creates.get("analysisruns 409", 0)
    targets = [
        Target("all rollouts complete", float(report["update"]["completed"]), float(n), at_least=True),
        Target("killed replica's shard taken over", takeover_s, TAKEOVER_TARGET_S, " s"),
        Target("ReplicaSets created per update", creates.get("replicasets 201", 0) / n, 1.0),
        Target("AnalysisRuns created per update", creates.get("analysisruns 201", 0) / n, 1.0),
        Target("duplicate creates refused by the API", float(duplicates_refused), 0.0),
    ]
    return with_targets(report, targets)


def markdown(report: dict[str, Any], targets: list[Target]) -> list[str]:
    n, kill, update, floor = report["n"], report["kill"], report["update"], report["floor"]
    replicas = report["replicas"]
    return scenario_page(
        f"Shards: {n:,} Rollouts under two `--shards 2` replicas, one killed mid-update",
        f"{n:,} canary Rollouts (1 replica each; steps: setWeight 20, an analysis step with one web metric, then "
        f"setWeight 50 and 80, each weight followed by a {report['steps'][2]['pause']['duration']} pause) in the "
        "sandbox, reconciled by two `rollouts controller --shards 2 --no-applications` processes (default Lease "
        f"timing: {report['lease']['duration_s']:g} s lease, {report['lease']['retry_period_s']:g} s retry "
        "period). All images are changed at once; the replica holding shard "
        f"{kill['victim_shard']} is killed (SIGKILL) {kill['after_update_s']} s later, when "
        f"{kill['past_analysis_at_kill']} Rollouts were past their analysis step and "
        f"{kill['promoted_at_kill']} had completed.",
        targets,
        [
            ["Rollouts per shard", ", ".join(f"shard {k}: {v}" for k, v in report["rollouts_per_shard"].items())],
            ["first replica alone → shards balanced (second replica's start included)",
             f"{report['setup']['a_alone_to_balanced_s']} s"],
            ["kill → survivor holds the shard", f"{kill['takeover_s']} s (lease {report['lease']['duration_s']:g} s)"],
            ["time until all complete (ideal: the pauses alone)", f"{update['all_complete_s']} s "
             f"(ideal {update['ideal_s']} s)"],
            ["… the last Rollout of each shard complete",
             ", ".join(f"shard {k}: {v} s" for k, v in update["all_complete_by_shard_s"].items())],
            ["creates during the update (resource, HTTP status: count)",
             ", ".join(f"{k}: {v}" for k, v in report["creates"].items())],
            ["victim's CPU from the update to its kill", f"{replicas['victim_cpu_s_until_kill']} s"],
            ["survivor's CPU during the update / its peak RSS",
             f"{replicas['survivor_cpu_s_update']} s / {replicas['survivor_peak_rss_mb']} MB"],
            ["sandbox process's CPU during the update (API emulator and workload simulator)",
             f"{replicas['sandbox_cpu_s_update']} s"],
            ["floor: emulator PATCH round trip p50 / p99",
             f"{floor['p50'] * 1000:.1f} / {floor['p99'] * 1000:.1f} ms ({floor['count']} sequential)"],
        ],
        more=[
            "Each replica watches and caches every object (the filter is in-process, at the work queue): memory does "
            "not shrink with sharding, CPU for reconciliation does. On this machine the sandbox, both replicas and "
            "the benchmark share 2 cores with other work, so the figures are noisy (the load average says how much) "
            "and the time until all complete says nothing of what a second replica gains: here the two replicas and "
            "the sandbox compete for the same two cores. What this scenario shows is the failover: every Rollout "
            "completes, the shard moves within the lease, nothing is created twice.",
            "",
        ],
        machine=report["machine"],
    )


def print_table(report: dict[str, Any], targets: list[Target]) -> None:
    print_targets(f"shards N={report['n']}", targets)
    print(f"all complete in {report['update']['all_complete_s']} s; takeover {report['kill']['takeover_s']} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Shards benchmark: two sharded replicas, one killed mid-update.")
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--pause", default="2s", help="each pause's duration (default 2s)")
    parser.add_argument("--no-write", action="store_true", help="print only; do not write bench/results/")
    args = parser.parse_args(argv)
    report = run(args.n, args.pause)
    targets: list[Target] = report.pop("_targets")
    print_table(report, targets)
    if not args.no_write:
        publish(f"shards-{args.n}", report, targets, markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
