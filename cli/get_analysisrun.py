"""`rollouts get analysisrun NAME [-w]`: one AnalysisRun — its metrics, their measurements, and why it ended.

With ``--watch`` the page is redrawn whenever the run changes (an API watch on that one run, redraws coalesced to
at most one every 200 ms) and the command ends once the run has completed, as `get rollout -w` ends at Healthy or
Degraded. Registered on the `get` group of :mod:`cli.get`.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from cli.analysisrun_view import is_completed, render_analysis_run
from cli.cluster_options import ClusterOptions, cluster_command
from cli.get import get_app
from cli.options import CliError, get_object, reported_errors, wants_color
from cli.watching import RESYNC, Change, FrameWriter, Watches, redraw_until
from kube.resources import ANALYSIS_RUNS

if TYPE_CHECKING:
    from kube.json_data import JsonObject


class RunView:
    """The run as last seen, kept current from watch events on it."""

    def __init__(self, run: JsonObject) -> None:
        self.run = run

    def render(self, now: datetime, *, color: bool) -> str:
        return "\n".join(render_analysis_run(self.run, now, color=color)) + "\n"

    def apply(self, change: Change) -> None:
        """Fold one change in; raises CliError when the run was deleted."""
        # A resync lists by name: no item means it is gone.
        if change.type == "DELETED" or (change.type == RESYNC and not change.items):
            name = (self.run.get("metadata") or {}).get("name", "")
            raise CliError(f'analysisrun "{name}" was deleted')
        self.run = change.items[0] if change.type == RESYNC else change.obj


@cluster_command
def _analysis_run_command(
    cluster_options: ClusterOptions,
    name: Annotated[
        str, typer.Argument(metavar="ANALYSISRUN_NAME", help="Name of the AnalysisRun.", show_default=False)
    ],
    watch: Annotated[
        bool, typer.Option("--watch", "-w", help="Redraw on every change until the run has completed.")
    ] = False,
    no_color: Annotated[bool, typer.Option("--no-color", help="Do not colorize output.")] = False,
    timeout_seconds: Annotated[
        int, typer.Option("--timeout-seconds", min=0, help="With --watch, stop after this many seconds (0: never).")
    ] = 0,
) -> None:
    """Get details about an AnalysisRun: its status, then each metric's query, conditions, limits, measurements."""
    color = wants_color(no_color)
    terminal = sys.stdout.isatty()
    with reported_errors():
        cluster = cluster_options.connect()
        view = RunView(get_object(cluster, ANALYSIS_RUNS, name))
        if not watch:
            sys.stdout.write(view.render(datetime.now(UTC), color=color))
            return
        version = str((view.run.get("metadata") or {}).get("resourceVersion", ""))
        with Watches(cluster.client) as watches:
            watches.follow(ANALYSIS_RUNS, cluster.namespace, version, field_selector=f"metadata.name={name}")
            redraw_until(
                lambda now: view.render(now, color=color),
                view.apply,
                lambda: is_completed(view.run),
                watches,
                FrameWriter(terminal),
                refresh_ages=terminal,
                timeout=float(timeout_seconds) if timeout_seconds else None,
            )


# Argo's short name for the kind is `ar`; the plural reads naturally too.
get_app.command("analysisrun")(_analysis_run_command)
get_app.command("ar", hidden=True)(_analysis_run_command)
get_app.command("analysisruns", hidden=True)(_analysis_run_command)
