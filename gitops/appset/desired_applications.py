"""From an ApplicationSet to the Applications it wants: every generator's parameter sets, each rendered.

Duplicate names are an error naming both parameter sets, and then nothing is generated at all, so a typo in a
template never creates half a fleet or deletes the other half.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gitops.appset.generators.clusters import clusters_params
from gitops.appset.generators.combining import matrix_params, merge_params
from gitops.appset.generators.git import GitReader, git_params
from gitops.appset.generators.list_generator import GeneratorError, list_params
from gitops.appset.go_template import TemplateError
from gitops.appset.parameters import Params, flatten
from gitops.appset.templating import merge_over, render_application
from gitops.clusters import ClusterConfig
from kube.label_selectors import selector_matches

SUPPORTED = ("list", "clusters", "git", "matrix", "merge")


class GenerationError(ValueError):
    """Why an ApplicationSet's Applications could not be generated; ``reason`` is Argo CD's condition reason."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Sources:
    """What generators read beyond the ApplicationSet itself."""

    git: GitReader
    clusters: Sequence[ClusterConfig] = ()


def _generator_type(generator: Mapping[str, Any]) -> str:
    kinds = [name for name in generator if name not in ("selector", "template")]
    if len(kinds) != 1:
        raise GeneratorError(f"a generator must set exactly one type, got {kinds or 'none'}")
    if kinds[0] not in SUPPORTED:
        raise GeneratorError(f"generator type {kinds[0]!r} is not supported (supported: {', '.join(SUPPORTED)})")
    return kinds[0]


def generator_params(generator: Mapping[str, Any], sources: Sources, *, go: bool) -> list[Params]:
    """The parameter sets of one generator, after its ``selector``."""
    kind = _generator_type(generator)
    spec: Mapping[str, Any] = generator[kind] or {}

    def child(child_generator: Mapping[str, Any], _parent: Params | None) -> list[Params]:
        return generator_params(child_generator, sources, go=go)

    if kind == "list":
        found = list_params(spec, go=go)
    elif kind == "clusters":
        found = clusters_params(spec, sources.clusters, go=go)
    elif kind == "git":
        found = git_params(spec, sources.git, go=go)
    elif kind == "matrix":
        found = matrix_params(spec, child, go=go)
    else:
        found = merge_params(spec, child, go=go)
    selector = generator.get("selector")
    if selector:
        found = [params for params in found if selector_matches(selector, flatten(params) if go else params)]
    return found


def _generator_template(generator: Mapping[str, Any]) -> Mapping[str, Any] | None:
    for value in generator.values():
        if isinstance(value, Mapping) and isinstance(value.get("template"), Mapping):
            template: Mapping[str, Any] = value["template"]
            return template
    return None


def desired_applications(appset: Mapping[str, Any], sources: Sources) -> list[dict[str, Any]]:
    """Every Application the ApplicationSet generates, in generator order; raises GenerationError."""
    spec = appset.get("spec") or {}
    metadata = appset.get("metadata") or {}
    go = bool(spec.get("goTemplate"))
    options = list(spec.get("goTemplateOptions") or [])
    preserve = bool((spec.get("syncPolicy") or {}).get("preserveResourcesOnDeletion"))
    applications: list[dict[str, Any]] = []
    # Where each name came from (generator number, parameters), described only for an error message: describing
    # every parameter set of every pass was a tenth of a pass's cost.
    origins: dict[str, tuple[int, Params]] = {}
    for number, generator in enumerate(spec.get("generators") or []):
        try:
            parameter_sets = generator_params(generator, sources, go=go)
        except (GeneratorError, TemplateError) as error:
            raise GenerationError(f"generators[{number}]: {error}", "ApplicationParamsGenerationError") from error
        template = spec.get("template") or {}
        override = _generator_template(generator)
        if override:
            template = merge_over(template, override)
        for params in parameter_sets:
            try:
                application = render_application(
                    template, params, go=go, options=options, template_patch=spec.get("templatePatch"),
                    appset_namespace=str(metadata.get("namespace") or ""), preserve_resources_on_deletion=preserve,
                )
            except TemplateError as error:
                raise GenerationError(
                    f"generators[{number}]: {error} (parameters: {_describe(params)})",
                    "ApplicationGenerationFromParamsError",
                ) from error
            name = str(application["metadata"].get("name") or "")
            if not name:
                raise GenerationError(
                    f"spec.template.metadata.name: renders an empty name ({_origin(number, params)})",
                    "ApplicationValidationError",
                )
            if name in origins:
                raise GenerationError(
                    f"ApplicationSet {metadata.get('name')} contains applications with duplicate name: {name} "
                    f"(from {_origin(*origins[name])} and from {_origin(number, params)})",
                    "ApplicationValidationError",
                )
            origins[name] = (number, params)
            applications.append(application)
    return applications


def _origin(number: int, params: Params) -> str:
    return f"generators[{number}] with {_describe(params)}"


def _describe(params: Params) -> str:
    flat = flatten(params)
    shown = ", ".join(f"{key}={value}" for key, value in list(flat.items())[:6])
    return "{" + shown + (", …" if len(flat) > 6 else "") + "}"
