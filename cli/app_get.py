"""`rollouts app get NAME`: the summary and the resource table of ``argocd app get`` (GROUP KIND NAMESPACE NAME
STATUS HEALTH HOOK MESSAGE); ``--refresh``/``--hard-refresh`` ask the controller to compare again first and wait
for it; ``-o yaml|json|wide``."""

from __future__ import annotations

import json
import time
from typing import Annotated

import typer
import yaml

from cli.app_group import DEFAULT_APP_NAMESPACE, AppNamespaceOption, apps, connect_apps, get_app, patch_app
from cli.app_operations import REFRESH_ANNOTATION, refresh_patch
from cli.app_view import ORPHAN_HEADERS, RESOURCE_HEADERS, orphan_rows, resource_rows, summary, table
from cli.options import CliError, Cluster, ContextOption, KubeconfigOption, reported_errors
from gitops.clusters import SECRET_TYPE_LABEL, ClusterError, cluster_summary, clusters_from_secrets, resolve_destination
from kube.errors import KubeError
from kube.json_data import JsonObject
from kube.resources import SECRETS

REFRESH_TIMEOUT = 60.0
POLL_SECONDS = 0.5


def refresh_and_wait(cluster: Cluster, name: str, *, hard: bool, timeout: float = REFRESH_TIMEOUT) -> dict[str, object]:
    """Set the refresh annotation and wait until the controller has removed it (its refresh is done)."""
    patch_app(cluster, name, refresh_patch(hard))
    deadline = time.monotonic() + timeout
    while True:
        app = get_app(cluster, name)
        annotations = (app.get("metadata") or {}).get("annotations") or {}
        if REFRESH_ANNOTATION not in annotations:
            return app
        if time.monotonic() > deadline:
            raise CliError(f"application '{name}' was not refreshed within {timeout:g}s: is the controller running "
                           f"(rollouts controller)?")
        time.sleep(POLL_SECONDS)


def destination_cluster(cluster: Cluster, app: JsonObject) -> JsonObject | None:
    """The cluster the Application deploys to (its name and server only), from the cluster Secrets of the
    Applications' namespace; ``None`` when they cannot be read or name no such cluster (the spec is shown then)."""
    try:
        secrets = cluster.client.list(SECRETS, cluster.namespace, label_selector=f"{SECRET_TYPE_LABEL}=cluster")
        found = resolve_destination((app.get("spec") or {}).get("destination") or {}, clusters_from_secrets(secrets))
    except (KubeError, ClusterError):
        return None
    return cluster_summary(found)


@apps.command("get")
def get_command(
    name: Annotated[str, typer.Argument(metavar="APPNAME")],
    refresh: Annotated[bool, typer.Option("--refresh", help="Compare with Git again before showing.")] = False,
    hard_refresh: Annotated[bool, typer.Option("--hard-refresh", help="Also bypass the manifest cache.")] = False,
    output: Annotated[str, typer.Option("--output", "-o", help="wide, yaml or json.")] = "wide",
    app_namespace: AppNamespaceOption = DEFAULT_APP_NAMESPACE,
    kubeconfig: KubeconfigOption = None,
    context: ContextOption = None,
) -> None:
    """Show an Application and its resources."""
    if output not in ("wide", "yaml", "json"):
        typer.echo(f"error: --output {output!r}: expected wide, yaml or json", err=True)
        raise typer.Exit(2)
    with reported_errors():
        cluster = connect_apps(app_namespace, kubeconfig, context)
        refreshing = refresh or hard_refresh
        app = refresh_and_wait(cluster, name, hard=hard_refresh) if refreshing else get_app(cluster, name)
        if output == "json":
            typer.echo(json.dumps(app, indent=2))
        elif output == "yaml":
            typer.echo(yaml.safe_dump(app, sort_keys=False).rstrip())
        else:
            typer.echo(summary(app, destination_cluster(cluster, app)))
            rows = resource_rows(app)
            if rows:
                typer.echo("")
                typer.echo(table(RESOURCE_HEADERS, rows))
            orphans = orphan_rows(app)
            if orphans:
                typer.echo("")
                typer.echo("ORPHANED RESOURCES")
                typer.echo(table(ORPHAN_HEADERS, orphans))
