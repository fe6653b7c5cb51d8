"""Every controller benchmark, each at its sizes: fleet, abort and rest at N = 100 and 1,000; the abort during the
burst and steady at 1,000; scale at 10,000; notifications at 100 — each in a fresh sandbox with a fresh controller
process, one after the other (never side by side: they would measure each other). Results go to
`bench/results/<scenario>-<N>.{json,md}` and a summary of every target to `bench/results/summary.md`, with the
targets of issue #13 first.

    .venv/bin/python -m bench.run_all [--n 1000 …] [--only fleet --only steady …]

`--n` replaces every chosen scenario's sizes. The summary describes every results file, those of scenarios not run
this time or run alone (`python -m bench.scale …`) too; `--summary-only` rewrites it without running anything.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import abort, fleet, notifications, rest, scale, steady
from bench.common import RESULTS, Target, describe_machine, machine, markdown_table, write_results

Run = Callable[[int], dict[str, Any]]
Render = Callable[[dict[str, Any], list[Target]], list[str]]


@dataclass(frozen=True)
class Scenario:
    run: Run
    render: Render
    sizes: tuple[int, ...]


SCENARIOS: Final[dict[str, Scenario]] = {
    "fleet": Scenario(fleet.run, fleet.markdown, (100, 1000)),
    "abort": Scenario(abort.run, abort.markdown, (100, 1000)),
    "abort-burst": Scenario(abort.run_during_burst, abort.markdown_during_burst, (1000,)),
    "steady": Scenario(steady.run, steady.markdown, (1000,)),
    "rest": Scenario(rest.run, rest.markdown, (100, 1000)),
    "scale": Scenario(scale.run, scale.markdown, (10_000,)),
    "notifications": Scenario(notifications.run, notifications.markdown, (100,)),
}


@dataclass(frozen=True)
class IssueTarget:
    """One target of issue #13 and the results row that measures it."""

    goal: str
    results: str
    target: str


ISSUE_13: Final = (
    IssueTarget("≤ 5 ms controller CPU per step (fleet, 1,000 at once)", "fleet-1000", "controller CPU per step"),
    IssueTarget("≤ 3 writes per step, Events folded (fleet)", "fleet-1000", "controller writes per step"),
    IssueTarget("steady step p99 ≤ 1 s (1,000 over 60 s)", "steady-1000", "step p99 (pause expiry → next weight)"),
    IssueTarget("abort p99 ≤ 0.5 s during the burst (50 of 1,000)", "abort-burst-1000",
                "abort p99 during the burst (failed measurement → weight 0)"),
    IssueTarget("10,000 Rollouts in ≤ 1 GB RSS", "scale-10000", "controller peak RSS"),
    IssueTarget("start-up ≤ 60 s at 10,000", "scale-10000", "start-up: process start → every Rollout observed"),
    IssueTarget("0 writes at rest at 10,000", "scale-10000", "writes at rest (Lease renewals apart)"),
)
# Hand-written notes that outlive the generated summary (runs made on other branches, comparisons).
NOTES: Final = RESULTS / "summary-notes.md"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run every controller benchmark and write bench/results/.")
    parser.add_argument("--n", type=int, action="append", help="sizes for every chosen scenario (default: each "
                        "scenario's own)")
    parser.add_argument("--only", action="append", choices=sorted(SCENARIOS), help="scenarios (default: all)")
    parser.add_argument("--summary-only", action="store_true", help="run nothing; rewrite the summary from the "
                        "results files (after a scenario was run alone)")
    args = parser.parse_args(argv)
    names = args.only or list(SCENARIOS)
    started = time.monotonic()
    for name in ([] if args.summary_only else names):
        scenario = SCENARIOS[name]
        for n in args.n or scenario.sizes:
            print(f"== {name} N={n}", flush=True)
            began = time.monotonic()
            report = scenario.run(n)
            targets: list[Target] = report.pop("_targets")
            report["bench_seconds"] = round(time.monotonic() - began, 1)
            paths = write_results(f"{name}-{n}", report, scenario.render(report, targets))
            for target in targets:
                print(f"   {target.name}: {target.row()[1]} (goal {target.row()[2]}) "
                      f"{'met' if target.met else 'MISSED ' + target.miss}", flush=True)
            print(f"   wrote {paths[1]} in {report['bench_seconds']} s", flush=True)
    write_summary(None if args.summary_only else time.monotonic() - started)
    print(f"all benchmarks in {time.monotonic() - started:.0f} s; summary in {RESULTS / 'summary.md'}")
    return 0


