"""`rollouts abort NAME...`: stop a rollout's update and send all traffic back to the stable ReplicaSet.

Argo's patch, on the /status subresource: ``{"status":{"abort":true}}``. ``spec.template`` still describes the
new version: `retry rollout` tries it again, `undo` (or a new template) reverts it for good.
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

ABORT_PATCH = {"status": {"abort": True}}


@app.command("abort")
def abort_command(
    names: Annotated[
        list[str], typer.Argument(metavar="ROLLOUT_NAME...", help="Rollouts to abort.", show_default=False)
    ],
    namespace: NamespaceOption = None,
    kubeconfig: KubeconfigOption = None,
    context: ContextOption = None,
) -> None:
    """Abort a rollout: scale the canary down and route all traffic to the stable version."""
    with reported_errors():
        cluster = connect(namespace, kubeconfig, context)
        for name in names:
            patch_rollout(cluster, name, ABORT_PATCH, status=True)
            typer.echo(f"rollout '{name}' aborted")
