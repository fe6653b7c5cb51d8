"""Reliability: canary and blue-green Rollouts with analysis, updated while the API fails a share of requests, the
controller is killed again and again, and the API is down for a while.

Half the Rollouts are canaries through an Istio VirtualService (setWeight 20, a 2 s pause, an analysis step,
setWeight 60, a 2 s pause), half blue-green with a pre-promotion analysis. Every fifth Rollout gets a bad version:
its AnalysisTemplate's web metric asks a local endpoint that answers a success rate of 0.6 (the condition wants
≥ 0.95); the others answer 0.99. Once all are Healthy, the API emulator starts failing `--fault-rate` of the
requests on resources (500, 409 on writes, 429 with Retry-After, slow answers, dropped watches; seeded), every
Rollout gets its new image, the controller process (`rollouts controller`, leader election with a 3 s lease) is
killed with SIGKILL `--kills` times, each time 4 s after it took the lead (so that it dies mid-work, not while
starting), and started again at once; after half the kills the API refuses everything for `--outage` seconds.
A controller that exits by itself (say, having lost its Lease during the outage) is started again too, as its
Deployment would.

Checked, from every stored version of the objects (the emulator's change recorder):

- every Rollout converges: a good version becomes stable and Healthy; a bad one is aborted, the old one stable;
- no duplicate objects: one ReplicaSet per pod-template hash, one AnalysisRun per update;
- every stored VirtualService's route weights sum to 100, none negative;
- no bad version is ever promoted: no stored status names it stable, no stored active Service selects it.

    .venv/bin/python -m bench.reliability [--rollouts 50 --kills 10 --outage 30 --fault-rate 0.05 --seed 1]
"""

from __future__ import annotations

import argparse
import collections
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    ANALYSIS_RUN,
    NAMESPACE,
    ROLLOUT,
    SERVICE,
    VIRTUAL_SERVICE,
    Harness,
    Target,
    describe_machine,
    fleet_objects,
    free_port,
    machine,
    markdown_table,
    rollout_name,
    target_lines,
    write_results,
)
from bench.verdict_endpoint import ANALYSIS_TEMPLATE, verdict_endpoint, web_analysis_template
from sandbox.emulator.faults import FaultInjector, FaultPolicy
from sandbox.recorder import Change, ChangeRecorder, Resource

JsonObject = dict[str, Any]

REPLICA_SET: Final = Resource("apps", "v1", "replicasets")
HASH_LABEL: Final = "rollouts-pod-template-hash"
LEASE_NAME: Final = "rollouts-controller"
CONTROLLER_ARGS: Final = ("--no-applications", "--no-applicationsets",
                          "--leader-election-lease-duration", "3s", "--leader-election-renew-deadline", "2s",
                          "--leader-election-retry-period", "500ms")


@dataclass(frozen=True)
class Plan:
    """The scenario's size: how many Rollouts, how much chaos."""

    rollouts: int = 50
    kills: int = 10
    outage_s: float = 30.0
    fault_rate: float = 0.05
    bad_every: int = 5
    kill_interval_s: float = 4.0
    seed: int = 1
    timeout_s: float = 900.0

    def strategy(self, index: int) -> str:
        return "canary" if index % 2 == 0 else "blueGreen"

    def is_bad(self, index: int) -> bool:
        return index % self.bad_every == self.bad_every - 1


@dataclass
class Observations:
    """What the run stored: every change of the watched kinds, the final Rollout statuses, and the chaos done."""

    plan: Plan
    changes: list[Change]
    old_hashes: dict[str, str]
    final: dict[str, JsonObject]
    kills: int = 0
    restarts: int = 0
    outage_s: float = 0.0
    faults: dict[str, int] = field(default_factory=dict)
    requests: int = 0
    converged_s: float | None = None

    def names(self) -> list[str]:
        return [rollout_name(index) for index in range(self.plan.rollouts)]

    def bad(self, name: str) -> bool:
        return self.plan.is_bad(int(name.rsplit("-", 1)[1]))


# ------------------------------------------------------------------------------------------------ the objects


def canary_steps(template: str) -> list[JsonObject]:
    return [{"setWeight": 20}, {"pause": {"duration": "2s"}},
            {"analysis": {"templates": [{"templateName": template}]}},
            {"setWeight": 60}, {"pause": {"duration": "2s"}}]


