"""Fleet: N canary Rollouts (three weight steps, each followed by a short pause) updated at once, against the
sandbox with the real `rollouts controller` process.

Measured: the time until every Rollout has completed; per pause, the latency from the moment it expires (its
`startTime` + duration, which is when the controller's timer is due) to the next weight stored in the
VirtualService; the controller's write requests per step; its peak RSS and CPU seconds; and the emulator's own PATCH
round trip in the same run (the floor).

    .venv/bin/python -m bench.fleet --n 100 [--pause 2s] [--no-write] [--profile FILE]

With ``--profile FILE`` the controller is recorded by py-spy (raw format) from the update to the last promotion;
``python -m bench.profile_top FILE`` prints the top of it.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    RELAXED_ELECTION,
    Harness,
    Target,
    controller_writes,
    distribution,
    event_reasons,
    machine,
    markdown_table,
    measure_floor,
    pause_expiries,
    promoted_from,
    ratio,
    rollout_name,
    start_profiler,
    stop_profiler,
    weight_changes,
    weight_steps,
)
from bench.results_page import (
    latency_ms,
    load_averages,
    milliseconds,
    print_targets,
    publish,
    scenario_page,
    with_targets,
    writes_and_events_tables,
)
from kube.durations import parse_duration

STEP_P99_TARGET_S = 2.0
WRITES_PER_STEP_TARGET = 3.0
RSS_TARGET_MB = 600.0
CPU_PER_STEP_TARGET_MS = 5.0


def run(n: int, pause: str = "2s", profile: Path | None = None, gil_only: bool = False) -> dict[str, Any]:
    steps = weight_steps(pause)
    with Harness(controller_args=RELAXED_ELECTION) as harness:
        harness_args = list(harness.controller_args)
        assert harness.recorder is not None
        started = time.monotonic()
        harness.create_fleet(n, steps)
        created_s = time.monotonic() - started
        states, initial_s = harness.start_until_healthy(n)
        before_floor = harness.controller_stats()
        floor = measure_floor(harness.sandbox.url)
        old_hashes = {name: str(status.get("stableRS")) for name, status in states.statuses.items()}

        cpu_before = harness.controller_stats().cpu_seconds
        passes_before = harness.metric_sum("rollout_reconcile_count")
        load_start = os.getloadavg()
        assert harness.controller is not None
        profiler = None if profile is None else start_profiler(harness.controller.pid, profile, gil_only)
        sandbox_before, wall_before = harness.sandbox_stats().cpu_seconds, time.monotonic()
        requests_from, changes_from = harness.request_index(), len(harness.recorder)
        update_at = time.time()
        for index in range(n):
            harness.set_image(index, "app:v2")
        update_s = time.time() - update_at
        done = promoted_from(old_hashes)
        complete_s = harness.wait(
            lambda: states.count_named(done) >= n,
            120 + n * 0.5, f"{n} Rollouts promoted",
        )
        if profiler is not None:
            stop_profiler(profiler)
        after = harness.controller_stats()
        passes = harness.metric_sum("rollout_reconcile_count") - passes_before
        load_end = os.getloadavg()
        sandbox_cpu, wall = harness.sandbox_stats().cpu_seconds - sandbox_before, time.monotonic() - wall_before
        records = harness.requests_since(requests_from)
        changes = harness.recorder.changes_since(changes_from)
        reasons = event_reasons(harness.emulator)

    completions: dict[str, float] = {}
    for change in changes:
        if change.plural == "rollouts" and change.name not in completions and done(change.name,
                                                                                 change.object.get("status") or {}):
            completions[change.name] = change.at
    all_complete_s = max(completions.values()) - update_at if len(completions) == n else None

    expiries = pause_expiries(changes, steps)
    weights = weight_changes(changes)
    latencies: list[float] = []
    per_pause: dict[int, list[float]] = {}
    missing = 0
    for index in range(n):
        name = rollout_name(index)
        history = weights.get(name, [])
        for step, expiry in expiries.get(name, []):
            following = next((at for at, _ in history if at >= expiry), None)
            if following is None:
                missing += 1
                continue
            latencies.append(following - expiry)
            per_pause.setdefault(step, []).append(following - expiry)
    by_step: dict[int, list[float]] = {}
    for name_expiries in expiries.values():
        for step_index, expiry in name_expiries:
            by_step.setdefault(step_index, []).append(expiry)
    spreads = {str(k): round(max(v) - min(v), 2) for k, v in sorted(by_step.items())}
    writes = controller_writes(records)
    # Writes the API server refused as stale (409): the pass is repeated once the watch brings the newer version.
    conflicts = controller_writes(record for record in records if record.code == 409)
    election = controller_writes(records, election=True)
    total_writes = sum(writes.values())
    step_count = n * len(steps)
    weight_step_count = n * sum(1 for entry in steps if "setWeight" in entry)
    writes_per_step = round(total_writes / step_count, 2)
    event_writes = sum(v for k, v in writes.items() if k.endswith(" events"))
    step_latency = distribution(latencies)
    pause_seconds = parse_duration(pause)
    update_cpu_s = after.cpu_seconds - cpu_before
    cpu_ms_per_step = round(update_cpu_s / step_count * 1000, 2)
    ideal_s = 3 * pause_seconds
    report: dict[str, Any] = {
        "benchmark": "fleet",
        "n": n,
        "steps": steps,
        "replicas_per_rollout": 1,
        "controller": {"workers": 10, "analysis_workers": 30, "resync_seconds": 900},
        "setup": {
            "objects_created_in_process_s": round(created_s, 2),
            "controller_start_to_all_healthy_s": round(initial_s, 2),
            "controller_after_initial_sync": vars(before_floor),
        },
        "floor": floor,
        "update": {
            "image_patches_s": round(update_s, 3),
            "all_complete_s": None if all_complete_s is None else round(all_complete_s, 2),
            "wait_observed_s": round(complete_s, 2),
            "ideal_s": round(ideal_s, 2),
            "all_complete_vs_ideal": None if all_complete_s is None else round(all_complete_s / ideal_s, 1),
            "completed": len(completions),
        },
        "pause_expiry_to_next_weight_s": step_latency,
        "pause_expiry_to_next_weight_by_step_s": {str(k): distribution(v) for k, v in sorted(per_pause.items())},
        "pauses_without_following_weight": missing,
        # How bunched the expiries are: the seconds between the first and the last Rollout's expiry of each pause.
        "pause_expiry_spread_s": spreads,
        "step_vs_floor": {"p50": ratio(step_latency["p50"], floor["p50"]),
                          "p99": ratio(step_latency["p99"], floor["p99"])},
        "controller_writes": {"total": total_writes, "per_step": writes_per_step,
                              "per_step_without_events": round((total_writes - event_writes) / step_count, 2),
                              "events": event_writes,
                              "per_rollout_update": round(total_writes / n, 2),
                              "by_request": dict(writes.most_common()),
                              "leader_election_not_counted": sum(election.values()),
                              "conflicts": dict(conflicts.most_common()),
                              "reconcile_passes": int(passes),
                              "reconcile_passes_per_step": round(passes / weight_step_count, 2),
                              "events_by_reason": reasons},
        "controller_process": {"peak_rss_mb": after.peak_rss_mb, "rss_mb": after.rss_mb,
                               "cpu_seconds_total": after.cpu_seconds,
                               "cpu_seconds_update": round(after.cpu_seconds - cpu_before, 2),
                               # Steps as in writes per step: every entry of the steps list, of every Rollout.
                               "cpu_ms_per_step": cpu_ms_per_step,
                               "cpu_per_step_vs_floor": ratio(update_cpu_s / step_count, floor["p50"])},
        # Where the two cores went during the update: the controller, and the sandbox process (API emulator and
        # workload simulator, one Python thread each under one GIL).
        "update_cpu": {"wall_s": round(wall, 2), "controller_cpu_s": round(after.cpu_seconds - cpu_before, 2),
                       # Per canary step as issue 13 counts them: the N × 3 weight steps (writes per step above count
                       # each pause as a step too).
                       "controller_cpu_ms_per_step": round((after.cpu_seconds - cpu_before) * 1000 / weight_step_count,
                                                           2),
                       "load_average_start": [round(x, 2) for x in load_start],
                       "load_average_end": [round(x, 2) for x in load_end],
                       "sandbox_cpu_s": round(sandbox_cpu, 2),
                       "api_requests": len(records),
                       "api_requests_per_s": round(len(records) / wall, 1) if wall else None},
        "controller_args": harness_args,
        "machine": machine(),
    }
    targets = [
        Target("all rollouts complete", float(len(completions)), float(n), at_least=True),
        Target("step p99 (pause expiry → next weight)", step_latency["p99"], STEP_P99_TARGET_S, " s"),
        Target("controller writes per step", writes_per_step, WRITES_PER_STEP_TARGET),
        Target("controller CPU per step", cpu_ms_per_step, CPU_PER_STEP_TARGET_MS, " ms"),
        Target("controller peak RSS", after.peak_rss_mb, RSS_TARGET_MB, " MB"),
    ]
    return with_targets(report, targets)


def markdown(report: dict[str, Any], targets: list[Target]) -> list[str]:
    n, floor, step = report["n"], report["floor"], report["pause_expiry_to_next_weight_s"]
    update, writes, process = report["update"], report["controller_writes"], report["controller_process"]
    ms = milliseconds
    lines = scenario_page(
        f"Fleet: {n:,} canary Rollouts updated at once",
        f"{n:,} Rollouts (1 replica each; steps: setWeight 20/50/80, each followed by a "
        f"{report['steps'][1]['pause']['duration']} pause; Istio VirtualService, canary and stable Services) in the "
        "sandbox, reconciled by `rollouts controller` as a separate process (10 workers). All images changed at "
        f"once (in {update['image_patches_s']} s).",
        targets,
        [
            ["time until all complete (ideal: the pauses alone)", f"{update['all_complete_s']} s "
             f"(ideal {update['ideal_s']} s: {update.get('all_complete_vs_ideal')}× the ideal)"],
            ["pause expiry → next weight written, p50 / p90 / p99 / max",
             f"{latency_ms(step)} "
             f"({step['count']} pauses)"],
            ["… as a multiple of the floor (p50 / p99)",
             f"{report['step_vs_floor']['p50']}× / {report['step_vs_floor']['p99']}×"],
            ["floor: emulator PATCH round trip p50 / p99",
             f"{latency_ms(floor, 'p50', 'p99')} ({floor['count']} sequential)"],
            ["controller writes: total / per step / per rollout update",
             f"{writes['total']:,} / {writes['per_step']} / {writes['per_rollout_update']}"],
            ["controller writes per step without Events", writes["per_step_without_events"]],
            ["controller CPU per step (× floor p50)",
             f"{process.get('cpu_ms_per_step')} ms ({process.get('cpu_per_step_vs_floor')}×)"],
            ["leader-election Lease renewals meanwhile (not counted)", writes["leader_election_not_counted"]],
            ["writes refused as stale (409 Conflict)", sum(writes["conflicts"].values())],
            ["reconcile passes during the update (per canary step)",
             f"{writes['reconcile_passes']:,} ({writes['reconcile_passes_per_step']})"],
            ["controller peak RSS", f"{process['peak_rss_mb']} MB"],
            ["controller CPU seconds (update / since start)",
             f"{process['cpu_seconds_update']} / {process['cpu_seconds_total']}"],
            ["controller CPU per canary step (update; N × 3 weight steps)",
             f"{report['update_cpu']['controller_cpu_ms_per_step']} ms"],
            ["load average (1/5/15 min) at the update's start / end",
             f"{load_averages(report['update_cpu']['load_average_start'])} / "
             f"{load_averages(report['update_cpu']['load_average_end'])}"],
            ["CPU during the update: controller / sandbox process / wall",
             f"{report['update_cpu']['controller_cpu_s']} / {report['update_cpu']['sandbox_cpu_s']} / "
             f"{report['update_cpu']['wall_s']} s"],
            ["API requests served during the update (all clients)",
             f"{report['update_cpu']['api_requests']:,} ({report['update_cpu']['api_requests_per_s']}/s)"],
            ["controller start → all Healthy (initial sync)",
             f"{report['setup']['controller_start_to_all_healthy_s']} s"],
        ],
        more=[
            *writes_and_events_tables(writes, n),
            "Per pause (step index → p50 / p99 ms):",
            "",
            *markdown_table(["step", "p50 ms", "p99 ms", "max ms"], [
                [k, ms(v["p50"]), ms(v["p99"]), ms(v["max"])]
                for k, v in report["pause_expiry_to_next_weight_by_step_s"].items()
            ]),
            "",
            *notes(report, targets),
        ],
        machine=report["machine"],
    )
    return lines


def notes(report: dict[str, Any], targets: list[Target]) -> list[str]:
    """Why a target was missed, from this run's own figures (see bench/README.md for the profile behind them)."""
    missed = [t for t in targets if not t.met]
    if not missed:
        return []
    cpu, writes = report["update_cpu"], report["controller_writes"]
    requests = max(1, writes["total"])
    lines = ["## Notes on the targets missed", ""]
    names = {t.name for t in missed}
    if any(name.startswith("step p99") for name in names):
        rate = writes["total"] / cpu["wall_s"]
        lines.append(
            f"- **Step latency is a backlog.** The update asks for {writes['total']:,} writes "
            f"({writes['per_rollout_update']} per Rollout, half of them Events), and the controller got through "
            f"{rate:.0f} per second: {cpu['controller_cpu_s'] / requests * 1000:.2f} ms of its CPU per write (the "
            "handling of the watch events those writes cause included), at "
            f"{cpu['controller_cpu_s'] / cpu['wall_s'] * 100:.0f} % of one core — one Python process, so its 10 "
            f"workers share one GIL. So the update took {report['update']['all_complete_s']} s where its pauses "
            f"alone take {report['update']['ideal_s']} s, and a pause that expires waits in the work queue behind "
            "the passes of the other Rollouts (FIFO: an expired timer has no priority). The expiries of one step "
            f"are spread over up to {max(report['pause_expiry_spread_s'].values() or [0]):g} s only because the "
            "backlog spreads them: p99 grows with N."
        )
    if any(name.startswith("controller writes per step") for name in names):
        lines.append(
            f"- **Writes per step.** Events are {writes['events']:,} "
            f"of the {writes['total']:,} writes: Argo's reasons, one per action (RolloutStepCompleted, "
            "TrafficWeightUpdated, SwitchService, RolloutPaused, RolloutResumed, … — see the table above). Without "
            f"them a step costs {writes['per_step_without_events']} writes: the VirtualService, two status patches "
            "(one as the step starts, one as it completes) and, at the first step and the promotion, the "
            "ReplicaSets and Services."
        )
    if any(name.startswith("controller peak RSS") for name in names):
        lines.append("- **Memory.** The controller's cache holds every Rollout, ReplicaSet, Pod, Service and "
                     "VirtualService as plain dicts; see the RSS after the initial sync above.")
    return [*lines, ""]


