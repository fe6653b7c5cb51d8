"""`rollouts retry rollout NAME...`: start an aborted rollout's update again, from its first step.

Argo's patch, on the /status subresource: ``{"status":{"abort":false}}``.
"""

from __future__ import annotations

from typing import Annotated

import typer

from cli.main import app
from cli.options import (
    ContextOption,
    KubeconfigOption,
    NamespaceOption,
    connect,
    patch_rollout,
    reported_errors,
)

RETRY_PATCH = {"status": {"abort": False}}

retry_app = typer.Typer(name="retry", help="Retry an aborted rollout.", no_args_is_help=True)
app.add_typer(retry_app)


def _rollout_command(
    names: Annotated[
        list[str], typer.Argument(metavar="ROLLOUT_NAME...", help="Rollouts to retry.", show_default=False)
    ],
    namespace: NamespaceOption = None,
    kubeconfig: KubeconfigOption = None,
    context: ContextOption = None,
) -> None:
    """Retry an aborted rollout."""
    with reported_errors():
        cluster = connect(namespace, kubeconfig, context)
        for name in names:
            patch_rollout(cluster, name, RETRY_PATCH, status=True)
            typer.echo(f"rollout '{name}' retried")


retry_app.command("rollout")(_rollout_command)
retry_app.command("ro", hidden=True)(_rollout_command)
retry_app.command("rollouts", hidden=True)(_rollout_command)
