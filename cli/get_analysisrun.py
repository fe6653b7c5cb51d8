"""`rollouts get analysisrun NAME [-w]`: one AnalysisRun — its metrics, their measurements, and why it ended.

With ``--watch`` the page is redrawn whenever the run changes (an API watch on that one run, redraws coalesced to
at most one every 200 ms) and the command ends once the run has completed, as `get rollout -w` ends at Healthy or
Degraded. Registered on the `get` group of :mod:`cli.get`.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer

from cli.analysisrun_view import is_completed, render_analysis_run
from cli.cluster_options import ClusterOptions
from cli.get import get_app
from cli.live_view import LiveViewOptions
from cli.option_groups import with_option_groups
from cli.options import CliError, get_object
from cli.watching import Change, Watches, followed_object
from kube.resources import ANALYSIS_RUNS

if TYPE_CHECKING:
    from kube.json_data import JsonObject


class RunView:
    """The run as last seen, kept current from watch events on it."""

    def __init__(self, run: JsonObject, namespace: str) -> None:
        self.run = run
        self.namespace = namespace

    def render(self, now: datetime, *, color: bool) -> str:
        return "\n".join(render_analysis_run(self.run, now, color=color)) + "\n"

    def apply(self, change: Change) -> None:
        """Fold one change in; raises CliError when the run was deleted."""
        run = followed_object(change)
        if run is None:
            name = (self.run.get("metadata") or {}).get("name", "")
            raise CliError(f'analysisrun "{name}" was deleted')
        self.run = run

    def finished(self) -> bool:
        return is_completed(self.run)

    def follow(self, watches: Watches) -> None:
        metadata = self.run.get("metadata") or {}
        watches.follow(ANALYSIS_RUNS, self.namespace, str(metadata.get("resourceVersion", "")),
                       field_selector=f"metadata.name={metadata.get('name', '')}")


class RunViewOptions(LiveViewOptions):
    """How `get analysisrun` shows its page; a watch ends once the run has completed."""

    watch_until = "the run has completed"


@with_option_groups
def _analysis_run_command(
    name: Annotated[
        str, typer.Argument(metavar="ANALYSISRUN_NAME", help="Name of the AnalysisRun.", show_default=False)
    ],
    *,
    view_options: RunViewOptions,
    cluster_options: ClusterOptions,
) -> None:
    """Get details about an AnalysisRun: its status, then each metric's query, conditions, limits, measurements."""
    with cluster_options.connected() as cluster:
        view_options.show(RunView(get_object(cluster, ANALYSIS_RUNS, name), cluster.namespace), cluster.client)


# Argo's short name for the kind is `ar`; the plural reads naturally too.
get_app.command("analysisrun")(_analysis_run_command)
get_app.command("ar", hidden=True)(_analysis_run_command)
get_app.command("analysisruns", hidden=True)(_analysis_run_command)
