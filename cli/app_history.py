"""`rollouts app history|rollback`: the deployments recorded in ``status.history`` (ID DATE REVISION), and a sync
back to one of them — refused while automated sync is on, as argocd refuses it."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.app_group import AppClusterOptions, AppNameArgument, apps, get_app
from cli.app_operations import current_user
from cli.app_sync import report_operation, write_operation
from cli.app_view import HISTORY_HEADERS, history_rows, source_of, table
from cli.option_groups import with_option_groups
from cli.options import CliError, Cluster
from gitops.sync.history import rollback_operation


@apps.command("history")
@with_option_groups
def history_command(
    name: AppNameArgument,
    *,
    cluster_options: AppClusterOptions,
) -> None:
    """Show the deployment history."""
    with cluster_options.connected() as cluster:
        app = get_app(cluster, name)
        sources = (app.get("spec") or {}).get("sources") or []
        if sources:
            for index, source in enumerate(sources, start=1):
                typer.echo(f"SOURCE {index}  {source.get('repoURL', '')}")
        else:
            typer.echo(f"SOURCE  {source_of(app).get('repoURL', '')}")
        typer.echo(table(HISTORY_HEADERS, history_rows(app)))


@apps.command("rollback")
@with_option_groups
def rollback_command(
    name: AppNameArgument,
    history_id: Annotated[int | None, typer.Argument(metavar="[ID]", help="History ID (default: the previous "
                                                     "deployment).")] = None,
    prune: Annotated[bool, typer.Option("--prune", help="Delete resources the old revision does not have.")] = False,
    timeout: Annotated[float, typer.Option("--timeout", min=0.0, help="Seconds to wait; 0 waits forever.")] = 0.0,
    *,
    cluster_options: AppClusterOptions,
) -> None:
    """Roll back to a previous deployment."""
    with cluster_options.connected() as cluster:
        request_rollback(cluster, name, history_id, prune=prune)
        report_operation(cluster, name, timeout)


def request_rollback(cluster: Cluster, name: str, history_id: int | None, *, prune: bool = False,
                     username: str | None = None) -> None:
    """Write the operation of a rollback to the deployment ``history_id`` (the previous one when None); a CliError
    when argocd would refuse it (auto-sync on, no such deployment, an operation in progress)."""
    operation = rollback_operation(get_app(cluster, name), history_id, prune=prune,
                                   username=username or current_user())
    if isinstance(operation, str):
        raise CliError(operation)
    write_operation(cluster, name, operation)
