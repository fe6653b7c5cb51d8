"""A picture of cluster objects (`get rollout`, `get analysisrun`): printed once, or with ``--watch`` redrawn on
every change, driven by API watch events, until what it shows has finished.

Redraws are coalesced (a burst of events is one frame, at most one every MIN_REDRAW_SECONDS) and happen only when
the text changed. On a terminal each frame replaces the last one; into a pipe or file, frames follow each other,
blank-line separated.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Final, Protocol

import typer

from cli.option_groups import OptionGroup
from cli.options import wants_color
from cli.watching import Change, Watches

if TYPE_CHECKING:
    from kube.client import KubeClient

CLEAR_SCREEN: Final = "\x1b[H\x1b[2J"
MIN_REDRAW_SECONDS: Final = 0.2
# On a terminal, ages keep ticking between events; refresh them (from memory, no API call) this often.
AGE_REFRESH_SECONDS: Final = 1.0

NoColorOption = Annotated[bool, typer.Option("--no-color", help="Do not colorize output.")]
WatchTimeoutOption = Annotated[
    int, typer.Option("--timeout-seconds", min=0, help="With --watch, stop after this many seconds (0: never).")
]


@dataclass(frozen=True)
class LiveViewOptions(OptionGroup):
    """``--watch``, ``--no-color`` and ``--timeout-seconds``: how a command shows its picture. A command's subclass
    says in ``watch_until`` what the picture is redrawn until, for the help of ``--watch``."""

    watch: bool = False
    no_color: bool = False
    timeout_seconds: int = 0
    watch_until: ClassVar[str] = "it has finished"

    @classmethod
    def typer_options(cls) -> dict[str, Any]:
        watch = Annotated[bool, typer.Option("--watch", "-w", help=f"Redraw on every change until {cls.watch_until}.")]
        return {"watch": watch, "no_color": NoColorOption, "timeout_seconds": WatchTimeoutOption}

    def show(self, view: LiveView, client: KubeClient) -> None:
        """Print the picture once, or redraw it as these options say; in colour only for a person at a terminal."""
        show(view, client, watch=self.watch, color=wants_color(self.no_color), timeout_seconds=self.timeout_seconds)


class LiveView(Protocol):
    """What a picture shows, kept current from watch events."""

    def render(self, now: datetime, *, color: bool) -> str:
        """The picture's text as of ``now`` (ages are relative to it)."""
        ...

    def apply(self, change: Change) -> None:
        """Fold one change in; raises CliError when the change ends the picture (its object was deleted)."""
        ...

    def finished(self) -> bool:
        """Whether what the picture shows has come to its end (a redraw after it is the last)."""
        ...

    def follow(self, watches: Watches) -> None:
        """Start the watches whose changes ``apply`` folds in, from the versions the picture was read at."""
        ...


def show(view: LiveView, client: KubeClient, *, watch: bool, color: bool, timeout_seconds: int) -> None:
    """Print the picture once; with ``watch``, redraw it on every change until it is finished, or until
    ``timeout_seconds`` have passed (0: no limit)."""
    terminal = sys.stdout.isatty()
    if not watch:
        sys.stdout.write(view.render(datetime.now(UTC), color=color))
        return
    with Watches(client) as watches:
        view.follow(watches)
        redraw_until(
            view,
            watches,
            FrameWriter(terminal),
            color=color,
            refresh_ages=terminal,
            timeout=float(timeout_seconds) if timeout_seconds else None,
        )


def redraw_until(
    view: LiveView,
    watches: Watches,
    draw: Callable[[str], None],
    *,
    color: bool,
    refresh_ages: bool,
    timeout: float | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> None:
    """The loop of a live picture: fold changes in, redraw at most every MIN_REDRAW_SECONDS (a burst of events is
    one frame) and only when the text changed, and stop once the view is finished after a draw, or at ``timeout``."""
    deadline = None if timeout is None else time.monotonic() + timeout
    last_text: str | None = None
    last_draw = float("-inf")
    pending = True
    while True:
        if pending and time.monotonic() - last_draw >= MIN_REDRAW_SECONDS:
            text = view.render(clock(), color=color)
            if text != last_text:
                draw(text)
                last_text = text
            last_draw, pending = time.monotonic(), False
            if view.finished():
                return
        if pending:
            wait: float | None = last_draw + MIN_REDRAW_SECONDS - time.monotonic()
        else:
            wait = AGE_REFRESH_SECONDS if refresh_ages else None
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            wait = remaining if wait is None else min(wait, remaining)
        change = watches.next(wait)
        if change is not None:
            view.apply(change)
            pending = True
        elif refresh_ages:
            pending = True


class FrameWriter:
    """Writes the frames of a live picture: on a terminal each replaces the last; into a pipe or a file they follow
    each other, blank-line separated, so that a log of a watch reads top to bottom."""

    def __init__(self, terminal: bool) -> None:
        self.terminal = terminal
        self.frames = 0

    def __call__(self, text: str) -> None:
        if self.terminal:
            sys.stdout.write(CLEAR_SCREEN + text)
        else:
            sys.stdout.write(("\n" if self.frames else "") + text)
        sys.stdout.flush()
        self.frames += 1
