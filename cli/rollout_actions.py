"""The commands that send one fixed merge patch to each rollout they name — `abort`, `pause`, `retry rollout` — built
from what tells them apart: the patch, whether it goes to the /status subresource, and the words they print."""

# No `from __future__ import annotations`: typer reads the command's annotations, which name this call's values.

from collections.abc import Callable
from typing import Annotated

import typer

from cli.cluster_options import ClusterOptions
from cli.option_groups import with_option_groups
from cli.options import patch_rollout
from kube.json_data import JsonObject


def rollout_patch_command(
    patch: JsonObject, *, on_status: bool, done: str, names_help: str, summary: str
) -> Callable[..., None]:
    """A command that patches each named rollout in turn and prints ``rollout '<name>' <done>`` after each.

    ``on_status`` sends the patch to the /status subresource, as Argo's plugin does for the fields the controller
    owns there (``abort``); ``summary`` is the command's help.
    """

    def command(
        names: Annotated[
            list[str], typer.Argument(metavar="ROLLOUT_NAME...", help=names_help, show_default=False)
        ],
        *,
        cluster_options: ClusterOptions,
    ) -> None:
        with cluster_options.connected() as cluster:
            for name in names:
                patch_rollout(cluster, name, patch, status=on_status)
                typer.echo(f"rollout '{name}' {done}")

    command.__doc__ = summary
    return with_option_groups(command)
