"""How the demo shows what happens: a live picture on a terminal (rich), plain lines anywhere else.

Both show the same things — each weight change, each measurement with its value, each phase change, the `get
rollout` tree at the end of a scenario, and the summary — so a log of a CI run tells the same story as the screen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Protocol

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from cli.demo.scenarios import Note, ScenarioProgress, SummaryRow
from cli.tree import render_rollout
from kube.json_data import JsonObject

BAR_WIDTH = 40
RECENT_NOTES = 8
RECENT_MEASUREMENTS = 6
SUMMARY_COLUMNS = ("scenario", "image", "expected", "result", "verdict", "canary weight timeline",
                   "failing measurement → weight 0", "took")


@dataclass
class Snapshot:
    """The Rollout and the objects of its family, as the sandbox holds them now."""

    rollout: JsonObject | None = None
    replicasets: list[JsonObject] = field(default_factory=list)
    pods: list[JsonObject] = field(default_factory=list)
    analysis_runs: list[JsonObject] = field(default_factory=list)

    def tree(self, *, color: bool) -> list[str]:
        if self.rollout is None:
            return []
        return render_rollout(self.rollout, self.replicasets, self.pods, self.analysis_runs, datetime.now(UTC),
                              color=color)


class Reporter(Protocol):
    wants_snapshots: bool

    def stage(self, text: str) -> None: ...

    def scenario_started(self, progress: ScenarioProgress, from_image: str) -> None: ...

    def update(self, progress: ScenarioProgress, notes: Sequence[Note], snapshot: Snapshot | None) -> None: ...

    def scenario_finished(self, progress: ScenarioProgress, snapshot: Snapshot) -> None: ...

    def summary(self, rows: Sequence[SummaryRow], all_expected: bool) -> None: ...

    def close(self) -> None: ...


def weight_bar(weight: int | None, width: int = BAR_WIDTH) -> str:
    """``stable ██████████████████████████████████░░░░░░ canary``: the canary's share of the bar is hollow."""
    canary = round((weight or 0) * width / 100)
    return "█" * (width - canary) + "░" * canary


def note_line(progress: ScenarioProgress, note: Note) -> str:
    return f"[{progress.scenario.name} t+{max(0.0, note.at - progress.started_at):5.1f}s] {note.text}"


def summary_lines(rows: Sequence[SummaryRow]) -> list[str]:
    """The summary as an aligned plain-text table."""
    table = [list(SUMMARY_COLUMNS)] + [
        [r.scenario, r.image, r.expected, r.result, r.verdict, r.timeline, r.failure_to_stable, r.duration]
        for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(SUMMARY_COLUMNS))]
    return ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in table]


def verdict_line(all_expected: bool) -> str:
    if all_expected:
        return "Every scenario ended as expected."
    return "Some scenario did not end as expected (see above)."


class PlainReporter:
    """One line per event, for logs and pipes; the tree once per scenario, at its end."""

    wants_snapshots = False

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream

    def _print(self, text: str = "") -> None:
        self._stream.write(text + "\n")
        self._stream.flush()

    def stage(self, text: str) -> None:
        self._print(f"==> {text}")

    def scenario_started(self, progress: ScenarioProgress, from_image: str) -> None:
        scenario = progress.scenario
        self._print()
        self._print(f"=== scenario {scenario.name}: {scenario.description}")
        self._print(f"    rollouts set image {progress.rollout_name} {progress.rollout_name}={scenario.image}   "
                    f"({from_image} → {scenario.image}; expected: {scenario.expected})")

    def update(self, progress: ScenarioProgress, notes: Sequence[Note], snapshot: Snapshot | None) -> None:
        for note in notes:
            self._print(note_line(progress, note))

    def scenario_finished(self, progress: ScenarioProgress, snapshot: Snapshot) -> None:
        self._print(f"--- {progress.scenario.name}: {progress.result} ({progress.verdict})")
        if progress.abort_message:
            self._print(f"    abort message: {progress.abort_message}")
        for line in snapshot.tree(color=False):
            self._print(f"    {line}".rstrip())

    def summary(self, rows: Sequence[SummaryRow], all_expected: bool) -> None:
        self._print()
        self._print("Summary")
        for line in summary_lines(rows):
            self._print(f"  {line}")
        self._print(verdict_line(all_expected))

    def close(self) -> None:
        pass


