"""`rollouts get analysisrun NAME [-w]`: one AnalysisRun — its metrics, their measurements, and why it ended.

With ``--watch`` the page is redrawn whenever the run changes (an API watch on that one run, redraws coalesced to
at most one every 200 ms) and the command ends once the run has completed, as `get rollout -w` ends at Healthy or
Degraded. Registered on the `get` group of :mod:`cli.get`.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from cli.analysisrun_view import is_completed, render_analysis_run
from cli.get import get_app
from cli.get_command import add_get_command
from cli.options import CliError, Cluster, get_object
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


def fetch_run(cluster: Cluster, name: str) -> RunView:
    """The AnalysisRun's page, with the resourceVersion to watch it from; a CliError when the run does not exist."""
    return RunView(get_object(cluster, ANALYSIS_RUNS, name), cluster.namespace)


# Argo's short name for the kind is `ar`; the plural reads naturally too.
add_get_command(
    get_app, ANALYSIS_RUNS, "ar", fetch_run, name_help="Name of the AnalysisRun.", until="the run has completed",
    summary="Get details about an AnalysisRun: its status, then each metric's query, conditions, limits, measurements.",
)
