"""`rollouts restart NAME [--in DURATION]`: replace a rollout's pods, a few at a time, without a new revision.

Argo's patch, on the spec: ``{"spec":{"restartAt":"<now + in, RFC 3339, UTC, whole seconds>"}}``; the controller
evicts the pods created before that time.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from cli.cluster_options import ClusterOptions
from cli.main import app
from cli.option_groups import with_option_groups
from cli.options import Cluster, patch_rollout
from kube.durations import DurationError, parse_duration
from kube.timestamps import format_time, later


def restart_at(now: datetime, delay_seconds: float) -> str:
    return format_time(later(now, delay_seconds))


@app.command("restart")
@with_option_groups
def restart_command(
    name: Annotated[str, typer.Argument(metavar="ROLLOUT_NAME", help="Name of the rollout.", show_default=False)],
    in_: Annotated[
        str | None,
        typer.Option("--in", "-i", metavar="DURATION", help="Restart after this long (e.g. 30s, 5m, 1h).",
                     show_default=False),
    ] = None,
    *,
    cluster_options: ClusterOptions,
) -> None:
    """Restart the pods of a rollout, now or after --in."""
    try:
        delay = parse_duration(in_) if in_ else 0.0
    except DurationError as error:
        raise typer.BadParameter(str(error), param_hint="--in") from None
    with cluster_options.connected() as cluster:
        restart_rollout(cluster, name, datetime.now(UTC), delay)
        typer.echo(f"rollout '{name}' restarts in {in_ or '0s'}")


def restart_rollout(cluster: Cluster, name: str, now: datetime, delay_seconds: float = 0.0) -> None:
    """Ask the controller to replace the rollout's pods created before ``now`` + ``delay_seconds``."""
    patch_rollout(cluster, name, {"spec": {"restartAt": restart_at(now, delay_seconds)}})
