"""`rollouts terminate analysisrun NAME...` and `rollouts terminate experiment NAME...`: stop an AnalysisRun or an
Experiment that is in progress.

Argo's patch, a JSON merge patch on the object itself (``spec`` is not behind a subresource):
``{"spec":{"terminate":true}}``. The analysis controller then terminates the measurements in flight and completes
the run: Successful ("Run Terminated") unless a metric had already failed. The Experiment controller scales the
experiment's ReplicaSets down (after its scaleDownDelaySeconds), terminates its runs, and completes it: Successful
unless something had already failed.
"""

# No `from __future__ import annotations`: typer reads the command's annotations, which name this call's values.

from collections.abc import Callable
from typing import Annotated, Any, Final

import typer

from cli.analysisrun_view import COMPLETED_PHASES
from cli.cluster_options import ClusterOptions
from cli.experiment_view import experiment_phase
from cli.main import app
from cli.option_groups import with_option_groups
from cli.options import Cluster, patch_object
from cli.tree import analysis_run_phase
from kube.resources import ANALYSIS_RUNS, EXPERIMENTS, ResourceKind

TERMINATE_PATCH: Final = {"spec": {"terminate": True}}

terminate_app = typer.Typer(name="terminate", help="Terminate an AnalysisRun or an Experiment.", no_args_is_help=True)
app.add_typer(terminate_app)


def _terminated(cluster: Cluster, kind: ResourceKind, name: str, noun: str, phase_of: Callable[[Any], str]) -> str:
    """Send the terminate patch; the line to print, in Argo's words (camel case included, so that scripts matching
    its output keep working). An object that had already completed keeps its verdict: the line says so rather than
    imply a change."""
    terminated = patch_object(cluster, kind, name, TERMINATE_PATCH)
    line = f"{noun} '{name}' terminated"
    phase = phase_of(terminated)
    if phase in COMPLETED_PHASES:
        line += f" (it had already completed: {phase})"
    return line


def terminate_analysis_run(cluster: Cluster, name: str) -> str:
    """Send the patch; the line to print. Names a run that had already completed, on which it changes nothing."""
    return _terminated(cluster, ANALYSIS_RUNS, name, "analysisRun", analysis_run_phase)


def terminate_experiment(cluster: Cluster, name: str) -> str:
    """Send the patch; the line to print. Names an experiment that had already completed (nothing changes)."""
    return _terminated(cluster, EXPERIMENTS, name, "experiment", experiment_phase)


def _terminate_command(
    kind: ResourceKind, short_name: str, terminate: Callable[[Cluster, str], str], summary: str
) -> None:
    """Register `terminate <kind>` (and, hidden, its short name and its plural): a command that terminates each object
    named on its command line in turn and prints the line ``terminate`` returns for it; ``summary`` is its help."""

    metavar, names_help = f"{kind.kind.upper()}_NAME...", f"{kind.kind}s to terminate."

    def command(
        names: Annotated[list[str], typer.Argument(metavar=metavar, help=names_help, show_default=False)],
        *,
        cluster_options: ClusterOptions,
    ) -> None:
        with cluster_options.connected() as cluster:
            for name in names:
                typer.echo(terminate(cluster, name))

    command.__doc__ = summary
    shown = with_option_groups(command)
    for position, command_name in enumerate((kind.kind.lower(), short_name, kind.plural)):
        terminate_app.command(command_name, hidden=position > 0)(shown)


_terminate_command(
    ANALYSIS_RUNS, "ar", terminate_analysis_run,
    "Terminate an AnalysisRun: measurements in flight are stopped and the run completes.",
)
_terminate_command(
    EXPERIMENTS, "exp", terminate_experiment,
    "Terminate an Experiment: its ReplicaSets are scaled down, its analyses terminated, and it completes.",
)
