"""`rollouts app …`: Argo CD Applications from the command line, with argocd's verbs, columns and exit codes.

The commands write what argocd's API server writes (``operation``, the refresh annotation, the Terminating phase)
and read what the controller reports in ``status``; the Application controller (``rollouts controller``) does the
work. What every verb shares lives here: the group, the namespace option (default ``argocd``), the lookup.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from cli.main import app
from cli.options import CliError, Cluster, connect, missing_object_message
from kube.errors import NotFound
from kube.resources import APPLICATIONS

if TYPE_CHECKING:
    from kube.client import JsonObject

DEFAULT_APP_NAMESPACE = "argocd"

apps = typer.Typer(name="app", help="Manage Argo CD Applications: list, get, diff, sync, wait, history, rollback, "
                   "terminate-op, delete, manifests, create, set.", no_args_is_help=True)
app.add_typer(apps)

AppNamespaceOption = Annotated[
    str,
    typer.Option("--app-namespace", "-N", help="Namespace of the Applications (the controller's).",
                 show_default=True),
]


def connect_apps(namespace: str, kubeconfig: str | None, context: str | None) -> Cluster:
    """A client whose namespace is the Applications' namespace."""
    cluster = connect(namespace, kubeconfig, context)
    return Cluster(cluster.client, namespace)


def get_app(cluster: Cluster, name: str) -> JsonObject:
    """The Application, or a CliError naming what is missing."""
    try:
        return cluster.client.get(APPLICATIONS, cluster.namespace, name)
    except NotFound:
        raise CliError(missing_object_message(cluster, APPLICATIONS, name)) from None


def patch_app(cluster: Cluster, name: str, patch: JsonObject) -> JsonObject:
    try:
        return cluster.client.patch(APPLICATIONS, cluster.namespace, name, patch)
    except NotFound:
        raise CliError(missing_object_message(cluster, APPLICATIONS, name)) from None
