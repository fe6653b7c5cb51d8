"""Scale: N Rollouts at rest (10,000 by default) and a controller process started over them, against the sandbox.

The Rollouts are seeded settled (``bench.settled``: the controller settles one, the others are copies of it), so
that the start-up measured is a controller's over a cluster at rest, not its first rollout of N Rollouts. Then a
fresh `rollouts controller` (leader election on, resync shortened) is started and measured:

- **start-up**: from the process's start to every Rollout observed — a pass over it finished, by the controller's
  own per-Rollout ``rollout_reconcile`` count — and the write requests meanwhile (goal: none; Argo's
  RolloutAddedToInformer Events, one per Rollout as a leader's cache fills, are counted apart);
- **memory**: the controller's peak RSS (VmHWM) once every Rollout has been observed and after the resyncs;
- **at rest**: through ``--resyncs`` resync periods, the write requests (goal: none) and CPU seconds per resync;
- the emulator's own PATCH round trip in the same run (the floor), and the load average.

``--profile FILE`` records the controller's start-up with py-spy (raw; ``python -m bench.profile_top FILE``).

    .venv/bin/python -m bench.scale --n 10000 [--resync 30] [--resyncs 2] [--profile /tmp/scale.txt] [--no-write]
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any, Final

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import profile_top
from bench.common import (
    RELAXED_ELECTION,
    RESULTS,
    Harness,
    Target,
    controller_writes,
    controller_writing_other_than_events,
    machine,
    markdown_table,
    measure_floor,
    ratio,
    wait_until_quiet,
    watch_at_rest,
    weight_steps,
)
from bench.results_page import print_targets, publish, scenario_page, with_targets
from bench.settled import seed_settled_fleet, start_over_settled

RSS_TARGET_MB: Final = 1024.0
STARTUP_TARGET_S: Final = 60.0
WRITES_TARGET: Final = 0.0
ADDED_TO_INFORMER: Final = "RolloutAddedToInformer"


def run(n: int, resync_seconds: float = 30.0, resyncs: int = 2, profile: Path | None = None) -> dict[str, Any]:
    steps = weight_steps("2s")
    with Harness(controller_args=["--resync-seconds", f"{resync_seconds:g}", *RELAXED_ELECTION]) as harness:
        harness_args = list(harness.controller_args)
        seed_s = seed_settled_fleet(harness, range(n), steps)
        seeded_load = machine()["load_average_1_5_15m"]
        requests_from = harness.request_index()
        profiler: list[subprocess.Popen[bytes]] = []
        try:
            startup_s = start_over_settled(
                harness, n, timeout=600 + n * 0.2,
                on_start=None if profile is None else lambda pid: profiler.append(_py_spy(pid, profile)),
            )
        finally:
            for process in profiler:
                process.send_signal(signal.SIGINT)
                process.wait(120)
        # A refused request changed nothing (the default AppProject in a namespace the sandbox lacks).
        startup_records = [r for r in harness.requests_since(requests_from) if r.code < 400]
        at_startup = harness.controller_stats()
        settle_s = wait_until_quiet(harness, timeout=120 + n * 0.05, writing=controller_writing_other_than_events)
        floor = measure_floor(harness.sandbox.url)
        rest = watch_at_rest(harness, resync_seconds * resyncs)

    window, passes, after, cpu = rest.seconds, rest.passes, rest.after, rest.cpu_seconds

    startup_writes = controller_writes(startup_records)
    startup_events = startup_writes.pop("create events", 0) + startup_writes.pop("patch events", 0)
    writes = controller_writes(rest.records)
    election = controller_writes(rest.records, election=True)
    reads = rest.reads()
    resyncs_seen = passes / n if n else 0.0
    cpu_per_resync = round(cpu / resyncs_seen, 3) if resyncs_seen else None
    report: dict[str, Any] = {
        "benchmark": "scale",
        "n": n,
        "steps": steps,
        "resync_seconds": resync_seconds,
        "window_s": window,
        "setup": {"seeded_settled_s": round(seed_s, 1), "load_average_after_seeding": seeded_load,
                  "settled_after_startup_s": round(settle_s, 1)},
        "floor": floor,
        "startup": {
            "process_start_to_every_rollout_observed_s": round(startup_s, 1),
            "vs_floor": ratio(startup_s, floor["p50"]),
            "writes_other_than_events": sum(startup_writes.values()),
            "writes_by_request": dict(startup_writes.most_common()),
            # Argo emits RolloutAddedToInformer for every Rollout a leader's cache holds when it starts.
            "event_writes": startup_events,
            "cpu_seconds": at_startup.cpu_seconds,
            "rss_mb": at_startup.rss_mb,
            "peak_rss_mb": at_startup.peak_rss_mb,
            "profile": str(profile) if profile is not None else None,
        },
        "rest": {
            "reconcile_passes": passes,
            "resyncs_observed": round(resyncs_seen, 2),
            "writes": sum(writes.values()),
            "writes_by_request": dict(writes.most_common()),
            "lease_renewals_not_counted": sum(election.values()),
            "reads": dict(reads.most_common()),
            "cpu_seconds_window": cpu,
            "cpu_seconds_per_resync": cpu_per_resync,
            "cpu_ms_per_rollout_pass": round(cpu / passes * 1000, 3) if passes else None,
            "cpu_per_pass_vs_floor": ratio(cpu / passes, floor["p50"]) if passes else None,
        },
        "controller_process": {"peak_rss_mb": after.peak_rss_mb, "rss_mb": after.rss_mb,
                               "cpu_seconds_total": after.cpu_seconds},
        "controller_args": harness_args,
        "machine": machine(),
    }
    targets = [
        Target("controller peak RSS", after.peak_rss_mb, RSS_TARGET_MB, " MB"),
        Target("start-up: process start → every Rollout observed", round(startup_s, 1), STARTUP_TARGET_S, " s"),
        Target("writes during start-up (RolloutAddedToInformer Events apart)", float(sum(startup_writes.values())),
               WRITES_TARGET),
        Target("writes at rest (Lease renewals apart)", float(sum(writes.values())), WRITES_TARGET),
        Target("resyncs observed", round(resyncs_seen, 2), float(resyncs) - 0.5, at_least=True),
    ]
    return with_targets(report, targets)


def _py_spy(pid: int, output: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(pid), "--format",
                             "raw", "--rate", "50", "--output", str(output), "--nonblocking"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def markdown(report: dict[str, Any], targets: list[Target]) -> list[str]:
    n, startup, rest, floor = report["n"], report["startup"], report["rest"], report["floor"]
    more: list[str] = []
    if startup["writes_by_request"]:
        more += ["Start-up writes other than Events:", "",
                 *markdown_table(["request", "count"], list(startup["writes_by_request"].items())), ""]
    if startup["profile"]:
        more += [f"The start-up was recorded with py-spy: `scale-{n}-profile.md` has the top of the profile.", ""]
    return scenario_page(
        f"Scale: {n:,} Rollouts at rest",
        f"{n:,} Healthy canary Rollouts (1 replica each, Istio VirtualService, canary and stable Services), seeded "
        "settled (the controller settled one, the others are copies of it with their own names and pod-template "
        "hashes; `bench/settled.py`), then a fresh `rollouts controller` process started over them (leader election "
        f"on, `--resync-seconds {report['resync_seconds']:g}`) and watched through {report['window_s']:g} s at rest.",
        targets,
        [
            ["process start → every Rollout observed (a pass over it finished)",
             f"{startup['process_start_to_every_rollout_observed_s']} s"],
            ["writes during start-up: other than Events / Events (RolloutAddedToInformer …)",
             f"{startup['writes_other_than_events']} / {startup['event_writes']}"],
            ["controller RSS / peak RSS once every Rollout was observed",
             f"{startup['rss_mb']} / {startup['peak_rss_mb']} MB"],
            ["controller CPU seconds spent by then", startup["cpu_seconds"]],
            ["reconcile passes at rest (controller's own count)",
             f"{rest['reconcile_passes']:g} ({rest['resyncs_observed']:g} per Rollout)"],
            ["writes at rest / Lease renewals (not counted)",
             f"{rest['writes']} / {rest['lease_renewals_not_counted']}"],
            ["controller CPU seconds at rest: window / per resync",
             f"{rest['cpu_seconds_window']} / {rest['cpu_seconds_per_resync']}"],
            ["controller CPU per Rollout pass at rest (× floor p50)",
             f"{rest['cpu_ms_per_rollout_pass']} ms ({rest['cpu_per_pass_vs_floor']}×)"],
            ["controller peak RSS / RSS at the end",
             f"{report['controller_process']['peak_rss_mb']} / {report['controller_process']['rss_mb']} MB"],
            ["floor: emulator PATCH round trip p50 / p99", f"{floor['p50'] * 1000:.1f} / {floor['p99'] * 1000:.1f} ms"],
            ["start-up as a multiple of the floor p50", f"{startup['vs_floor']}×"],
            ["seeding the settled fleet (not the controller's)", f"{report['setup']['seeded_settled_s']} s"],
        ],
        more=more,
        machine=report["machine"],
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Scale benchmark: N Rollouts at rest and a controller started over "
                                                 "them.")
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--resync", type=float, default=30.0, help="the controller's --resync-seconds (default 30)")
    parser.add_argument("--resyncs", type=int, default=2, help="resync periods to watch at rest (default 2)")
    parser.add_argument("--profile", type=Path, help="record the controller's start-up with py-spy into this file")
    parser.add_argument("--no-write", action="store_true", help="print only; do not write bench/results/")
    args = parser.parse_args(argv)
    report = run(args.n, args.resync, args.resyncs, args.profile)
    targets: list[Target] = report.pop("_targets")
    print_targets(f"scale N={report['n']}", targets)
    if not args.no_write:
        publish(f"scale-{args.n}", report, targets, markdown)
        if args.profile is not None:
            page = RESULTS / f"scale-{args.n}-profile.md"
            title = (f"Controller start-up over {args.n:,} Rollouts at rest (py-spy, 50 Hz, process start → every "
                     "Rollout observed)")
            page.write_text("\n".join(profile_top.markdown(args.profile, 25, title)) + "\n")
            print(f"wrote {page}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
