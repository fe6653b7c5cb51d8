"""One Application from the ApplicationSet's template and one parameter set, in either template mode.

Every string of the template (keys included) is rendered on its own, as Argo CD renders it; ``templatePatch`` is
rendered as a whole and merged over the result, so it can set non-string fields and whole lists.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import yaml

from gitops.appset import fast_template, go_template
from gitops.appset.go_template import TemplateError
from gitops.appset.parameters import Params
from kube.resources import APPLICATIONS

RESOURCES_FINALIZER = "resources-finalizer.argocd.argoproj.io"


def render_value(value: Any, params: Params, *, go: bool, missing_is_error: bool = False) -> Any:
    """``value`` with every string rendered against ``params``."""
    if go:
        return _render_strings(value, lambda text: go_template.render(text, params, missing_is_error=missing_is_error))
    # The parameters as strings once per value, not once per string of it.
    strings = {key: str(item) for key, item in params.items()}
    return _render_strings(value, lambda text: fast_template.render(text, strings))


def _render_strings(value: Any, render: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return render(value)
    if isinstance(value, Mapping):
        return {render(key) if isinstance(key, str) else key: _render_strings(item, render)
                for key, item in value.items()}
    if isinstance(value, list):
        return [_render_strings(item, render) for item in value]
    return value


def merge_over(base: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """``patch`` deep-merged over ``base``: maps merge, anything else (lists too) replaces."""
    merged = dict(base)
    for key, value in patch.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge_over(merged[key], value)
        else:
            merged[key] = value
    return merged


def render_application(
    template: Mapping[str, Any],
    params: Params,
    *,
    go: bool,
    options: Sequence[str] = (),
    template_patch: str | None = None,
    appset_namespace: str,
    preserve_resources_on_deletion: bool = False,
) -> dict[str, Any]:
    """The Application for one parameter set; raises TemplateError naming the field that failed."""
    missing_is_error = go_template.parse_options(options) if go else False
    rendered: dict[str, Any] = {}
    for section in ("metadata", "spec"):
        try:
            rendered[section] = render_value(
                template.get(section) or {}, params, go=go, missing_is_error=missing_is_error
            )
        except TemplateError as error:
            raise TemplateError(f"template.{section}: {error}") from error
    if template_patch:
        if not go:
            raise TemplateError("templatePatch needs goTemplate: true")
        try:
            patch_text = go_template.render(template_patch, params, missing_is_error=missing_is_error)
            patch = yaml.safe_load(patch_text) if patch_text.strip() else {}
        except yaml.YAMLError as error:
            raise TemplateError(f"templatePatch did not render to YAML: {error}") from error
        if patch is not None and not isinstance(patch, Mapping):
            raise TemplateError("templatePatch must render to a mapping with metadata and/or spec")
        rendered = merge_over(rendered, patch or {})
    metadata = dict(rendered.get("metadata") or {})
    metadata.setdefault("namespace", appset_namespace)
    if not metadata.get("namespace"):
        metadata["namespace"] = appset_namespace
    # Argo CD gives generated Applications the cascade finalizer unless the template names its own finalizers or
    # the ApplicationSet preserves resources on deletion.
    if not metadata.get("finalizers") and not preserve_resources_on_deletion:
        metadata["finalizers"] = [RESOURCES_FINALIZER]
    for empty in ("labels", "annotations", "finalizers"):
        if not metadata.get(empty):
            metadata.pop(empty, None)
    return {
        "apiVersion": APPLICATIONS.api_version,
        "kind": "Application",
        "metadata": metadata,
        "spec": rendered.get("spec") or {},
    }
