"""Abort: N canary Rollouts updated at once to a version whose analysis fails, against the sandbox with the real
`rollouts controller` process (both controllers: Rollouts and AnalysisRuns).

Each Rollout's steps are setWeight 20, then an analysis step; the AnalysisTemplate's one web metric asks a tiny
HTTP endpoint (a child process of the benchmark) for the new version's success rate, which it reports as 0.6 —
below the 0.95 the condition wants, so the first measurement fails the run and the Rollout aborts. Measured per
Rollout: from the moment the failed measurement is stored in the AnalysisRun's status to the moment the canary's
weight 0 is stored in the VirtualService; and the emulator's own PATCH round trip in the same run (the floor).

    .venv/bin/python -m bench.abort --n 100 [--no-write]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    NAMESPACE,
    Harness,
    Resource,
    RolloutStates,
    Target,
    controller_writes,
    describe_machine,
    distribution,
    event_reasons,
    fleet_objects,
    healthy,
    machine,
    markdown_table,
    measure_floor,
    ratio,
    rollout_name,
    target_lines,
    text_table,
    weight_changes,
    write_results,
)

ABORT_P99_TARGET_S = 1.0
TEMPLATE = "bench-verdict"
ANALYSIS_TEMPLATE = Resource("argoproj.io", "v1alpha1", "analysistemplates")
# The endpoint: a threading HTTP server answering every GET with the new version's (bad) success rate.
VERDICT_SERVER = r"""
import http.server, json, sys
body = json.dumps({"version": "app:v2", "successRate": 0.6}).encode()
class Verdict(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Verdict)
server.daemon_threads = True
print(server.server_address[1], flush=True)
server.serve_forever()
"""


def analysis_template(port: int) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AnalysisTemplate",
        "metadata": {"name": TEMPLATE, "namespace": NAMESPACE},
        "spec": {"metrics": [{
            "name": "success-rate",
            "successCondition": "result >= 0.95",
            "provider": {"web": {"url": f"http://127.0.0.1:{port}/verdict", "jsonPath": "{$.successRate}",
                                 "timeoutSeconds": 10}},
        }]},
    }


STEPS = [{"setWeight": 20}, {"analysis": {"templates": [{"templateName": TEMPLATE}]}}, {"setWeight": 50},
         {"pause": {}}]


def run(n: int) -> dict[str, Any]:
    server = subprocess.Popen([sys.executable, "-c", VERDICT_SERVER], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        return _run(n, port)
    finally:
        server.terminate()
        server.wait(10)


def _run(n: int, port: int) -> dict[str, Any]:
    with Harness() as harness:
        assert harness.recorder is not None
        harness.create(ANALYSIS_TEMPLATE, analysis_template(port))
        for index in range(n):
            for resource, body in fleet_objects(index, steps=STEPS):
                harness.create(resource, body)
        harness.start_controller()
        states = RolloutStates(harness.recorder)
        initial_s = harness.wait(lambda: states.count(healthy) >= n, 60 + n * 0.3, f"{n} Rollouts Healthy")
        floor = measure_floor(harness.sandbox.url)

        cpu_before = harness.controller_stats().cpu_seconds
        sandbox_before, wall_before = harness.sandbox_stats().cpu_seconds, time.monotonic()
        requests_from, changes_from = harness.request_index(), len(harness.recorder)
        for index in range(n):
            harness.set_image(index, "app:v2")
        aborted_s = harness.wait(
            lambda: states.count(lambda s: s.get("abort") is True and s.get("phase") == "Degraded") >= n,
            120 + n * 0.5, f"{n} Rollouts aborted",
        )
        time.sleep(1.0)  # the last weight writes land with (or just before) the status that says aborted
        after = harness.controller_stats()
        sandbox_cpu, wall = harness.sandbox_stats().cpu_seconds - sandbox_before, time.monotonic() - wall_before
        records = harness.requests_since(requests_from)
        changes = harness.recorder.changes_since(changes_from)
        reasons = event_reasons(harness.emulator)

    failed_at: dict[str, float] = {}
    for change in changes:
        if change.plural != "analysisruns" or change.type == "DELETED":
            continue
        owners = [o.get("name") for o in change.object.get("metadata", {}).get("ownerReferences") or []
                  if o.get("kind") == "Rollout"]
        if not owners or owners[0] in failed_at:
            continue
        for result in (change.object.get("status") or {}).get("metricResults") or []:
            if any(m.get("phase") == "Failed" for m in result.get("measurements") or []):
                failed_at[str(owners[0])] = change.at
                break
    weights = weight_changes(changes)
    latencies: list[float] = []
    for index in range(n):
        name = rollout_name(index)
        failure = failed_at.get(name)
        if failure is None:
            continue
        back = next((at for at, weight in weights.get(name, []) if at >= failure and weight == 0), None)
        if back is not None:
            latencies.append(back - failure)
    spread = round(max(failed_at.values()) - min(failed_at.values()), 2) if failed_at else None
    all_back = sum(1 for name in (rollout_name(i) for i in range(n))
                   if weights.get(name) and weights[name][-1][1] == 0)
    abort = distribution(latencies)
    writes = controller_writes(records)
    election = controller_writes(records, election=True)
    report: dict[str, Any] = {
        "benchmark": "abort",
        "n": n,
        "steps": STEPS,
        "analysis": "one web metric per run, against a local endpoint answering successRate 0.6 "
                    "(successCondition result >= 0.95)",
        "setup": {"controller_start_to_all_healthy_s": round(initial_s, 2)},
        "floor": floor,
        "update": {"all_aborted_s": round(aborted_s, 2), "failed_measurements_seen": len(failed_at),
                   "rollouts_with_traffic_back_on_stable": all_back},
        "failed_measurement_to_weight_zero_s": abort,
        # How bunched the verdicts are: the seconds between the first and the last failed measurement stored.
        "failed_measurement_spread_s": spread,
        "abort_vs_floor": {"p50": ratio(abort["p50"], floor["p50"]), "p99": ratio(abort["p99"], floor["p99"])},
        "controller_writes": {"total": sum(writes.values()), "per_rollout": round(sum(writes.values()) / n, 2),
                              "by_request": dict(writes.most_common()),
                              "leader_election_not_counted": sum(election.values()),
                              "events_by_reason": reasons},
        "controller_process": {"peak_rss_mb": after.peak_rss_mb, "rss_mb": after.rss_mb,
                               "cpu_seconds_total": after.cpu_seconds,
                               "cpu_seconds_update": round(after.cpu_seconds - cpu_before, 2)},
        # Where the two cores went during the update: the controller, and the sandbox process (API emulator and
        # workload simulator, one Python thread each under one GIL).
        "update_cpu": {"wall_s": round(wall, 2), "controller_cpu_s": round(after.cpu_seconds - cpu_before, 2),
                       "sandbox_cpu_s": round(sandbox_cpu, 2),
                       "api_requests": len(records),
                       "api_requests_per_s": round(len(records) / wall, 1) if wall else None},
        "machine": machine(),
    }
    targets = [
        Target("rollouts aborted with traffic back on stable", float(all_back), float(n), at_least=True),
        Target("abort p99 (failed measurement → weight 0)", abort["p99"], ABORT_P99_TARGET_S, " s"),
    ]
    report["targets"] = [t.as_dict() for t in targets]
    report["_targets"] = targets
    return report


def _ms(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds * 1000:.1f}"


def markdown(report: dict[str, Any], targets: list[Target]) -> list[str]:
    n, abort, floor = report["n"], report["failed_measurement_to_weight_zero_s"], report["floor"]
    process, writes = report["controller_process"], report["controller_writes"]
    return [
        f"# Abort: {n:,} Rollouts whose analysis fails",
        "",
        f"{n:,} canary Rollouts (1 replica each; steps: setWeight 20, an analysis step, setWeight 50, pause) updated "
        "at once to a version whose analysis fails: the AnalysisTemplate's one web metric reads a success rate of "
        "0.6 from a local endpoint and wants ≥ 0.95. `rollouts controller` runs as a separate process (10 Rollout "
        "workers, 30 analysis workers).",
        "",
        "## Targets",
        "",
        *target_lines(targets),
        "",
        "## Results",
        "",
        *markdown_table(["measure", "value"], [
            ["failed measurement stored → canary weight 0 stored, p50 / p90 / p99 / max",
             f"{_ms(abort['p50'])} / {_ms(abort['p90'])} / {_ms(abort['p99'])} / {_ms(abort['max'])} ms "
             f"({abort['count']} rollouts)"],
            ["… as a multiple of the floor (p50 / p99)",
             f"{report['abort_vs_floor']['p50']}× / {report['abort_vs_floor']['p99']}×"],
            ["floor: emulator PATCH round trip p50 / p99", f"{_ms(floor['p50'])} / {_ms(floor['p99'])} ms"],
            ["image changed → every Rollout aborted", f"{report['update']['all_aborted_s']} s"],
            ["controller writes: total / per rollout", f"{writes['total']:,} / {writes['per_rollout']}"],
            ["CPU during the update: controller / sandbox process / wall",
             f"{report['update_cpu']['controller_cpu_s']} / {report['update_cpu']['sandbox_cpu_s']} / "
             f"{report['update_cpu']['wall_s']} s"],
            ["API requests served during the update (all clients)",
             f"{report['update_cpu']['api_requests']:,} ({report['update_cpu']['api_requests_per_s']}/s)"],
            ["controller peak RSS", f"{process['peak_rss_mb']} MB"],
            ["controller CPU seconds (update / since start)",
             f"{process['cpu_seconds_update']} / {process['cpu_seconds_total']}"],
        ]),
        "",
        "Writes by request:",
        "",
        *markdown_table(["request", "count", "per rollout"],
                        [[k, v, round(v / n, 2)] for k, v in writes["by_request"].items()]),
        "",
        "Events by reason, since the Rollouts were created (the initial sync's included; an Event's count includes "
        "its repeats):",
        "",
        *markdown_table(["reason", "count", "per rollout"],
                        [[k, v, round(v / n, 2)] for k, v in writes["events_by_reason"].items()]),
        "",
        *notes(report, targets),
        f"Machine: {describe_machine(report['machine'])}.",
    ]


def notes(report: dict[str, Any], targets: list[Target]) -> list[str]:
    """Why a target was missed, from this run's own figures (see bench/README.md for the profile behind them)."""
    if all(t.met for t in targets):
        return []
    n, cpu, writes = report["n"], report["update_cpu"], report["controller_writes"]
    return [
        "## Notes on the targets missed",
        "",
        f"- **Abort latency is a backlog.** The Rollouts moved onto their analysis step together and their "
        f"{n:,} verdicts were stored over {report['failed_measurement_spread_s']} s, while the controller was "
        f"still working through the other Rollouts' steps: {writes['total']:,} writes in {cpu['wall_s']} s "
        f"({writes['total'] / cpu['wall_s']:.0f} per second, {cpu['controller_cpu_s']} s of its CPU: "
        f"{cpu['controller_cpu_s'] / cpu['wall_s'] * 100:.0f} % of one core — one Python process, one GIL for "
        "its Rollout and analysis workers). A failed run reaches the Rollout controller through its watch and queues "
        "its Rollout at the back of the Rollout work queue "
        "(FIFO: an abort has no priority over a Rollout that merely moves on), so it waits for the passes queued "
        "before it: p99 grows with N.",
        "",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Abort benchmark: N Rollouts whose analysis fails.")
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--no-write", action="store_true", help="print only; do not write bench/results/")
    args = parser.parse_args(argv)
    report = run(args.n)
    targets: list[Target] = report.pop("_targets")
    print(f"abort N={report['n']}")
    print(text_table(["target", "measured", "goal", "met", "miss"],
                     [[c.replace("**", "") for c in t.row()] for t in targets]))
    abort = report["failed_measurement_to_weight_zero_s"]
    print(f"failed measurement → weight 0: p50 {_ms(abort['p50'])} ms, p99 {_ms(abort['p99'])} ms; "
          f"all aborted {report['update']['all_aborted_s']} s after the update")
    if not args.no_write:
        paths = write_results(f"abort-{args.n}", report, markdown(report, targets))
        print("wrote " + " and ".join(str(p) for p in paths))
    return 0


if __name__ == "__main__":
    sys.exit(main())
