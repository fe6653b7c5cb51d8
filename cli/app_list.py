"""`rollouts app list`: one line per Application in argocd's columns (NAME CLUSTER NAMESPACE PROJECT STATUS HEALTH
SYNCPOLICY CONDITIONS REPO PATH TARGET); ``-o name`` prints names only."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.app_group import DEFAULT_APP_NAMESPACE, AppNamespaceOption, apps, connect_apps
from cli.app_view import LIST_HEADERS, list_row, table
from cli.options import ContextOption, KubeconfigOption, reported_errors
from kube.resources import APPLICATIONS


@apps.command("list")
def list_command(
    output: Annotated[str, typer.Option("--output", "-o", help="wide or name.")] = "wide",
    app_namespace: AppNamespaceOption = DEFAULT_APP_NAMESPACE,
    kubeconfig: KubeconfigOption = None,
    context: ContextOption = None,
) -> None:
    """List Applications."""
    with reported_errors():
        cluster = connect_apps(app_namespace, kubeconfig, context)
        items = sorted(cluster.client.list(APPLICATIONS, cluster.namespace),
                       key=lambda item: str(item["metadata"]["name"]))
        if output == "name":
            for item in items:
                typer.echo(item["metadata"]["name"])
            return
        typer.echo(table(LIST_HEADERS, [list_row(item) for item in items]))