def results_order(results: str) -> tuple[str, int]:
    """``abort-burst-1000`` → (``abort-burst``, 1000): rows grouped by scenario, then by size."""
    scenario, _, size = results.rpartition("-")
    return (scenario, int(size)) if size.isdigit() else (results, 0)


def issue_rows(rows: Sequence[Sequence[Any]]) -> list[list[str]]:
    """Issue #13's targets with what their results rows measured (— where no results file has that target)."""
    found = {(str(row[0]), str(row[1])): row for row in rows}
    table: list[list[str]] = []
    for goal in ISSUE_13:
        row = found.get((goal.results, goal.target))
        if row is None:
            table.append([goal.goal, goal.results, "—", "not measured", "see the notes below", "—"])
        else:
            table.append([goal.goal, goal.results, str(row[2]), str(row[4]), str(row[5]), str(row[6])])
    return table


def results_rows() -> list[list[str]]:
    """Every target of every results file in bench/results/ (whichever command wrote it), as summary rows; the
    last column is the run's date and load average, since the machine is shared and the load skews the figure."""
    rows: list[list[str]] = []
    for path in sorted(RESULTS.glob("*.json"), key=lambda p: results_order(p.stem)):
        if path.name == "summary.json":
            continue
        report = json.loads(path.read_text())
        for target in report.get("targets") or []:
            row = Target(str(target["target"]), target["measured"], float(target["limit"]), str(target["unit"]),
                         at_least=target["comparison"] == ">=").row()
            rows.append([path.stem, *[c.replace("**", "") for c in row], run_load(report.get("machine") or {})])
    return rows


def run_load(m: dict[str, Any]) -> str:
    """``2026-12-07 12:30Z, load 6.1/5.2/4.9``: when a results file was written and the machine's load average
    (1/5/15 min) at the end of its run, as ``bench.common.machine`` recorded them."""
    load = "/".join(f"{x:g}" for x in m.get("load_average_1_5_15m") or []) or "unknown"
    date = str(m.get("date") or "unknown date").replace("T", " ")
    return f"{date[:16]}Z, load {load}" if date[:4].isdigit() else f"{date}, load {load}"


def write_summary(seconds: float | None) -> None:
    """bench/results/summary.md (and .json) from every results file, and the hand-written notes."""
    rows = results_rows()
    notes = NOTES.read_text().strip() if NOTES.exists() else ""
    last = f"Last run took {seconds:.0f} s. " if seconds is not None else ""
    lines = [
        "# Controller benchmarks: every target",
        "",
        "Produced by `.venv/bin/python -m bench.run_all` (see `bench/README.md`) from every results file in this "
        "directory; each scenario's own page has the details, the figures as multiples of the emulator's own PATCH "
        "round trip measured in the same run, the load average, and the notes on targets missed. The machine (2 "
        "cores) is shared with other agents' work: each row gives its run's load average (1/5/15 min) at the end, "
        "and a latency measured at a high load is stretched by the machine, not only by the controller.",
        "",
        "## Issue #13's targets",
        "",
        *markdown_table(["target", "results", "measured", "met", "miss", "run, load at its end"], issue_rows(rows)),
        "",
        "## Every target",
        "",
        *markdown_table(["results", "target", "measured", "goal", "met", "miss", "run, load at its end"], rows),
        "",
        f"{last}Summary written on: {describe_machine(machine())}.",
        *(["", notes] if notes else []),
    ]
    (RESULTS / "summary.md").write_text("\n".join(lines) + "\n")
    (RESULTS / "summary.json").write_text(json.dumps({"rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    sys.exit(main())
