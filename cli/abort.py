"""`rollouts abort NAME...`: stop a rollout's update and send all traffic back to the stable ReplicaSet.

Argo's patch, on the /status subresource: ``{"status":{"abort":true}}``. ``spec.template`` still describes the
new version: `retry rollout` tries it again, `undo` (or a new template) reverts it for good.
"""

from __future__ import annotations

from cli.main import app
from cli.rollout_actions import rollout_patch_command

ABORT_PATCH = {"status": {"abort": True}}

abort_command = app.command("abort")(rollout_patch_command(
    ABORT_PATCH, on_status=True, done="aborted", names_help="Rollouts to abort.",
    summary="Abort a rollout: scale the canary down and route all traffic to the stable version.",
))
