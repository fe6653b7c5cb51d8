"""The ``list`` generator: one parameter set per element (``elements`` or ``elementsYaml``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

from gitops.appset.go_template import go_string
from gitops.appset.parameters import Params


class GeneratorError(ValueError):
    """A generator that cannot produce parameters; the message names the generator field."""


def list_params(spec: Mapping[str, Any], *, go: bool) -> list[Params]:
    """Argo CD's list generator: in the default mode values must be strings; ``values`` become ``values.k``."""
    elements: list[Any] = list(spec.get("elements") or [])
    if spec.get("elementsYaml"):
        try:
            extra = yaml.safe_load(spec["elementsYaml"])
        except yaml.YAMLError as error:
            raise GeneratorError(f"list.elementsYaml is not YAML: {error}") from error
        if not isinstance(extra, list):
            raise GeneratorError("list.elementsYaml must be a YAML list of objects")
        elements.extend(extra)
    found: list[Params] = []
    for number, element in enumerate(elements):
        if not isinstance(element, Mapping):
            raise GeneratorError(f"list.elements[{number}] must be an object, got {go_string(element)!r}")
        if go:
            found.append(dict(element))
            continue
        params: Params = {}
        for key, value in element.items():
            if key == "values" and isinstance(value, Mapping):
                params.update({f"values.{name}": go_string(item) for name, item in value.items()})
            elif isinstance(value, str):
                params[key] = value
            else:
                raise GeneratorError(
                    f"list.elements[{number}].{key}: error parsing value as string: {go_string(value)!r} "
                    "(use goTemplate: true for non-string values)"
                )
        found.append(params)
    return found
