"""`rollouts pause NAME...`: hold a rollout where it is until it is promoted.

Argo's patch, on the spec: ``{"spec":{"paused":true}}``; `promote` sets it back to false.
"""

from __future__ import annotations

from cli.main import app
from cli.rollout_actions import rollout_patch_command

PAUSE_PATCH = {"spec": {"paused": True}}

pause_command = app.command("pause")(rollout_patch_command(
    PAUSE_PATCH, on_status=False, done="paused", names_help="Rollouts to pause.",
    summary="Pause a rollout (set spec.paused to true).",
))
