"""Every controller benchmark, N = 100 and N = 1,000: fleet, abort and rest, each in a fresh sandbox with a fresh
controller process, one after the other (never side by side: they would measure each other). Results go to
`bench/results/<scenario>-<N>.{json,md}` and a summary of every target to `bench/results/summary.md`.

    .venv/bin/python -m bench.run_all [--n 100 --n 1000] [--only fleet --only abort --only rest]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import abort, fleet, rest
from bench.common import RESULTS, Target, describe_machine, machine, markdown_table, write_results

Run = Callable[[int], dict[str, Any]]
Render = Callable[[dict[str, Any], list[Target]], list[str]]
SCENARIOS: dict[str, tuple[Run, Render]] = {
    "fleet": (fleet.run, fleet.markdown),
    "abort": (abort.run, abort.markdown),
    "rest": (rest.run, rest.markdown),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run every controller benchmark and write bench/results/.")
    parser.add_argument("--n", type=int, action="append", help="fleet sizes (default: 100 and 1000)")
    parser.add_argument("--only", action="append", choices=sorted(SCENARIOS), help="scenarios (default: all)")
    args = parser.parse_args(argv)
    sizes = args.n or [100, 1000]
    names = args.only or list(SCENARIOS)
    started = time.monotonic()
    rows: list[list[Any]] = []
    for n in sizes:
        for name in names:
            run, render = SCENARIOS[name]
            print(f"== {name} N={n}", flush=True)
            began = time.monotonic()
            report = run(n)
            targets: list[Target] = report.pop("_targets")
            report["bench_seconds"] = round(time.monotonic() - began, 1)
            paths = write_results(f"{name}-{n}", report, render(report, targets))
            for target in targets:
                rows.append([f"{name}-{n}", *[c.replace("**", "") for c in target.row()]])
                print(f"   {target.name}: {target.row()[1]} (goal {target.row()[2]}) "
                      f"{'met' if target.met else 'MISSED ' + target.miss}", flush=True)
            print(f"   wrote {paths[1]} in {report['bench_seconds']} s", flush=True)
    _write_summary(rows, time.monotonic() - started)
    print(f"all benchmarks in {time.monotonic() - started:.0f} s; summary in {RESULTS / 'summary.md'}")
    return 0


def _write_summary(rows: list[list[Any]], seconds: float) -> None:
    # Targets of earlier runs of other scenarios stay in the summary: it always describes every results file.
    summary_json = RESULTS / "summary.json"
    previous: dict[str, list[list[Any]]] = {}
    if summary_json.exists():
        previous = {row[0]: [] for row in json.loads(summary_json.read_text()).get("rows", [])}
        for row in json.loads(summary_json.read_text()).get("rows", []):
            previous[row[0]].append(row)
    for row in rows:
        previous.pop(row[0], None)
    merged = sorted([r for group in previous.values() for r in group] + rows, key=lambda r: (r[0].split("-")[0],
                                                                                            int(r[0].split("-")[1])))
    lines = [
        "# Controller benchmarks: every target",
        "",
        "Produced by `.venv/bin/python -m bench.run_all` (see `bench/README.md`); each scenario's own page has the "
        "details and the notes on targets missed.",
        "",
        *markdown_table(["results", "target", "measured", "goal", "met", "miss"], merged),
        "",
        f"Last run took {seconds:.0f} s. Machine: {describe_machine(machine())}.",
    ]
    (RESULTS / "summary.md").write_text("\n".join(lines) + "\n")
    summary_json.write_text(json.dumps({"rows": merged}, indent=2) + "\n")


if __name__ == "__main__":
    sys.exit(main())
