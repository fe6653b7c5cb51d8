"""`rollouts app get NAME`: the summary and the resource table of ``argocd app get`` (GROUP KIND NAMESPACE NAME
STATUS HEALTH HOOK MESSAGE); ``--refresh``/``--hard-refresh`` ask the controller to compare again first and wait
for it; ``-o yaml|json|wide``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any

import typer
import yaml

from cli.app_group import AppClusterOptions, AppNameArgument, apps, get_app, patch_app
from cli.app_operations import REFRESH_ANNOTATION, refresh_patch
from cli.app_view import ORPHAN_HEADERS, RESOURCE_HEADERS, orphan_rows, resource_rows, summary, table
from cli.option_groups import OptionGroup, with_option_groups
from cli.options import Cluster
from cli.polling import Polling
from gitops.clusters import SECRET_TYPE_LABEL, ClusterError, cluster_summary, clusters_from_secrets, resolve_destination
from kube.errors import KubeError
from kube.json_data import JsonObject
from kube.resources import SECRETS

REFRESH_TIMEOUT = 60.0


def refresh_and_wait(cluster: Cluster, name: str, *, hard: bool, timeout: float = REFRESH_TIMEOUT) -> JsonObject:
    """Set the refresh annotation and wait until the controller has removed it (its refresh is done)."""
    patch_app(cluster, name, refresh_patch(hard))
    polling = Polling(timeout)
    while True:
        app = get_app(cluster, name)
        annotations = (app.get("metadata") or {}).get("annotations") or {}
        if REFRESH_ANNOTATION not in annotations:
            return app
        polling.wait(f"application '{name}' was not refreshed within {timeout:g}s: is the controller running "
                     "(rollouts controller)?")


@dataclass(frozen=True)
class RefreshOptions(OptionGroup):
    """``--refresh`` and ``--hard-refresh``: whether the controller compares the Application with Git again before
    it is read, and whether that bypasses the manifest cache."""

    refresh: bool = False
    hard_refresh: bool = False

    @classmethod
    def typer_options(cls) -> dict[str, Any]:
        return {
            "refresh": Annotated[bool, typer.Option("--refresh", help="Compare with Git again before showing.")],
            "hard_refresh": Annotated[bool, typer.Option("--hard-refresh", help="Also bypass the manifest cache.")],
        }

    def read(self, cluster: Cluster, name: str) -> JsonObject:
        """The Application, once refreshed as asked."""
        if self.refresh or self.hard_refresh:
            return refresh_and_wait(cluster, name, hard=self.hard_refresh)
        return get_app(cluster, name)


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
@with_option_groups
def get_command(
    name: AppNameArgument,
    *,
    refresh_options: RefreshOptions,
    output: Annotated[str, typer.Option("--output", "-o", help="wide, yaml or json.")] = "wide",
    cluster_options: AppClusterOptions,
) -> None:
    """Show an Application and its resources."""
    if output not in ("wide", "yaml", "json"):
        typer.echo(f"error: --output {output!r}: expected wide, yaml or json", err=True)
        raise typer.Exit(2)
    with cluster_options.connected() as cluster:
        app = refresh_options.read(cluster, name)
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
