"""Abort: N canary Rollouts updated at once to a version whose analysis fails, against the sandbox with the real
`rollouts controller` process (both controllers: Rollouts and AnalysisRuns).

Each Rollout's steps are setWeight 20, then an analysis step; the AnalysisTemplate's one web metric asks a tiny
HTTP endpoint (a child process of the benchmark) for the new version's success rate, which it reports as 0.6 —
below the 0.95 the condition wants, so the first measurement fails the run and the Rollout aborts. Measured per
Rollout: from the moment the failed measurement is stored in the AnalysisRun's status to the moment the canary's
weight 0 is stored in the VirtualService; and the emulator's own PATCH round trip in the same run (the floor).

    .venv/bin/python -m bench.abort --n 100 [--during-burst [--profile FILE [--profile-gil]]] [--no-write]

``--during-burst``: of the N Rollouts (seeded at rest), 50 go to the failing version and the others step through the
fleet scenario's weights at the same time; the abort p99 of the 50 is measured while the others step. With
``--profile FILE`` the controller is recorded by py-spy (raw format) from the update to the last Rollout finished;
``python -m bench.profile_top FILE`` prints the top of it.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    RELAXED_ELECTION,
    Harness,
    RolloutStates,
    Target,
    controller_writes,
    distribution,
    event_reasons,
    machine,
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
from bench.settled import seed_settled_fleet, start_over_settled
from bench.verdict_endpoint import ANALYSIS_TEMPLATE, verdict_endpoint, web_analysis_template
from kube.json_data import JsonObject
from sandbox.recorder import Change

ABORT_P99_TARGET_S = 1.0
TEMPLATE = "bench-verdict"
STEPS: list[JsonObject] = [{"setWeight": 20}, {"analysis": {"templates": [{"templateName": TEMPLATE}]}},
                           {"setWeight": 50}, {"pause": {}}]
# During the burst: the Rollouts that fail among the fleet that steps, and the fleet's steps (as `bench.fleet`).
BURST_FAILING = 50
BURST_ABORT_P99_TARGET_S = 0.5


def run(n: int, *, during_burst: bool = False, profile: Path | None = None, gil_only: bool = False
        ) -> dict[str, Any]:
    """The abort benchmark at ``n`` Rollouts (``during_burst``: the variant of ``run_during_burst``, recorded by
    py-spy into ``profile`` when given)."""
    with verdict_endpoint() as port:
        return _run_during_burst(n, port, profile, gil_only) if during_burst else _run(n, port)


def run_during_burst(n: int, profile: Path | None = None, gil_only: bool = False) -> dict[str, Any]:
    """The abort during the burst: of ``n`` Rollouts updated at once, BURST_FAILING fail their analysis while the
    others step through the fleet scenario's weights and pauses; with ``profile``, the controller is recorded by
    py-spy (raw, ``gil_only``: only the thread holding the GIL) from the update until every Rollout is finished."""
    return run(n, during_burst=True, profile=profile, gil_only=gil_only)


def burst_failing_indexes(n: int, failing: int = BURST_FAILING) -> list[int]:
    """Which of the ``n`` Rollouts fail: spread evenly (every n/failing-th), so that they are neither the first
    nor the last the controller hears of."""
    failing = min(failing, n)
    every = n / failing
    return [int(every * i + every / 2) for i in range(failing)]


def _run_during_burst(n: int, port: int, profile: Path | None, gil_only: bool) -> dict[str, Any]:
    failing = burst_failing_indexes(n)
    failing_names = {rollout_name(i) for i in failing}
    stepping = [i for i in range(n) if rollout_name(i) not in failing_names]
    fleet_steps = weight_steps("2s")
    with Harness(controller_args=RELAXED_ELECTION) as harness:
        harness_args = list(harness.controller_args)
        assert harness.recorder is not None
        harness.create(ANALYSIS_TEMPLATE, web_analysis_template(TEMPLATE, port))
        seed_s = seed_settled_fleet(harness, failing, STEPS)
        seed_s += seed_settled_fleet(harness, stepping, fleet_steps)
        startup_s = start_over_settled(harness, n, timeout=300 + n * 0.2)
        states = RolloutStates(harness.recorder)
        states.refresh()
        old_hashes = {name: str(status.get("stableRS")) for name, status in states.statuses.items()}
        floor = measure_floor(harness.sandbox.url)

        cpu_before = harness.controller_stats().cpu_seconds
        load_start = os.getloadavg()
        assert harness.controller is not None
        profiler = None if profile is None else start_profiler(harness.controller.pid, profile, gil_only)
        requests_from, changes_from = harness.request_index(), len(harness.recorder)
        update_at = time.time()
        for index in range(n):
            harness.set_image(index, "app:v2")
        promoted = promoted_from(old_hashes)

        def aborted(name: str, status: JsonObject) -> bool:
            return status.get("abort") is True and status.get("phase") == "Degraded"

        def finished() -> bool:
            states.refresh()
            return sum(1 for name, status in states.statuses.items()
                       if (aborted if name in failing_names else promoted)(name, status)) >= n

        harness.wait(finished, 120 + n * 0.5, f"{len(failing)} Rollouts aborted and {len(stepping)} promoted",
                     poll=0.5)
        time.sleep(1.0)  # the last weight writes land with (or just before) the status that says aborted
        if profiler is not None:
            stop_profiler(profiler)
        after = harness.controller_stats()
        load_end = os.getloadavg()
        wall = time.time() - update_at
        records = harness.requests_since(requests_from)
        changes = harness.recorder.changes_since(changes_from)

    failed_at = failed_measurements(changes)
    weights = weight_changes(changes)
    latencies = abort_latencies(failed_at, weights, sorted(failing_names))
    back_at = [max(at for at, weight in weights[name] if weight == 0) for name in failing_names
               if weights.get(name) and weights[name][-1][1] == 0]
    completions = [change.at for change in changes if change.plural == "rollouts" and change.name not in failing_names
                   and promoted(change.name, change.object.get("status") or {})]
    burst_end = max(completions) if completions else None
    all_back = len(back_at)
    abort = distribution(latencies)
    expiries = pause_expiries(changes, fleet_steps)
    step_latencies = [next(at for at, _ in weights[name] if at >= expiry) - expiry
                      for name, by_step in expiries.items() if name not in failing_names
                      for _, expiry in by_step if any(at >= expiry for at, _ in weights.get(name, []))]
    step = distribution(step_latencies)
    writes = controller_writes(records)
    cpu = round(after.cpu_seconds - cpu_before, 2)
    report: dict[str, Any] = {
        "benchmark": "abort-during-burst",
        "n": n,
        "failing": len(failing),
        "steps_failing": STEPS,
        "steps_stepping": fleet_steps,
        "analysis": "one web metric per run, against a local endpoint answering successRate 0.6 "
                    "(successCondition result >= 0.95)",
        "setup": {"seeded_settled_s": round(seed_s, 1),
                  "controller_start_to_every_rollout_observed_s": round(startup_s, 1)},
        "floor": floor,
        "burst": {
            "all_promoted_s": None if burst_end is None else round(burst_end - update_at, 2),
            "last_abort_back_on_stable_s": round(max(back_at) - update_at, 2) if back_at else None,
            "stepping_step_p50_p99_s": [step["p50"], step["p99"]],
            "controller_cpu_s": cpu,
            "controller_cpu_share_of_one_core": round(cpu / wall, 2) if wall else None,
            "controller_writes": sum(writes.values()),
            "load_average_start": [round(x, 2) for x in load_start],
            "load_average_end": [round(x, 2) for x in load_end],
            "profiled": None if profile is None else ("py-spy, GIL holder only" if gil_only else "py-spy"),
        },
        "failed_measurement_to_weight_zero_s": abort,
        "failed_measurement_spread_s": (round(max(failed_at.values()) - min(failed_at.values()), 2)
                                        if failed_at else None),
        "abort_vs_floor": {"p50": ratio(abort["p50"], floor["p50"]), "p99": ratio(abort["p99"], floor["p99"])},
        "controller_process": {"peak_rss_mb": after.peak_rss_mb, "cpu_seconds_total": after.cpu_seconds},
        "controller_args": harness_args,
        "machine": machine(),
    }
    targets = [
        Target("rollouts aborted with traffic back on stable", float(all_back), float(len(failing)), at_least=True),
        Target("abort p99 during the burst (failed measurement → weight 0)", abort["p99"], BURST_ABORT_P99_TARGET_S,
               " s"),
    ]
    return with_targets(report, targets)


def markdown_during_burst(report: dict[str, Any], targets: list[Target]) -> list[str]:
    n, failing, burst = report["n"], report["failing"], report["burst"]
    step_p50, step_p99 = burst["stepping_step_p50_p99_s"]
    return scenario_page(
        f"Abort during the burst: {failing} failing Rollouts among {n:,} updated at once",
        f"{n:,} canary Rollouts seeded at rest (`bench/settled.py`), a fresh `rollouts controller` process (10 Rollout "
        f"workers, 30 analysis workers) that had observed every one, then every image changed at once: {failing} of "
        "them (spread evenly among the others) go to a version whose analysis fails (setWeight 20, an analysis step "
        "whose web metric reads a success rate of 0.6 and wants ≥ 0.95), the other "
        f"{n - failing:,} step through the fleet scenario (setWeight 20/50/80, each followed by a 2 s pause).",
        targets,
        [
            *_abort_latency_rows(report),
            ["verdicts stored over", f"{report['failed_measurement_spread_s']} s"],
            ["update → the last failing Rollout back on stable", f"{burst['last_abort_back_on_stable_s']} s"],
            ["update → every stepping Rollout promoted (the burst)", f"{burst['all_promoted_s']} s"],
            ["the stepping Rollouts' step p50 / p99 (pause expiry → next weight)",
             f"{milliseconds(step_p50)} / {milliseconds(step_p99)} ms"],
            ["controller CPU during the burst: seconds / share of one core",
             f"{burst['controller_cpu_s']} / {burst['controller_cpu_share_of_one_core']}"],
            ["controller writes during the burst", f"{burst['controller_writes']:,}"],
            ["load average (1/5/15 min) at the update's start / end",
             f"{load_averages(burst['load_average_start'])} / {load_averages(burst['load_average_end'])}"],
            ["controller recorded by", burst["profiled"] or "nothing (not profiled)"],
            ["controller peak RSS", f"{report['controller_process']['peak_rss_mb']} MB"],
        ],
        machine=report["machine"],
    )


def _run(n: int, port: int) -> dict[str, Any]:
    with Harness(controller_args=RELAXED_ELECTION) as harness:
        harness_args = list(harness.controller_args)
        assert harness.recorder is not None
        harness.create(ANALYSIS_TEMPLATE, web_analysis_template(TEMPLATE, port))
        harness.create_fleet(n, STEPS)
        states, initial_s = harness.start_until_healthy(n)
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

    failed_at = failed_measurements(changes)
    weights = weight_changes(changes)
    latencies = abort_latencies(failed_at, weights, [rollout_name(i) for i in range(n)])
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
        "controller_args": harness_args,
        "machine": machine(),
    }
    targets = [
        Target("rollouts aborted with traffic back on stable", float(all_back), float(n), at_least=True),
        Target("abort p99 (failed measurement → weight 0)", abort["p99"], ABORT_P99_TARGET_S, " s"),
    ]
    return with_targets(report, targets)


def failed_measurements(changes: Sequence[Change]) -> dict[str, float]:
    """Per Rollout, the moment the first failed measurement of its AnalysisRun was stored."""
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
    return failed_at


def abort_latencies(failed_at: Mapping[str, float], weights: Mapping[str, list[tuple[float, int]]],
                    names: Iterable[str]) -> list[float]:
    """Per Rollout of ``names`` whose measurement failed: failed measurement stored → canary weight 0 stored."""
    latencies: list[float] = []
    for name in names:
        failure = failed_at.get(name)
        if failure is None:
            continue
        back = next((at for at, weight in weights.get(name, []) if at >= failure and weight == 0), None)
        if back is not None:
            latencies.append(back - failure)
    return latencies


def markdown(report: dict[str, Any], targets: list[Target]) -> list[str]:
    n = report["n"]
    process, writes = report["controller_process"], report["controller_writes"]
    return scenario_page(
        f"Abort: {n:,} Rollouts whose analysis fails",
        f"{n:,} canary Rollouts (1 replica each; steps: setWeight 20, an analysis step, setWeight 50, pause) updated "
        "at once to a version whose analysis fails: the AnalysisTemplate's one web metric reads a success rate of "
        "0.6 from a local endpoint and wants ≥ 0.95. `rollouts controller` runs as a separate process (10 Rollout "
        "workers, 30 analysis workers).",
        targets,
        [
            *_abort_latency_rows(report),
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
        ],
        more=[
            *writes_and_events_tables(writes, n),
            *notes(report, targets),
        ],
        machine=report["machine"],
    )


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
    parser.add_argument("--during-burst", action="store_true",
                        help=f"{BURST_FAILING} of the N fail while the others step (results/abort-burst-<N>)")
    parser.add_argument("--profile", type=Path,
                        help="with --during-burst: record the controller with py-spy (raw) into this file")
    parser.add_argument("--profile-gil", action="store_true",
                        help="with --profile: sample only the thread holding the GIL (its CPU, not its waits)")
    parser.add_argument("--no-write", action="store_true", help="print only; do not write bench/results/")
    args = parser.parse_args(argv)
    if args.profile is not None and not args.during_burst:
        parser.error("--profile: only the --during-burst variant is profiled")
    report = run(args.n, during_burst=args.during_burst, profile=args.profile, gil_only=args.profile_gil)
    targets: list[Target] = report.pop("_targets")
    print_targets(f"{report['benchmark']} N={report['n']}", targets)
    abort = report["failed_measurement_to_weight_zero_s"]
    print(f"failed measurement → weight 0: p50 {milliseconds(abort['p50'])} ms, p99 {milliseconds(abort['p99'])} ms")
    if not args.no_write:
        name, render = (("abort-burst", markdown_during_burst) if args.during_burst else ("abort", markdown))
        publish(f"{name}-{args.n}", report, targets, render)
    return 0


def _abort_latency_rows(report: dict[str, Any]) -> list[list[Any]]:
    """The abort latency, as a multiple of the floor, and the floor: the first rows of both variants' results."""
    abort, floor = report["failed_measurement_to_weight_zero_s"], report["floor"]
    return [
        ["failed measurement stored → canary weight 0 stored, p50 / p90 / p99 / max",
         f"{latency_ms(abort)} "
         f"({abort['count']} rollouts)"],
        ["… as a multiple of the floor (p50 / p99)",
         f"{report['abort_vs_floor']['p50']}× / {report['abort_vs_floor']['p99']}×"],
        ["floor: emulator PATCH round trip p50 / p99", f"{latency_ms(floor, 'p50', 'p99')}"],
    ]


if __name__ == "__main__":
    sys.exit(main())
