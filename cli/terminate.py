"""`rollouts terminate analysisrun NAME...`: stop an AnalysisRun that is in progress.

Argo's patch, a JSON merge patch on the AnalysisRun itself (``spec`` is not behind a subresource):
``{"spec":{"terminate":true}}``. The analysis controller then terminates the measurements in flight and completes
the run: Successful ("Run Terminated") unless a metric had already failed.
"""

from __future__ import annotations

from typing import Annotated, Final

import typer

from cli.analysisrun_view import COMPLETED_PHASES
from cli.cluster_options import ClusterOptions
from cli.main import app
from cli.option_groups import with_option_groups
from cli.options import Cluster, patch_object
from cli.tree import analysis_run_phase
from kube.resources import ANALYSIS_RUNS

TERMINATE_PATCH: Final = {"spec": {"terminate": True}}

terminate_app = typer.Typer(name="terminate", help="Terminate an AnalysisRun.", no_args_is_help=True)
app.add_typer(terminate_app)


def terminate_analysis_run(cluster: Cluster, name: str) -> str:
    """Send the patch; the line to print. Names a run that had already completed, on which it changes nothing."""
    run = patch_object(cluster, ANALYSIS_RUNS, name, TERMINATE_PATCH)
    # Argo's words, camel case included, so that scripts matching its output keep working.
    line = f"analysisRun '{name}' terminated"
    phase = analysis_run_phase(run)
    if phase in COMPLETED_PHASES:
        # The patch went through, but a completed run keeps its verdict: say so rather than imply a change.
        line += f" (it had already completed: {phase})"
    return line


@with_option_groups
def _analysis_run_command(
    names: Annotated[
        list[str],
        typer.Argument(metavar="ANALYSISRUN_NAME...", help="AnalysisRuns to terminate.", show_default=False),
    ],
    *,
    cluster_options: ClusterOptions,
) -> None:
    """Terminate an AnalysisRun: measurements in flight are stopped and the run completes."""
    with cluster_options.connected() as cluster:
        for name in names:
            typer.echo(terminate_analysis_run(cluster, name))


terminate_app.command("analysisrun")(_analysis_run_command)
terminate_app.command("ar", hidden=True)(_analysis_run_command)
terminate_app.command("analysisruns", hidden=True)(_analysis_run_command)
