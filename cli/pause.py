"""`rollouts pause NAME...`: hold a rollout where it is until it is promoted.

Argo's patch, on the spec: ``{"spec":{"paused":true}}``; `promote` sets it back to false.
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

PAUSE_PATCH = {"spec": {"paused": True}}


@app.command("pause")
def pause_command(
    names: Annotated[
        list[str], typer.Argument(metavar="ROLLOUT_NAME...", help="Rollouts to pause.", show_default=False)
    ],
    namespace: NamespaceOption = None,
    kubeconfig: KubeconfigOption = None,
    context: ContextOption = None,
) -> None:
    """Pause a rollout (set spec.paused to true)."""
    with reported_errors():
        cluster = connect(namespace, kubeconfig, context)
        for name in names:
            patch_rollout(cluster, name, PAUSE_PATCH)
            typer.echo(f"rollout '{name}' paused")
