"""`rollouts app list`: one line per Application in argocd's columns (NAME CLUSTER NAMESPACE PROJECT STATUS HEALTH
SYNCPOLICY CONDITIONS REPO PATH TARGET); ``-o name`` prints names only."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.app_group import AppClusterOptions, apps
from cli.app_view import LIST_HEADERS, list_row, table
from cli.option_groups import with_option_groups
from kube.resources import APPLICATIONS


@apps.command("list")
@with_option_groups
def list_command(
    output: Annotated[str, typer.Option("--output", "-o", help="wide or name.")] = "wide",
    *,
    cluster_options: AppClusterOptions,
) -> None:
    """List Applications."""
    with cluster_options.connected() as cluster:
        items = sorted(cluster.client.list(APPLICATIONS, cluster.namespace),
                       key=lambda item: str(item["metadata"]["name"]))
        if output == "name":
            for item in items:
                typer.echo(item["metadata"]["name"])
            return
        typer.echo(table(LIST_HEADERS, [list_row(item) for item in items]))
