"""`rollouts app history|rollback`: the deployments recorded in ``status.history`` (ID DATE REVISION), and a sync
back to one of them — refused while automated sync is on, as argocd refuses it."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.app_group import DEFAULT_APP_NAMESPACE, AppNamespaceOption, apps, connect_apps, get_app
from cli.app_operations import current_user
from cli.app_sync import follow_operation, write_operation
from cli.app_view import HISTORY_HEADERS, history_rows, operation_lines, source_of, table
from cli.options import CliError, ContextOption, KubeconfigOption, reported_errors
from gitops.sync.history import rollback_operation


@apps.command("history")
def history_command(
    name: Annotated[str, typer.Argument(metavar="APPNAME")],
    app_namespace: AppNamespaceOption = DEFAULT_APP_NAMESPACE,
    kubeconfig: KubeconfigOption = None,
    context: ContextOption = None,
) -> None:
    """Show the deployment history."""
    with reported_errors():
        app = get_app(connect_apps(app_namespace, kubeconfig, context), name)
        sources = (app.get("spec") or {}).get("sources") or []
        if sources:
            for index, source in enumerate(sources, start=1):
                typer.echo(f"SOURCE {index}  {source.get('repoURL', '')}")
        else:
            typer.echo(f"SOURCE  {source_of(app).get('repoURL', '')}")
        typer.echo(table(HISTORY_HEADERS, history_rows(app)))


@apps.command("rollback")
def rollback_command(
    name: Annotated[str, typer.Argument(metavar="APPNAME")],
    history_id: Annotated[int | None, typer.Argument(metavar="[ID]", help="History ID (default: the previous "
                                                     "deployment).")] = None,
    prune: Annotated[bool, typer.Option("--prune", help="Delete resources the old revision does not have.")] = False,
    timeout: Annotated[float, typer.Option("--timeout", min=0.0, help="Seconds to wait; 0 waits forever.")] = 0.0,
    app_namespace: AppNamespaceOption = DEFAULT_APP_NAMESPACE,
    kubeconfig: KubeconfigOption = None,
    context: ContextOption = None,
) -> None:
    """Roll back to a previous deployment."""
    with reported_errors():
        cluster = connect_apps(app_namespace, kubeconfig, context)
        operation = rollback_operation(get_app(cluster, name), history_id, prune=prune, username=current_user())
        if isinstance(operation, str):
            raise CliError(operation)
        write_operation(cluster, name, operation)
        state = follow_operation(cluster, name, timeout, typer.echo)
        typer.echo("")
        for line in operation_lines(state):
            typer.echo(line)
        if state.get("phase") != "Succeeded":
            raise CliError(f"Operation has completed with phase: {state.get('phase')}")
