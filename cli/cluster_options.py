"""The options that say which cluster a command works on — `-n/--namespace`, `--kubeconfig`, `--context` — as one
option group (see :mod:`cli.option_groups`), instead of three declarations in every command::

    @app.command("promote")
    @with_option_groups
    def promote_command(name: ..., full: ... = False, *, cluster_options: ClusterOptions) -> None:
        with cluster_options.connected() as cluster:
            ...

Connecting stays the command's own step, so that it checks its other arguments first (a usage error needs no
cluster). The `app` commands' group is ``cli.app_group.AppClusterOptions``, whose namespace option is
``-N/--app-namespace``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from cli.option_groups import OptionGroup
from cli.options import Cluster, ContextOption, KubeconfigOption, NamespaceOption, connect, reported_errors


@dataclass(frozen=True)
class ClusterOptions(OptionGroup):
    """What `-n/--namespace`, `--kubeconfig` and `--context` chose (None where not given)."""

    namespace: str | None = None
    kubeconfig: str | None = None
    context: str | None = None

    def connect(self) -> Cluster:
        """A client for the chosen kubeconfig and context, and the namespace: -n, else the context's, else default."""
        return connect(self.namespace, self.kubeconfig, self.context)

    @contextmanager
    def connected(self) -> Iterator[Cluster]:
        """The connected cluster, for a block whose expected failures (and the connection's) are reported as one line
        on stderr and a non-zero exit: ``reported_errors()`` around ``connect()``."""
        with reported_errors():
            yield self.connect()

    @classmethod
    def typer_options(cls) -> dict[str, Any]:
        return {"namespace": NamespaceOption, "kubeconfig": KubeconfigOption, "context": ContextOption}