class LiveReporter:
    """A live picture per scenario: the `get rollout` tree, the traffic split, the measurements, recent events."""

    wants_snapshots = True

    def __init__(self, console: Console) -> None:
        self._console = console
        self._live: Live | None = None

    def stage(self, text: str) -> None:
        self._console.print(f"[bold cyan]==>[/] {text}")

    def scenario_started(self, progress: ScenarioProgress, from_image: str) -> None:
        scenario = progress.scenario
        self._console.print()
        self._console.rule(f"[bold]scenario {scenario.name}[/]: {scenario.description}")
        self._console.print(f"[dim]$ rollouts set image {progress.rollout_name} "
                            f"{progress.rollout_name}={scenario.image}[/]   ({from_image} → {scenario.image}; "
                            f"expected: [bold]{scenario.expected}[/])")
        self._live = Live(self._frame(progress, Snapshot()), console=self._console, refresh_per_second=5,
                          transient=True)
        self._live.start()

    def update(self, progress: ScenarioProgress, notes: Sequence[Note], snapshot: Snapshot | None) -> None:
        if self._live is not None:
            self._live.update(self._frame(progress, snapshot or Snapshot()))

    def scenario_finished(self, progress: ScenarioProgress, snapshot: Snapshot) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None
        # The final frame stays on screen, with the whole log of the scenario under it.
        self._console.print(self._frame(progress, snapshot, notes=len(progress.notes)))
        style = "green" if progress.expected else "red"
        self._console.print(f"[bold {style}]{progress.scenario.name}: {progress.result} ({progress.verdict})[/]")
        if progress.abort_message:
            self._console.print(f"abort message: {progress.abort_message}")

    def summary(self, rows: Sequence[SummaryRow], all_expected: bool) -> None:
        table = Table(title="Summary", show_lines=True)
        for column in SUMMARY_COLUMNS:
            table.add_column(column, overflow="fold")
        for row in rows:
            style = "green" if row.verdict == "expected" else "red"
            table.add_row(row.scenario, row.image, row.expected, row.result, f"[{style}]{row.verdict}[/]",
                          row.timeline.replace(", ", "\n"), row.failure_to_stable, row.duration)
        self._console.print()
        self._console.print(table)
        self._console.print(f"[bold {'green' if all_expected else 'red'}]{verdict_line(all_expected)}[/]")

    def close(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None

    def _frame(self, progress: ScenarioProgress, snapshot: Snapshot, notes: int = RECENT_NOTES) -> RenderableType:
        weight = progress.current_weight
        traffic = Text.assemble(
            ("stable ", "bold"), (weight_bar(weight), "green"), (" canary", "bold"),
            f"   {100 - (weight or 0)} % / {weight or 0} %",
        )
        measurements = Table(box=None, pad_edge=False, show_header=True, header_style="dim")
        for column in ("t", "metric", "value", "phase"):
            measurements.add_column(column)
        for m in progress.measurements[-RECENT_MEASUREMENTS:]:
            style = {"Successful": "green", "Failed": "red"}.get(m.phase, "yellow")
            measurements.add_row(f"+{m.at - progress.started_at:.1f}s", m.metric, m.value, f"[{style}]{m.phase}[/]")
        parts: list[RenderableType] = [
            Text.from_ansi("\n".join(snapshot.tree(color=True))),
            Text(),
            traffic,
        ]
        if progress.measurements:
            parts += [Text(), measurements]
        if progress.notes:
            parts += [Text(), Text("\n".join(note_line(progress, n) for n in progress.notes[-notes:]), style="dim")]
        title = f"{progress.scenario.name}: {progress.scenario.image} — {progress.result}"
        return Panel(Group(*parts), title=title, title_align="left")
