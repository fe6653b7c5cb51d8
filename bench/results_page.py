"""The results page every controller benchmark writes beside its JSON, and how its command ends.

A scenario's page is its title, a paragraph on what ran, its targets, its results as a measure/value table, what
else it has to show (more tables, notes on the targets missed) and the machine it ran on — with the load average at
the end of the run, since the machine is shared and the load skews every figure. A scenario supplies only what is
its own: the title, the paragraph, the rows and the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from bench.common import Target, describe_machine, markdown_table, target_lines, text_table, write_results

Render = Callable[[dict[str, Any], list[Target]], list[str]]


def scenario_page(title: str, setup: str, targets: Sequence[Target], results: Iterable[Sequence[Any]], *,
                  more: Sequence[str] = (), machine: Mapping[str, Any]) -> list[str]:
    """The lines of a scenario's page: ``more`` stands between the results table and the machine line, and ends
    with a blank line when it is not empty."""
    return [
        f"# {title}",
        "",
        setup,
        "",
        *targets_section(targets),
        "## Results",
        "",
        *markdown_table(["measure", "value"], results),
        "",
        *more,
        machine_line(machine),
    ]


def targets_section(targets: Sequence[Target]) -> list[str]:
    """``## Targets`` and the targets' table, with the blank line that ends a section."""
    return ["## Targets", "", *target_lines(targets), ""]


def machine_line(machine: Mapping[str, Any]) -> str:
    """The page's last line: the machine as ``bench.common.machine`` recorded it, load average included."""
    return f"Machine: {describe_machine(machine)}."


def writes_and_events_tables(writes: Mapping[str, Any], n: int) -> list[str]:
    """The controller's writes by request and the Events by reason, each also per Rollout of the ``n``."""
    return [
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
    ]


def milliseconds(seconds: float | None) -> str:
    """Seconds shown as milliseconds with one decimal, ``—`` where nothing was measured."""
    return "—" if seconds is None else f"{seconds * 1000:.1f}"


def latency_ms(distribution: Mapping[str, Any], *quantiles: str) -> str:
    """Quantiles of a ``bench.common.distribution`` in milliseconds, ``12.0 / 15.5 / 20.1 / 22.3 ms`` (p50, p90,
    p99 and max unless others are named)."""
    return " / ".join(milliseconds(distribution[q]) for q in quantiles or ("p50", "p90", "p99", "max")) + " ms"


def load_averages(loads: Sequence[float]) -> str:
    """A 1/5/15-minute load average as ``1.20/0.85/0.60``."""
    return "/".join(f"{x:.2f}" for x in loads)


def with_targets(report: dict[str, Any], targets: list[Target]) -> dict[str, Any]:
    """The report with its targets: as data under ``targets`` (for the JSON and the summary), and as ``Target``s
    under ``_targets`` for the page, which the caller pops before the report is written."""
    report["targets"] = [t.as_dict() for t in targets]
    report["_targets"] = targets
    return report


def print_targets(heading: str, targets: Sequence[Target]) -> None:
    """The heading and the targets as a plain-text table, on stdout."""
    print(heading)
    print(text_table(["target", "measured", "goal", "met", "miss"],
                     [[c.replace("**", "") for c in t.row()] for t in targets]))


def publish(name: str, report: dict[str, Any], targets: list[Target], render: Render) -> tuple[Path, Path]:
    """``bench/results/<name>.json`` and ``.md`` (the page ``render`` makes), and a line saying so."""
    paths = write_results(name, report, render(report, targets))
    print("wrote " + " and ".join(str(p) for p in paths))
    return paths
