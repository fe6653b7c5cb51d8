"""The top of a py-spy profile of the controller (``py-spy record --format raw``: one line per distinct stack,
``frame;frame;… count``), as Markdown: where its CPU went.

Idle frames — a thread waiting on a socket, a selector, a lock or an empty work queue — are left out, so the
shares are of the samples in which the controller was working. Two tables: the functions the samples were *in*
(self), and the project's functions the samples were *under* (cumulative, each function counted once a stack).

    .venv/bin/python -m bench.profile_top /tmp/before.txt [--top 25] [--title "before"]
"""

from __future__ import annotations

import argparse
import collections
import sys
from collections.abc import Iterable
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import markdown_table

# The innermost frame of a thread that waits rather than works.
IDLE_FRAMES = ("SocketIO.readinto", "select (selectors.py", "Condition.wait", "Event.wait", "_worker (concurrent",
               "Thread.join", "_read_from_self", "lock.acquire", "sleep (", "Popen._communicate",
               "BaseEventLoop.run_forever", "_PollLikeSelector.select", "EpollSelector.select", "accept (")
PROJECT_PREFIXES = ("gitops/", "kube/", "rollouts/", "analysis/", "cli/")


def parse_raw(lines: Iterable[str]) -> list[tuple[list[str], int]]:
    """(frames outermost first, samples) per line of py-spy's raw output."""
    stacks: list[tuple[list[str], int]] = []
    for line in lines:
        stack, _, count = line.rstrip("\n").rpartition(" ")
        if stack and count.isdigit():
            stacks.append((stack.split(";"), int(count)))
    return stacks


def is_idle(frames: list[str]) -> bool:
    return any(marker in frames[-1] for marker in IDLE_FRAMES)


def function_name(frame: str) -> str:
    """``name (file.py:line)`` → ``name (file.py)``: a function's lines counted together."""
    name, _, where = frame.partition(" (")
    return f"{name} ({where.rsplit(':', 1)[0]})" if where else name


def top(stacks: list[tuple[list[str], int]], count: int) -> tuple[int, int, list[list[str]], list[list[str]]]:
    """Samples in all, samples working, and the self and cumulative tables (rows: samples, share, function)."""
    total = sum(n for _, n in stacks)
    working = [(frames, n) for frames, n in stacks if not is_idle(frames)]
    busy = sum(n for _, n in working)
    own: collections.Counter[str] = collections.Counter()
    under: collections.Counter[str] = collections.Counter()
    for frames, n in working:
        own[function_name(frames[-1])] += n
        for name in {function_name(frame) for frame in frames}:
            if any(f"({prefix}" in name for prefix in PROJECT_PREFIXES):
                under[name] += n

    def rows(counter: collections.Counter[str]) -> list[list[str]]:
        return [[str(n), f"{100 * n / busy:.1f} %", f"`{name}`"] for name, n in counter.most_common(count)]

    return total, busy, rows(own), rows(under)


def markdown(path: Path, count: int, title: str) -> list[str]:
    total, busy, own, under = top(parse_raw(path.read_text().splitlines()), count)
    return [
        f"## {title}",
        "",
        f"{total} samples, {busy} of them working (the rest waiting on sockets, selectors, locks and queues).",
        "",
        "Self (where the working samples were):",
        "",
        *markdown_table(["samples", "share", "function"], own),
        "",
        "Cumulative, the project's functions (what the working samples were under):",
        "",
        *markdown_table(["samples", "share", "function"], under),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("raw", type=Path)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--title", default="profile")
    args = parser.parse_args()
    print("\n".join(markdown(args.raw, args.top, args.title)))


if __name__ == "__main__":
    main()
