"""The manifest fuzz suite at length: the properties of ``tests/unit/test_manifest_fuzz.py`` over thousands of random
(not CI's fixed) examples, and what each path cost. Results go to ``bench/results/fuzz.{json,md}``.

    .venv/bin/python -m bench.fuzz [--examples 2000] [--no-write]

A failing example is recorded (its kind, the exception or the unnamed refusal) rather than shrunk, so one run
reports every kind of failure it met.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from bench.common import describe_machine, machine, markdown_table, percentile, write_results
from tests.conformance.corpus import corpus_dir, corpus_missing_reason
from tests.manifest_fuzz import (
    CALL_BOUND,
    MEMORY_BOUND,
    Bounded,
    as_yaml,
    controller_outcome,
    corpus_seeds,
    hostile_text,
    lint_text,
    mutated,
    names_a_field_or_place,
    project_seeds,
    run_bounded,
)

MIB = 2**20


@dataclass
class PathRecord:
    """What one property saw over its examples."""

    examples: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    peaks: list[int] = field(default_factory=list)
    calls: list[int] = field(default_factory=list)
    seconds: float = 0.0
    failures: list[str] = field(default_factory=list)

    def cost(self, bounded: Bounded) -> None:
        self.peaks.append(bounded.peak_bytes)
        self.calls.append(bounded.calls)
        if bounded.peak_bytes >= MEMORY_BOUND or bounded.calls >= CALL_BOUND:
            self.failures.append(f"beyond the bounds: {bounded}")

    def summary(self) -> dict[str, Any]:
        return {
            "examples": self.examples,
            "outcomes": dict(self.outcomes),
            "peak_mib": {"p50": _mib(percentile(self.peaks, 0.5)), "p99": _mib(percentile(self.peaks, 0.99)),
                         "max": _mib(max(self.peaks, default=0))},
            "calls": {"p50": percentile(self.calls, 0.5), "p99": percentile(self.calls, 0.99),
                      "max": max(self.calls, default=0)},
            "seconds": round(self.seconds, 1),
            "failures": len(self.failures),
            "failure_examples": sorted(set(self.failures))[:10],
        }


def _mib(value: float) -> float:
    return round(value / MIB, 2)


def _run(record: PathRecord, strategy: st.SearchStrategy[Any], check: Callable[[Any], None], examples: int) -> None:
    @settings(max_examples=examples, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def explore(case: Any) -> None:
        record.examples += 1
        try:
            check(case)
        except Exception as error:  # recorded, not raised: one run reports every kind of failure it meets
            record.failures.append(f"{type(error).__name__}: {str(error)[:200]}")

    started = time.monotonic()
    explore()
    record.seconds = time.monotonic() - started


def run(examples: int) -> dict[str, Any]:
    """Every fuzz property over ``examples`` random examples each (the corpus one only when the corpus exists)."""
    seeds = project_seeds()
    records = {name: PathRecord() for name in ("lint: documents", "lint: YAML text", "controllers")}

    def lint_documents(case: tuple[dict[str, Any], list[str]]) -> None:
        manifest, _ = case
        _lint(records["lint: documents"], as_yaml(manifest), str(manifest["kind"]))

    def lint_yaml_text(text: str) -> None:
        _lint(records["lint: YAML text"], text, "text")

    def controllers_into(record: PathRecord) -> Callable[[tuple[dict[str, Any], list[str]]], None]:
        """A case's manifest through the controllers' parse and validation, its outcome recorded in ``record``."""

        def controllers(case: tuple[dict[str, Any], list[str]]) -> None:
            manifest, _ = case
            outcome, bounded = run_bounded(lambda: controller_outcome(manifest))
            record.cost(bounded)
            record.outcomes[f"{manifest['kind']} {'refused' if outcome.refused else 'accepted'}"] += 1
            if outcome.refused and outcome.by_field and not names_a_field_or_place(outcome.message):
                record.failures.append(f"{manifest['kind']}: refusal names no field: {outcome.message[:200]}")

        return controllers

    _run(records["lint: documents"], mutated(seeds), lint_documents, examples)
    _run(records["lint: YAML text"], hostile_text(seeds), lint_yaml_text, examples)
    _run(records["controllers"], mutated(seeds, keep_metadata=True), controllers_into(records["controllers"]),
         examples)
    missing = corpus_missing_reason()
    if missing is None:
        records["corpus: controllers"] = PathRecord()
        corpus = corpus_seeds(corpus_dir())
        _run(records["corpus: controllers"], mutated(corpus, keep_metadata=True),
             controllers_into(records["corpus: controllers"]), examples)
    return {
        "examples_per_property": examples,
        "seeds": len(seeds),
        "corpus": missing or "present",
        "bounds": {"memory_mib": MEMORY_BOUND // MIB, "calls": CALL_BOUND},
        "paths": {name: record.summary() for name, record in records.items()},
        "machine": machine(),
    }


def _lint(record: PathRecord, text: str, label: str) -> None:
    findings, bounded = run_bounded(lambda: lint_text(text))
    record.cost(bounded)
    record.outcomes[f"{label} {'refused' if findings else 'accepted'}"] += 1
    for finding in findings:
        if not names_a_field_or_place(finding):
            record.failures.append(f"{label}: finding names no field: {finding[:200]}")


def markdown(report: dict[str, Any]) -> list[str]:
    rows = [
        [name, path["examples"], path["failures"], path["peak_mib"]["p50"], path["peak_mib"]["p99"],
         path["peak_mib"]["max"], path["calls"]["p50"], path["calls"]["p99"], path["calls"]["max"], path["seconds"]]
        for name, path in report["paths"].items()
    ]
    lines = [
        "# Manifest fuzz suite, at length",
        "",
        f"`python -m bench.fuzz --examples {report['examples_per_property']}`: hostile variants of "
        f"{report['seeds']} seeds (examples/ and the validation fixtures; shared corpus: {report['corpus']}), "
        "random examples (CI runs a fixed few hundred). Bounds per example: "
        f"{report['bounds']['memory_mib']} MiB allocated at the peak, {report['bounds']['calls']:,} function calls.",
        "",
        f"Machine: {describe_machine(report['machine'])}.",
        "",
        *markdown_table(
            ["path", "examples", "failures", "peak MiB p50", "p99", "max", "calls p50", "p99", "max", "seconds"],
            rows,
        ),
        "",
        "Seconds include hypothesis's generation and the tracing that counts calls; they are not a latency.",
    ]
    for name, path in report["paths"].items():
        outcomes = ", ".join(f"{key}: {value}" for key, value in sorted(path["outcomes"].items()))
        lines += ["", f"**{name}** — {outcomes or 'no outcomes recorded'}"]
        for failure in path["failure_examples"]:
            lines.append(f"- failure: `{failure}`")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the manifest fuzz properties at length.")
    parser.add_argument("--examples", type=int, default=2000, help="examples per property (default 2000)")
    parser.add_argument("--no-write", action="store_true", help="print, do not write bench/results/fuzz.*")
    args = parser.parse_args(argv)
    report = run(args.examples)
    lines = markdown(report)
    if args.no_write:
        print("\n".join(lines))
    else:
        json_path, md_path = write_results("fuzz", report, lines)
        print(f"wrote {json_path} and {md_path}")
    failures = sum(path["failures"] for path in report["paths"].values())
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
