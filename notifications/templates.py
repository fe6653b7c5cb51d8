"""A notification template rendered for one destination: every string in it is a Go template (the subset
``gitops.appset.go_template`` implements) executed over the trigger's variables and ``.serviceType``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gitops.appset.go_template import TemplateError, render


class RenderError(ValueError):
    """A template that could not be rendered; the message names the template and the field."""


@dataclass(frozen=True)
class Notification:
    """A rendered notification: the common ``message`` and the per-service parts (``email``, ``slack``, and
    ``webhook`` by service name), all strings."""

    message: str = ""
    parts: Mapping[str, Any] = field(default_factory=dict)

    def part(self, name: str) -> Mapping[str, Any]:
        found = self.parts.get(name)
        return found if isinstance(found, Mapping) else {}


def render_notification(
    templates: Mapping[str, Mapping[str, Any]], names: tuple[str, ...], variables: Mapping[str, Any], service_type: str
) -> Notification:
    """The templates ``names`` rendered and merged (a later template's fields win), as the engine does for a
    condition that sends several."""
    data = {**variables, "serviceType": service_type}
    message = ""
    parts: dict[str, Any] = {}
    for name in names:
        template = templates.get(name)
        if template is None:
            raise RenderError(f"template {name!r} is not configured")
        for key, value in template.items():
            rendered = _render(value, data, f"template {name!r} field {key}")
            if key == "message":
                message = str(rendered)
            elif isinstance(rendered, dict) and isinstance(parts.get(key), dict):
                parts[key] = _merged(parts[key], rendered)
            else:
                parts[key] = rendered
    return Notification(message, parts)


def _merged(base: dict[str, Any], more: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in more.items():
        merged[key] = _merged(merged[key], value) if isinstance(value, dict) and isinstance(merged.get(key), dict) \
            else value
    return merged


def _render(value: Any, data: Mapping[str, Any], where: str) -> Any:
    if isinstance(value, str):
        try:
            return render(value, data)
        except TemplateError as error:
            raise RenderError(f"{where}: {error}") from None
    if isinstance(value, Mapping):
        return {str(key): _render(item, data, f"{where}.{key}") for key, item in value.items()}
    if isinstance(value, list):
        return [_render(item, data, f"{where}[{number}]") for number, item in enumerate(value)]
    return value
