"""Rest: N Healthy canary Rollouts through several resyncs, against the sandbox with the real `rollouts
controller` process (resync shortened so that several happen in the run).

Measured: the controller's write requests while nothing changes (goal: none), its reads, and its CPU seconds per
resync; the reconcile passes the controller itself counted (so the resyncs are known to have happened); and the
emulator's PATCH round trip in the same run (the floor).

    .venv/bin/python -m bench.rest --n 100 [--resync 5] [--resyncs 3] [--no-write]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    Harness,
    Target,
    controller_writes,
    machine,
    measure_floor,
    wait_until_quiet,
    watch_at_rest,
    weight_steps,
)
from bench.results_page import print_targets, publish, scenario_page, with_targets

WRITES_TARGET = 0.0


def run(n: int, resync_seconds: float = 5.0, resyncs: int = 3) -> dict[str, Any]:
    steps = weight_steps("2s")
    with Harness(controller_args=["--resync-seconds", f"{resync_seconds:g}"]) as harness:
        assert harness.recorder is not None
        harness.create_fleet(n, steps)
        _, initial_s = harness.start_until_healthy(n)
        settle_s = wait_until_quiet(harness, timeout=60 + n * 0.1)
        floor = measure_floor(harness.sandbox.url)
        rest = watch_at_rest(harness, resync_seconds * resyncs)

    window, passes, after, cpu = rest.seconds, rest.passes, rest.after, rest.cpu_seconds
    writes = controller_writes(rest.records)
    election = controller_writes(rest.records, election=True)
    reads = rest.reads()
    resyncs_seen = passes / n if n else 0.0
    report: dict[str, Any] = {
        "benchmark": "rest",
        "n": n,
        "resync_seconds": resync_seconds,
        "window_s": window,
        "setup": {"controller_start_to_all_healthy_s": round(initial_s, 2),
                  "settled_after_s": round(settle_s, 2)},
        "floor": floor,
        "reconcile_passes": passes,
        "resyncs_observed": round(resyncs_seen, 2),
        "controller_writes": {"total": sum(writes.values()), "by_request": dict(writes.most_common())},
        # Not about Rollouts: the leader's Lease renewals, every 2 s whatever the cluster holds.
        "leader_election_writes": {"total": sum(election.values()), "by_request": dict(election.most_common())},
        "controller_reads": {"total": sum(reads.values()), "by_request": dict(reads.most_common())},
        "controller_process": {
            "cpu_seconds_window": cpu,
            "cpu_seconds_per_resync": round(cpu / resyncs_seen, 3) if resyncs_seen else None,
            "cpu_ms_per_rollout_pass": round(cpu / passes * 1000, 3) if passes else None,
            "peak_rss_mb": after.peak_rss_mb,
            "rss_mb": after.rss_mb,
        },
        "machine": machine(),
    }
    targets = [
        Target("controller writes at rest (Lease renewals apart)", float(sum(writes.values())), WRITES_TARGET),
        Target("resyncs observed", round(resyncs_seen, 2), float(resyncs) - 0.5, at_least=True),
    ]
    return with_targets(report, targets)


def markdown(report: dict[str, Any], targets: list[Target]) -> list[str]:
    n, process, floor = report["n"], report["controller_process"], report["floor"]
    return scenario_page(
        f"Rest: {n:,} Healthy Rollouts through {report['resyncs_observed']:g} resyncs",
        f"{n:,} Healthy canary Rollouts (1 replica each) reconciled by `rollouts controller` as a separate process "
        f"with `--resync-seconds {report['resync_seconds']:g}`, watched for {report['window_s']:g} s after the "
        "initial sync had settled. Nothing changes in the cluster meanwhile, so every pass is a resync.",
        targets,
        [
            ["reconcile passes (controller's own count)", f"{report['reconcile_passes']:g} "
             f"({report['resyncs_observed']:g} per Rollout)"],
            ["controller write requests about Rollouts and their objects", report["controller_writes"]["total"]],
            ["leader-election Lease renewals (not counted above)", report["leader_election_writes"]["total"]],
            ["controller read requests (get/list)", report["controller_reads"]["total"]],
            ["controller CPU seconds: window / per resync", f"{process['cpu_seconds_window']} / "
             f"{process['cpu_seconds_per_resync']}"],
            ["controller CPU per Rollout pass", f"{process['cpu_ms_per_rollout_pass']} ms"],
            ["controller peak RSS / RSS now", f"{process['peak_rss_mb']} / {process['rss_mb']} MB"],
            ["floor: emulator PATCH round trip p50 / p99",
             f"{floor['p50'] * 1000:.1f} / {floor['p99'] * 1000:.1f} ms"],
            ["controller start → all Healthy", f"{report['setup']['controller_start_to_all_healthy_s']} s"],
        ],
        machine=report["machine"],
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Rest benchmark: N Healthy Rollouts through several resyncs.")
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--resync", type=float, default=5.0, help="the controller's --resync-seconds (default 5)")
    parser.add_argument("--resyncs", type=int, default=3, help="resync periods to watch (default 3)")
    parser.add_argument("--no-write", action="store_true", help="print only; do not write bench/results/")
    args = parser.parse_args(argv)
    report = run(args.n, args.resync, args.resyncs)
    targets: list[Target] = report.pop("_targets")
    print_targets(f"rest N={report['n']}", targets)
    process = report["controller_process"]
    print(f"{report['reconcile_passes']:g} passes; CPU {process['cpu_seconds_window']} s in the window, "
          f"{process['cpu_seconds_per_resync']} s per resync")
    if not args.no_write:
        publish(f"rest-{args.n}", report, targets, markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