def print_table(report: dict[str, Any], targets: list[Target]) -> None:
    print_targets(f"fleet N={report['n']}", targets)
    step = report["pause_expiry_to_next_weight_s"]
    print(f"all complete in {report['update']['all_complete_s']} s; step p50 {milliseconds(step['p50'])} ms, "
          f"p99 {milliseconds(step['p99'])} ms; floor p50 {milliseconds(report['floor']['p50'])} ms; "
          f"CPU {report['controller_process']['cpu_seconds_update']} s during the update "
          f"({report['update_cpu']['controller_cpu_ms_per_step']} ms per step); "
          f"writes per step {report['controller_writes']['per_step']} "
          f"({report['controller_writes']['per_step_without_events']} without Events); "
          f"load {load_averages(report['update_cpu']['load_average_start'])} → "
          f"{load_averages(report['update_cpu']['load_average_end'])}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Fleet benchmark: N canary Rollouts updated at once.")
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--pause", default="2s", help="each pause's duration (default 2s)")
    parser.add_argument("--no-write", action="store_true", help="print only; do not write bench/results/")
    parser.add_argument("--profile", type=Path, help="record the controller with py-spy (raw) into this file")
    parser.add_argument("--profile-gil", action="store_true",
                        help="with --profile: sample only the thread holding the GIL (its CPU, not its waits)")
    args = parser.parse_args(argv)
    report = run(args.n, args.pause, args.profile, args.profile_gil)
    targets: list[Target] = report.pop("_targets")
    print_table(report, targets)
    if not args.no_write:
        publish(f"fleet-{args.n}", report, targets, markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
