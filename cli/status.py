"""`rollouts status NAME`: wait for a rollout to finish and say how it ended, for scripts and CI.

As in Argo's plugin, ``--watch`` is on by default: the command prints ``<Phase> - <message>`` (just ``<Phase>``
when there is no message) now and on every change, and exits 0 once the rollout is Healthy, 1 once it is
Degraded, and 1 when ``--timeout`` passes first. ``--no-watch`` prints the current line once and exits 1 if the
rollout is Degraded, else 0 (Progressing and Paused are not failures).
"""

from __future__ import annotations

import time
from typing import Annotated

import typer

from cli.cluster_options import ClusterOptions
from cli.main import app
from cli.option_groups import with_option_groups
from cli.options import CliError, get_rollout
from cli.phase import DEGRADED, HEALTHY, rollout_phase
from cli.watching import Watches, followed_object
from kube.durations import DurationError, parse_duration
from kube.resources import ROLLOUTS


def status_line(phase: str, message: str) -> str:
    return f"{phase} - {message}" if message else phase


@app.command("status")
@with_option_groups
def status_command(
    name: Annotated[str, typer.Argument(metavar="ROLLOUT_NAME", help="Name of the rollout.", show_default=False)],
    watch: Annotated[
        bool,
        typer.Option("--watch/--no-watch", "-w", help="Watch the status until the rollout is Healthy or Degraded."),
    ] = True,
    timeout: Annotated[
        str,
        typer.Option(
            "--timeout", "-t", metavar="DURATION",
            help="Give up watching after this long (e.g. 30s, 5m, 1h; a bare number is seconds; 0: never).",
        ),
    ] = "0",
    *,
    cluster_options: ClusterOptions,
) -> None:
    """Show the status of a rollout; by default, watch it until it is Healthy (exit 0) or Degraded (exit 1)."""
    try:
        timeout_seconds = parse_duration(timeout)
    except DurationError as error:
        raise typer.BadParameter(str(error), param_hint="--timeout") from None
    with cluster_options.connected() as cluster:
        rollout = get_rollout(cluster, name)
        phase, message = rollout_phase(rollout)
        printed = status_line(phase, message)
        typer.echo(printed)
        if watch and phase not in (HEALTHY, DEGRADED):
            deadline = time.monotonic() + timeout_seconds if timeout_seconds else None
            with Watches(cluster.client) as watches:
                watches.follow(
                    ROLLOUTS, cluster.namespace, str(rollout["metadata"].get("resourceVersion", "")),
                    field_selector=f"metadata.name={name}",
                )
                while phase not in (HEALTHY, DEGRADED):
                    wait = None if deadline is None else deadline - time.monotonic()
                    if wait is not None and wait <= 0:
                        raise CliError(
                            f'timed out after {timeout} waiting for rollout "{name}" to finish (it is {phase})'
                        )
                    change = watches.next(wait)
                    if change is None:
                        continue
                    followed = followed_object(change)
                    if followed is None:
                        raise CliError(f'rollout "{name}" was deleted')
                    rollout = followed
                    phase, message = rollout_phase(rollout)
                    line = status_line(phase, message)
                    if line != printed:  # a status write that changes nothing we show is not news
                        typer.echo(line)
                        printed = line
        if phase == DEGRADED:
            raise CliError(f'rollout "{name}" is Degraded' + (f": {message}" if message else ""))
