"""Where a py-spy profile of the controller (``py-spy record --format raw``) spent its working samples, by group:
the write path (the client, its pool or its HTTP stack), the watch path, the passes, the rest (the event loop).

Each working stack is counted in the first group that holds it, so the shares add up to 100 %; the write path is
also split into its parts (each stack in the first part that holds it), to name what a cheaper path removed.

    .venv/bin/python -m bench.profile_groups /tmp/before.raw [/tmp/after.raw …]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import markdown_table
from bench.profile_top import is_idle, parse_raw

# A group is a name and the markers (substrings of a frame) any of which puts a stack in it.
Group = tuple[str, tuple[str, ...]]

# The informer streams its watches over httpx too, so the watch path is told apart first.
WATCH_PATH: Group = ("the watch path (`kube.informer`)", ("(kube/informer.py",))
WRITE_PATH: Group = (
    "the write path (client, pool, HTTP stack, futures)",
    ("(kube/client.py", "(kube/http_connection.py", "(concurrent/futures/", "_chain_future", "wrap_future",
     "(urllib3/", "(kubernetes/client/", "(http/client.py"),
)
# httpx frames under neither the informer nor the client: a watch stream's generator resumed on its own stack.
HTTPX: tuple[str, ...] = ("(httpx/", "(httpcore/", "(h11/", "(anyio/")
GROUPS: tuple[Group, ...] = (
    WATCH_PATH,
    WRITE_PATH,
    ("httpx under no known caller (the watches' streams, resumed on their own stacks)", HTTPX),
    ("a pass (`Reconciler.reconcile`) outside the write path", ("Reconciler.reconcile (",)),
    ("the rest (event loop, timers, metrics, other controllers)", ("",)),
)
WRITE_PARTS: tuple[Group, ...] = (
    ("handing the call to the pool and the result back (loop side)",
     ("ThreadPoolExecutor.submit", "wrap_future", "_chain_future", "run_in_executor", "Future.set_result",
      "Future.add_done_callback")),
    ("`ApiClient.param_serialize` (auth, config, URL)", ("param_serialize (",)),
    ("urllib3 / http.client (request, headers, response)", ("(urllib3/", "(http/client.py")),
    ("httpx / httpcore / h11 (request, headers, response)", HTTPX),
    ("JSON encoding of bodies", ("JSONEncoder", "json/encoder.py", "sanitize_for_serialization")),
    ("JSON decoding of answers", ("JSONDecoder", "json/decoder.py", "(json/__init__.py")),
    ("the rest of the client (`kind.manifest`, the pool's thread, the guard)", ("",)),
)


def first_group(frames: Sequence[str], groups: Sequence[Group]) -> str:
    """The name of the first group one of whose markers is in one of ``frames``."""
    for name, markers in groups:
        if any(marker in frame for frame in frames for marker in markers):
            return name
    return groups[-1][0]


def shares(raw: Path) -> tuple[int, dict[str, int], dict[str, int]]:
    """Working samples, samples per group, and samples per part of the write path."""
    working = [(frames, n) for frames, n in parse_raw(raw.read_text().splitlines()) if not is_idle(frames)]
    groups = dict.fromkeys((name for name, _ in GROUPS), 0)
    parts = dict.fromkeys((name for name, _ in WRITE_PARTS), 0)
    for frames, n in working:
        group = first_group(frames, GROUPS)
        groups[group] += n
        if group == WRITE_PATH[0]:
            parts[first_group(frames, WRITE_PARTS)] += n
    return sum(n for _, n in working), groups, parts


def markdown(raws: Sequence[Path]) -> list[str]:
    """One column per profile: each group's and each write-path part's share of the working samples."""
    measured = [shares(raw) for raw in raws]
    headers = ["group", *(f"{raw.stem} ({busy} working)" for raw, (busy, _, _) in zip(raws, measured, strict=True))]

    def row(name: str, pick: int, label: str) -> list[str]:
        cells = [f"{100 * counts[name] / busy:.1f} %" if busy else "—"
                 for busy, *tables in measured for counts in [tables[pick]]]
        return [label, *cells]

    rows = [row(name, 0, name) for name, _ in GROUPS]
    rows += [row(name, 1, f"… {name}") for name, _ in WRITE_PARTS]
    return markdown_table(headers, rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("raw", type=Path, nargs="+")
    args = parser.parse_args()
    print("\n".join(markdown(args.raw)))


if __name__ == "__main__":
    main()
