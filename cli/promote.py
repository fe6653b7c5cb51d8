"""`rollouts promote NAME [--full]`: let a paused or stepping rollout move on, with exactly Argo's patches.

Without ``--full`` (Argo's plugin, step for step):

- ``spec.paused`` is set → ``{"spec":{"paused":false}}``;
- pause conditions are present → ``{"status":{"pauseConditions":null}}`` on /status (``controllerPause`` is reset
  and the step index moved on as well when the current step's analysis was Inconclusive, or the rollout would
  stop again on that step);
- otherwise, for a canary with steps, the current step — an analysis, an experiment, a setWeight still scaling —
  is skipped: ``{"status":{"pauseConditions":null,"currentStepIndex":i+1}}`` (never past the last step).

The /status patch goes first, then the spec patch. ``--full`` sends ``{"status":{"promoteFull":true}}``, unless the
rollout is already fully promoted (its current pod hash is the stable one).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from cli.cluster_options import ClusterOptions
from cli.main import app
from cli.option_groups import with_option_groups
from cli.options import Cluster, get_rollout, patch_rollout
from cli.phase import canary_steps, current_step_index

if TYPE_CHECKING:
    from kube.json_data import JsonObject


def promote_patches(rollout: JsonObject, *, full: bool) -> tuple[JsonObject | None, JsonObject | None]:
    """(the /status patch, the spec patch) that promote sends for this rollout; None where nothing is sent."""
    spec: dict[str, Any] = rollout.get("spec") or {}
    status: dict[str, Any] = rollout.get("status") or {}
    if full:
        if status.get("currentPodHash") != status.get("stableRS"):
            return {"status": {"promoteFull": True}}, None
        return None, None
    spec_patch: JsonObject | None = {"spec": {"paused": False}} if spec.get("paused") else None
    index = current_step_index(rollout)  # None unless a canary with steps
    next_index = None if index is None else min(index + 1, len(canary_steps(rollout) or []))
    step_analysis = ((status.get("canary") or {}).get("currentStepAnalysisRunStatus") or {}).get("status")
    pause_conditions = status.get("pauseConditions")
    status_patch: JsonObject | None = None
    if step_analysis == "Inconclusive" and pause_conditions and status.get("controllerPause"):
        if next_index is not None:
            status_patch = {
                "status": {"pauseConditions": None, "controllerPause": False, "currentStepIndex": next_index}
            }
    elif pause_conditions:
        status_patch = {"status": {"pauseConditions": None}}
    elif next_index is not None:
        # Argo clears pause conditions or moves the index, never both; here there were none to clear.
        status_patch = {"status": {"pauseConditions": None, "currentStepIndex": next_index}}
    return status_patch, spec_patch


@app.command("promote")
@with_option_groups
def promote_command(
    name: Annotated[str, typer.Argument(metavar="ROLLOUT_NAME", help="Name of the rollout.", show_default=False)],
    full: Annotated[
        bool, typer.Option("--full", help="Perform a full promotion, skipping analysis, pauses and steps.")
    ] = False,
    *,
    cluster_options: ClusterOptions,
) -> None:
    """Promote a rollout paused at a canary step or a blue-green pre-promotion; --full skips every step left."""
    with cluster_options.connected() as cluster:
        typer.echo(promote_rollout(cluster, name, full=full))


def promote_rollout(cluster: Cluster, name: str, *, full: bool) -> str:
    """Send promote's patches (the /status one first) to the rollout; what happened, in the command's words."""
    rollout = get_rollout(cluster, name)
    status_patch, spec_patch = promote_patches(rollout, full=full)
    if full and status_patch is None:
        return f"rollout '{name}' is already fully promoted"
    if status_patch is not None:
        patch_rollout(cluster, name, status_patch, status=True)
    if spec_patch is not None:
        patch_rollout(cluster, name, spec_patch)
    return f"rollout '{name}' {'fully promoted' if full else 'promoted'}"