def blue_green_objects(name: str) -> list[tuple[Resource, JsonObject]]:
    labels = {"app": name}
    services = [(SERVICE, {"apiVersion": "v1", "kind": "Service",
                           "metadata": {"name": f"{name}-{role}", "namespace": NAMESPACE},
                           "spec": {"selector": labels, "ports": [{"name": "http", "port": 80}]}})
                for role in ("active", "preview")]
    rollout = {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {
            "replicas": 1, "revisionHistoryLimit": 1,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels},
                         "spec": {"containers": [{"name": "app", "image": "app:v1"}]}},
            "strategy": {"blueGreen": {
                "activeService": f"{name}-active", "previewService": f"{name}-preview",
                "prePromotionAnalysis": {"templates": [{"templateName": name}]},
                "scaleDownDelaySeconds": 5,
            }},
        },
    }
    return [*services, (ROLLOUT, rollout)]


def objects_for(plan: Plan, index: int, port: int) -> list[tuple[Resource, JsonObject]]:
    name = rollout_name(index)
    template = (ANALYSIS_TEMPLATE, web_analysis_template(name, port, path="bad" if plan.is_bad(index) else "good"))
    if plan.strategy(index) == "canary":
        return [template, *fleet_objects(index, steps=canary_steps(name))]
    return [template, *blue_green_objects(name)]


# ------------------------------------------------------------------------------------------------ the run


class ChaosHarness(Harness):
    """The bench harness whose controller can be killed and restarted, its log kept across restarts."""

    def start_controller(self) -> None:
        command = [sys.executable, "-c", "from cli.main import main; main()", "controller",
                   "--kubeconfig", str(self.kubeconfig), "--metrics-port", str(free_port()),
                   "--webhook-port", str(free_port()), *self.controller_args]
        with self.controller_log.open("ab") as log:
            self.controller = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log,
                                               stderr=subprocess.STDOUT, start_new_session=True)

    def kill_controller(self) -> None:
        if self.controller is not None and self.controller.poll() is None:
            self.controller.send_signal(signal.SIGKILL)
            self.controller.wait(15)

    def controller_exited(self) -> bool:
        return self.controller is not None and self.controller.poll() is not None

    def leads(self) -> bool:
        """Whether the running controller process holds the leader Lease (identity: <hostname>_<pid>)."""
        if self.controller is None or self.controller.poll() is not None:
            return False
        lease = self.emulator.get_object("coordination.k8s.io", "v1", "leases", "default", LEASE_NAME)
        holder = ((lease or {}).get("spec") or {}).get("holderIdentity")
        return bool(holder == f"{socket.gethostname()}_{self.controller.pid}")

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.controller_log.read_text(errors="replace").splitlines()[-lines:])


def converged(status: Mapping[str, Any], old_hash: str, bad: bool) -> bool:
    """A good update is promoted and Healthy; a bad one aborted with the old version still stable."""
    current = status.get("currentPodHash")
    if current is None or current == old_hash:
        return False
    if bad:
        return status.get("abort") is True and status.get("stableRS") == old_hash
    return status.get("phase") == "Healthy" and status.get("stableRS") == current


def run(plan: Plan) -> Observations:
    """Run the scenario; the observations are checked by :func:`violations` (and by the tests)."""
    with verdict_endpoint() as port:
        return _run(plan, port)


def _run(plan: Plan, port: int) -> Observations:
    harness = ChaosHarness(controller_args=CONTROLLER_ARGS)
    with harness:
        emulator = harness.emulator
        recorder = ChangeRecorder(emulator, [ROLLOUT, VIRTUAL_SERVICE, ANALYSIS_RUN, REPLICA_SET, SERVICE])
        recorder.start()
        try:
            return _chaos(plan, port, harness, recorder)
        except BaseException:
            sys.stderr.write(f"controller log (tail):\n{harness.log_tail()}\n")
            raise
        finally:
            recorder.stop()


