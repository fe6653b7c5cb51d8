"""`rollouts app …`: Argo CD Applications from the command line, with argocd's verbs, columns and exit codes.

The commands write what argocd's API server writes (``operation``, the refresh annotation, the Terminating phase)
and read what the controller reports in ``status``; the Application controller (``rollouts controller``) does the
work. What every verb shares lives here: the group, the namespace option (default ``argocd``), the lookup.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cli.cluster_options import ClusterOptions
from cli.main import app
from cli.options import Cluster, connect, get_object, patch_object
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

AppNameArgument = Annotated[str, typer.Argument(metavar="APPNAME")]


@dataclass(frozen=True)
class AppClusterOptions(ClusterOptions):
    """The cluster options of the `app` commands: ``-N/--app-namespace`` (default ``argocd``) instead of ``-n``."""

    namespace: str = DEFAULT_APP_NAMESPACE

    def connect(self) -> Cluster:
        """A client whose namespace is the Applications' namespace (never the kubeconfig context's)."""
        return Cluster(connect(self.namespace, self.kubeconfig, self.context).client, self.namespace)

    @classmethod
    def typer_options(cls) -> dict[str, Any]:
        return {**super().typer_options(), "namespace": AppNamespaceOption}


def get_app(cluster: Cluster, name: str) -> JsonObject:
    """The Application, or a CliError naming what is missing."""
    return get_object(cluster, APPLICATIONS, name)


def patch_app(cluster: Cluster, name: str, patch: JsonObject) -> JsonObject:
    """A JSON merge patch on the Application, or a CliError naming what is missing."""
    return patch_object(cluster, APPLICATIONS, name, patch)
