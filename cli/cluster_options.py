"""The options that say which cluster a command works on — `-n/--namespace`, `--kubeconfig`, `--context` — declared
once instead of in every command.

A command takes one parameter typed ``ClusterOptions`` (or a subclass, such as the `app` commands'
``AppClusterOptions``, whose namespace option is ``--app-namespace``) and is decorated with ``@cluster_command``;
typer then sees that parameter as the options themselves, last among the command's options, and the command
receives what they chose::

    @app.command("pause")
    @cluster_command
    def pause_command(cluster_options: ClusterOptions, name: ...) -> None:
        with reported_errors():
            cluster = cluster_options.connect()

Connecting stays the command's own step, so that it checks its other arguments first (a usage error needs no
cluster).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

from cli.options import Cluster, ContextOption, KubeconfigOption, NamespaceOption, connect


@dataclass(frozen=True)
class ClusterOptions:
    """What `-n/--namespace`, `--kubeconfig` and `--context` chose (None where not given)."""

    namespace: str | None = None
    kubeconfig: str | None = None
    context: str | None = None

    def connect(self) -> Cluster:
        """A client for the chosen kubeconfig and context, and the namespace: -n, else the context's, else default."""
        return connect(self.namespace, self.kubeconfig, self.context)

    @classmethod
    def typer_options(cls) -> dict[str, Any]:
        """The typer declaration of each field, in the order a command's help lists them."""
        return {"namespace": NamespaceOption, "kubeconfig": KubeconfigOption, "context": ContextOption}


def cluster_command(command: Callable[..., None]) -> Callable[..., None]:
    """``command`` as typer should see it: its ``ClusterOptions`` parameter replaced by the options it stands for."""
    signature = inspect.signature(command, eval_str=True)
    chosen = next(
        (parameter for parameter in signature.parameters.values()
         if isinstance(parameter.annotation, type) and issubclass(parameter.annotation, ClusterOptions)),
        None,
    )
    if chosen is None:
        raise TypeError(f"{command.__qualname__} has no ClusterOptions parameter")
    options_type: type[ClusterOptions] = chosen.annotation
    defaults = {field.name: field.default for field in fields(options_type)}
    option_parameters = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=defaults[name])
        for name, annotation in options_type.typer_options().items()
    ]
    own_parameters = [parameter for parameter in signature.parameters.values() if parameter is not chosen]

    @functools.wraps(command)
    def with_options(*arguments: Any, **keywords: Any) -> None:
        choice = options_type(**{parameter.name: keywords.pop(parameter.name) for parameter in option_parameters})
        command(*arguments, **keywords, **{chosen.name: choice})

    # Typer reads the parameters from the signature and their types from the annotations: both must show the options.
    with_options.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[*own_parameters, *option_parameters]
    )
    with_options.__annotations__ = {
        **{name: value for name, value in command.__annotations__.items() if name != chosen.name},
        **{parameter.name: parameter.annotation for parameter in option_parameters},
    }
    return with_options