def _chaos(plan: Plan, port: int, harness: ChaosHarness, recorder: ChangeRecorder) -> Observations:
    emulator = harness.emulator
    names = [rollout_name(index) for index in range(plan.rollouts)]
    for index in range(plan.rollouts):
        for resource, body in objects_for(plan, index, port):
            harness.create(resource, body)
    harness.start_controller()

    def statuses() -> dict[str, JsonObject]:
        found = {}
        for name in names:
            rollout = emulator.get_object(ROLLOUT.group, ROLLOUT.version, ROLLOUT.plural, NAMESPACE, name)
            found[name] = (rollout or {}).get("status") or {}
        return found

    def all_healthy() -> bool:
        return all(s.get("phase") == "Healthy" and s.get("stableRS") for s in statuses().values())

    harness.wait(all_healthy, 120 + plan.rollouts, f"{plan.rollouts} Rollouts Healthy")
    old_hashes = {name: str(status["stableRS"]) for name, status in statuses().items()}
    changes_from, requests_from = len(recorder), len(emulator.requests)

    emulator.faults = FaultInjector(FaultPolicy(rate=plan.fault_rate, seed=plan.seed))
    started = time.monotonic()
    for index in range(plan.rollouts):
        harness.set_image(index, "app:v2")
    observations = Observations(plan, [], old_hashes, {})
    outage_done = plan.outage_s <= 0
    leading_since: float | None = None
    while True:
        now = time.monotonic()
        if leading_since is None and harness.leads():
            leading_since = now
        if (observations.kills < plan.kills and leading_since is not None
                and now - leading_since >= plan.kill_interval_s):
            # Killed while it leads and works: a kill during start-up, before it holds the Lease, tests little.
            harness.kill_controller()
            observations.kills += 1
            harness.start_controller()
            leading_since = None
        elif harness.controller_exited():
            observations.restarts += 1
            harness.start_controller()
            leading_since = None
        if not outage_done and observations.kills >= plan.kills // 2:
            emulator.outage(plan.outage_s)
            outage_done = True
            observations.outage_s = plan.outage_s
        chaos_over = observations.kills >= plan.kills and outage_done and not emulator.faults.in_outage()
        if chaos_over:
            final = statuses()
            if all(converged(final[name], old_hashes[name], observations.bad(name)) for name in names):
                break
        if now - started > plan.timeout_s:
            final = statuses()
            stuck = {name: final[name] for name in names
                     if not converged(final[name], old_hashes[name], observations.bad(name))}
            raise TimeoutError(f"{len(stuck)} Rollouts did not converge within {plan.timeout_s:g} s: "
                               f"{dict(list(stuck.items())[:3])}")
        time.sleep(0.2)
    observations.converged_s = round(time.monotonic() - started, 1)
    time.sleep(1.0)  # the last writes of the pass that converged land with, or just after, its status
    observations.final = statuses()
    observations.changes = list(recorder.changes_since(changes_from))
    observations.faults = dict(emulator.faults.injected)
    observations.requests = len(emulator.requests) - requests_from
    emulator.faults = FaultInjector()
    return observations


# ------------------------------------------------------------------------------------------------ the checks


def weight_violations(changes: Sequence[Change]) -> list[str]:
    """Every stored VirtualService route whose weights do not sum to 100 or include a negative one."""
    found = []
    for change in changes:
        if change.plural != VIRTUAL_SERVICE.plural or change.type == "DELETED":
            continue
        for route in (change.object.get("spec") or {}).get("http") or []:
            weights = [int(d.get("weight", 0)) for d in route.get("route") or []]
            if sum(weights) != 100 or min(weights, default=0) < 0:
                found.append(f"VirtualService {change.name}: weights {weights}")
    return found


def duplicate_violations(changes: Sequence[Change]) -> list[str]:
    """ReplicaSets created twice for one (Rollout, hash); AnalysisRuns created more than once per update."""
    replica_sets: collections.Counter[tuple[str, str]] = collections.Counter()
    runs: dict[str, list[str]] = collections.defaultdict(list)
    for change in changes:
        if change.type != "ADDED":
            continue
        owners = [o.get("name", "") for o in change.object["metadata"].get("ownerReferences") or []]
        owner = owners[0] if owners else ""
        if change.plural == REPLICA_SET.plural:
            replica_sets[(owner, change.object["metadata"].get("labels", {}).get(HASH_LABEL, ""))] += 1
        elif change.plural == ANALYSIS_RUN.plural:
            runs[owner].append(change.name)
    return ([f"ReplicaSet of {owner} with hash {pod_hash} created {count} times"
             for (owner, pod_hash), count in replica_sets.items() if count > 1]
            + [f"{len(names)} AnalysisRuns created for {owner}'s one update: {', '.join(names)}"
               for owner, names in runs.items() if len(names) > 1])


def promotion_violations(observations: Observations) -> list[str]:
    """Any stored moment when a bad version was stable, or selected by an active Service."""
    bad_hashes = {name: str(observations.final[name].get("currentPodHash")) for name in observations.names()
                  if observations.bad(name)}
    found = []
    for change in observations.changes:
        if change.type == "DELETED":
            continue
        if change.plural == ROLLOUT.plural and change.name in bad_hashes:
            if (change.object.get("status") or {}).get("stableRS") == bad_hashes[change.name]:
                found.append(f"Rollout {change.name}: the bad version {bad_hashes[change.name]} was made stable")
        elif change.plural == SERVICE.plural and change.name.endswith("-active"):
            owner = change.name.removesuffix("-active")
            selected = (change.object.get("spec") or {}).get("selector", {}).get(HASH_LABEL)
            if owner in bad_hashes and selected == bad_hashes[owner]:
                found.append(f"Service {change.name} selected the bad version {selected}")
    return found


def convergence_violations(observations: Observations) -> list[str]:
    return [f"Rollout {name} did not converge: {observations.final[name]}" for name in observations.names()
            if not converged(observations.final[name], observations.old_hashes[name], observations.bad(name))]


