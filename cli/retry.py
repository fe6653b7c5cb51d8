"""`rollouts retry rollout NAME...`: start an aborted rollout's update again, from its first step.

Argo's patch, on the /status subresource: ``{"status":{"abort":false}}``.
"""

from __future__ import annotations

import typer

from cli.main import app
from cli.rollout_actions import rollout_patch_command

RETRY_PATCH = {"status": {"abort": False}}

retry_app = typer.Typer(name="retry", help="Retry an aborted rollout.", no_args_is_help=True)
app.add_typer(retry_app)

_rollout_command = rollout_patch_command(
    RETRY_PATCH, on_status=True, done="retried", names_help="Rollouts to retry.", summary="Retry an aborted rollout.",
)

retry_app.command("rollout")(_rollout_command)
retry_app.command("ro", hidden=True)(_rollout_command)
retry_app.command("rollouts", hidden=True)(_rollout_command)
