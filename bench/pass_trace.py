"""Pass accounting: for every reconcile pass of a fleet update, what queued it and what it wrote.

Runs the fleet scenario (``bench.fleet``: canary Rollouts, setWeight 20/50/80 each followed by a pause) at a small N
with the controller's pass trace on (``rollouts.controller.pass_trace``, through ``--verbose``), then reads the
controller's log: each pass is put down to the first thing that queued its Rollout since that Rollout's previous
pass began — the follow-up of a pass that wrote, a watch event (its kind and the fields it changed), or nothing,
which is the pass's own timer (a pause's end, a look again) — and to the step the Rollout's status was at.

    .venv/bin/python -m bench.pass_trace --n 20 [--pause 2s] [--markdown FILE]
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    RELAXED_ELECTION,
    Harness,
    markdown_table,
    promoted_from,
    wait_until_quiet,
    weight_steps,
)

TRACE_LOGGER = "rollouts.controller.trace: "
TIMER = "timer (no event since the previous pass)"


@dataclass
class Pass:
    """One traced pass: where the Rollout was, what queued it, and what it wrote."""

    rollout: str
    step: str
    triggers: list[str]
    writes: list[str] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    rounds: int = 1
    """Decisions made in the pass (a pass that wrote decides again from what it wrote)."""

    @property
    def trigger(self) -> str:
        return self.triggers[0] if self.triggers else TIMER


def run_update(n: int, pause: str) -> list[str]:
    """The fleet update at ``n`` with the trace on: the controller's trace lines from the update to the end."""
    steps = weight_steps(pause)
    with Harness(controller_args=[*RELAXED_ELECTION, "--verbose"]) as harness:
        assert harness.recorder is not None
        harness.create_fleet(n, steps)
        states, _ = harness.start_until_healthy(n)
        # Let the initial sync's last passes finish before the update is traced.
        wait_until_quiet(harness, timeout=60 + n * 0.1)
        old_hashes = {name: str(status.get("stableRS")) for name, status in states.statuses.items()}
        offset = harness.controller_log.stat().st_size
        for index in range(n):
            harness.set_image(index, "app:v2")
        done = promoted_from(old_hashes)
        harness.wait(lambda: states.count_named(done) >= n, 120 + n * 0.5, f"{n} Rollouts promoted")
        wait_until_quiet(harness, timeout=60 + n * 0.1)  # the promotion's follow-up passes
        with harness.controller_log.open("rb") as log:
            log.seek(offset)
            text = log.read().decode(errors="replace")
    return [line.split(TRACE_LOGGER, 1)[1] for line in text.splitlines() if TRACE_LOGGER in line]


def parse_fields(line: str) -> tuple[str, dict[str, str]]:
    verb, _, rest = line.partition(" ")
    fields = dict(item.split("=", 1) for item in rest.split(" ") if "=" in item)
    return verb, fields


def event_trigger(fields: dict[str, str]) -> str:
    """``Pod MODIFIED status.conditions,status.phase``: the kind, the event type and what it changed (2 levels)."""
    changed = fields.get("changed", "-")
    paths = sorted({".".join(path.split(".")[:2]) for path in changed.split(",")}) if changed != "-" else ["-"]
    return f"{fields['kind']} {fields['type']} {','.join(paths)}"


