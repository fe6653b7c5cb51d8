"""`rollouts get experiment NAME`: one Experiment — its phase and message, the ReplicaSet of each template and the
AnalysisRun of each analysis. Registered on the `get` group of :mod:`cli.get`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from cli.cluster_options import ClusterOptions
from cli.experiment_view import render_experiment
from cli.get import get_app
from cli.option_groups import with_option_groups
from cli.options import Cluster, get_object
from kube.json_data import JsonObject
from kube.resources import ANALYSIS_RUNS, EXPERIMENTS, REPLICASETS


def experiment_page(cluster: Cluster, name: str, now: datetime) -> str:
    """The page for the Experiment ``name``; a CliError when it does not exist."""
    experiment = get_object(cluster, EXPERIMENTS, name)
    status = experiment.get("status") or {}
    replica_sets: list[JsonObject] = []
    for template in (experiment.get("spec") or {}).get("templates") or ():
        found = cluster.client.get_or_none(REPLICASETS, cluster.namespace, f"{name}-{template.get('name', '')}")
        if found is not None:
            replica_sets.append(found)
    runs: list[JsonObject] = []
    for entry in status.get("analysisRuns") or ():
        run_name = entry.get("analysisRun")
        found = cluster.client.get_or_none(ANALYSIS_RUNS, cluster.namespace, str(run_name)) if run_name else None
        if found is not None:
            runs.append(found)
    return "\n".join(render_experiment(experiment, replica_sets, runs, now)) + "\n"


@with_option_groups
def _experiment_command(
    name: Annotated[str, typer.Argument(metavar="EXPERIMENT_NAME", help="The Experiment to show.", show_default=False)],
    *,
    cluster_options: ClusterOptions,
) -> None:
    """Show an Experiment: its status, the ReplicaSet of each template and the AnalysisRun of each analysis."""
    with cluster_options.connected() as cluster:
        typer.echo(experiment_page(cluster, name, datetime.now(UTC)), nl=False)


get_app.command("experiment")(_experiment_command)
get_app.command("exp", hidden=True)(_experiment_command)
get_app.command("experiments", hidden=True)(_experiment_command)
