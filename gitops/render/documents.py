"""Kubernetes objects out of YAML and JSON text, with Argo CD's tolerance for files that are not manifests (pure).

Argo CD reads every ``.yaml``/``.yml``/``.json`` file of a Directory source. A file that does not parse as objects
with ``apiVersion`` and ``kind`` is an error only when it plainly tries to be a manifest — some of its documents are
objects, or its text has ``apiVersion:``, ``kind:`` and ``metadata:`` — and is otherwise skipped as some other YAML
(values files, CI configuration). ``List`` kinds are replaced by their items, as ``kubectl apply`` does.
"""

from __future__ import annotations

import json
from typing import Any

from gitops.render.errors import RenderError
from gitops.resources import JsonObject
from kube.manifests import ManifestProblem, load_text


def _looks_like_manifest(text: str) -> bool:
    return all(marker in text for marker in ("apiVersion", "kind", "metadata"))


def flatten_lists(objects: list[JsonObject], label: str) -> list[JsonObject]:
    """``objects`` with every ``…List`` kind (an object with an ``items`` list) replaced by its items."""
    flat: list[JsonObject] = []
    for obj in objects:
        items = obj.get("items")
        if str(obj.get("kind", "")).endswith("List") and isinstance(items, list):
            for position, item in enumerate(items):
                if not isinstance(item, dict) or not item.get("apiVersion") or not item.get("kind"):
                    raise RenderError(
                        f"{label}: {obj['kind']} items[{position}] is not an object with apiVersion and kind"
                    )
                flat.append(item)
        else:
            flat.append(obj)
    return flat


def yaml_objects(text: str, label: str, *, strict: bool = False) -> list[JsonObject]:
    """The objects of a multi-document YAML text; ``label`` names it in errors. Empty documents are skipped.

    With ``strict`` (a renderer's output, which must be manifests) every problem is an error; otherwise a file that
    is not trying to be a manifest gives no objects.
    """
    objects: list[JsonObject] = []
    problem: ManifestProblem | None = None
    for document in load_text(text, label):
        if document.problem is not None:
            problem = problem or document.problem
        elif document.manifest is not None:
            objects.append(document.manifest)
    if problem is not None:
        if strict or objects or _looks_like_manifest(text):
            raise RenderError(f"{label}: {problem}")
        return []
    return flatten_lists(objects, label)


def json_object(text: str, label: str) -> list[JsonObject]:
    """The object of a JSON manifest file (none when the file is some other JSON)."""
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as error:
        if _looks_like_manifest(text):
            where = f"line {error.lineno}, column {error.colno}"
            raise RenderError(f"{label}: {where}: invalid JSON: {error.msg}") from None
        return []
    if not isinstance(data, dict) or not data.get("apiVersion") or not data.get("kind"):
        if isinstance(data, dict) and _looks_like_manifest(text):
            raise RenderError(f"{label}: document has no apiVersion or no kind")
        return []
    return flatten_lists([data], label)
