"""`rollouts app delete NAME [--cascade/--no-cascade]`: delete an Application; with ``--cascade`` (the default, as
argocd's) its resources go too — the controller deletes them highest sync wave first before the Application
disappears (the ``resources-finalizer.argocd.argoproj.io`` finalizer); without, they stay in the cluster."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.app_group import AppClusterOptions, apps, get_app
from cli.option_groups import with_option_groups
from cli.options import CliError
from gitops.models import RESOURCES_FINALIZER
from kube.errors import Conflict, NotFound
from kube.resources import APPLICATIONS


def finalizers_for(current: list[str], cascade: bool) -> list[str]:
    """The Application's finalizers for the deletion asked for."""
    kept = [item for item in current if item != RESOURCES_FINALIZER]
    return [*kept, RESOURCES_FINALIZER] if cascade else kept


@apps.command("delete")
@with_option_groups
def delete_command(
    names: Annotated[list[str], typer.Argument(metavar="APPNAME...")],
    cascade: Annotated[bool, typer.Option("--cascade/--no-cascade", help="Delete the Application's resources "
                                          "too.")] = True,
    *,
    cluster_options: AppClusterOptions,
) -> None:
    """Delete Applications."""
    with cluster_options.connected() as cluster:
        for name in names:
            app = get_app(cluster, name)
            current = list((app.get("metadata") or {}).get("finalizers") or [])
            wanted = finalizers_for(current, cascade)
            try:
                if wanted != current:
                    cluster.client.patch(APPLICATIONS, cluster.namespace, name, {"metadata": {
                        "finalizers": wanted, "resourceVersion": app["metadata"].get("resourceVersion")}})
                cluster.client.delete(APPLICATIONS, cluster.namespace, name)
            except Conflict:
                raise CliError(f"application '{name}' changed while being deleted; try again") from None
            except NotFound:
                pass
            typer.echo(f"application '{name}' deleted" + (" (its resources are being deleted)" if cascade else ""))