def passes_of(lines: Iterable[str]) -> list[Pass]:
    """Every pass of the trace, with its triggers and writes."""
    pending: dict[str, list[str]] = collections.defaultdict(list)
    current: dict[str, Pass] = {}
    passes: list[Pass] = []
    for line in lines:
        verb, fields = parse_fields(line)
        if verb == "event":
            for rollout in fields.get("queued", "-").split(","):
                if rollout != "-":
                    pending[rollout].append(event_trigger(fields))
        elif verb == "follow-up":
            pending[fields["queued"]].append("follow-up of a pass that wrote")
        elif verb == "pass":
            rollout = fields["rollout"]
            current[rollout] = Pass(rollout, fields.get("step", "-"), pending.pop(rollout, []))
            passes.append(current[rollout])
        elif verb == "round" and fields["rollout"] in current:
            current[fields["rollout"]].rounds += 1
        elif verb == "write" and fields["rollout"] in current:
            sub = fields.get("subresource", "-")
            what = f"{fields['request']} {fields['kind']}" + (f"/{sub}" if sub != "-" else "")
            current[fields["rollout"]].writes.append(what)
        elif verb == "events" and fields["rollout"] in current:
            current[fields["rollout"]].events.extend(fields.get("reasons", "-").split(","))
    return passes


def step_name(step: str, steps: Sequence[dict[str, object]]) -> str:
    if not step.isdigit():
        return f"({step})"
    index = int(step)
    if index >= len(steps):
        return f"{index}: complete"
    entry = steps[index]
    return f"{index}: " + ("setWeight " + str(entry["setWeight"]) if "setWeight" in entry else "pause")


def report(passes: list[Pass], n: int, pause: str) -> list[str]:
    steps = weight_steps(pause)
    order = sorted({p.step for p in passes}, key=lambda s: (not s.isdigit(), int(s) if s.isdigit() else 0, s))
    triggers = collections.Counter(p.trigger for p in passes)
    rows = []
    for step in order:
        at = [p for p in passes if p.step == step]
        by_trigger = collections.Counter(p.trigger for p in at)
        writes = collections.Counter(w for p in at for w in p.writes)
        rows.append([
            step_name(step, steps), round(len(at) / n, 2),
            "; ".join(f"{t} {round(c / n, 2)}" for t, c in by_trigger.most_common()),
            round(sum(1 for p in at if p.writes) / n, 2),
            "; ".join(f"{w} {round(c / n, 2)}" for w, c in writes.most_common()) or "—",
        ])
    writing = collections.Counter(p.trigger for p in passes if p.writes)
    weight_steps_count = sum(1 for entry in steps if "setWeight" in entry)
    status_patches = sum(1 for p in passes for w in p.writes if w == "patch Rollout/status")
    lines = [
        f"Per Rollout (N = {n}), by the step its status was at when the pass began:",
        "",
        *markdown_table(["step", "passes", "passes by trigger", "passes that wrote", "writes by kind"], rows),
        "",
        f"Totals per Rollout update: {round(len(passes) / n, 2)} passes "
        f"({round(len(passes) / n / weight_steps_count, 2)} per canary step), "
        f"{round(status_patches / n, 2)} status patches, "
        f"{round(sum(len(p.writes) for p in passes) / n, 2)} writes besides Events, "
        f"{round(sum(len(p.events) for p in passes) / n, 2)} Events asked for; "
        f"{round(sum(p.rounds for p in passes) / n, 2)} decisions (a pass decides again after it wrote).",
        "",
        *markdown_table(["trigger (first since the previous pass)", "passes per Rollout", "of which wrote"],
                        [[t, round(c / n, 2), round(writing[t] / n, 2)] for t, c in triggers.most_common()]),
    ]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Account for every pass of a fleet update (what queued it).")
    parser.add_argument("--n", type=int, default=20)
    parser.add_argument("--pause", default="2s")
    parser.add_argument("--markdown", type=Path, help="also write the tables to this file")
    parser.add_argument("--raw", type=Path, help="also write the trace lines themselves to this file")
    args = parser.parse_args(argv)
    trace = run_update(args.n, args.pause)
    if args.raw is not None:
        args.raw.write_text("\n".join(trace) + "\n")
    lines = report(passes_of(trace), args.n, args.pause)
    load = "/".join(f"{x:.2f}" for x in os.getloadavg())
    lines += ["", f"Load average at the end: {load}."]
    print("\n".join(lines))
    if args.markdown is not None:
        args.markdown.write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
