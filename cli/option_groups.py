"""Options that belong together, declared once: an ``OptionGroup`` is a frozen dataclass whose fields are options (the
cluster a command works on, a controller's leader election), and a command takes it as one parameter.

``@with_option_groups`` shows typer each such parameter as the options it stands for, in its place, and hands the
command the group built from what they chose::

    @app.command("pause")
    @with_option_groups
    def pause_command(name: ..., *, cluster_options: ClusterOptions) -> None:
        ...
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import fields
from typing import Any


class OptionGroup:
    """Base of the option groups: frozen dataclasses whose fields all have defaults."""

    @classmethod
    def typer_options(cls) -> dict[str, Any]:
        """The typer declaration (an ``Annotated`` type) of each field, in the order a command's help lists them."""
        raise NotImplementedError


def _is_group(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, OptionGroup)


def with_option_groups(command: Callable[..., None]) -> Callable[..., None]:
    """``command`` as typer should see it: each ``OptionGroup`` parameter replaced by the options it stands for."""
    signature = inspect.signature(command, eval_str=True)
    shown: list[inspect.Parameter] = []
    # Per group parameter: its type, and the parameter typer fills for each of its fields.
    groups: dict[str, tuple[type[OptionGroup], dict[str, str]]] = {}
    for parameter in signature.parameters.values():
        if not _is_group(parameter.annotation):
            shown.append(parameter)
            continue
        group: type[OptionGroup] = parameter.annotation
        defaults = {field.name: field.default for field in fields(group)}  # type: ignore[arg-type]
        declarations = group.typer_options()
        names = {field_name: f"{parameter.name}_{field_name}" for field_name in declarations}
        shown += [
            inspect.Parameter(names[field_name], parameter.kind, annotation=declaration, default=defaults[field_name])
            for field_name, declaration in declarations.items()
        ]
        groups[parameter.name] = (group, names)

    @functools.wraps(command)
    def with_groups(*arguments: Any, **keywords: Any) -> None:
        for name, (group, names) in groups.items():
            keywords[name] = group(**{field_name: keywords.pop(shown_name) for field_name, shown_name in names.items()})
        command(*arguments, **keywords)

    # Typer reads the parameters from the signature and their types from the annotations: both must show the options.
    with_groups.__signature__ = signature.replace(parameters=shown)  # type: ignore[attr-defined]
    with_groups.__annotations__ = {parameter.name: parameter.annotation for parameter in shown}
    return with_groups
