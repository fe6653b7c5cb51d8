"""The Application's ``spec.source.kustomize`` fields applied to a kustomization, as Argo CD applies them by running
``kustomize edit`` before ``kustomize build`` (pure: a kustomization dict in, an edited copy out).

- ``namePrefix``/``nameSuffix``/``namespace``: ``kustomize edit set nameprefix|namesuffix|namespace`` (replace);
- ``images``: ``kustomize edit set image`` — ``name=newName:tag``, ``name:tag``, ``name@digest`` update the entry of
  that name or add one; a tag drops a digest and a digest drops a tag;
- ``commonLabels``/``commonAnnotations``: ``kustomize edit add label|annotation`` — an existing key is an error unless
  ``forceCommonLabels``/``forceCommonAnnotations``; ``labelWithoutSelector`` writes a ``labels`` entry that leaves
  selectors alone; ``commonAnnotationsEnvsubst`` expands ``$ARGOCD_APP_NAME`` and the other build variables;
- ``replicas``: ``kustomize edit set replicas name=count`` (update by name, or add);
- ``components``: ``kustomize edit add component`` (a missing one is an error unless ``ignoreMissingComponents``);
- ``patches``: appended to the kustomization's own.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from typing import Any

from gitops.render.errors import RenderError

FIELD = "spec.source.kustomize"
_VARIABLE = re.compile(r"\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)\}|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))")


def parse_image(text: str) -> dict[str, str]:
    """A ``kustomize edit set image`` argument as an ``images`` entry (``name`` plus what it sets)."""
    if "=" in text:
        name, _, new = text.partition("=")
        explicit_name = True
    else:
        name, new, explicit_name = text, text, False
    entry: dict[str, str] = {}
    image, at, digest = new.partition("@")
    tag = ""
    slash = image.rfind("/")
    colon = image.rfind(":")
    if colon > slash:
        image, tag = image[:colon], image[colon + 1 :]
    if not explicit_name:
        name = image
    elif image and image != name:
        entry["newName"] = image
    if not name:
        raise RenderError(f"{FIELD}.images: {text!r} names no image")
    entry = {"name": name, **entry}
    if at:
        entry["digest"] = digest
    elif tag:
        entry["newTag"] = tag
    return entry


def _set_image(images: list[Any], entry: Mapping[str, str]) -> None:
    for existing in images:
        if isinstance(existing, dict) and existing.get("name") == entry["name"]:
            if "newName" in entry:
                existing["newName"] = entry["newName"]
            if "newTag" in entry:
                existing["newTag"] = entry["newTag"]
                existing.pop("digest", None)
            if "digest" in entry:
                existing["digest"] = entry["digest"]
                existing.pop("newTag", None)
            return
    images.append(dict(entry))


def expand_variables(text: str, variables: Mapping[str, str]) -> str:
    """``$NAME`` and ``${NAME}`` replaced by their values, unknown names by nothing (as ``envsubst`` does)."""
    return _VARIABLE.sub(lambda m: variables.get(m.group("braced") or m.group("plain"), ""), text)


def _add_pairs(target: dict[str, Any], pairs: Mapping[str, Any], force: bool, what: str) -> None:
    for key, value in pairs.items():
        if key in target and not force:
            raise RenderError(
                f"{FIELD}.common{what.title()}s: {what} {key!r} is already in the kustomization file "
                f"(set force{'CommonLabels' if what == 'label' else 'CommonAnnotations'} to override it)"
            )
        target[key] = str(value)


def edited_kustomization(
    kustomization: Mapping[str, Any],
    options: Mapping[str, Any],
    *,
    variables: Mapping[str, str] | None = None,
    component_exists: Callable[[str], bool] = lambda path: True,
) -> dict[str, Any]:
    """``kustomization`` with the Application's kustomize options applied."""
    edited: dict[str, Any] = copy.deepcopy(dict(kustomization))
    edited.setdefault("apiVersion", "kustomize.config.k8s.io/v1beta1")
    edited.setdefault("kind", "Kustomization")
    for field in ("namePrefix", "nameSuffix", "namespace"):
        if options.get(field):
            edited[field] = str(options[field])
    images = options.get("images") or []
    if images:
        listed = edited.setdefault("images", [])
        for image in images:
            _set_image(listed, parse_image(str(image)))
    labels = options.get("commonLabels") or {}
    if labels:
        if options.get("labelWithoutSelector"):
            entry: dict[str, Any] = {"pairs": {str(k): str(v) for k, v in labels.items()}}
            if options.get("labelIncludeTemplates"):
                entry["includeTemplates"] = True
            edited.setdefault("labels", []).append(entry)
        else:
            _add_pairs(edited.setdefault("commonLabels", {}), labels, bool(options.get("forceCommonLabels")), "label")
    annotations = dict(options.get("commonAnnotations") or {})
    if annotations:
        if options.get("commonAnnotationsEnvsubst"):
            annotations = {k: expand_variables(str(v), variables or {}) for k, v in annotations.items()}
        _add_pairs(
            edited.setdefault("commonAnnotations", {}),
            annotations,
            bool(options.get("forceCommonAnnotations")),
            "annotation",
        )
    for position, replica in enumerate(options.get("replicas") or []):
        name = str(replica.get("name", ""))
        try:
            count = int(str(replica.get("count", "")))
        except ValueError:
            raise RenderError(
                f"{FIELD}.replicas[{position}].count: {replica.get('count')!r} is not a whole number"
            ) from None
        listed_replicas = edited.setdefault("replicas", [])
        for existing in listed_replicas:
            if isinstance(existing, dict) and existing.get("name") == name:
                existing["count"] = count
                break
        else:
            listed_replicas.append({"name": name, "count": count})
    for component in options.get("components") or []:
        if not component_exists(str(component)):
            if options.get("ignoreMissingComponents"):
                continue
            raise RenderError(f"{FIELD}.components: component {component!r} does not exist")
        components = edited.setdefault("components", [])
        if component not in components:
            components.append(str(component))
    patches = options.get("patches") or []
    if patches:
        edited.setdefault("patches", []).extend(copy.deepcopy(list(patches)))
    return edited


def has_edits(options: Mapping[str, Any] | None) -> bool:
    """Whether the options change the kustomization at all (otherwise the build runs on the checkout as it is)."""
    if not options:
        return False
    fields = ("namePrefix", "nameSuffix", "namespace", "images", "commonLabels", "commonAnnotations", "replicas",
              "components", "patches")
    return any(options.get(field) for field in fields)
