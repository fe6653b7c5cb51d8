"""The `get rollout|analysisrun|experiment NAME [-w]` commands, built from what tells them apart: the kind, its short
name, how the picture is read, what ``--watch`` waits for, and the words of the help.

Each is registered under the kind's name, and (hidden) under its short name and its plural, as Argo's plugin accepts
`get ro` and `get rollouts` too.
"""

# No `from __future__ import annotations`: typer reads the command's annotations, which name this call's values.

from collections.abc import Callable
from typing import Annotated

import typer

from cli.cluster_options import ClusterOptions
from cli.live_view import LiveView, LiveViewOptions
from cli.option_groups import with_option_groups
from cli.options import Cluster
from kube.resources import ResourceKind


def add_get_command(
    group: typer.Typer,
    kind: ResourceKind,
    short_name: str,
    fetch: Callable[[Cluster, str], LiveView],
    *,
    name_help: str,
    until: str,
    summary: str,
) -> None:
    """Register on ``group`` the command that shows the picture ``fetch`` reads of the named object: printed once, or
    with ``--watch`` redrawn on every change until ``until`` (the phrase its help shows); ``summary`` is its help."""

    class ViewOptions(LiveViewOptions):
        watch_until = until

    def command(
        name: Annotated[str, typer.Argument(metavar=f"{kind.kind.upper()}_NAME", help=name_help, show_default=False)],
        *,
        view_options: ViewOptions,
        cluster_options: ClusterOptions,
    ) -> None:
        with cluster_options.connected() as cluster:
            view_options.show(fetch(cluster, name), cluster.client)

    command.__doc__ = summary
    shown = with_option_groups(command)
    for position, command_name in enumerate((kind.kind.lower(), short_name, kind.plural)):
        group.command(command_name, hidden=position > 0)(shown)
