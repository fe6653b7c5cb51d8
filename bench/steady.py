"""Steady: N canary Rollouts (three weight steps, each followed by a 10 s pause) whose updates arrive evenly over
a minute, against the sandbox with the real `rollouts controller` process — the load of a busy cluster rather than
the fleet scenario's burst.

The Rollouts are seeded at rest (``bench.settled``) and a fresh controller has finished a pass over each before the
first update. Then Rollout i gets its new image at i × window / N. Measured: per pause, the latency from the moment
it expires (its ``startTime`` + duration: when the controller's timer is due) to the next weight stored in the
VirtualService (the step latency); per update, the new image stored → the first canary weight stored; the
controller's CPU and write requests per step; and the emulator's own PATCH round trip in the same run (the floor).

    .venv/bin/python -m bench.steady --n 1000 [--window 60] [--pause 10s] [--no-write]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any, Final

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    RELAXED_ELECTION,
    Harness,
    RolloutStates,
    Target,
    controller_writes,
    distribution,
    machine,
    measure_floor,
    pause_expiries,
    promoted_from,
    ratio,
    rollout_name,
    weight_changes,
    weight_steps,
)
from bench.results_page import latency_ms, print_targets, publish, scenario_page, with_targets
from bench.settled import seed_settled_fleet, start_over_settled

STEP_P99_TARGET_S: Final = 1.0


def run(n: int, window_s: float = 60.0, pause: str = "10s") -> dict[str, Any]:
    steps = weight_steps(pause)
    with Harness(controller_args=RELAXED_ELECTION) as harness:
        harness_args = list(harness.controller_args)
        assert harness.recorder is not None
        seed_s = seed_settled_fleet(harness, range(n), steps)
        startup_s = start_over_settled(harness, n, timeout=300 + n * 0.2)
        states = RolloutStates(harness.recorder)
        states.refresh()
        old_hashes = {name: str(status.get("stableRS")) for name, status in states.statuses.items()}
        floor = measure_floor(harness.sandbox.url)

        cpu_before = harness.controller_stats().cpu_seconds
        requests_from, changes_from = harness.request_index(), len(harness.recorder)
        updated_at: dict[str, float] = {}
        began = time.time()
        for index in range(n):
            # Evenly spread: Rollout i at i × window / n after the first (absolute times, so no drift).
            delay = began + index * window_s / n - time.time()
            if delay > 0:
                time.sleep(delay)
            updated_at[rollout_name(index)] = time.time()
            harness.set_image(index, "app:v2")
        arrivals_s = time.time() - began
        done = promoted_from(old_hashes)
        harness.wait(lambda: states.count_named(done) >= n, 180 + n * 0.5, f"{n} Rollouts promoted", poll=0.5)
        after = harness.controller_stats()
        wall = time.time() - began
        completed = sum(1 for name, status in states.statuses.items() if done(name, status))
        records = harness.requests_since(requests_from)
        changes = harness.recorder.changes_since(changes_from)

    expiries = pause_expiries(changes, steps)
    weights = weight_changes(changes)
    step_latencies: list[float] = []
    first_weight: list[float] = []
    missing = 0
    for index in range(n):
        name = rollout_name(index)
        history = weights.get(name, [])
        first = next((at for at, weight in history if at >= updated_at[name] and weight > 0), None)
        if first is not None:
            first_weight.append(first - updated_at[name])
        for _, expiry in expiries.get(name, []):
            following = next((at for at, _ in history if at >= expiry), None)
            if following is None:
                missing += 1
            else:
                step_latencies.append(following - expiry)
    step = distribution(step_latencies)
    first_step = distribution(first_weight)
    writes = controller_writes(records)
    election = controller_writes(records, election=True)
    total_writes = sum(writes.values())
    event_writes = sum(v for k, v in writes.items() if k.endswith(" events"))
    step_count = n * len(steps)
    cpu = round(after.cpu_seconds - cpu_before, 2)
    cpu_ms_per_step = round(cpu / step_count * 1000, 2)
    report: dict[str, Any] = {
        "benchmark": "steady",
        "n": n,
        "steps": steps,
        "arrival_window_s": window_s,
        "controller": {"workers": 10, "analysis_workers": 30, "resync_seconds": 900},
        "setup": {"seeded_settled_s": round(seed_s, 1), "controller_start_to_every_rollout_observed_s":
                  round(startup_s, 1)},
        "floor": floor,
        "update": {"arrivals_s": round(arrivals_s, 2), "arrival_rate_per_s": round(n / window_s, 1),
                   "first_arrival_to_all_promoted_s": round(wall, 2)},
        "pause_expiry_to_next_weight_s": step,
        "pauses_without_following_weight": missing,
        "step_vs_floor": {"p50": ratio(step["p50"], floor["p50"]), "p99": ratio(step["p99"], floor["p99"])},
        "update_to_first_weight_s": first_step,
        "first_weight_vs_floor": {"p50": ratio(first_step["p50"], floor["p50"]),
                                  "p99": ratio(first_step["p99"], floor["p99"])},
        "controller_writes": {"total": total_writes, "per_step": round(total_writes / step_count, 2),
                              "per_step_without_events": round((total_writes - event_writes) / step_count, 2),
                              "events": event_writes, "by_request": dict(writes.most_common()),
                              "leader_election_not_counted": sum(election.values())},
        "controller_process": {"cpu_seconds_update": cpu, "cpu_ms_per_step": cpu_ms_per_step,
                               "cpu_per_step_vs_floor": ratio(cpu / step_count, floor["p50"]),
                               "cpu_share_of_one_core": round(cpu / wall, 2) if wall else None,
                               "peak_rss_mb": after.peak_rss_mb},
        "controller_args": harness_args,
        "machine": machine(),
    }
    targets = [
        Target("all rollouts complete", float(completed), float(n), at_least=True),
        Target("step p99 (pause expiry → next weight)", step["p99"], STEP_P99_TARGET_S, " s"),
    ]
    return with_targets(report, targets)


def markdown(report: dict[str, Any], targets: list[Target]) -> list[str]:
    n, step, first, floor = (report["n"], report["pause_expiry_to_next_weight_s"], report["update_to_first_weight_s"],
                             report["floor"])
    writes, process = report["controller_writes"], report["controller_process"]
    return scenario_page(
        f"Steady: {n:,} Rollout updates spread over {report['arrival_window_s']:g} s",
        f"{n:,} canary Rollouts (1 replica each; steps: setWeight 20/50/80, each followed by a "
        f"{report['steps'][1]['pause']['duration']} pause; Istio VirtualService, canary and stable Services), seeded "
        "at rest (`bench/settled.py`), reconciled by a fresh `rollouts controller` process (10 workers) that had "
        f"observed every Rollout first. The new images arrived evenly, {report['update']['arrival_rate_per_s']:g} "
        f"per second over {report['update']['arrivals_s']} s.",
        targets,
        [
            ["pause expiry → next weight written, p50 / p90 / p99 / max",
             f"{latency_ms(step)} "
             f"({step['count']} pauses)"],
            ["… as a multiple of the floor (p50 / p99)",
             f"{report['step_vs_floor']['p50']}× / {report['step_vs_floor']['p99']}×"],
            ["new image stored → first canary weight written, p50 / p99",
             f"{latency_ms(first, 'p50', 'p99')} "
             f"({report['first_weight_vs_floor']['p50']}× / {report['first_weight_vs_floor']['p99']}× the floor)"],
            ["floor: emulator PATCH round trip p50 / p99", f"{latency_ms(floor, 'p50', 'p99')}"],
            ["first update → every Rollout promoted", f"{report['update']['first_arrival_to_all_promoted_s']} s"],
            ["controller CPU per step (× floor p50)",
             f"{process['cpu_ms_per_step']} ms ({process['cpu_per_step_vs_floor']}×)"],
            ["controller CPU: seconds / share of one core", f"{process['cpu_seconds_update']} / "
             f"{process['cpu_share_of_one_core']}"],
            ["controller writes: per step / without Events", f"{writes['per_step']} / "
             f"{writes['per_step_without_events']}"],
            ["controller peak RSS", f"{process['peak_rss_mb']} MB"],
        ],
        more=[
            *notes(report, targets),
        ],
        machine=report["machine"],
    )


def notes(report: dict[str, Any], targets: list[Target]) -> list[str]:
    """Why the step target was missed, from this run's own figures."""
    if all(t.met for t in targets):
        return []
    process, update = report["controller_process"], report["update"]
    steps_per_rollout = len(report["steps"])
    demand = update["arrival_rate_per_s"] * steps_per_rollout * process["cpu_ms_per_step"] / 1000
    return [
        "## Notes on the targets missed",
        "",
        f"- **CPU per step × the step rate.** {update['arrival_rate_per_s']:g} updates per second of "
        f"{steps_per_rollout} steps each, at {process['cpu_ms_per_step']} ms of controller CPU per step, ask for "
        f"{demand:.2f} s of CPU per second — about {demand * 100:.0f} % of one core — from one Python process whose "
        f"workers share one interpreter lock (it used {process['cpu_share_of_one_core']} of a core in this run, on a "
        "machine whose load average is below). Where that share nears one core, work queues up and a due pause "
        "waits behind the other Rollouts' passes: the step latency is that queue, not the pass itself (see the "
        "floor). Less CPU per step (issue #13 item 3) or more processes (item 6) shorten it.",
        "",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Steady benchmark: N Rollout updates spread evenly over a window.")
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--window", type=float, default=60.0, help="seconds over which the updates arrive")
    parser.add_argument("--pause", default="10s", help="each pause's duration (default 10s)")
    parser.add_argument("--no-write", action="store_true", help="print only; do not write bench/results/")
    args = parser.parse_args(argv)
    report = run(args.n, args.window, args.pause)
    targets: list[Target] = report.pop("_targets")
    print_targets(f"steady N={report['n']}", targets)
    if not args.no_write:
        publish(f"steady-{args.n}", report, targets, markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