def violations(observations: Observations) -> dict[str, list[str]]:
    """Every invariant and what breaks it (empty lists: it holds)."""
    return {
        "every rollout converges": convergence_violations(observations),
        "no duplicate objects": duplicate_violations(observations.changes),
        "weights always sum to 100": weight_violations(observations.changes),
        "no bad version promoted": promotion_violations(observations),
    }


# ------------------------------------------------------------------------------------------------ the report


def report(observations: Observations) -> dict[str, Any]:
    plan = observations.plan
    found = violations(observations)
    kinds = collections.Counter((plan.strategy(i), plan.is_bad(i)) for i in range(plan.rollouts))
    created = collections.Counter(c.plural for c in observations.changes if c.type == "ADDED")
    vs_versions = sum(1 for c in observations.changes if c.plural == VIRTUAL_SERVICE.plural and c.type != "DELETED")
    result: dict[str, Any] = {
        "benchmark": "reliability",
        "plan": {"rollouts": plan.rollouts, "kills": plan.kills, "outage_s": plan.outage_s,
                 "fault_rate": plan.fault_rate, "seed": plan.seed, "kill_interval_s": plan.kill_interval_s},
        "rollouts": {f"{strategy} {'bad' if bad else 'good'}": count for (strategy, bad), count in kinds.items()},
        "chaos": {"controller_kills": observations.kills, "controller_exits_restarted": observations.restarts,
                  "outage_s": observations.outage_s, "faults_injected": observations.faults,
                  "api_requests": observations.requests},
        "update_to_all_converged_s": observations.converged_s,
        "checked": {"virtual_service_versions": vs_versions, "replica_sets_created": created["replicasets"],
                    "analysis_runs_created": created["analysisruns"],
                    "rollout_versions": sum(1 for c in observations.changes if c.plural == ROLLOUT.plural)},
        "violations": found,
        "machine": machine(),
    }
    targets = [Target(f"invariant: {name}", float(len(broken)), 0.0) for name, broken in found.items()]
    result["targets"] = [t.as_dict() for t in targets]
    result["_targets"] = targets
    return result


def markdown(result: Mapping[str, Any]) -> list[str]:
    plan, chaos, checked = result["plan"], result["chaos"], result["checked"]
    faults = ", ".join(f"{kind} {count}" for kind, count in sorted(chaos["faults_injected"].items())) or "none"
    lines = [
        "# Reliability",
        "",
        f"{plan['rollouts']} Rollouts ({', '.join(f'{n} {k}' for k, n in sorted(result['rollouts'].items()))}) "
        f"updated at once while the API fails {plan['fault_rate'] * 100:g} % of resource requests (seed "
        f"{plan['seed']}), the controller is killed (SIGKILL) {plan['kills']} times, each time "
        f"{plan['kill_interval_s']:g} s after it took the lead, and the API refuses every request for "
        f"{plan['outage_s']:g} s after half the kills. `python -m bench.reliability`; see the module's docstring "
        "and docs/reliability.md.",
        "",
        *markdown_table(["", ""], [
            ["update → every Rollout converged", f"{result['update_to_all_converged_s']} s"],
            ["controller kills / exits restarted", f"{chaos['controller_kills']} / "
                                                   f"{chaos['controller_exits_restarted']}"],
            ["API outage", f"{chaos['outage_s']:g} s"],
            ["faults injected", faults],
            ["API requests during the run", f"{chaos['api_requests']:,}"],
            ["VirtualService versions checked", f"{checked['virtual_service_versions']:,}"],
            ["Rollout versions checked", f"{checked['rollout_versions']:,}"],
            ["ReplicaSets / AnalysisRuns created", f"{checked['replica_sets_created']} / "
                                                   f"{checked['analysis_runs_created']}"],
        ]),
        "",
        "## Invariants",
        "",
        *markdown_table(["invariant", "violations"], [
            [name, str(len(broken)) + (f" (first: {broken[0]})" if broken else "")]
            for name, broken in result["violations"].items()]),
        "",
        *target_lines(result["_targets"]),
        "",
        f"Machine: {describe_machine(result['machine'])}.",
    ]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--rollouts", type=int, default=50)
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--outage", type=float, default=30.0, help="seconds the API refuses every request")
    parser.add_argument("--fault-rate", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-write", action="store_true", help="print, do not write bench/results/")
    args = parser.parse_args(argv)
    plan = Plan(rollouts=args.rollouts, kills=args.kills, outage_s=args.outage, fault_rate=args.fault_rate,
                seed=args.seed)
    result = report(run(plan))
    lines = markdown(result)
    if not args.no_write:
        result.pop("_targets")
        json_path, md_path = write_results("reliability", result, lines)
        print(f"wrote {json_path} and {md_path}")
    print("\n".join(lines))
    return 0 if all(not broken for broken in result["violations"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
